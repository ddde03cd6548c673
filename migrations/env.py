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
        raise SystemExit("set REDLINES_DB to the database file to migrate or check")
    return f"sqlite:///{path}"


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """The search index (an FTS5 table and its shadow tables) lives outside the models."""
    return not (type_ == "table" and name is not None and name.startswith("search"))


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
    return create_engine(_url())


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
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
