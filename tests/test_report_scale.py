"""Reports that scale (issue 14): a report by category or by year reads the settled verdicts in
the order of their index instead of sorting every threat, and counts exactly what judging every
threat afresh counts, whatever the filters and the as-of date."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import raw

from redlines.store import queries

REPORT_DATED_INDEX = queries.REPORT_DATED_INDEX  # the index the dated reports name (`INDEXED BY`)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from redlines.service import Tracker

    folder = tmp_path_factory.mktemp("generated")
    data = folder / "threats.jsonl"
    with open(data, "w") as f:
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "3000"], stdout=f, check=True)
    tracker = Tracker(folder / "r.db")
    tracker.conn  # noqa: B018  (seeded on first use; the generated set comes on top)
    from conftest import Cli

    Cli(folder / "r.db", "2025-08-12")("import", str(data))
    yield tracker.conn
    tracker.close()


def _judging(conn, as_of: str) -> queries.Judging:
    from datetime import date

    from redlines.domain.outcomes import DEFAULT_GRACE_DAYS, grace_cutoff

    day = date.fromisoformat(as_of)
    return queries.Judging(
        as_of, grace_cutoff(day, DEFAULT_GRACE_DAYS).isoformat(), current=queries.nothing_after(conn, as_of)
    )


def _report(conn, params: queries.Judging, by: str, filters: dict):
    """`queries.report` with these filters: as keywords here, as a `queries.Where` once the
    schema work (h-schema) gathers the filters into one (both are on main after the merge)."""
    if hasattr(queries, "Where"):
        return queries.report(conn, params, by, queries.Where(**filters))
    return queries.report(conn, params, by, **filters)


FILTERS = [
    {},
    {"category": "nuclear"},
    {"issuers": "the three busiest"},
    {"since": "2010", "until": "2012-06"},
    {"category": "economic", "since": "2001-03-04"},
]


@pytest.mark.parametrize("by", ["category", "year"])
@pytest.mark.parametrize("as_of", ["2025-08-12", "2015-06-30", "2003-02-01"])
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "all")
def test_a_dated_report_from_settled_verdicts_equals_one_judged_afresh(generated, by, as_of, filters):
    params = _judging(generated, as_of)
    if "issuers" in filters:
        busiest = "SELECT issuer_id FROM threat GROUP BY issuer_id ORDER BY COUNT(*) DESC, issuer_id LIMIT 3"
        filters = {**filters, "issuers": tuple(r[0] for r in generated.execute(busiest))}
    settled = generated.execute("SELECT COUNT(*) FROM threat WHERE settled_on <= ?", (as_of,)).fetchone()[0]
    assert settled > 100  # the cached verdicts are read, not only the judging
    afresh = _report(generated, replace(params, settled=False), by, filters)
    if filters.get("since", "") < as_of:
        assert afresh[0], "the filters keep some threats"
    assert _report(generated, replace(params, settled=True), by, filters) == afresh


def test_a_report_by_category_or_year_sorts_nothing(generated):
    """The plan of every statement that reads the settled verdicts: through the dated index, with
    no temporary B-tree (the sort that made a report by year at a million threats 5.5 times the
    seeded time)."""
    seen: list[str] = []
    generated.set_trace_callback(seen.append)
    try:
        for by in ("category", "year"):
            queries.report(generated, replace(_judging(generated, "2025-08-12"), settled=True), by)
    finally:
        generated.set_trace_callback(None)
    dated = [s for s in seen if REPORT_DATED_INDEX in s]
    assert len(dated) == 2
    for sql in dated:
        plan = [r[3] for r in generated.execute(f"EXPLAIN QUERY PLAN {sql}")]
        assert any(f"COVERING INDEX {REPORT_DATED_INDEX}" in p for p in plan), plan
        assert not any("TEMP B-TREE" in p for p in plan), plan


def test_the_tag_index_no_query_used_is_gone_and_the_dated_index_is_there(cli):
    cli("list")
    with raw(cli.db) as conn:
        if isinstance(conn, sqlite3.Connection):
            sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
        else:
            sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        names = {r[0] for r in conn.execute(sql)}
    assert "ix_threat_tag_tag" not in names
    assert REPORT_DATED_INDEX in names
