"""Database size (issue 14): the search index keeps no copy of the texts (an external-content FTS5
table read through the view `search_source`, migration 0010), and stays exactly in step with the
rows through every kind of write; passages are still cut from the stored text."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli, raw

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2025-08-12"


# On PostgreSQL: every threat, event and quote, with its key, kind, threat, event and text now.
_PG_TEXTS = """
SELECT t.rowid * 3, 'threat', t.id, NULL, coalesce(t.statement, '') || ' ' || coalesce(t.trigger, '') || ' ' ||
  coalesce(t.consequence, '') FROM threat t
UNION ALL SELECT e.rowid * 3 + 1, 'event', e.threat_id, e.id, e.what FROM event e
UNION ALL SELECT c.id * 3 + 2, 'quote', coalesce(c.threat_id, (SELECT threat_id FROM event WHERE id = c.event_id)),
  c.event_id, c.quote FROM citation c WHERE c.quote IS NOT NULL"""


def index_matches_rows(db: Path | str) -> None:
    """FTS5's own check, comparing every indexed word with the text the rows hold now: a trigger
    that handed FTS5 the wrong old words, or a row indexed twice, fails it. On PostgreSQL, the
    index's rows are those of the texts, each with the text it holds now."""
    with raw(db) as conn:
        if isinstance(conn, sqlite3.Connection):
            conn.execute("INSERT INTO search (search, rank) VALUES ('integrity-check', 1)")
        else:
            indexed = sorted(conn.execute("SELECT rowid, kind, threat_id, event_id, body FROM search").fetchall())
            assert indexed == sorted(conn.execute(_PG_TEXTS).fetchall())


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    return names


def ids(cli: Cli, words: str, *args: str) -> list[str]:
    return [r["id"] for r in cli.json(*args, "search", words, "--json")]


def generate(tmp_path: Path, n: int) -> Path:
    out = tmp_path / f"threats-{n}.jsonl"
    with open(out, "w") as f:
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), str(n)], stdout=f, check=True)
    return out


@pytest.mark.sqlite_only  # the FTS5 table in the file, VACUUM, and 0010 on SQLite
def test_the_index_holds_no_copy_of_the_texts(cli):
    cli("list")
    names = tables(cli.db)
    assert "search" in names and "search_content" not in names
    with sqlite3.connect(cli.db) as conn:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search'").fetchone()[0]
        indexed = conn.execute("SELECT COUNT(*) FROM search_source").fetchone()[0]
        texts = conn.execute(
            "SELECT (SELECT COUNT(*) FROM threat) + (SELECT COUNT(*) FROM event) "
            "+ (SELECT COUNT(*) FROM citation WHERE quote IS NOT NULL)"
        ).fetchone()[0]
    conn.close()
    assert "content = 'search_source'" in sql
    assert indexed == texts == 7 + 13 + 21  # every threat, event and quote of the seed, once
    index_matches_rows(cli.db)


def test_passages_are_cut_from_the_stored_text_of_threats_events_and_quotes(empty_cli):
    cli = empty_cli
    cli("add", "actor", "kim", "--name", "Kim")
    said = ["--said", "Artillery at dawn", "--if", "drills go on", "--then", "a sea of fire"]
    cli("add", "threat", "--id", "k", "--by", "kim", "--on", "2025-01-01", *said)
    cli("add", "event", "k", "--kind", "note", "--on", "2025-01-02", "--what", "Satellite images of artillery")
    cli("add", "event", "k", "--kind", "note", "--on", "2025-01-03", "--what", "More drills",
        "--source", "https://x.org/a", "--quote", "the artillery is moving")  # fmt: skip
    [hit] = cli.json("search", "artillery", "--json")
    assert hit["id"] == "k"
    assert sorted((m["in"], m["event"], m["snippet"]) for m in hit["matches"]) == [
        ("event", "k#1", "Satellite images of [artillery]"),
        ("quote", "k#2", "the [artillery] is moving"),
        ("threat", None, "[Artillery] at dawn drills go on a sea of fire"),
    ]
    index_matches_rows(cli.db)


def test_the_index_stays_whole_through_edits_deletes_undo_and_imports(empty_cli, tmp_path):
    cli = empty_cli
    cli("add", "actor", "kim", "--name", "Kim")
    cli("add", "threat", "--id", "k", "--by", "kim", "--on", "2025-01-01", "--said", "Artillery at dawn",
        "--source", "https://x.org/1", "--quote", "a sea of fire")  # fmt: skip
    cli("add", "event", "k", "--kind", "crossed", "--on", "2025-01-02", "--what", "shells fell on the border")
    cli("edit", "k", "--said", "Missiles at noon")  # the old words go, the new ones come
    index_matches_rows(cli.db)
    assert ids(cli, "artillery") == [] and ids(cli, "missiles") == ["k"]
    cli("undo", "--yes")
    index_matches_rows(cli.db)
    assert ids(cli, "artillery") == ["k"] and ids(cli, "missiles") == []
    export = tmp_path / "out.jsonl"
    cli("export", "--format", "jsonl", "-o", str(export))
    cli("delete", "k", "--yes")  # the threat, its event and its quote
    index_matches_rows(cli.db)
    assert ids(cli, "artillery OR shells OR sea") == []
    cli("import", str(export))  # back, through the bulk loader
    index_matches_rows(cli.db)
    assert ids(cli, "shells") == ids(cli, "sea") == ["k"]
    # --replace: the file is the whole truth for its threat; the event it no longer has goes
    records = [json.loads(line) for line in export.read_text().splitlines()]
    for r in records:
        if r.get("type") == "threat":
            r["statement"], r["events"] = "Drones at dusk", []
    changed = tmp_path / "changed.jsonl"
    changed.write_text("".join(json.dumps(r) + "\n" for r in records))
    cli("import", "--replace", str(changed))
    index_matches_rows(cli.db)
    assert ids(cli, "shells") == [] and ids(cli, "drones") == ["k"] and ids(cli, "artillery") == []
    cli("undo", "--yes")
    index_matches_rows(cli.db)
    assert ids(cli, "shells") == ["k"] and ids(cli, "artillery") == ["k"]


@pytest.mark.sqlite_only  # the FTS5 table in the file, VACUUM, and 0010 on SQLite
def test_a_backup_and_a_vacuumed_file_search_as_the_original(cli, tmp_path):
    """The index is keyed by rowids: VACUUM and VACUUM INTO (db backup) keep them, so a backup
    finds the same threats with the same passages, after rows were deleted from the middle."""
    cli("delete", "trump-sanctions-march", "--yes")
    before = cli.json("search", "tariffs OR sanctions OR nuclear", "--json")
    backup = tmp_path / "copy.db"
    cli("db", "backup", str(backup))
    assert Cli(backup, TODAY).json("search", "tariffs OR sanctions OR nuclear", "--json") == before
    with sqlite3.connect(cli.db) as conn:
        conn.execute("VACUUM")
    conn.close()
    assert cli.json("search", "tariffs OR sanctions OR nuclear", "--json") == before
    index_matches_rows(cli.db)


@pytest.mark.sqlite_only  # the FTS5 table in the file, VACUUM, and 0010 on SQLite
def test_upgrading_to_0010_keeps_what_search_finds(cli):
    """Down to 0009 (the index with its own copy of the texts) and up again: the same hits, the
    same passages, and no copy left behind; the file gives the copy's pages back."""
    from alembic import command
    from alembic.config import Config

    from redlines.resources import migrations_dir

    queries = ["nuclear", "tariffs OR sanctions", '"red line"', "Putin"]
    before = {q: cli.json("search", q, "--json") for q in queries}
    cfg = Config(stdout=sys.stderr)
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["sqlite_path"] = str(cli.db)
    command.downgrade(cfg, "0009")
    assert "search_content" in tables(cli.db)
    with sqlite3.connect(cli.db) as conn:  # the old index holds every text, with its threat
        old = conn.execute("SELECT COUNT(*), COUNT(DISTINCT threat_id) FROM search").fetchone()
    conn.close()
    assert old == (41, 7)
    command.upgrade(cfg, "head")
    assert "search_content" not in tables(cli.db)
    with sqlite3.connect(cli.db) as conn:
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0  # vacuumed
    conn.close()
    assert {q: cli.json("search", q, "--json") for q in queries} == before
    index_matches_rows(cli.db)


def test_a_database_is_no_bigger_than_one_and_a_half_times_its_json_lines_export(tmp_path):
    """The size goal of issue 14, on a generated data set imported into an empty database."""
    cli = Cli(tmp_path / "r.db", TODAY)
    cli("db", "init", "--empty")
    cli("import", str(generate(tmp_path, 10_000)))  # the actors and fixed costs weigh less
    export = tmp_path / "out.jsonl"
    cli("export", "--format", "jsonl", "-o", str(export))
    with sqlite3.connect(cli.db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size, exported = cli.db.stat().st_size, export.stat().st_size
    assert size <= 1.5 * exported, f"{size:,} bytes for an export of {exported:,}: {size / exported:.2f}"
    index_matches_rows(cli.db)
