"""The store computes outcomes in SQL for whole sets; here it is held to the domain rules on
random timelines, on a real SQLite file."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redlines.domain.dates import FuzzyDate
from redlines.domain.outcomes import DEFAULT_GRACE_DAYS, EVENT_KINDS, RESPONSE_OUTCOMES, Event, grace_cutoff, judge
from redlines.store import engine, queries, summary

START = date(2024, 1, 1)


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("sql") / "outcomes.db"
    engine.create(path, seed=None)
    c = engine.connect(path)
    c.execute("INSERT INTO actor (id, slug, name, kind) VALUES (1, 'a', 'A', 'state')")
    yield c
    c.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def either(request):
    """`conn`, and the same on PostgreSQL (a database of this module's own at the current schema,
    with the same actor): where the rules in SQL are held to Python's on each engine."""
    if request.param == "sqlite":
        yield request.getfixturevalue("conn")
        return
    from redlines.store import postgres
    from redlines.store.server import Server

    server, installed = request.getfixturevalue("pg_server"), request.getfixturevalue("installed")
    name, url = server.database(server.template("empty", installed))
    c = postgres.connect(Server(url))
    try:
        c.execute("BEGIN IMMEDIATE")
        c.execute("INSERT INTO actor (id, slug, name, kind) VALUES (1, 'a', 'A', 'state')")
        c.commit()
        yield c
    finally:
        c.close()
        server.drop(name)


fuzzy = st.builds(
    lambda days, precision: _at(START + timedelta(days=days), precision),
    st.integers(0, 500),
    st.sampled_from(["day", "day", "month", "year"]),
)


def _at(d: date, precision: str) -> FuzzyDate:
    return FuzzyDate(d.year, d.month if precision != "year" else None, d.day if precision == "day" else None)


events = st.lists(
    st.builds(
        lambda kind, on, outcome, due: (
            kind,
            on,
            outcome if kind == "response" else None,
            due if kind == "deadline" else None,
        ),
        st.sampled_from(EVENT_KINDS),
        fuzzy,
        st.sampled_from(RESPONSE_OUTCOMES),
        fuzzy,
    ),
    max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(
    made=fuzzy,
    deadline=st.none() | fuzzy,
    timeline=events,
    as_of=st.integers(0, 600).map(lambda n: START + timedelta(days=n)),
    grace=st.just(DEFAULT_GRACE_DAYS) | st.integers(0, 60),
)
def test_sql_outcome_equals_the_domain_rules(conn, made, deadline, timeline, as_of, grace):
    conn.execute("BEGIN")
    try:
        conn.execute(
            "INSERT INTO threat (id, issuer_id, made_on, statement, category, deadline) "
            "VALUES ('t', 1, ?, 's', 'other', ?)",
            (made.iso(), deadline and deadline.iso()),
        )
        for n, (kind, on, outcome, due) in enumerate(timeline, 1):
            conn.execute(
                "INSERT INTO event (id, threat_id, kind, occurred_on, what, outcome, due, seq) "
                "VALUES (?, 't', ?, ?, 'w', ?, ?, ?)",
                (f"t#{n}", kind, on.iso(), outcome, due and due.iso(), n),
            )
        summary.refresh(conn, ["t"])
        params = queries.Judging(as_of.isoformat(), grace_cutoff(as_of, grace).isoformat())
        rows = queries.threats(conn, params, ids=["t"])  # from the events
        current = queries.nothing_after(conn, as_of.isoformat())
        if current:  # and from the cached summary, when it may
            assert queries.threats(conn, replace(params, current=True), ids=["t"]) == rows
        if grace == DEFAULT_GRACE_DAYS:  # and from the cached verdict, once the threat has settled
            assert queries.threats(conn, replace(params, settled=True), ids=["t"]) == rows
            if current:
                assert queries.threats(conn, replace(params, current=True, settled=True), ids=["t"]) == rows
            assert not summary.stale(conn)
    finally:
        conn.execute("ROLLBACK")
    if made.start() > as_of:
        assert rows == []  # hidden by the as-of date
        return
    [row] = rows
    v = judge(deadline, [Event(k, on, o, due, n) for n, (k, on, o, due) in enumerate(timeline, 1)], as_of, grace)
    assert (row["outcome"], row["rule"], row["deadline"], row["tested_on"]) == (
        v.outcome,
        v.rule,
        v.deadline and v.deadline.iso(),
        v.tested_on and v.tested_on.iso(),
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    from redlines.service import Tracker

    tracker = Tracker(tmp_path_factory.mktemp("seeded") / "seeded.db")
    assert len(tracker.list_threats()) == 7  # a new database is seeded on first use
    yield tracker.conn
    tracker.close()


def _fortnights(conn):
    """Judging parameters as of every fortnight from 2022 to 2026, with how many threats had
    settled by then."""
    day = date(2022, 1, 1)
    while day <= date(2026, 1, 1):
        params = queries.Judging(
            day.isoformat(),
            grace_cutoff(day, DEFAULT_GRACE_DAYS).isoformat(),
            current=queries.nothing_after(conn, day.isoformat()),
        )
        yield (
            params,
            conn.execute("SELECT COUNT(*) FROM threat WHERE settled_on <= ?", (day.isoformat(),)).fetchone()[0],
        )
        day += timedelta(days=14)


@pytest.mark.parametrize("by", sorted(queries.GROUPINGS))
def test_reports_from_settled_verdicts_equal_reports_judged_afresh(seeded, by):
    """On the seeded threats: a report that reads the cached verdicts of settled threats (the
    default) counts exactly what judging every threat counts."""
    reused = 0
    for params, settled in _fortnights(seeded):
        afresh = queries.report(seeded, replace(params, settled=False), by)
        assert queries.report(seeded, replace(params, settled=True), by) == afresh, params.as_of
        reused += settled
    assert reused > 100  # the cached verdicts were read, not only the judging


@pytest.mark.parametrize("limit", [1, 2, 5, 50])
@pytest.mark.parametrize("issuers", [(), (1,), (1, 2)])
def test_due_from_settled_verdicts_equals_due_judged_afresh(seeded, limit, issuers):
    reused = 0
    for params, settled in _fortnights(seeded):
        horizon = (date.fromisoformat(params.as_of) + timedelta(days=90)).isoformat()
        kept = queries.Where(issuers=tuple(issuers))
        afresh = queries.due(seeded, replace(params, settled=False), horizon, kept, limit=limit)
        assert queries.due(seeded, replace(params, settled=True), horizon, kept, limit=limit) == afresh
        reused += settled
    assert reused > 100


few_days = st.builds(
    lambda days, precision: _at(START + timedelta(days=days), precision),
    st.integers(0, 40),  # few days apart: same dates, a month beside its days, ties broken by entry
    st.sampled_from(["day", "day", "month", "year"]),
)
crowded = st.lists(
    st.tuples(st.sampled_from(EVENT_KINDS), few_days, st.sampled_from(RESPONSE_OUTCOMES), few_days), max_size=8
)


def _event_rows(timeline) -> list[tuple]:
    """(kind, ISO date, outcome, due, seq) of each event, as the store keeps them."""
    return [
        (kind, on.iso(), outcome if kind == "response" else None, due.iso() if kind == "deadline" else None, n)
        for n, (kind, on, outcome, due) in enumerate(timeline, 1)
    ]


def _cached_by_sql(conn, columns, rows, made_on="2024", deadline=None) -> tuple:
    """The columns SQL caches on a threat with these events (`summary.refresh`), rolled back after."""
    conn.execute("BEGIN")
    try:
        conn.execute(
            "INSERT INTO threat (id, issuer_id, made_on, deadline, statement, category) "
            "VALUES ('t', 1, ?, ?, 's', 'other')",
            (made_on, deadline),
        )
        conn.executemany(
            "INSERT INTO event (id, threat_id, kind, occurred_on, what, outcome, due, seq) "
            "VALUES (?, 't', ?, ?, 'w', ?, ?, ?)",
            [(f"t#{row[-1]}", *row) for row in rows],  # (kind, date, outcome, due, seq)
        )
        summary.refresh(conn, ["t"])
        return tuple(conn.execute(f"SELECT {', '.join(columns)} FROM threat WHERE id = 't'").fetchone())
    finally:
        conn.execute("ROLLBACK")


@settings(max_examples=300, deadline=None)
@given(timeline=crowded)
def test_the_summary_an_import_writes_with_a_new_threat_equals_the_one_sql_computes(either, timeline):
    """A bulk import writes each new threat's summary with its row, worked out in Python
    (`domain.outcomes.summary`, in the reading process); every other write has SQL compute it.
    The two agree on any timeline: `db check` would call the threat stale otherwise."""
    from redlines.domain.outcomes import summary as summarised
    from redlines.schema import SUMMARY_COLUMNS

    rows = _event_rows(timeline)
    assert summarised(rows) == _cached_by_sql(either, SUMMARY_COLUMNS, rows)


# Dates from the first years to the last ones: the settling day of a threat near either end of
# the calendar is where Python's dates and SQLite's part ways (SQLite has a year 0, Python none).
anywhere = st.builds(
    lambda d, precision: _at(d, precision),
    st.one_of(
        st.dates(date(1, 1, 1), date(1, 3, 31)),
        st.dates(date(2023, 12, 1), date(2024, 3, 1)),
        st.dates(date(9999, 10, 1), date(9999, 12, 31)),
    ),
    st.sampled_from(["day", "day", "month", "year"]),
)
far_timeline = st.lists(
    st.tuples(st.sampled_from(EVENT_KINDS), anywhere, st.sampled_from(RESPONSE_OUTCOMES), anywhere), max_size=6
)


@settings(max_examples=500, deadline=None)
@given(made=anywhere, deadline=st.none() | anywhere, timeline=far_timeline)
def test_the_settled_verdict_an_import_writes_with_a_new_threat_equals_the_one_sql_computes(
    either, made, deadline, timeline
):
    """A bulk import writes each new threat's settled verdict with its row, worked out in Python
    (`domain.outcomes.settled`, as the rows are written); every other write has SQL settle it.
    The two agree on any threat, dated anywhere from year 1 to 9999, on either engine."""
    from redlines.domain.outcomes import settled
    from redlines.domain.outcomes import summary as summarised
    from redlines.schema import SETTLED_COLUMNS

    rows = _event_rows(timeline)
    made_on, due = made.iso(), deadline and deadline.iso()
    assert settled(made_on, due, summarised(rows)) == _cached_by_sql(either, SETTLED_COLUMNS, rows, made_on, due)
