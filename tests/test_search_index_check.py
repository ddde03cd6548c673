"""`db check` looks inside the search index: a file received from elsewhere can carry words in
the FTS5 index that no record holds (SQLite's integrity_check does not look there), which show up
in search, and a later edit of such a row corrupts the index. The check finds it; `--repair`
builds the index anew from the records, after a backup."""

import sqlite3

import pytest

# Plants words in the SQLite file's FTS5 index with sqlite3: runs on the sqlite engine alone.
pytestmark = pytest.mark.sqlite_only


def test_words_no_record_holds_are_found_and_repaired(cli):
    cli("list")  # the seeded file
    with sqlite3.connect(cli.db) as c:
        (rowid,) = c.execute("SELECT rowid FROM threat WHERE id = 'putin-f16'").fetchone()
        c.execute("INSERT INTO search (rowid, body) VALUES (?, 'bananas')", (rowid * 3,))
    c.close()
    assert [r["id"] for r in cli.json("search", "bananas", "--json")] == ["putin-f16"]  # the planted word

    found = cli("db", "check", expect=1)
    assert "the search index does not match the records" in found.stderr
    assert "db check --repair` puts the triggers, views and search index right" in found.stderr

    repaired = cli("db", "check", "--repair")
    assert "built the search index anew from the records" in repaired.stderr
    assert "backup at" in repaired.stderr
    assert cli.json("search", "bananas", "--json") == []
    assert [r["id"] for r in cli.json("search", "jets", "--json")] == ["putin-f16"]
    cli("db", "check")  # ok now
    cli("edit", "putin-f16", "--said", "a new statement about F-16 jets")
    cli("delete", "putin-f16", "--yes")
    cli("db", "check")
    assert cli.json("search", "jets", "--json") == []


def test_a_sound_index_passes_and_repair_leaves_it_alone(cli):
    cli("list")
    assert "ok" in cli("db", "check").stderr
    repaired = cli("db", "check", "--repair")
    assert "built the search index" not in repaired.stderr and "backup at" not in repaired.stderr
