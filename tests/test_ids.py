"""Ids on the command line: what changes or destroys (`edit`, `delete`) needs the whole id;
reading commands and `add event` take any unique start of one; what `--as-of` hides is hidden
from all of them, suggestions included."""

import pytest
from conftest import raw


def threat_ids(cli) -> set[str]:
    with raw(cli.db) as c:
        return {r[0] for r in c.execute("SELECT id FROM threat")}


def event_ids(cli) -> set[str]:
    with raw(cli.db) as c:
        return {r[0] for r in c.execute("SELECT id FROM event")}


def runs(cli) -> int:
    with raw(cli.db) as c:
        return c.execute("SELECT COUNT(*) FROM run").fetchone()[0]


@pytest.fixture
def cli(cli):
    """The CLI on the seeded database, created before a test reads the file directly."""
    cli("db", "init", "--force")
    return cli


@pytest.fixture
def renewed(cli):
    """The seeded record, plus a threat whose id starts with another's whole id."""
    cli("add", "threat", "--by", "putin", "--on", "2025-06-01", "--said", "F-16s again.", "--id", "putin-f16-renewed")
    return cli


def test_delete_run_twice_does_not_take_a_longer_id_the_second_time(renewed):
    assert renewed("delete", "putin-f16", "--yes").stderr.endswith("deleted threat putin-f16 and 2 event(s)\n")
    before = runs(renewed)
    err = renewed("delete", "putin-f16", "--yes", expect=1).stderr
    assert err == (
        "error: 'putin-f16' is not a whole id; edit and delete need the whole id\n  threat putin-f16-renewed\n"
    )
    assert "putin-f16-renewed" in threat_ids(renewed) and runs(renewed) == before


def test_delete_of_an_event_needs_its_threat_s_whole_id(cli):
    err = cli("delete", "putin-long#1", "--yes", expect=1).stderr
    assert err == (
        "error: 'putin-long#1' is not a whole event id; edit and delete need the whole id\n"
        "  putin-long-range-weapons#1\n"
    )
    assert "putin-long-range-weapons#1" in event_ids(cli)
    cli("delete", "putin-long-range-weapons#1", "--yes")
    assert "putin-long-range-weapons#1" not in event_ids(cli)


@pytest.mark.parametrize(
    "args, message",
    [
        (["edit", "trump-sanctions", "--said", "x"], "'trump-sanctions' is not a whole id"),
        (["edit", "trump-sanctions-july#", "--what", "x"], "no event has the id 'trump-sanctions-july#'"),
        (["edit", "trump-sanctions-j#1", "--what", "x"], "'trump-sanctions-j#1' is not a whole event id"),
        (["edit", "Vladmir Putin", "--name", "x"], "'Vladmir Putin' is not an actor's slug"),
        (["edit", "united", "--name", "x"], "'united' is not a whole id"),
        (["delete", "nort", "--yes"], "'nort' is not a whole id"),
    ],
)
def test_a_start_of_an_id_or_a_name_changes_nothing(cli, args, message):
    with raw(cli.db) as c:
        before = c.execute("SELECT * FROM threat ORDER BY id").fetchall(), c.execute("SELECT * FROM actor").fetchall()
    before_runs = runs(cli)
    err = cli(*args, expect=1).stderr
    assert err.startswith(f"error: {message}"), err
    with raw(cli.db) as c:
        after = c.execute("SELECT * FROM threat ORDER BY id").fetchall(), c.execute("SELECT * FROM actor").fetchall()
    assert after == before and runs(cli) == before_runs


def test_an_actor_named_by_name_is_pointed_to_its_slug(cli):
    assert cli("edit", "Vladmir Putin", "--name", "x", expect=1).stderr == (
        "error: 'Vladmir Putin' is not an actor's slug; edit and delete need the whole id\n"
        "  did you mean the actor putin?\n"
    )


def test_edit_of_a_missing_id_says_which_kinds_of_id_it_looked_for(cli):
    assert cli("edit", "zzz-nothing", "--said", "x", expect=1).stderr == (
        "error: no threat id, event id (THREAT#N) or actor slug is 'zzz-nothing'\n"
        "  see `redlines list` and `redlines actors`\n"
    )
    assert cli("delete", "putin-f61", "--yes", expect=1).stderr == (
        "error: no threat id, event id (THREAT#N) or actor slug is 'putin-f61'\n  did you mean: putin-f16, putin?\n"
    )


def test_whole_ids_of_each_kind_are_accepted(cli):
    cli("edit", "putin-f16", "--said", "Changed.")
    cli("edit", "putin-f16#1", "--what", "Changed too.")
    cli("edit", "vance", "--name", "James David Vance")
    shown = cli.json("show", "putin-f16", "--json")
    assert shown["statement"] == "Changed." and shown["events"][0]["what"] == "Changed too."
    assert {a["slug"]: a["name"] for a in cli.json("actors", "--json")}["vance"] == "James David Vance"


def test_reading_commands_and_add_event_keep_unique_prefixes(cli):
    assert cli.json("show", "putin-long", "--json")["id"] == "putin-long-range-weapons"
    assert cli("add", "event", "trump-sanctions-ju", "--kind", "note", "--on", "2025-08-10", "--what", "x").stdout == (
        "trump-sanctions-july#5\n"
    )
    err = cli("show", "trump-sanctions", expect=1).stderr
    assert err.startswith("error: 'trump-sanctions' is the start of several threat ids")


def test_records_hidden_by_the_as_of_date_are_hidden_from_edit_delete_and_suggestions(cli):
    before = runs(cli)
    # putin-f16 was made on 2024-03-27: unknown in 2021, not even as a suggestion
    err = cli("--as-of", "2021", "show", "putin-f1", expect=1).stderr
    assert err == "error: no threat has the id 'putin-f1' as of 2021-12-31\n  see `redlines list`\n"
    assert "putin-f16" not in cli("--as-of", "2021", "show", "putin-f16", expect=1).stderr.split("\n", 1)[1]
    err = cli("--as-of", "2021", "edit", "putin-f16", "--said", "x", expect=1).stderr
    assert err.startswith("error: no threat id, event id (THREAT#N) or actor slug is 'putin-f16' as of 2021-12-31\n")
    assert "putin-f16" not in err.split("\n", 1)[1]
    cli("--as-of", "2021", "delete", "putin-f16", "--yes", expect=1)
    # the Oreshnik response (#2, 2024-11-21) is not known on 2024-11-20; the crossing (#1) is
    err = cli("--as-of", "2024-11-20", "delete", "putin-long-range-weapons#2", "--yes", expect=1).stderr
    assert err.startswith("error: threat putin-long-range-weapons has no event #2 as of 2024-11-20\n")
    cli("--as-of", "2024-11-20", "edit", "putin-long-range-weapons#2", "--what", "x", expect=1)
    cli("--as-of", "2024-11-20", "show", "putin-long-range-weapons#2", expect=1)
    assert runs(cli) == before
    assert {"putin-f16", "putin-long-range-weapons"} <= threat_ids(cli)
    assert "putin-long-range-weapons#2" in event_ids(cli)
    cli("--as-of", "2024-11-20", "edit", "putin-long-range-weapons#1", "--what", "Seen then.")
    assert cli.json("show", "putin-long-range-weapons", "--json")["events"][0]["what"] == "Seen then."


def test_show_of_an_event_id_shows_its_threat_with_the_event_marked(cli):
    shown = cli.json("show", "putin-long#2", "--json")
    assert shown["id"] == "putin-long-range-weapons" and shown["event"] == "putin-long-range-weapons#2"
    assert [e["id"] for e in shown["events"]] == ["putin-long-range-weapons#1", "putin-long-range-weapons#2"]
    assert "event" not in cli.json("show", "putin-long-range-weapons", "--json")
    table = cli("show", "putin-long-range-weapons#2").stdout.splitlines()
    marked = [line for line in table if line.startswith(">")]
    assert len(marked) == 1 and marked[0].startswith("> 2024-11-21  response: Russia struck Dnipro")
    assert any(line.startswith("  2024-11-19  crossed:") for line in table)
    err = cli("show", "putin-long-range-weapons#9", expect=1).stderr
    assert err.startswith("error: threat putin-long-range-weapons has no event #9\n")
    cli("show", "nothing-like-it#1", expect=1)
