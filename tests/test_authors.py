"""Authors in history, and undo of one's own run: every run records who made it
(REDLINES_AUTHOR, else the login name); `history --author` filters by it; `undo` takes back the
caller's newest run not yet undone, `undo --run N` a given one, and neither ever overwrites a
later run's change."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import raw, run_installed

from redlines.store import write

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA_TABLES = ("actor", "alias", "source", "threat", "threat_target", "threat_tag", "event", "citation")


def dump(db) -> dict:
    with raw(db) as c:
        return {t: sorted(map(tuple, c.execute(f"SELECT * FROM {t}"))) for t in DATA_TABLES}


def as_(name):
    return {"env": {"REDLINES_AUTHOR": name}}


@pytest.fixture
def team(empty_cli):
    """An empty database where alice and bob have each added an actor (alice first)."""
    empty_cli("add", "actor", "al", "--name", "Al", **as_("alice"))
    empty_cli("add", "actor", "bo", "--name", "Bo", **as_("bob"))
    return empty_cli


def slugs(cli) -> list[str]:
    return sorted(a["slug"] for a in cli.json("actors", "--json"))


# --- history ----------------------------------------------------------------------------------


def test_history_shows_each_runs_author_in_every_format(team):
    runs = team.json("history", "--json")
    assert [(r["author"], r["command"]) for r in runs] == [("bob", "add actor bo"), ("alice", "add actor al")]
    table = team("history").stdout.splitlines()
    assert table[0] == f"#2  {runs[0]['at']}  bob  add actor bo  (1 change)"
    assert table[2] == f"#1  {runs[1]['at']}  alice  add actor al  (1 change)"
    csv_lines = team("history", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == "run,at,author,command,undoes,changes"
    assert csv_lines[1] == f"2,{runs[0]['at']},bob,add actor bo,,1"
    jsonl = [json.loads(line) for line in team("history", "--format", "jsonl").stdout.splitlines()]
    assert [r["author"] for r in jsonl] == ["bob", "alice"]
    assert "| bob |" in team("history", "--format", "md").stdout


def test_history_author_filters_the_runs_and_their_count(team):
    team("add", "actor", "al2", "--name", "Al Two", **as_("alice"))
    assert [r["command"] for r in team.json("history", "--json", "--author", "alice")] == [
        "add actor al2",
        "add actor al",
    ]
    assert team.json("history", "--json", "--author", "nobody") == []
    one = team("history", "--author", "alice", "--limit", "1")
    assert one.stdout.startswith("#3  ") and "add actor al2" in one.stdout and "bob" not in one.stdout
    assert "1 of 2" in one.stderr  # the count of the filtered runs, not of all three
    assert "needs a name" in team("history", "--author", " ", expect=2).stderr


def test_without_redlines_author_the_login_name_is_recorded(installed, tmp_path):
    db = tmp_path / "r.db"
    done = run_installed(installed, "add", "actor", "zz", "--name", "Zz", db=db, extra_env={"LOGNAME": "zed"})
    assert done.returncode == 0, done.stderr
    out = run_installed(installed, "history", "--json", "--limit", "1", db=db)
    assert json.loads(out.stdout)[0]["author"] == "zed"
    # an empty REDLINES_AUTHOR counts as not given
    run_installed(
        installed, "add", "actor", "yy", "--name", "Yy", db=db, extra_env={"REDLINES_AUTHOR": " ", "LOGNAME": "zed"}
    )
    assert json.loads(run_installed(installed, "history", "--json", "--limit", "1", db=db).stdout)[0]["author"] == "zed"


def test_the_login_name_fallback_never_raises(monkeypatch):
    def no_user():
        raise OSError("No username set in the environment")

    monkeypatch.delenv("REDLINES_AUTHOR", raising=False)
    monkeypatch.setattr("getpass.getuser", no_user)
    assert write.current_author() == "unknown"
    monkeypatch.setattr("getpass.getuser", lambda: (_ for _ in ()).throw(KeyError("uid not found: 4242")))
    assert write.current_author() == "unknown"
    monkeypatch.setenv("REDLINES_AUTHOR", "  Dana Q.  ")
    assert write.current_author() == "Dana Q."


@pytest.mark.parametrize("bad", ["al\x1b[31mice", "a\nb", "x" * 101])
def test_an_unusable_redlines_author_is_bad_input_and_writes_nothing(team, db, bad):
    before, runs = dump(db), team.json("history", "--json")
    refused = team("add", "actor", "cc", "--name", "Cc", expect=2, **as_(bad))
    assert "REDLINES_AUTHOR" in refused.stderr and "Traceback" not in refused.stderr
    assert dump(db) == before and team.json("history", "--json") == runs


# --- undo of one's own run ----------------------------------------------------------------------


def test_undo_takes_back_the_callers_own_run_not_a_colleagues_later_one(team):
    done = team("undo", "--yes", **as_("alice"))
    assert "alice" in done.stderr and "undone: #1 add actor al" in done.stderr
    assert slugs(team) == ["bo"]  # bob's later run stands
    undo = team.json("history", "--json", "--limit", "1")[0]
    assert (undo["author"], undo["undoes"], undo["command"]) == ("alice", 1, "undo #1 (add actor al)")
    # undo again redoes: alice's newest run is now the undo itself
    team("undo", "--yes", **as_("alice"))
    assert slugs(team) == ["al", "bo"]
    team("undo", "--yes", **as_("alice"))
    assert slugs(team) == ["bo"]
    # bob's own undo still takes back bob's run
    team("undo", "--yes", **as_("bob"))
    assert slugs(team) == []


def test_undo_skips_a_run_a_colleague_has_undone_already(team):
    team("add", "actor", "al2", "--name", "Al Two", **as_("alice"))
    team("undo", "--run", "3", "--yes", **as_("bob"))  # bob takes back alice's newest
    assert slugs(team) == ["al", "bo"]
    team("undo", "--yes", **as_("alice"))  # alice's newest not undone: run 1
    assert slugs(team) == ["bo"]


def test_nothing_of_ones_own_to_undo_is_exit_1_with_a_pointer_to_undo_run(team, db):
    before = dump(db)
    refused = team("undo", "--yes", expect=1, **as_("carol"))
    assert "nothing to undo" in refused.stderr and "(carol)" in refused.stderr
    assert "undo --run N" in refused.stderr
    assert dump(db) == before


def test_undo_run_takes_back_any_authors_run_after_asking(team):
    assert "add --yes" in team("undo", "--run", "2", expect=2, **as_("alice")).stderr  # no terminal, no --yes
    assert slugs(team) == ["al", "bo"]
    team("undo", "--run", "2", "--yes", **as_("alice"))
    assert slugs(team) == ["al"]
    assert team.json("history", "--json", "--limit", "1")[0]["author"] == "alice"
    assert "no run #99" in team("undo", "--run", "99", "--yes", expect=1).stderr
    assert team("undo", "--run", "0", "--yes", expect=2).exit_code == 2


def test_undo_run_of_a_run_undone_already_names_the_undo(team, db):
    team("undo", "--run", "1", "--yes", **as_("bob"))
    before = dump(db)
    refused = team("undo", "--run", "1", "--yes", expect=1, **as_("alice"))
    assert "run #1 (add actor al) was undone already by run #3 (bob)" in refused.stderr
    assert "undo --run 3" in refused.stderr
    assert dump(db) == before


def test_undo_refuses_to_overwrite_a_later_edit_of_the_same_record_and_names_it(team, db):
    team("edit", "al", "--name", "Al Bundy", **as_("bob"))  # run 3
    before, runs = dump(db), team.json("history", "--json")
    for args in (["undo", "--yes"], ["undo", "--run", "1", "--yes"]):
        refused = team(*args, expect=1, **as_("alice"))
        assert "run #1 (add actor al) cannot be undone: later run(s) changed the same records" in refused.stderr
        assert f"#3 {runs[0]['at']} bob: edit actor al" in refused.stderr
        assert dump(db) == before and team.json("history", "--json") == runs
    # once bob's edit is taken back, alice's run is free to go
    team("undo", "--yes", **as_("bob"))
    assert "later run(s)" in team("undo", "--yes", expect=1, **as_("alice")).stderr  # the undo touched it too
    team("undo", "--run", "1", "--yes", expect=1, **as_("alice"))


def test_undo_refuses_to_remove_what_a_colleague_hung_off_a_record(empty_cli, db):
    empty_cli("add", "actor", "kim", "--name", "Kim", **as_("alice"))
    empty_cli("add", "threat", "--id", "t", "--by", "kim", "--on", "2025-01-01", "--said", "x", **as_("alice"))
    empty_cli("add", "event", "t", "--kind", "note", "--on", "2025-02-01", "--what", "noted", **as_("bob"))
    before = dump(db)
    refused = empty_cli("undo", "--yes", expect=1, **as_("alice"))  # would delete bob's event with the threat
    assert "run #2 (add threat t) cannot be undone" in refused.stderr and "bob: add event t#1" in refused.stderr
    assert dump(db) == before
    empty_cli("undo", "--yes", **as_("bob"))
    empty_cli("undo", "--run", "2", "--yes", **as_("alice"))  # bob took his event back: nothing is overwritten
    assert [t["id"] for t in empty_cli.json("list", "--json")] == []


def test_a_colleagues_edit_of_another_record_does_not_block_undo(team):
    team("add", "actor", "cy", "--name", "Cy", **as_("alice"))  # run 3
    team("edit", "bo", "--name", "Bo Two", **as_("bob"))  # run 4
    team("undo", "--yes", **as_("alice"))
    assert slugs(team) == ["al", "bo"]
    assert [a["name"] for a in team.json("actors", "--json") if a["slug"] == "bo"] == ["Bo Two"]


@pytest.mark.sqlite_only  # a file of schema 0001, upgraded
def test_runs_from_before_authors_were_recorded_have_none_and_only_undo_run_takes_them(cli, db):
    shutil.copy(FIXTURES / "schema-0001.db", db)
    cli("list", "--json")  # upgrades it
    runs = cli.json("history", "--json")
    assert runs and {r["author"] for r in runs} == {None}
    assert "(author unknown)" in cli("history", "--limit", "1").stdout
    assert "nothing to undo" in cli("undo", "--yes", expect=1, **as_("alice")).stderr
    newest = runs[0]["run"]
    cli("undo", "--run", str(newest), "--yes", **as_("alice"))
    assert cli.json("history", "--json", "--limit", "1")[0]["undoes"] == newest


def test_the_history_schema_has_the_author(cli):
    schema = cli.json("schema", "history")
    run = schema["$defs"]["Run"]
    assert "author" in run["properties"] and "author" in run["required"]


def test_undo_through_the_installed_command(installed, tmp_path):
    db = tmp_path / "r.db"
    assert run_installed(installed, "db", "init", "--empty", db=db).returncode == 0
    for who, slug in (("alice", "al"), ("bob", "bo")):
        add = run_installed(
            installed, "add", "actor", slug, "--name", slug.title(), db=db, extra_env={"REDLINES_AUTHOR": who}
        )
        assert add.returncode == 0, add.stderr
    undo = run_installed(installed, "undo", "--yes", db=db, extra_env={"REDLINES_AUTHOR": "alice"})
    assert undo.returncode == 0 and "undone: #1 add actor al" in undo.stderr
    listed = json.loads(run_installed(installed, "actors", "--json", db=db).stdout)
    assert [a["slug"] for a in listed] == ["bo"]
    nothing = run_installed(installed, "undo", "--yes", db=db, extra_env={"REDLINES_AUTHOR": "carol"})
    assert nothing.returncode == 1 and nothing.stderr.startswith("error: there is nothing to undo")


def test_undo_run_of_a_run_undone_and_redone_points_at_the_redo(team, db):
    team("undo", "--yes", **as_("bob"))  # run 3 undoes 2
    team("undo", "--yes", **as_("bob"))  # run 4 redoes it
    before = dump(db)
    refused = team("undo", "--run", "2", "--yes", expect=1, **as_("alice"))
    assert "run #2 (add actor bo) was undone and redone; run #4 (bob) redid it last" in refused.stderr
    assert "undo --run 4" in refused.stderr and dump(db) == before
    team("undo", "--run", "4", "--yes", **as_("alice"))
    assert slugs(team) == ["al"]
    assert "was undone already by run #5 (alice)" in team("undo", "--run", "2", "--yes", expect=1).stderr
