"""Import speed (issue 14) without a change of rules: the one-pass check of a threat gives what the
full check gives, and refuses (hands back to the full check) whatever that one would say a word
about; so a file is refused with the same messages as before, whichever path read it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redlines.domain import document

BENCH = Path(__file__).resolve().parent.parent / "bench" / "generate.py"
TODAY = date(2025, 8, 12)


@pytest.fixture(scope="module")
def generated() -> list[dict]:
    out = subprocess.run([sys.executable, str(BENCH), "60", "7"], capture_output=True, text=True, check=True).stdout
    return [r for r in map(json.loads, out.splitlines()) if r.pop("type") == "threat"]


def full_check(record, today=TODAY) -> tuple[dict | None, list[str]]:
    """`check_threat` with the one-pass path switched off: the rules as written field by field."""
    p = document.Problems(today)
    saved = document._fast_threat
    document._fast_threat = lambda *a: None
    try:
        out = document.check_threat(p, "line 9", copy.deepcopy(record))
    finally:
        document._fast_threat = saved
    return out, p.items


def either_check(record, today=TODAY) -> tuple[dict | None, list[str]]:
    p = document.Problems(today)
    return document.check_threat(p, "line 9", copy.deepcopy(record)), p.items


def test_a_well_formed_threat_is_read_in_one_pass_and_as_the_full_check_reads_it(generated):
    for record in generated:
        fast = document._fast_threat(copy.deepcopy(record), "line 9", TODAY)
        assert fast is not None, record  # the common case takes the fast path
        assert full_check(record) == (fast, [])
        assert list(fast) == list(full_check(record)[0])  # the same keys in the same order


# Values that a field may hold in a hostile or sloppy file: each is either read the same way by
# both paths, or refused by the one-pass path and then judged by the full check.
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 3000),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "",
            "  ",
            " padded ",
            "a\x00b",
            "x" * 20_001,
            "x" * 20_000,
            "2025-08-13",
            "2025-08-12",
            "2025-08",
            "2025-09",
            "2025",
            "2026",
            " 2024-02-29 ",
            "2023-02-29",
            "2024-13",
            "2024-1-5",
            "0999",
            "21 Nov 2024",
            "military",
            "nuclear",
            "Military",
            "response",
            "deadline",
            "note",
            "partial",
            "followed_through",
            "t0000001#2",
            "t0000001#02",
            "t0000001#1",
            "other#1",
            "t0000001#x",
            "t-1",
            "bad id!",
            "leader-3",
            "https://news.example/1",
        ]
    ),
    st.text(max_size=6),
    st.lists(st.sampled_from(["a", " a", "", None, 3, "b", "a"]), max_size=4),
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "url": st.sampled_from(["https://x.example", " https://x.example", "", None, 5]),
                "quote": st.sampled_from(["q", " q ", "", "  ", None, 7]),
            },
        ),
        max_size=3,
    ),
    st.dictionaries(st.sampled_from(["url", "kind"]), st.integers(), max_size=2),
)
THREAT_KEYS = [
    "id",
    "issuer",
    "targets",
    "made_on",
    "statement",
    "trigger",
    "consequence",
    "category",
    "cameo",
    "deadline",
    "tags",
    "sources",
    "events",
]
EVENT_KEYS = ["id", "kind", "on", "what", "outcome", "due", "cameo", "sources"]


@st.composite
def mutated(draw, base: list[dict]):
    record = copy.deepcopy(draw(st.sampled_from(base)))
    for _ in range(draw(st.integers(1, 4))):
        events = record.get("events")
        if isinstance(events, list) and events and draw(st.booleans()):
            target = draw(st.sampled_from(events)) if all(isinstance(e, dict) for e in events) else record
            keys = EVENT_KEYS if target is not record else THREAT_KEYS
        else:
            target, keys = record, THREAT_KEYS
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 5)) == 0:
            target.pop(key, None)
        elif key == "events" and draw(st.booleans()) and isinstance(record.get("events"), list):
            record["events"] = record["events"] + copy.deepcopy(record["events"][:1])  # an event twice
        else:
            target[key] = draw(ODD)
    return record


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_threat_gets_the_same_record_and_the_same_messages_by_either_path(generated, data):
    record = data.draw(mutated(generated))
    today = data.draw(st.sampled_from([TODAY, None, date(2024, 2, 29)]))
    assert either_check(record, today) == full_check(record, today)
    fast = document._fast_threat(copy.deepcopy(record), "line 9", today)
    if fast is not None:  # what the one pass accepts, the full check accepts without a word
        assert full_check(record, today) == (fast, [])


def test_the_one_pass_hands_each_kind_of_problem_to_the_full_check(generated):
    """A handful of problems written out: each is refused by the one pass and said by the full check."""
    base = generated[0]
    cases = {
        "statement": ("  ", "line 9.statement: is required"),
        "made_on": ("2025-08-13", "is after 2025-08-12"),
        "category": ("Military", "'Military' is not one of"),
        "targets": (["a", None], "line 9.targets[1]: is required"),
        "trigger": ("a\x00b", "holds a NUL character"),
        "deadline": ("2024-13", "'2024-13' is not an ISO date"),
    }
    for key, (value, said) in cases.items():
        record = {**copy.deepcopy(base), key: value}
        assert document._fast_threat(copy.deepcopy(record), "line 9", TODAY) is None, key
        _, problems = either_check(record)
        assert any(said in x for x in problems), (key, problems)
    repeated = copy.deepcopy(base)  # repeats are dropped, not refused, by both
    repeated["sources"] = repeated["sources"] * 2 + [{"url": " https://x.example ", "quote": "q"}] * 2
    repeated["tags"] = ["a", " a", "b", "a"]
    fast = document._fast_threat(copy.deepcopy(repeated), "line 9", TODAY)
    assert fast["sources"] == [*base["sources"], {"url": "https://x.example", "quote": "q"}]
    assert fast["tags"] == ["a", "b"]
    assert full_check(repeated) == (fast, [])
    twice = copy.deepcopy(base)
    twice["events"] = [{"id": "t0000000#7", "kind": "note", "on": "2020", "what": "x"}] * 2
    _, problems = either_check(twice)
    assert problems == ["line 9.events[1].id: 't0000000#7' appears twice"]
