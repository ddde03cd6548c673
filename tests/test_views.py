"""The SQL views people browse, made from the live rule SQL, and the rules version that keeps
them and the cached verdicts in step with the code."""

import sqlite3

import pytest

from redlines.domain import outcomes
from redlines.store import engine, rules, summary

# Reads the SQLite file itself (the views as a sqlite3, sqlite-utils or Datasette user reads them from the file):
# runs on the sqlite engine alone.
pytestmark = pytest.mark.sqlite_only
# The views of the rules (the search index has a view of its own, `search_source`, migration 0010).
RULE_VIEWS = "SELECT name, sql FROM sqlite_master WHERE type = 'view' AND name <> 'search_source'"


def utc_today() -> str:
    """The views judge as of SQLite's date('now'): the UTC date, whatever the local one."""
    with sqlite3.connect(":memory:") as c:
        return c.execute("SELECT date('now')").fetchone()[0]


def days_before(today: str, n: int) -> str:
    with sqlite3.connect(":memory:") as c:
        return c.execute("SELECT date(?, ?)", (today, f"-{n} days")).fetchone()[0]


def stored(db, sql: str, args=()) -> list:
    with sqlite3.connect(db) as c:
        return c.execute(sql, args).fetchall()


@pytest.fixture
def around_grace(empty_cli):
    """Threats crossed 29, 30, 31 and 32 days before today (UTC), one whose deadline passed
    yesterday, one whose month deadline has not, and one decided by a response alone; the
    CLI's today is the views' today."""
    today = utc_today()
    cli = empty_cli
    cli.today = today
    cli("add", "actor", "kim", "--name", "Kim Jong Un")
    cli("add", "actor", "lee", "--name", "Lee")
    for n in (29, 30, 31, 32):
        on = days_before(today, n)
        cli("add", "threat", "--by", "kim", "--on", days_before(today, 40), "--said", f"{n}", "--id", f"crossed-{n}")
        cli("add", "event", f"crossed-{n}", "--kind", "crossed", "--on", on, "--what", "Crossed.")
    yesterday = days_before(today, 1)
    cli(
        "add",
        "threat",
        "--by",
        "lee",
        "--on",
        days_before(today, 9),
        "--said",
        "x",
        "--deadline",
        yesterday,
        "--id",
        "lapsed",
    )
    cli(
        "add",
        "threat",
        "--by",
        "lee",
        "--on",
        days_before(today, 9),
        "--said",
        "y",
        "--deadline",
        today[:7],
        "--id",
        "month",
    )
    cli("add", "threat", "--by", "lee", "--on", days_before(today, 9), "--said", "z", "--id", "answered")
    cli("add", "event", "answered", "--kind", "response", "--on", yesterday, "--what", "r", "--outcome", "partial")
    return cli


def view_rows(db) -> dict:
    return {
        r[0]: r[1:]
        for r in stored(
            db, "SELECT id, issuer, issuer_name, made_on, statement, outcome, tested_on, deadline FROM threat_outcome"
        )
    }


def cli_rows(cli, *args) -> dict:
    return {
        t["id"]: (
            t["issuer"],
            t["issuer_name"],
            t["made_on"],
            t["statement"],
            t["outcome"],
            t["tested_on"],
            t["deadline"],
        )
        for t in cli.json("list", "--json", *args)
    }


def test_the_views_give_the_outcomes_list_gives(around_grace):
    cli, today = around_grace, around_grace.today
    rows = cli_rows(cli)
    assert view_rows(cli.db) == rows
    outcome = {tid: r[4] for tid, r in rows.items()}
    assert outcome == {
        "crossed-29": "pending",
        "crossed-30": "pending",  # 30 days is within a grace period of 30
        "crossed-31": "not_followed_through",
        "crossed-32": "not_followed_through",
        "lapsed": "not_followed_through",
        "month": "pending",
        "answered": "partial",
    }
    assert rows["lapsed"][5] == days_before(today, 1) and rows["answered"][5] == days_before(today, 1)


def test_the_scorecard_view_gives_the_report_s_counts_rates_and_intervals(around_grace):
    report = {r["key"]: r for r in around_grace.json("report", "--json")["rows"]}
    cols = ("actor", "name", "threats", "pending", "partial", "not_followed_through", "tested")
    rates = ("follow_through_rate", "rate_low", "rate_high")
    with sqlite3.connect(around_grace.db) as c:
        c.row_factory = sqlite3.Row
        card = {r["actor"]: dict(r) for r in c.execute("SELECT * FROM actor_scorecard")}
    assert set(card) == set(report) == {"kim", "lee"}
    for key, r in report.items():
        assert tuple(card[key][c] for c in cols) == (key, r["label"], *(r[c] for c in cols[2:]))
        assert tuple(round(card[key][c], 4) for c in rates) == tuple(r[c] for c in rates)
    assert card["lee"]["rate_low"] > 0 and card["kim"]["rate_high"] < 1  # an interval, not a constant


def test_the_views_are_made_from_views_VIEWS(around_grace):
    made = dict(stored(around_grace.db, RULE_VIEWS + " ORDER BY name"))
    assert made == dict(rules.VIEWS)
    assert f"date('now', '-{outcomes.DEFAULT_GRACE_DAYS + 1} days')" in made["threat_outcome"]
    assert stored(around_grace.db, "SELECT key, value FROM setting") == [("rules_version", rules.rules_version())]


def test_changing_the_default_grace_changes_the_commands_the_cache_and_the_views_together(around_grace, monkeypatch):
    cli, today = around_grace, around_grace.today
    before = rules.rules_version()
    monkeypatch.setattr(outcomes, "DEFAULT_GRACE_DAYS", 29)
    assert rules.rules_version() != before
    rows = cli_rows(cli)
    assert rows["crossed-30"][4] == "not_followed_through" and rows["crossed-29"][4] == "pending"
    assert cli.json("report", "--json")["grace_days"] == 29
    assert cli_rows(cli, "--grace", "30")["crossed-30"][4] == "pending"  # a grace given still counts
    # the cache was recomputed with 29 days: the crossing of 30 days ago settled yesterday
    assert stored(cli.db, "SELECT settled_on, settled_outcome FROM threat WHERE id = 'crossed-30'") == [
        (today, "not_followed_through")
    ]
    with sqlite3.connect(cli.db) as c:
        assert summary.stale(c) == []
    assert view_rows(cli.db) == rows
    assert dict(stored(cli.db, RULE_VIEWS)) == dict(rules.VIEWS)
    assert "'-30 days'" in rules.VIEWS["threat_outcome"]
    assert stored(cli.db, "SELECT value FROM setting") == [(rules.rules_version(),)]


def test_a_file_made_with_other_rules_is_brought_up_to_date_on_open_and_only_then(around_grace):
    cli = around_grace
    with sqlite3.connect(cli.db) as c:
        c.execute("UPDATE threat SET settled_on = '0001-01-01', settled_outcome = 'complied'")
        c.execute("DROP VIEW actor_scorecard")
        c.execute("DROP VIEW threat_outcome")
        c.execute("CREATE VIEW threat_outcome AS SELECT 1 AS id")
    # the rules version still matches: the file is taken as it is, and `db check` finds the damage
    assert "cached summary does not match" in cli("db", "check", expect=1).stdout + cli("db", "check", expect=1).stderr
    with sqlite3.connect(cli.db) as c:
        c.execute("UPDATE setting SET value = 'grace=30;sql=00000000'")
    rows = cli_rows(cli)  # judged afresh: the cache of other rules is not read
    assert rows["crossed-31"][4] == "not_followed_through" and rows["crossed-30"][4] == "pending"
    # a view redlines did not make keeps the file from being written until it is repaired; the
    # repair recreates the views, and the next open brings the cache to this code's rules
    cli("db", "check", "--repair")
    cli("db", "check")
    assert view_rows(cli.db) == rows
    assert stored(cli.db, "SELECT value FROM setting") == [(rules.rules_version(),)]


def test_an_upgrade_from_schema_0006_replaces_the_frozen_views(around_grace):
    from alembic import command
    from alembic.config import Config

    from redlines.resources import migrations_dir

    cli = around_grace
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["sqlite_path"] = str(cli.db)
    command.downgrade(cfg, "0006")
    frozen = dict(stored(cli.db, RULE_VIEWS))
    assert "date('now', '-31 days')" in frozen["threat_outcome"]  # as 0002 made it
    rows = cli_rows(cli)  # upgrades on open
    assert stored(cli.db, "SELECT version_num FROM alembic_version") == [(engine.head_revision(),)]
    assert dict(stored(cli.db, RULE_VIEWS)) == dict(rules.VIEWS)
    assert view_rows(cli.db) == rows


def test_a_file_that_cannot_be_written_is_judged_afresh_with_the_live_rules(around_grace):
    cli = around_grace
    rows = cli_rows(cli)
    with sqlite3.connect(cli.db) as c:
        c.execute("UPDATE setting SET value = 'other'")
        c.execute("UPDATE threat SET settled_on = '0001-01-01', settled_outcome = 'complied'")
    conn = sqlite3.connect(f"file:{cli.db}?mode=ro", uri=True, isolation_level=None)
    try:
        assert rules.sync_rules(conn) is conn
        assert not rules.cache_usable(conn)
        got = {r[0]: r[1] for r in conn.execute("SELECT id, outcome FROM threat_outcome")}  # this connection's views
        assert got == {tid: r[4] for tid, r in rows.items()}
    finally:
        conn.close()
    assert stored(cli.db, "SELECT value FROM setting") == [("other",)]  # nothing was written


def test_a_file_made_by_db_init_has_its_views_and_rules_version_at_once(cli):
    cli("db", "init", "--empty")
    assert dict(stored(cli.db, RULE_VIEWS)) == dict(rules.VIEWS)
    assert stored(cli.db, "SELECT value FROM setting") == [(rules.rules_version(),)]
    assert stored(cli.db, "SELECT * FROM actor_scorecard") == []
