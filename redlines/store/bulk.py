"""Rows new to the database, written in bulk by the import (`redlines.store.load`): the rows of a
batch of new threats, a table at a time, each row a tuple in the order of `columns`.

SQLite takes them by one `executemany` of a plain INSERT (its text the loader's own, marked
`-- load`, so that `load.checked_already` can skip the CHECK constraints for it alone).
PostgreSQL takes them by one `COPY ... FROM STDIN` (`postgres.Connection.copy_rows`), which also
numbers the rows of the tables that number their own, as SQLite does."""

from __future__ import annotations

from functools import lru_cache

from redlines.store.sqlite import dialect


def insert(conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Write `rows` into `table`; nothing is returned (the caller knows the keys it wrote)."""
    if not rows:
        return
    if dialect(conn) == "postgresql":
        conn.copy_rows(table, columns, rows)
        return
    conn.executemany(_insert_sql(table, columns), rows)


@lru_cache(maxsize=32)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) -- load"
