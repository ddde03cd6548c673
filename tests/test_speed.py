"""Ingest at scale (issue 14): an export of any size streams in bounded memory, and the undo of a
bulk import into a database that holds data already gives back exactly the database before it."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
import tracemalloc
from datetime import date
from pathlib import Path

import pytest
from conftest import Cli

from redlines.output import export
from redlines.service import Tracker

BENCH = Path(__file__).resolve().parent.parent / "bench" / "generate.py"
TODAY = "2025-08-12"


def generate(tmp: Path, n: int) -> Path:
    data = tmp / f"{n}.jsonl"
    with open(data, "w") as f:
        subprocess.run([sys.executable, str(BENCH), str(n)], stdout=f, check=True)
    return data


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A database of 6,000 generated threats (more than a few batches of any reader)."""
    tmp = tmp_path_factory.mktemp("big")
    db = tmp / "big.db"
    cli = Cli(db, TODAY)
    cli("db", "init", "--empty")
    cli("import", str(generate(tmp, 6000)))
    return db


def test_csv_export_streams_in_memory_well_under_its_size(big):
    t = Tracker(big, today=date(2025, 8, 12))
    path = big.parent / "traced.csv"
    tracemalloc.start()
    try:
        rows = t.threat_table()
        assert not isinstance(rows, list)  # an iterator: read as written
        with open(path, "w", newline="") as out:
            export.write_csv(out, rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text = path.read_text()
    assert text.count("\n") > 6000
    # Building every row first took 5.6 times the file (13 MB here); a batch at a time, 0.8 times.
    assert peak < len(text), f"peak {peak:,} bytes for a CSV of {len(text):,}"


def test_csv_export_has_every_threat_once_in_the_order_list_gives(big):
    cli = Cli(big, TODAY)
    out = big.parent / "all.csv"
    cli("export", "--format", "csv", "-o", str(out))
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    with sqlite3.connect(big) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM threat ORDER BY made_on DESC, id")]
    assert [r["id"] for r in rows] == ids
    assert len(ids) == 6000


# --- undo of a bulk import ------------------------------------------------------------------------

HISTORY = {"run", "change"}  # the import and its undo are recorded there: history, not data
WORDS = ["sanctions", '"missile strike"', "nucl*", "troops OR navy", "border NOT talks", "zanir1599", "Putin"]


def dump(db: Path) -> dict:
    """Every row of every table but the history's (in key order, with its rowid, which the search
    index is keyed by), the search index's rows, and what searches find."""
    out: dict = {}
    with sqlite3.connect(db) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        for t in tables:
            if t in HISTORY or t.startswith("search_"):
                continue
            if t == "search":  # the index keeps no text: its rows are read through its view
                out[t] = conn.execute(
                    "SELECT key, kind, threat_id, event_id, body FROM search_source ORDER BY key"
                ).fetchall()
                continue
            key = "rowid, *"
            try:
                out[t] = conn.execute(f'SELECT {key} FROM "{t}" ORDER BY rowid').fetchall()
            except sqlite3.OperationalError:  # a WITHOUT ROWID table
                out[t] = sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall())
        for w in WORDS:
            out[f"search {w}"] = conn.execute(
                "SELECT s.key, s.threat_id FROM search JOIN search_source s ON s.key = search.rowid "
                "WHERE search MATCH ? ORDER BY s.key",
                (w,),
            ).fetchall()
    return out


def test_undo_of_a_bulk_import_gives_back_exactly_the_database_before(tmp_path):
    cli = Cli(tmp_path / "r.db", TODAY)
    cli("db", "init")  # the seed: a database with data of its own
    said = "Any missile strike on the border gets a nuclear answer"
    cli("add", "threat", "--by", "putin", "--said", said, "--on", "2024-03")
    before = dump(cli.db)
    assert before["threat"] and before["search"]
    data = generate(tmp_path, 10_000)
    cli("import", str(data))
    middle = dump(cli.db)
    assert len(middle["threat"]) == len(before["threat"]) + 10_000
    assert all(len(middle[f"search {w}"]) >= len(before[f"search {w}"]) for w in WORDS)
    assert len(middle["search zanir1599"]) > len(before["search zanir1599"])  # the import is searchable
    cli("undo", "--yes")
    after = dump(cli.db)
    assert after.keys() == before.keys()
    for k in before:
        assert after[k] == before[k], k
    # and the seed's own threat still reads as before
    assert json.loads(cli("search", "missile", "--json").stdout)


def test_a_bulk_import_indexes_every_new_text_once_and_leaves_the_stored_ones(tmp_path):
    """The index built in one pass after the rows holds exactly what indexing each row as written
    gives: every threat, event and quoted citation, the seed's as they were, nothing twice."""
    from redlines.store import search

    cli = Cli(tmp_path / "r.db", TODAY)
    cli("db", "init")
    with sqlite3.connect(cli.db) as conn:
        seeded = conn.execute("SELECT key, body FROM search_source ORDER BY key").fetchall()
    cli("import", str(generate(tmp_path, 2500)))  # more than one batch
    with sqlite3.connect(cli.db) as conn:
        stored = conn.execute("SELECT key, body FROM search_source ORDER BY key").fetchall()
        kinds = conn.execute("SELECT kind, threat_id FROM search_source").fetchall()
        expected = sorted(
            conn.execute(search._THREATS).fetchall()
            + conn.execute(search._EVENTS).fetchall()
            + conn.execute(f"{search._CITATIONS} WHERE c.quote IS NOT NULL").fetchall()
        )
        threats = conn.execute("SELECT COUNT(*) FROM threat").fetchone()[0]
    assert stored == expected
    assert set(seeded) <= set(stored)
    assert len({tid for kind, tid in kinds if kind == "threat"}) == threats
    found = cli.json("search", "zanir1599", "--json")
    assert found and all("zanir1599" in m["snippet"].lower() for t in found for m in t["matches"] if m["in"] != "quote")


def indexes(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").fetchall()


def test_an_import_into_an_empty_database_builds_its_indexes_after_the_rows_and_keeps_them_all(tmp_path):
    cli = Cli(tmp_path / "r.db", TODAY)
    cli("db", "init", "--empty")
    schema = indexes(cli.db)
    data = generate(tmp_path, 300)
    cli("import", "--dry-run", str(data))
    assert indexes(cli.db) == schema
    bad = tmp_path / "bad.jsonl"
    bad.write_text(data.read_text() + '{"type": "threat", "id": "x1", "issuer": "nobody", "made_on": "2020"}\n')
    cli("import", str(bad), expect=2)  # refused: nothing written, the indexes are back
    assert indexes(cli.db) == schema
    cli("import", str(data))
    assert indexes(cli.db) == schema
    with sqlite3.connect(cli.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 300
    # the queries that name their index still run
    assert cli.json("report", "--json") and cli.json("due", "--json") is not None


@pytest.mark.parametrize("bits", [8, 1 << 26])
def test_the_set_of_ids_seen_answers_exactly_whatever_its_filter_lets_through(monkeypatch, bits):
    """The bit filter in front of the ids on disk only answers "never added": with a filter of
    8 bits every look-up passes it, and the answer comes from memory or the file."""
    from redlines.store import seen

    monkeypatch.setattr(seen, "FILTER_BITS", bits)
    keys = seen.SeenKeys(pending=7)
    added = [f"t-{n}" for n in range(0, 200, 2)]
    for k in added:
        keys.add(k)
    assert all(k in keys for k in added)  # on disk and in memory
    assert not any(f"t-{n}" in keys for n in range(1, 200, 2))


def test_a_threat_id_twice_in_a_long_file_is_refused_wherever_the_first_one_was(tmp_path):
    """The ids seen are kept on disk past a few thousand; a repeat is found in either place."""
    from redlines.store.seen import SeenKeys

    keys = SeenKeys(pending=3)
    for k in ("a", "b", "c", "d"):
        assert k not in keys
        keys.add(k)
    assert all(k in keys for k in "abcd") and "e" not in keys
    cli = Cli(tmp_path / "r.db", TODAY)
    cli("db", "init", "--empty")
    lines = generate(tmp_path, 6000).read_text().splitlines()
    threats = [line for line in lines if '"type": "threat"' in line]
    for repeated in (threats[10], threats[-2]):  # long written out, and still held in memory
        bad = tmp_path / "twice.jsonl"
        bad.write_text("\n".join([*lines, repeated]) + "\n")
        out = cli("import", str(bad), expect=2)
        tid = json.loads(repeated)["id"]
        assert f"line {len(lines) + 1}.id: '{tid}' appears twice" in out.stderr
    with sqlite3.connect(cli.db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 0
