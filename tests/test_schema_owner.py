"""Every column the schema (`redlines.schema`) gives a name in documents is written by `import`,
read by `show --json` and `actors --json`, exported in json, jsonl and csv, and imported back
from each. The columns are read from the schema, not listed here: a column added to a table there
and forgotten by any of these paths fails a test below.

The seeded database fills every such column (`test_the_seed_fills_every_column` holds that), so
the tests read what it holds, and compare each path's values with the stored ones."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from conftest import Cli, raw

from redlines import schema

DOCUMENTED = [(t, c) for t in schema.DATA_TABLES for c in t.documented]


def stored(db, table: schema.Table, keyed_by: str | None = None) -> list[dict]:
    """The rows of a table with each column under its name in documents, a reference replaced by
    the natural key of the row it refers to (an issuer by its slug); `keyed_by` adds that column
    as it is stored (the row's parent, to match children to it)."""
    columns, joins = [], []
    for c in table.documented:
        if c.references:
            target = schema.BY_NAME[c.references.split(".")[0]]
            alias = f"j_{c.name}"
            joins.append(f"LEFT JOIN {target.name} {alias} ON {alias}.id = x.{c.name}")
            columns.append(f'{alias}.{target.natural_key} AS "{c.key}"')
        else:
            columns.append(f'x.{c.name} AS "{c.key}"')
    if keyed_by:
        columns.append(f'x.{keyed_by} AS "_{keyed_by}"')
    # In the order of the keys: without ORDER BY, PostgreSQL's plan (a hash join) may give them otherwise.
    sql = f"SELECT {', '.join(columns)} FROM {table.name} x {' '.join(joins)} ORDER BY x.id"
    with raw(db) as conn:  # either engine
        cur = conn.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def document_rows(doc: dict) -> dict[str, list[dict]]:
    """The rows of each table as an export holds them: nested lists become rows of the child
    tables (an actor's aliases, a threat's targets and tags, the sources a threat or event cites)."""
    rows: dict[str, list[dict]] = {t.name: [] for t in schema.DATA_TABLES}
    for a in doc["actors"]:
        rows["actor"].append(a)
        rows["alias"] += [{"alias": x} for x in a["aliases"]]
    rows["source"] += doc["sources"]
    for t in doc["threats"]:
        rows["threat"].append(t)
        rows["threat_target"] += [{"targets": x} for x in t["targets"]]
        rows["threat_tag"] += [{"tags": x} for x in t["tags"]]
        rows["citation"] += t["sources"]
        for e in t["events"]:
            rows["event"].append(e)
            rows["citation"] += e["sources"]
    return rows


def from_jsonl(text: str) -> dict:
    doc: dict = {"actors": [], "sources": [], "threats": []}
    for line in text.splitlines():
        record = json.loads(line)
        kind = record.pop("type")
        if kind != "meta":
            doc[kind + "s"].append(record)
    return doc


def values(rows: list[dict], key: str) -> Counter:
    return Counter(json.dumps(r[key]) for r in rows)


@pytest.fixture
def seeded(cli: Cli) -> Cli:
    cli("db", "init")
    return cli


def test_the_seed_fills_every_column(seeded: Cli):
    """So that the other tests see a value, not a NULL, in every column they follow."""
    empty = [f"{t.name}.{c.name}" for t, c in DOCUMENTED if all(r[c.key] is None for r in stored(seeded.db, t))]
    assert empty == []


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_every_column_is_exported_and_imported_back(seeded: Cli, tmp_path, fmt):
    text = seeded("export", "--format", fmt).stdout
    doc = json.loads(text) if fmt == "json" else from_jsonl(text)
    exported = document_rows(doc)
    copy = Cli(tmp_path / "copy.db", seeded.today)
    copy("db", "init", "--empty")
    (tmp_path / f"all.{fmt}").write_text(text)
    copy("import", str(tmp_path / f"all.{fmt}"))
    missing, differ, lost = [], [], []
    for table in schema.DATA_TABLES:
        rows = stored(seeded.db, table)
        for c in table.documented:
            if any(c.key not in r for r in exported[table.name]):
                missing.append(f"{table.name}.{c.name} as {c.key!r}")
            elif values(exported[table.name], c.key) != values(rows, c.key):
                differ.append(f"{table.name}.{c.name}")
            if values(stored(copy.db, table), c.key) != values(rows, c.key):
                lost.append(f"{table.name}.{c.name}")
    assert (missing, differ, lost) == ([], [], [])


def test_every_threat_column_is_in_the_csv_and_imported_back_from_it(seeded: Cli, tmp_path):
    text = seeded("export", "--format", "csv").stdout
    table = list(csv.DictReader(io.StringIO(text)))
    by_id = {r["id"]: r for r in table}
    for row in stored(seeded.db, schema.THREAT):
        cells = by_id[row["id"]]
        for key, value in row.items():
            assert cells[key] == ("" if value is None else str(value)), f"{row['id']}: {key}"
    # Into a copy holding the actors and sources alone, the CSV brings every threat column back.
    doc = json.loads(seeded("export", "--format", "json").stdout)
    copy = Cli(tmp_path / "copy.db", seeded.today)
    copy("db", "init", "--empty")
    (tmp_path / "names.json").write_text(json.dumps({**doc, "threats": []}))
    copy("import", str(tmp_path / "names.json"))
    (tmp_path / "threats.csv").write_text(text)
    copy("import", str(tmp_path / "threats.csv"))
    assert sorted(stored(copy.db, schema.THREAT), key=str) == sorted(stored(seeded.db, schema.THREAT), key=str)


def test_every_column_is_read_by_show_and_actors(seeded: Cli):
    """`show --json` gives a threat's own columns (its `deadline` is the one in force there, a
    judged value, so that one is read from the CSV above), its targets, tags and citations, and
    each event's columns; `actors --json` every actor's columns and aliases."""
    events = {}
    for e in stored(seeded.db, schema.EVENT, keyed_by="threat_id"):
        events.setdefault(e.pop("_threat_id"), []).append(e)
    cited = stored(seeded.db, schema.CITATION, keyed_by="threat_id") + [
        {**c, "_threat_id": None} for c in stored(seeded.db, schema.CITATION, keyed_by="event_id")
    ]
    targets = stored(seeded.db, schema.THREAT_TARGET, keyed_by="threat_id")
    tags = stored(seeded.db, schema.THREAT_TAG, keyed_by="threat_id")
    for row in stored(seeded.db, schema.THREAT):
        shown = seeded.json("show", row["id"], "--json")
        assert {k: shown[k] for k in row if k != "deadline"} == {k: v for k, v in row.items() if k != "deadline"}
        assert sorted(shown["targets"]) == sorted(t["targets"] for t in targets if t["_threat_id"] == row["id"])
        assert sorted(shown["tags"]) == sorted(t["tags"] for t in tags if t["_threat_id"] == row["id"])
        own = [{k: c[k] for k in ("url", "quote")} for c in cited if c["_threat_id"] == row["id"]]
        assert [{k: s[k] for k in ("url", "quote")} for s in shown["sources"]] == own
        keys = [c.key for c in schema.EVENT.documented]
        assert {e["id"]: {k: e[k] for k in keys} for e in shown["events"]} == {
            e["id"]: e for e in events.get(row["id"], [])
        }
    actors = {a["slug"]: a for a in seeded.json("actors", "--json")}
    aliases = stored(seeded.db, schema.ALIAS, keyed_by="actor_id")
    with raw(seeded.db) as conn:
        slug_of = dict(conn.execute("SELECT id, slug FROM actor").fetchall())
    for row in stored(seeded.db, schema.ACTOR):
        assert {k: actors[row["slug"]][k] for k in row} == row
        assert actors[row["slug"]]["aliases"] == [a["alias"] for a in aliases if slug_of[a["_actor_id"]] == row["slug"]]
