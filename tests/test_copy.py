"""`db copy FROM TO`: the whole data set, history and authors included, row by row into a new
or empty database; and what belongs to a PostgreSQL server (a server location, roles) said
plainly on SQLite."""

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, run_installed


def export(cli: Cli) -> dict:
    doc = cli.json("export", "--format", "json")
    doc.pop("exported_at")
    return doc


@pytest.fixture
def edited(cli):
    """The seeded database with edits by two authors, one of them undone."""
    alice, bob = {"env": {"REDLINES_AUTHOR": "alice"}}, {"env": {"REDLINES_AUTHOR": "bob"}}
    tid = cli.json("list", "--json")[0]["id"]
    cli("add", "actor", "kim", "--name", "Kim Jong Un", "--alias", "Kim", **alice)
    cli("add", "threat", "--id", "k1", "--by", "kim", "--on", "2025-03-01", "--said", "Seas of fire", **alice)
    cli("add", "event", "k1", "--kind", "restated", "--on", "2025-04-01", "--what", "again", **bob)
    cli("edit", tid, "--tag", "copied", **bob)
    cli("add", "event", tid, "--kind", "note", "--on", "2025-05-01", "--what", "a note", **alice)
    cli("undo", "--yes", **alice)
    return cli


def test_a_copy_holds_every_record_and_the_whole_history(edited, tmp_path):
    to = tmp_path / "copy.db"
    done = edited("db", "copy", str(edited.db), str(to))
    assert f"copied {edited.db} to {to}: 8 threats" in done.stderr and "runs of history" in done.stderr
    copy = Cli(to, edited.today)
    assert export(copy) == export(edited)
    history = edited.json("history", "--json")
    assert copy.json("history", "--json") == history
    assert {r["author"] for r in history} >= {"alice", "bob"}
    for read in (["report", "--json"], ["show", "k1", "--json"], ["due", "--json"]):
        assert copy.json(*read) == edited.json(*read), read
    found, found_in_copy = edited.json("search", "fire", "--json"), copy.json("search", "fire", "--json")
    if isinstance(edited.db, Path):  # file to file: the same search, ranks and all
        assert found_in_copy == found
    else:  # a server's copy in a file: the same threats found (each engine ranks its own way)
        assert {r["id"] for r in found_in_copy} == {r["id"] for r in found} and found
    assert copy("db", "check").stderr.endswith(": ok\n")


def test_undo_works_on_the_copy_and_leaves_the_original_alone(edited, tmp_path):
    to = tmp_path / "copy.db"
    edited("db", "copy", str(edited.db), str(to))
    copy = Cli(to, edited.today)
    original = export(edited)
    # alice's newest run is her undo: undoing it on the copy redoes the note
    copy("undo", "--yes", env={"REDLINES_AUTHOR": "alice"})
    assert export(copy) != original and export(edited) == original
    # bob's newest run (the tag edit) goes back on the copy
    copy("undo", "--yes", env={"REDLINES_AUTHOR": "bob"})
    assert "copied" not in json.dumps(copy.json("list", "--json"))
    # a new run on the copy continues the numbering of the history it holds
    copy("add", "actor", "new", "--name", "New", env={"REDLINES_AUTHOR": "carol"})
    runs = copy.json("history", "--json")
    assert runs[0]["run"] == len(runs) and runs[0]["author"] == "carol"


def test_a_copy_refuses_a_target_that_holds_data_unless_forced_then_keeps_a_backup(edited, tmp_path):
    to = tmp_path / "other.db"
    other = Cli(to, edited.today)
    other("list")  # seeded, a data set of its own
    other("add", "actor", "zz", "--name", "Zz")
    before = export(other)
    refused = edited("db", "copy", str(edited.db), str(to), expect=1)
    assert f"{to} holds a data set already; nothing was copied" in refused.stderr and "--force" in refused.stderr
    assert export(other) == before
    forced = edited("db", "copy", str(edited.db), str(to), "--force")
    saved = [p for p in tmp_path.iterdir() if p.name.startswith("other.db.replaced-")]
    assert len(saved) == 1 and str(saved[0]) in forced.stderr
    assert export(other) == export(edited)
    assert export(Cli(saved[0], edited.today)) == before


@pytest.mark.parametrize("how", ["init --empty", "zero bytes"])
def test_an_empty_target_is_filled_without_force(edited, tmp_path, how):
    to = tmp_path / "empty.db"
    if how == "zero bytes":
        to.touch()
    else:
        Cli(to, edited.today)("db", "init", "--empty")
    edited("db", "copy", str(edited.db), str(to))
    assert export(Cli(to, edited.today)) == export(edited)


def test_refusals_write_nothing(edited, tmp_path):
    missing, to = tmp_path / "missing.db", tmp_path / "to.db"
    assert "does not exist; nothing was copied" in edited("db", "copy", str(missing), str(to), expect=1).stderr
    assert not missing.exists() and not to.exists()
    assert "both FROM and TO" in edited("db", "copy", str(edited.db), str(edited.db), expect=1).stderr
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not a database, but someone's notes\n" * 100)
    refused = edited("db", "copy", str(edited.db), str(garbage), "--force", expect=1)
    assert "not a SQLite database" in refused.stderr and "Traceback" not in refused.stderr
    assert garbage.read_text() == "not a database, but someone's notes\n" * 100
    assert "a folder" in edited("db", "copy", str(edited.db), str(tmp_path), expect=1).stderr


@pytest.mark.parametrize("which", ["FROM", "TO"])
def test_an_unreachable_postgresql_location_fails_in_one_line_and_its_password_is_never_shown(cli, tmp_path, which):
    url = "postgresql://ana:s3cr3t-pw@127.0.0.1:1/redlines"  # port 1: nothing listens there
    cli("list", "--limit", "1")
    args = [url, str(tmp_path / "x.db")] if which == "FROM" else [str(cli.db), url]
    refused = cli("db", "copy", *args, expect=1)
    assert refused.stderr.startswith("error: cannot connect to postgresql://ana:***@127.0.0.1:1/redlines: ")
    assert len(refused.stderr.splitlines()) == 1 and "Traceback" not in refused.stderr
    assert "s3cr3t" not in refused.stderr + refused.stdout
    assert not (tmp_path / "x.db").exists()


@pytest.mark.sqlite_only  # what a SQLite file says to grant-read/grant-write
@pytest.mark.parametrize("verb", ["grant-read", "grant-write"])
def test_roles_belong_to_a_server_a_sqlite_file_says_so(cli, verb):
    refused = cli("db", verb, "analysts", expect=1)
    assert refused.stderr.startswith(f"error: roles belong to a PostgreSQL server: {cli.db} is a SQLite file")
    assert "no role was granted" in refused.stderr and "chmod" in refused.stderr
    assert not cli.db.exists()  # nothing was created or opened
    url = "postgresql://ana:pw@127.0.0.1:1/db"
    on_server = cli("--db", url, "db", verb, "analysts", expect=1)
    assert on_server.stderr.startswith("error: cannot connect to postgresql://ana:***@127.0.0.1:1/db")
    assert ":pw@" not in on_server.stderr


def test_copy_through_the_installed_command(installed, tmp_path):
    src, to = tmp_path / "a.db", tmp_path / "b.db"
    assert run_installed(installed, "list", "--limit", "1", db=src).returncode == 0
    assert run_installed(installed, "add", "actor", "zz", "--name", "Zz", db=src).returncode == 0
    done = run_installed(installed, "db", "copy", str(src), str(to), db=src)
    assert done.returncode == 0 and done.stdout == "", done.stderr
    with sqlite3.connect(to) as a, sqlite3.connect(src) as b:
        for table in ("run", "change", "actor", "threat", "event", "citation"):
            assert (
                a.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                == b.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            ), table
    a.close()
    b.close()
    undo = run_installed(installed, "undo", "--yes", db=to, extra_env={"REDLINES_AUTHOR": "x"})
    assert undo.returncode == 1 and "nothing to undo" in undo.stderr  # the runs are the login name's
    undo = run_installed(installed, "undo", "--run", "2", "--yes", db=to)
    assert undo.returncode == 0 and "undone: #2 add actor zz" in undo.stderr
