"""Rows new to the database, written in bulk by the import (`redlines.store.load`): the rows of a
batch of new threats, a table at a time, each row a tuple in the order of `columns`.

SQLite takes them by `executemany` of a plain INSERT of `ROWS_A_STATEMENT` rows (`VALUES (...),
(...), ...`), then the few left over one at a time: each row of an `executemany` costs a step,
a reset and a round through the module's loop, and a statement of many rows pays that once
(a quarter of the time of writing a batch). Its text is the loader's own, marked `-- load`, so
that `load.checked_already` can skip the CHECK constraints for it alone. PostgreSQL takes them by
one `COPY ... FROM STDIN` (`postgres.Connection.copy_rows`), which also numbers the rows of the
tables that number their own, as SQLite does."""

from __future__ import annotations

from functools import lru_cache
from itertools import chain

from redlines.store.sqlite import dialect, variable_limit

ROWS_A_STATEMENT = 64  # at most: fewer where the connection binds fewer values a statement (999 before SQLite 3.32)


def insert(conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Write `rows` into `table`; nothing is returned (the caller knows the keys it wrote)."""
    if not rows:
        return
    if dialect(conn) == "postgresql":
        conn.copy_rows(table, columns, rows)
        return
    k = max(1, min(ROWS_A_STATEMENT, variable_limit(conn) // len(columns)))
    whole = len(rows) - len(rows) % k
    if whole:
        flat = chain.from_iterable
        conn.executemany(_insert_sql(table, columns, k), (tuple(flat(rows[i : i + k])) for i in range(0, whole, k)))
    if whole < len(rows):
        conn.executemany(_insert_sql(table, columns, 1), rows[whole:])


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int) -> str:
    one = f"({', '.join('?' * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)} -- load"
