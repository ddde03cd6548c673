"""The names SQL text refers to are the schema's own: each index a query hints at by name is one
the models make, and one a database built by the migrations holds, so renaming an index in the
models cannot leave a query failing at run time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import Cli

from redlines import schema
from redlines.domain.checks import ACTOR_KINDS
from redlines.domain.outcomes import CATEGORIES, EVENT_KINDS, RESPONSE_OUTCOMES
from redlines.store import models, queries


def test_every_hinted_index_is_made_by_the_models():
    made = {ix.name for table in models.SQLModel.metadata.tables.values() for ix in table.indexes}
    assert set(schema.HINTED_INDEXES) <= made


@pytest.mark.sqlite_only  # SQLite index hints, read from sqlite_master
def test_every_hinted_index_is_in_a_database_and_in_the_queries(cli: Cli):
    cli("db", "init")
    with sqlite3.connect(cli.db) as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert set(schema.HINTED_INDEXES) <= indexes
    source = Path(queries.__file__).read_text()
    assert "INDEXED BY ix_" not in source  # every hint names its index through `schema`


def test_the_checks_of_the_tables_are_the_domains_vocabularies():
    checks = {
        (table.name, str(c.name)): str(c.sqltext)
        for table in models.SQLModel.metadata.tables.values()
        for c in table.constraints
        if c.__class__.__name__ == "CheckConstraint"
    }
    for (table, name), values in {
        ("actor", "kind"): ACTOR_KINDS,
        ("threat", "category"): CATEGORIES,
        ("event", "kind"): EVENT_KINDS,
        ("event", "outcome"): RESPONSE_OUTCOMES,
    }.items():
        text = checks[(table, f"ck_{table}_{name}")]
        assert f"{name} IN ({', '.join(repr(v) for v in values)})" in text
