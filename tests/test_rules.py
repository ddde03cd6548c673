"""The judgement rules where they slipped: when a threat was first tested, what `due` lists and
in which order (by the end of a deadline's period, not its text), and dates at the edges of the
calendar. The SQL is held to the pure rules (the oracle) on timelines the older property test
rarely drew: responses with no crossing, and dates near year 1 and 9999."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redlines.domain.dates import FuzzyDate
from redlines.domain.outcomes import DEFAULT_GRACE_DAYS, RESPONSE_OUTCOMES, Event, first_tested, judge
from redlines.domain.outcomes import grace_cutoff_iso as cutoff
from redlines.store import engine, queries, summary

F = FuzzyDate.from_iso


# --- tested_on ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "crossed, responded, deadline, tested",
    [
        (None, None, None, None),
        (None, "2025-08-05", None, "2025-08-05"),  # a response alone tests the threat
        (None, "2025-08", "2025-07-31", "2025-07-31"),
        ("2025-06-10", None, "2025-06", "2025-06-10"),  # the month's deadline passed on 1 July
        ("2025-06-10", None, "2025-06-05", "2025-06-05"),
        ("2025-06-10", None, "2025-06-10", "2025-06-10"),  # the crossing, before the day ends
        ("2025", None, "2025-03", "2025"),  # a year starts on 1 January
        ("2025-06", "2025-06-01", None, "2025-06"),  # same day: the crossing, then the response
        ("2025-06-02", "2025-06", None, "2025-06"),
        (None, None, "9999-12", "9999-12"),
    ],
)
def test_first_tested_is_the_earliest_of_crossing_response_and_passed_deadline(crossed, responded, deadline, tested):
    found = first_tested(*(F(d) if d else None for d in (crossed, responded, deadline)))
    assert (found.iso() if found else None) == tested


def test_a_threat_decided_by_a_response_alone_has_the_response_as_tested_on(empty_cli):
    cli = empty_cli
    cli("add", "actor", "kim", "--name", "Kim")
    cli("add", "threat", "--by", "kim", "--on", "2025-08-01", "--said", "Pay up.", "--deadline", "2025-12", "--id", "t")
    cli("add", "event", "t", "--kind", "response", "--on", "2025-08-05", "--what", "Paid.", "--outcome", "partial")
    [row] = cli.json("list", "--json")
    assert (row["outcome"], row["tested_on"], row["deadline"]) == ("partial", "2025-08-05", "2025-12")
    assert cli.json("show", "t", "--json")["tested_on"] == "2025-08-05"
    assert cli.json("show", "t", "--json", "--explain")["explanation"]["tested_on"] == "2025-08-05"
    assert cli.json("--as-of", "2025-08-04", "list", "--json")[0]["tested_on"] is None
    report = cli.json("report", "--json")["rows"][0]
    assert (report["tested"], report["partial"], report["median_days_to_response"]) == (1, 1, 0)


def test_tested_on_takes_a_month_deadline_from_the_day_it_passed(empty_cli):
    cli = empty_cli
    cli("add", "actor", "kim", "--name", "Kim")
    cli("add", "threat", "--by", "kim", "--on", "2025-05-01", "--said", "June.", "--deadline", "2025-06", "--id", "m")
    cli("add", "event", "m", "--kind", "crossed", "--on", "2025-06-10", "--what", "Crossed.")
    cli("add", "threat", "--by", "kim", "--on", "2025-05-01", "--said", "Day.", "--deadline", "2025-06-05", "--id", "d")
    cli("add", "event", "d", "--kind", "crossed", "--on", "2025-06-10", "--what", "Crossed.")
    got = {r["id"]: (r["outcome"], r["tested_on"]) for r in cli.json("list", "--json")}
    assert got == {"m": ("not_followed_through", "2025-06-10"), "d": ("not_followed_through", "2025-06-05")}
    # --grace other than the default judges afresh, not from the cached verdicts: the same answer
    assert {r["id"]: (r["outcome"], r["tested_on"]) for r in cli.json("list", "--json", "--grace", "29")} == got


# --- due --------------------------------------------------------------------------------------


@pytest.fixture
def deadlines(empty_cli):
    """Deadlines at every precision, as of 2025-08-12."""
    cli = empty_cli
    cli("add", "actor", "kim", "--name", "Kim")
    for tid, deadline in [
        ("this-month", "2025-08"),
        ("this-year", "2025"),
        ("in-3-days", "2025-08-15"),
        ("in-5-days", "2025-08-17"),
        ("in-6-days", "2025-08-18"),
        ("last-month", "2025-07"),
        ("late-july", "2025-07-20"),
    ]:
        cli("add", "threat", "--by", "kim", "--on", "2025-06-01", "--said", tid, "--deadline", deadline, "--id", tid)
    cli("add", "threat", "--by", "kim", "--on", "2025-06-01", "--said", "x", "--id", "crossed-25-july")
    cli("add", "event", "crossed-25-july", "--kind", "crossed", "--on", "2025-07-25", "--what", "Crossed.")
    return cli


def due_ids(cli, *args):
    return [r["id"] for r in cli.json("due", "--json", *args)]


def test_due_within_compares_the_end_of_each_deadline_s_period(deadlines):
    passed = ["late-july", "crossed-25-july", "last-month"]  # 20 July, 25 July, 31 July
    assert due_ids(deadlines, "--within", "5d") == [*passed, "in-3-days", "in-5-days"]
    ahead = ["in-3-days", "in-5-days", "in-6-days", "this-month"]  # 15, 17, 18 and 31 August
    assert due_ids(deadlines, "--within", "19d") == [*passed, *ahead]
    assert due_ids(deadlines, "--within", "18d") == [*passed, *ahead[:3]]
    assert due_ids(deadlines, "--within", "1y") == [*passed, *ahead, "this-year"]


@pytest.mark.parametrize("extra", [[], ["--grace", "31"], ["--limit", "2"], ["--limit", "4"], ["--limit", "0"]])
def test_due_sorts_by_the_day_each_is_due_whichever_way_it_is_read(deadlines, extra):
    """The default reads settled threats from their cached verdicts; another grace judges afresh."""
    everything = ["late-july", "crossed-25-july", "last-month", "in-3-days", "in-5-days", "in-6-days", "this-month"]
    rows = deadlines.json("due", "--json", "--within", "3w", *extra)
    limit = int(extra[1]) if extra[:1] == ["--limit"] else None
    assert [r["id"] for r in rows] == everything[:limit]
    assert [r["on"] for r in rows] == [
        "2025-07-20",
        "2025-07-25",
        "2025-07",
        "2025-08-15",
        "2025-08-17",
        "2025-08-18",
        "2025-08",
    ][:limit]


def test_due_as_of_the_end_of_the_calendar_reaches_its_last_day(deadlines):
    rows = deadlines.json("--as-of", "9999-12-31", "due", "--json", "--within", "30d")
    assert len(rows) == 8 and {r["status"] for r in rows} == {"deadline passed", "crossed"}


# --- the edges of the calendar -----------------------------------------------------------------


@pytest.mark.parametrize("as_of", ["0001-01", "0001", "0001-01-01", "0001-02-01", "9999", "9999-12", "9999-12-31"])
@pytest.mark.parametrize(
    "args",
    [
        ["list", "--json"],
        ["list", "--json", "--grace", "36500"],
        ["report", "--json"],
        ["report", "--by", "year", "--json"],
        ["due", "--json"],
        ["due", "--json", "--within", "1y"],
        ["timeline", "--json"],
        ["show", "putin-f16", "--json"],
        ["list", "--since", "0001-01-01", "--json"],
        ["list", "--until", "9999-12-31", "--json"],
        ["export"],
    ],
)
def test_as_of_near_year_1_or_9999_answers_or_refuses_cleanly(cli, as_of, args):
    result = cli.runner.invoke(
        __import__("redlines.cli", fromlist=["app"]).app,
        ["--as-of", as_of, *args],
        catch_exceptions=False,
        env={"REDLINES_DB": str(cli.db), "REDLINES_TODAY": "2025-08-12", "NO_COLOR": "1", "REDLINES_AS_OF": None},
    )
    hidden = as_of.startswith("0001") and args[0] == "show"
    assert result.exit_code == (1 if hidden else 0), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("today", ["0001-01-01", "9999-12-31"])
def test_relative_dates_past_the_calendar_are_refused_with_a_clear_line(empty_cli, today):
    err = empty_cli("list", "--since", "-2d" if today < "5" else "+2d", today=today, expect=2).stderr
    assert err.startswith("error: --since: the date ") and "falls outside the calendar: years 1 to 9999" in err


# --- SQL held to the pure rules ----------------------------------------------------------------


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "rules.db"
    engine.create(path, seed=None)
    c = engine.connect(path)
    c.execute("INSERT INTO actor (id, slug, name, kind) VALUES (1, 'a', 'A', 'state')")
    yield c
    c.close()


def _fuzzy(start: date, span: int):
    def at(days: int, precision: str) -> FuzzyDate:
        d = start + timedelta(days=days)
        return FuzzyDate(d.year, d.month if precision != "year" else None, d.day if precision == "day" else None)

    return st.builds(at, st.integers(0, span), st.sampled_from(["day", "day", "month", "year"]))


def _timelines(kinds, fuzzy):
    return st.lists(
        st.builds(
            lambda kind, on, outcome, due: (kind, on, outcome if kind == "response" else None, due),
            st.sampled_from(kinds),
            fuzzy,
            st.sampled_from(RESPONSE_OUTCOMES),
            fuzzy,
        ).map(lambda e: (*e[:3], e[3] if e[0] == "deadline" else None)),
        max_size=5,
    )


def _check(conn, made, deadline, timeline, as_of, grace):
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
        params = queries.Judging(as_of.isoformat(), cutoff(as_of, grace))
        rows = queries.threats(conn, params, ids=["t"])
        if grace == DEFAULT_GRACE_DAYS:
            assert queries.threats(conn, replace(params, settled=True), ids=["t"]) == rows
            assert not summary.stale(conn)
        waiting = queries.due(conn, replace(params, settled=grace == DEFAULT_GRACE_DAYS), "9999-12-31", limit=5)
        assert waiting == queries.due(conn, params, "9999-12-31")
    finally:
        conn.execute("ROLLBACK")
    if made.start() > as_of:
        assert rows == []
        return
    [row] = rows
    v = judge(deadline, [Event(k, on, o, due, n) for n, (k, on, o, due) in enumerate(timeline, 1)], as_of, grace)
    assert (row["outcome"], row["rule"], row["deadline"], row["tested_on"]) == (
        v.outcome,
        v.rule,
        v.deadline and v.deadline.iso(),
        v.tested_on and v.tested_on.iso(),
    )
    for w in waiting:
        assert w["due_on"] == queries.due_on(w)


START = date(2024, 1, 1)
near_2024 = _fuzzy(START, 500)


@settings(max_examples=300, deadline=None)
@given(
    made=near_2024,
    deadline=st.none() | near_2024,
    timeline=_timelines(["response", "response", "deadline", "note", "complied", "withdrawn"], near_2024),
    as_of=st.integers(0, 600).map(lambda n: START + timedelta(days=n)),
    grace=st.just(DEFAULT_GRACE_DAYS) | st.integers(0, 60),
)
def test_sql_equals_the_rules_for_responses_without_crossings(conn, made, deadline, timeline, as_of, grace):
    _check(conn, made, deadline, timeline, as_of, grace)


@settings(max_examples=200, deadline=None)
@given(
    edge=st.sampled_from([date(1, 1, 1), date(9999, 10, 1)]),
    days=st.tuples(st.integers(0, 90), st.integers(0, 90), st.integers(0, 91)),
    deadline=st.none() | st.integers(0, 91),
    timeline=st.lists(st.tuples(st.sampled_from(["crossed", "response", "deadline"]), st.integers(0, 91)), max_size=4),
    precision=st.sampled_from(["day", "month", "year"]),
    grace=st.just(DEFAULT_GRACE_DAYS) | st.integers(0, 60),
)
def test_sql_equals_the_rules_at_the_edges_of_the_calendar(conn, edge, days, deadline, timeline, precision, grace):
    def at(n: int) -> FuzzyDate:
        d = edge + timedelta(days=n)
        return FuzzyDate(d.year, d.month if precision != "year" else None, d.day if precision == "day" else None)

    events = [
        (kind, at(n), "partial" if kind == "response" else None, at(min(n + 1, 91)) if kind == "deadline" else None)
        for kind, n in timeline
    ]
    as_of = edge + timedelta(days=days[2])
    _check(conn, at(days[0]), None if deadline is None else at(deadline), events, as_of, grace)
