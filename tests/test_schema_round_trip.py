"""Every column of every data table is written, exported and imported back: the columns are read
from the models (the schema's one description), not listed here, so a column added to a model
and forgotten by a writer, the export or the import fails this test."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import Cli, raw

from redlines.store import models

# Tables of the change log and settings: written by every command, never exported.
BOOKKEEPING = {"run", "change", "setting"}


def data_tables():
    return [t for t in models.SQLModel.metadata.tables.values() if t.name not in BOOKKEEPING]


def surrogate(c) -> bool:
    """A number that only identifies its row (`id INTEGER PRIMARY KEY`): each file numbers anew."""
    return c.primary_key and c.type.python_type is int


def natural_key(table) -> str | None:
    """The column that names a row of a table keyed by a number (actor.slug, source.url)."""
    return next((c.name for c in table.columns if c.unique), None)


def kept(table) -> list:
    return [c for c in table.columns if not surrogate(c)]


def rows(db, table) -> Counter:
    """The table's rows, with every number that only links rows replaced by what it links to:
    the same data in two files gives the same rows, whatever ids each file gave it."""
    columns, joins = [], []
    for c in kept(table):
        [fk] = c.foreign_keys or [None]
        target = fk.column.table if fk is not None else None
        if target is not None and surrogate(fk.column):
            alias = f"j_{c.name}"
            joins.append(f"LEFT JOIN {target.name} {alias} ON {alias}.id = x.{c.name}")
            columns.append(f"{alias}.{natural_key(target)}")
        else:
            columns.append(f"x.{c.name}")
    with raw(db) as conn:
        return Counter(conn.execute(f"SELECT {', '.join(columns)} FROM {table.name} x {' '.join(joins)}").fetchall())


@pytest.fixture
def rich(cli: Cli) -> Cli:
    """The seeded database: it fills every column of every data table (the test checks it)."""
    cli("db", "init")
    return cli


def test_every_column_is_written_exported_and_imported(rich: Cli, tmp_path):
    doc = tmp_path / "all.json"
    rich("export", "--format", "json", "-o", str(doc))
    copy = Cli(tmp_path / "copy.db", rich.today)
    copy("db", "init", "--empty")
    copy("import", str(doc))
    unwritten = []
    for table in data_tables():
        before = rows(rich.db, table)
        assert before, f"{table.name}: nothing written"
        assert rows(copy.db, table) == before, table.name
        for n, c in enumerate(kept(table)):
            if all(r[n] is None for r in before):
                unwritten.append(f"{table.name}.{c.name}")
    assert unwritten == []
