"""The store binds lists of any length under SQLite's limit on bound variables, whatever that
limit is: a connection limited to 999 variables (the limit of SQLite before 3.32) runs every
command that reads or writes many threats at once, on 40,000 threats."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli

from redlines.store import engine

BENCH = Path(__file__).resolve().parent.parent / "bench" / "generate.py"
THREATS = 40_000
LIMIT = 999


def _limit(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, LIMIT)


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """A database of 40,000 generated threats, imported (and then read) through connections
    that bind at most 999 variables a statement."""
    tmp = tmp_path_factory.mktemp("limited")
    data = tmp / "threats.jsonl"
    with open(data, "w") as f:
        subprocess.run([sys.executable, str(BENCH), str(THREATS)], stdout=f, check=True)
    engine.CONNECT_HOOKS.append(_limit)
    try:
        cli = Cli(tmp / "redlines.db", "2025-08-12")
        cli("db", "init", "--empty")
        cli("import", str(data))
        yield cli, tmp
    finally:
        engine.CONNECT_HOOKS.remove(_limit)


def test_the_limit_is_in_force(limited):
    cli, _ = limited
    conn = engine.connect(cli.db)
    try:
        assert conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) == LIMIT
        with pytest.raises(sqlite3.OperationalError, match="too many SQL variables"):
            conn.execute(f"SELECT 1 WHERE 1 IN ({', '.join('?' * (LIMIT + 1))})", [1] * (LIMIT + 1))
    finally:
        conn.close()


def test_import_wrote_every_threat(limited):
    cli, _ = limited
    assert cli.json("db", "status", "--json")["threats"] == THREATS


def test_list_reads_every_threat(limited):
    cli, _ = limited
    rows = cli.json("list", "--json")
    assert len(rows) == THREATS
    assert len({r["id"] for r in rows}) == THREATS
    assert any(r["targets"] for r in rows) and any(r["tags"] for r in rows)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_export_writes_every_threat(limited, fmt):
    cli, tmp = limited
    out = tmp / f"export.{fmt}"
    cli("export", "--format", fmt, "-o", str(out))
    text = out.read_text()
    if fmt == "json":
        threats = json.loads(text)["threats"]
        assert sum(len(t["events"]) for t in threats) > THREATS
    elif fmt == "jsonl":
        threats = [json.loads(line) for line in text.splitlines() if json.loads(line).get("type", "threat") == "threat"]
        threats = [t for t in threats if "made_on" in t]
    else:
        threats = list(csv.DictReader(io.StringIO(text)))
    assert len(threats) == THREATS


@pytest.mark.parametrize("by", ["actor", "state", "category", "year"])
def test_report_counts_every_threat(limited, by):
    cli, _ = limited
    rows = cli.json("report", "--by", by, "--json")["rows"]
    assert sum(r["threats"] for r in rows) == THREATS


def test_search_finds_across_the_set(limited):
    cli, _ = limited
    found = cli.json("search", "sanctions", "--json")
    assert len(found) > LIMIT


def test_due_with_a_limit_beyond_the_variable_limit(limited):
    """`due --limit` judges the settled threats it picks by their ids: more ids than one
    statement may bind, in the same order as without a limit."""
    cli, _ = limited
    everything = cli.json("due", "--limit", "1000000000", "--json")
    assert len(everything) > 3 * LIMIT
    first = cli.json("due", "--limit", str(3 * LIMIT), "--json")
    assert [r["id"] for r in first] == [r["id"] for r in everything[: 3 * LIMIT]]
