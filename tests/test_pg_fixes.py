"""The store's SQL on both engines where the SQLite-only work of this session and PostgreSQL met:
bulk imports next to rows written one at a time, undo of bulk-logged runs, and the search index
of rows added either way."""

from __future__ import annotations

import json

from conftest import raw


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
