"""Alembic environment: the schema is `redlines.store.models`; SQLite needs batch mode."""

import os

from alembic import context
from sqlalchemy import create_engine

from redlines.store.models import SQLModel

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    path = os.environ.get("REDLINES_DB")
    if not path:
        raise SystemExit("set REDLINES_DB to the database file (or postgresql:// URL) to migrate or check")
    if _server_url(path):
        return path
    return f"sqlite:///{path}"


def _server_url(text: str) -> bool:
    return text.strip().lower().startswith(("postgresql://", "postgres://"))


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """The search index (an FTS5 table and its shadow tables; on PostgreSQL a table with a
    tsvector) lives outside the models, as does PostgreSQL's `rowid` column of threats and events
    (SQLite's implicit rowid, made explicit: migration 0011)."""
    if type_ == "table" and name is not None and name.startswith("search"):
        return False
    if type_ == "index" and name is not None and name.endswith("_rowid"):
        return False
    if type_ == "foreign_key_constraint" and any(getattr(o, "deferrable", None) for o in (obj, compare_to)):
        return False  # PostgreSQL's self-references are deferrable (0011), for `db copy`
    return not (type_ == "column" and name == "rowid")


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _engine():
    """The file redlines names (any characters at all, so no URL is built from it), or a URL."""
    path = config.attributes.get("sqlite_path")
    if path:
        import sqlite3

        return create_engine("sqlite://", creator=lambda: sqlite3.connect(path))
    server = config.attributes.get("server")
    if server is None and _server_url(_url()):
        from redlines.store.server import Server

        server = Server(_url().strip())
    if server is not None:  # libpq reads the location itself: PG* variables and ~/.pgpass apply
        from redlines.store.postgres import sqlalchemy_engine

        return sqlalchemy_engine(server)
    return create_engine(_url())


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # batch mode rebuilds tables
        connection.commit()  # end the implicit transaction, so that Alembic commits its own
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
