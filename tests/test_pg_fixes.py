"""The store's SQL on both engines where the SQLite-only work of this session and PostgreSQL met:
bulk imports next to rows written one at a time, undo of bulk-logged runs, and the search index
of rows added either way."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import raw, table_names


def _doc(threats: list[dict]) -> str:
    return json.dumps({"actors": [{"slug": "kim", "name": "Kim"}], "sources": [], "threats": threats})


def _threat(tid: str, url: str, quote: str) -> dict:
    return {
        "id": tid,
        "issuer": "kim",
        "made_on": "2025-01-01",
        "statement": f"statement of {tid}",
        "sources": [{"url": url, "quote": quote}],
    }


def test_an_import_adds_sources_after_ones_added_one_at_a_time(empty_cli, tmp_path):
    cli = empty_cli
    cli("add", "actor", "kim", "--name", "Kim")
    cli("add", "threat", "--id", "a", "--by", "kim", "--on", "2025-01-01", "--said", "first",
        "--source", "https://x.org/1", "--quote", "one")  # fmt: skip
    f = tmp_path / "in.json"
    f.write_text(_doc([_threat("b", "https://x.org/2", "lighthouse"), _threat("c", "https://x.org/1", "two")]))
    cli("import", str(f))
    with raw(cli.db) as conn:
        assert sorted(conn.execute("SELECT id, url FROM source").fetchall()) == [
            (1, "https://x.org/1"),
            (2, "https://x.org/2"),
        ]
    cli("add", "threat", "--id", "d", "--by", "kim", "--on", "2025-01-01", "--said", "fourth",
        "--source", "https://x.org/3")  # fmt: skip
    with raw(cli.db) as conn:
        assert conn.execute("SELECT id FROM source WHERE url = 'https://x.org/3'").fetchone()[0] == 3
    assert [r["id"] for r in cli.json("search", "lighthouse", "--json")] == ["b"]
    cli("undo", "--run", "4", "--yes")  # d, and source 3
    cli("undo", "--run", "3", "--yes")  # the import: b, c and source 2 go
    assert [r["id"] for r in cli.json("list", "--json")] == ["a"]
    assert cli.json("search", "lighthouse", "--json") == []
    with raw(cli.db) as conn:
        assert conn.execute("SELECT url FROM source").fetchall() == [("https://x.org/1",)]


def test_undo_of_an_import_is_refused_when_a_later_run_changed_an_imported_threat(empty_cli, tmp_path):
    cli = empty_cli
    cli("add", "actor", "kim", "--name", "Kim")
    f = tmp_path / "in.json"
    f.write_text(_doc([_threat("b", "https://x.org/2", "q"), _threat("c", "https://x.org/3", "r")]))
    cli("import", str(f))
    cli("edit", "c", "--said", "changed")
    result = cli("undo", "--run", "2", "--yes", expect=1)
    assert "run #2 (import" in result.stderr and "cannot be undone" in result.stderr
    assert "#3" in result.stderr
    assert sorted(r["id"] for r in cli.json("list", "--json")) == ["b", "c"]


def test_a_comment_in_a_statement_does_not_hide_what_the_translation_appends():
    from redlines.store.postgres import translate

    sql = translate("INSERT OR IGNORE INTO threat_tag (threat_id, tag) VALUES (?, ?) -- load").sql
    assert "--" not in sql
    assert sql.endswith("ON CONFLICT DO NOTHING RETURNING id")
    sql = translate("INSERT INTO source (url) SELECT value FROM json_each(?) -- load").sql
    assert "--" not in sql and "row_number() OVER ()" in sql and sql.endswith(") AS _n")


BENCH = Path(__file__).resolve().parent.parent / "bench" / "generate.py"
NUMBERED = {"threat": "rowid", "event": "rowid", "citation": "id", "source": "id", "threat_target": "id"}


def _dump(db) -> dict:
    """Every table but the log of runs, which an import and its undo add to (and the shadow
    tables of SQLite's search index, whose pages an insert and a delete need not leave as found)."""
    with raw(db) as c:
        return {
            t: sorted(map(repr, c.execute(f"SELECT * FROM {t}")))
            for t in table_names(c)
            if t not in ("run", "change") and not t.startswith("search_")
        }


def test_a_bulk_import_into_a_database_with_records_numbers_on_is_searched_and_undone_exactly(cli, tmp_path):
    """Thousands of threats (two batches and more) into the seeded database: every row there, the
    rows the tables number numbered on from the largest in the order of the file, found by
    search, settled verdicts as `db check` computes them; undone, every table is as it was."""
    data = tmp_path / "threats.jsonl"
    made = subprocess.run([sys.executable, str(BENCH), "3000"], capture_output=True, text=True, check=True)
    data.write_text(made.stdout)
    records = [json.loads(line) for line in made.stdout.splitlines()]
    threats = [r for r in records if r.get("type") == "threat"]
    cli("add", "threat", "--id", "one-at-a-time", "--by", "putin", "--on", "2025-01-01", "--said", "first",
        "--source", "https://x.org/single", "--quote", "written alone")  # fmt: skip
    before = _dump(cli.db)
    with raw(cli.db) as c:
        top = {t: c.execute(f"SELECT MAX({k}) FROM {t}").fetchone()[0] for t, k in NUMBERED.items()}
    cli("import", str(data))
    run = cli.json("history", "--json", "--limit", "1")[0]["run"]

    with raw(cli.db) as c:
        new = {
            t: [r[0] for r in c.execute(f"SELECT {k} FROM {t} WHERE {k} > {top[t]} ORDER BY {k}")]
            for t, k in NUMBERED.items()
        }
        for t, keys in new.items():  # numbered on from the largest, without a gap
            assert keys == list(range(top[t] + 1, top[t] + 1 + len(keys))), t
        in_order = [r[0] for r in c.execute(f"SELECT id FROM threat WHERE rowid > {top['threat']} ORDER BY rowid")]
        assert in_order == [t["id"] for t in threats]
        by_citation = "SELECT t.rowid FROM citation c JOIN threat t ON t.id = c.threat_id WHERE c.id > {} ORDER BY c.id"
        cited = [r[0] for r in c.execute(by_citation.format(top["citation"]))]
        assert cited == sorted(cited) and len(cited) == len(threats)
        events = c.execute(f"SELECT COUNT(*) FROM event WHERE rowid > {top['event']}").fetchone()[0]
        assert events == sum(len(t.get("events") or []) for t in threats)
        quotes = sum(1 + len(t.get("events") or []) for t in threats)  # a quoted source each
        assert len(new["citation"]) == quotes and len(new["source"]) == quotes
        made_on = dict(c.execute(f"SELECT id, made_on FROM threat WHERE rowid > {top['threat']}").fetchall())
        assert made_on == {t["id"]: t["made_on"] for t in threats}

    last = threats[-1]
    found = cli.json("search", '"' + last["statement"].replace('"', "") + '"', "--json")
    assert last["id"] in [r["id"] for r in found]
    quote = last["events"][-1]["sources"][0]["quote"] if last.get("events") else last["sources"][0]["quote"]
    assert last["id"] in [r["id"] for r in cli.json("search", '"' + quote.replace('"', "") + '"', "--json")]
    cli("db", "check")  # the cached summaries and settled verdicts are the ones the rules give

    cli("undo", "--run", str(run), "--yes")
    assert _dump(cli.db) == before
    cli("add", "threat", "--id", "after", "--by", "putin", "--on", "2025-01-02", "--said", "later",
        "--source", "https://x.org/later", "--quote", "numbered on")  # fmt: skip
    with raw(cli.db) as c:
        assert c.execute("SELECT MAX(id) FROM citation").fetchone()[0] == top["citation"] + 1
        assert c.execute("SELECT MAX(id) FROM source").fetchone()[0] == top["source"] + 1


def test_an_undo_of_a_bulk_import_logs_each_row_it_removes_so_that_undoing_it_puts_each_back(cli, tmp_path):
    """The undo of an import removes its new threats a batch at a time, with everything under
    them: each removed row is in the undo's history, and undoing the undo gives back exactly
    the database the import made."""
    data = tmp_path / "threats.jsonl"
    made = subprocess.run([sys.executable, str(BENCH), "300"], capture_output=True, text=True, check=True)
    data.write_text(made.stdout)
    cli("db", "check")  # the seeded database, made on first use
    before = _dump(cli.db)
    with raw(cli.db) as c:
        top = {t: c.execute(f"SELECT MAX(id) FROM {t}").fetchone()[0] for t in ("citation", "source")}
        seeded = {r[0] for r in c.execute("SELECT id FROM threat")}
    cli("import", str(data))
    exported = cli("export", "--format", "jsonl").stdout.splitlines()[1:]  # (the first: when it was exported)
    with raw(cli.db) as c:
        new = [r[0] for r in c.execute("SELECT id FROM threat")]
        new = sorted(set(new) - seeded)
        listed = ", ".join(f"'{t}'" for t in new)
        expected = {("threat", t) for t in new}
        for table in ("event", "threat_target", "threat_tag"):
            expected |= {(table, str(r[0])) for r in c.execute(f"SELECT id FROM {table} WHERE threat_id IN ({listed})")}
        for table in ("citation", "source"):
            expected |= {(table, str(r[0])) for r in c.execute(f"SELECT id FROM {table} WHERE id > {top[table]}")}
    assert len(new) == 300 and len(expected) > 1500

    cli("undo", "--yes")
    assert _dump(cli.db) == before
    undo = cli.json("history", "--json", "--limit", "1")[0]
    bulk = [c for c in undo["changes"] if c["table"] not in ("actor", "alias")]  # (the file's actors: row by row)
    assert all(c["op"] == "delete" for c in bulk)
    assert sorted((c["table"], c["id"]) for c in bulk) == sorted(expected)  # each row once
    kept = next(c for c in bulk if c["table"] == "threat")
    assert kept["fields"]["statement"][1] is None and kept["fields"]["statement"][0]

    cli("undo", "--yes")  # undoes the undo: every record back as it was (on PostgreSQL, under new rowids)
    assert cli("export", "--format", "jsonl").stdout.splitlines()[1:] == exported
    redo = cli.json("history", "--json", "--limit", "1")[0]["changes"]
    redo = [c for c in redo if c["table"] not in ("actor", "alias")]
    assert all(c["op"] == "insert" for c in redo)
    assert sorted((c["table"], c["id"]) for c in redo) == sorted(expected)
    assert {k: v[::-1] for k, v in next(c for c in redo if c["id"] == kept["id"])["fields"].items()} == kept["fields"]
    cli("db", "check")  # summaries, verdicts and the search index agree with the rows
    assert [r["id"] for r in cli.json("search", kept["fields"]["statement"][0].split()[1], "--json")]
    cli("undo", "--yes")
    assert _dump(cli.db) == before


def _indexes_and_keys(conn) -> list[tuple[str, str, str]]:
    """Every index and foreign key of the database, on either engine: (what, name, definition)."""
    if isinstance(conn, sqlite3.Connection):
        rows = conn.execute("SELECT 'index', name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        keys = [
            ("key", table, repr(k[2:5]))
            for table in table_names(conn)
            for k in conn.execute(f'PRAGMA foreign_key_list("{table}")')
        ]
    else:
        rows = conn.execute("SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
        keys = conn.execute(
            "SELECT 'key', conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
        ).fetchall()
    return sorted([*rows, *keys])


def _events(tid: str) -> list[dict]:
    return [
        {"kind": "crossed", "on": "2025-02-01", "what": f"{tid} crossed", "sources": [{"url": "https://x.org/e"}]},
        {"kind": "response", "on": "2025-03-01", "what": f"{tid} answered", "outcome": "partial"},
    ]


def test_a_bulk_load_into_an_empty_database_puts_back_each_index_and_foreign_key_it_set_aside(empty_cli, tmp_path):
    cli = empty_cli
    with raw(cli.db) as conn:
        before = _indexes_and_keys(conn)
    assert [k for k in before if k[0] == "key"], "the schema has foreign keys to set aside"
    threats = [
        _threat(f"t{n}", f"https://x.org/{n % 3}", f"quote {n}") | {"events": _events(f"t{n}")} for n in range(5)
    ]
    f = tmp_path / "in.json"
    f.write_text(_doc(threats[:4] + [{k: v for k, v in threats[4].items() if k != "statement"}]))  # t4: refused
    refused = cli("import", str(f), expect=2)
    assert "threats[4].statement: is required for a new threat" in refused.stderr
    with raw(cli.db) as conn:
        assert _indexes_and_keys(conn) == before
        assert conn.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 0
    f.write_text(_doc(threats))
    cli("import", str(f))
    with raw(cli.db) as conn:
        assert _indexes_and_keys(conn) == before
        assert conn.execute("SELECT COUNT(*) FROM event").fetchone()[0] == 10
    assert [(t["id"], t["outcome"]) for t in cli.json("list", "--json")] == [(f"t{n}", "partial") for n in range(5)]
    # and the keys hold again: a tag of a threat that is not there is refused
    with raw(cli.db) as conn:
        if isinstance(conn, sqlite3.Connection):
            conn.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(Exception, match="(?i)foreign key"):
            conn.execute("INSERT INTO threat_tag (threat_id, tag) VALUES ('nowhere', 'x')")


def test_threats_that_never_settle_are_written_checked_and_edited_on_each_engine(empty_cli, tmp_path):
    """A deadline in 9999, or set by an event to 9999's last day: the day after it is past
    every date, so the threat never settles, on either engine, through each write that settles
    it again (add, add event, edit, import) and `db check`."""
    cli = empty_cli
    cli("add", "actor", "kim", "--name", "Kim")
    cli("add", "threat", "--id", "far", "--by", "kim", "--on", "2025-01-01", "--said", "far off",
        "--deadline", "9999")  # fmt: skip
    cli("add", "threat", "--id", "moved", "--by", "kim", "--on", "2025-01-01", "--said", "moved")
    cli("add", "event", "moved", "--kind", "deadline", "--on", "2025-02-01", "--due", "9999-12-31", "--what", "later")
    cli("add", "event", "far", "--kind", "restated", "--on", "2025-03-01", "--what", "again")
    cli("edit", "far", "--said", "far off still")
    f = tmp_path / "in.json"
    f.write_text(_doc([{**_threat("imported", "https://x.org/1", "q"), "deadline": "9999-12"}]))
    cli("import", str(f))
    with raw(cli.db) as conn:
        rows = conn.execute("SELECT id, settled_on FROM threat ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(tid, "9999-99-99") for tid in ("far", "imported", "moved")]
    check = cli("db", "check")
    assert "problem" not in check.stdout + check.stderr
    assert [t["outcome"] for t in cli.json("list", "--json")] == ["pending"] * 3
