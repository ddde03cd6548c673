"""The tables as SQLModel classes, built from `redlines.schema` (the one description of the
schema): Alembic's migrations are generated from these and `alembic check` keeps the two in step.

The command paths read and write through `sqlite3` with the portable SQL in `queries.py` and
`write.py`, so that no command pays ~300 ms to import SQLAlchemy just to run a query; this module
is imported by Alembic and the tests alone.
"""

from __future__ import annotations

import types

from sqlalchemy import CheckConstraint, Index, MetaData, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from redlines import schema

SQLModel.metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _field(c: schema.Column):
    """The SQLModel field of a column."""
    how: dict = {}
    if c.primary_key:
        how["primary_key"] = True
    if c.references:
        how.update(foreign_key=c.references, ondelete=c.ondelete)
    if c.unique:
        how["unique"] = True
    if c.index:
        how["index"] = True
    if c.server_default:
        how["sa_column_kwargs"] = {"server_default": str(c.default)}
    if c.default is not None:
        how["default"] = c.default
    elif c.nullable or c.primary_key and c.type is int:
        how["default"] = None
    return Field(**how)


def _model(table: schema.Table) -> type[SQLModel]:
    """The SQLModel class of a table: its columns, with every check and index it declares."""
    args = [
        *(CheckConstraint(sql, name=name) for c in table.columns for name, sql in c.checks()),
        *(CheckConstraint(sql, name=name) for name, sql in table.checks),
        *(UniqueConstraint(*cols) for cols in table.unique),
        *(
            Index(ix.name, *ix.columns, **({"sqlite_where": text(ix.where)} if ix.where else {}))
            for ix in table.indexes
        ),
    ]
    body = {
        "__module__": __name__,
        "__doc__": table.doc or None,
        "__tablename__": table.name,
        "__annotations__": {
            c.name: c.type | None if c.nullable or c.primary_key and c.type is int else c.type for c in table.columns
        },
        **{c.name: _field(c) for c in table.columns},
    }
    if args:
        body["__table_args__"] = tuple(args)
    return types.new_class(table.model, (SQLModel,), {"table": True}, lambda ns: ns.update(body))


MODELS: dict[str, type[SQLModel]] = {t.name: _model(t) for t in schema.TABLES}
Actor, Alias, Threat, ThreatTarget, ThreatTag, Event, Source, Citation, CommandRun, Change, Setting = MODELS.values()
