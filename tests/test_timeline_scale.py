"""A long listing as JSON (issue 14: `timeline --json` at 100,000 threats took 44-71 times its
seeded time, 85% of it in json's pure-Python indenting): every element is written as
`json.dumps(list, indent=2)` writes it, a flat one through the C encoders; the whole timeline
comes out in date order, read in index order from both tables and merged, never sorted whole."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from redlines.output.formats import write_array

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # quotes, backslashes, control characters, lone surrogates, U+2028
)
flat = st.dictionaries(st.text(max_size=8), scalars, max_size=6)
nested = st.dictionaries(st.text(max_size=4), st.one_of(scalars, st.lists(scalars, max_size=3), flat), max_size=4)
elements = st.lists(st.one_of(flat, nested, scalars, st.dictionaries(st.integers(), scalars, max_size=2)), max_size=5)


@settings(max_examples=300, deadline=None)
@given(elements)
def test_an_array_is_written_exactly_as_json_writes_it_whole(items):
    out = io.StringIO()
    write_array(iter(items), out)
    assert out.getvalue() == json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def test_the_whole_timeline_is_in_date_order_a_threat_before_its_events_on_a_day(cli):
    cli("add", "event", "putin-f16", "--kind", "note", "--on", "2024-05", "--what", "a month-dated note")
    rows = cli.json("timeline", "--json")
    assert len(rows) == 7 + 14
    keys = [(r["on"], r["kind"] != "made") for r in rows]
    assert keys == sorted(keys)
    latest = cli.json("timeline", "--json", "--limit", "5")
    assert latest == rows[-5:]  # the latest, found another way (through the limit), agree
    assert cli.json("--as-of", "2024-06-01", "timeline", "--json") == [r for r in rows if r["on"] <= "2024-06-01"]
