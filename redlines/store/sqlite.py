"""What is particular to SQLite in the store, in one place: the seam a second engine fills.

The rest of `redlines.store` is written against this module's names, not against SQLite's quirks:

- `variable_limit(conn)`: how many values one statement may bind (`SQLITE_LIMIT_VARIABLE_NUMBER`,
  999 before SQLite 3.32, 32,766 after, set lower by `setlimit` or at build time).
- `chunks(conn, values, reserved=...)`: a list of values cut into pieces that fit that limit beside
  `reserved` other bound values. Every query that binds a list of values goes through it (or
  `select_in`), so that no list can ever exceed the limit, whatever the engine's build allows.
- `select_in(conn, sql, values, ...)`: the rows of a statement whose `IN ({values})` is filled with
  the values a fitting chunk at a time (each chunk's rows in the statement's order; a statement
  that groups or orders across the whole list must not use it).

- `journal_mode(conn)`, `integrity_problems(conn)`: the engine's own view of a file's health
  (`PRAGMA journal_mode`, `integrity_check`, `foreign_key_check`).
- `sorting_threads(conn)`: index builds at the end of a bulk load sort on every core.
- `rollback_journal(conn)` / `back_to_wal(conn)`: a bulk load's one transaction in a rollback
  journal rather than the WAL (see `rollback_journal`); the database is in WAL otherwise.

Still SQLite-specific elsewhere, each named where it stands: the opening pragmas and file handling
(`engine`), the full-text index (`search`, FTS5), date arithmetic in the rules (`julianday`,
`date(..., '+1 month')` in `queries` and `summary`), `json_each` (`summary`, `search`: one bound
value holding a list), upserts (`ON CONFLICT` in `load` and `write`) and index hints (`INDEXED BY`).

On PostgreSQL (`redlines.store.postgres`, chosen by `dialect(conn)`), `variable_limit` is 65,535,
the health checks are the server's own, and the store's SQL reaches the server translated once per
statement; its search index is `redlines.store.pgsearch`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

VALUES = "{values}"  # where `select_in` puts the placeholders of a chunk


def dialect(conn) -> str:
    """Which engine a connection talks to: "sqlite", or "postgresql" (`redlines.store.postgres`)."""
    return getattr(conn, "dialect", "sqlite")


def variable_limit(conn: sqlite3.Connection) -> int:
    """How many values one statement on this connection may bind."""
    if dialect(conn) != "sqlite":
        return 65_535  # PostgreSQL's protocol counts parameters in 16 bits
    return conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


def chunks(conn: sqlite3.Connection, values: Iterable, *, reserved: int = 0) -> Iterator[list]:
    """`values` in lists short enough to bind beside `reserved` other values in one statement."""
    values = list(values)
    size = variable_limit(conn) - reserved
    if size < 1:
        raise ValueError(f"a statement binding {reserved} values leaves no room for a list")
    for start in range(0, len(values), size):
        yield values[start : start + size]


def marks(values: Sequence) -> str:
    """The placeholders of a list: the inside of `IN (...)`."""
    return ", ".join("?" * len(values))


def select_in(
    conn: sqlite3.Connection, sql: str, values: Iterable, *, before: Sequence = (), after: Sequence = ()
) -> list[sqlite3.Row]:
    """The rows of `sql` (holding `IN ({values})` once, with positional `?` for `before` and
    `after` on either side of it) for all of `values`, a chunk at a time (each fetched whole:
    the callers' lists are bounded, and `fetchall` is much cheaper than iterating a cursor)."""
    rows: list[sqlite3.Row] = []
    for chunk in chunks(conn, values, reserved=len(before) + len(after)):
        rows += conn.execute(sql.format(values=marks(chunk)), [*before, *chunk, *after]).fetchall()
    return rows


def journal_mode(conn: sqlite3.Connection) -> str:
    if dialect(conn) != "sqlite":
        return "postgresql"
    return conn.execute("PRAGMA journal_mode").fetchone()[0]


@contextmanager
def sorting_threads(conn):
    """Statements that sort large lists (CREATE INDEX at the end of a bulk load) sort with up to
    as many helper threads as the machine has cores (`PRAGMA threads`, at most 8): the reading
    process is done by then, and its core idle (an index of a million threats: 2.8 -> 1.8 s).
    Nothing on another engine."""
    import os

    sqlite = dialect(conn) == "sqlite"
    if sqlite:
        conn.execute(f"PRAGMA threads = {min(os.cpu_count() or 1, 8)}")
    try:
        yield
    finally:
        if sqlite:
            conn.execute("PRAGMA threads = 0")


def rollback_journal(conn: sqlite3.Connection) -> bool:
    """Put the database in a rollback journal for the one transaction of a bulk load into a
    database without threats (whether it did). In WAL every new page is written twice: into the
    WAL as the cache spills, then into the file by the checkpoint at the commit (a load of a
    million threats writes 2 GB, and the commit took 9.8 s); with a rollback journal the new
    pages go into the file once, and the journal keeps only the few pages there were. The commit
    is as atomic (synchronous FULL meanwhile); readers wait for it rather than read the state
    before it. Only when nobody else has the database open (else it stays in WAL); `back_to_wal`
    after, and at the next write if a load was killed midway (its journal is rolled back by the
    next to open the file)."""
    if dialect(conn) != "sqlite" or not _journal(conn, "delete"):
        return False
    conn.execute("PRAGMA synchronous = FULL")
    return True


def back_to_wal(conn: sqlite3.Connection) -> None:
    """The database in WAL mode again, where it lives (see `rollback_journal`); run before every
    write, so a file kept in another journal mode is put in WAL at its first write by redlines.
    When another connection holds a lock on it meanwhile, it stays as it is until the next write."""
    if dialect(conn) != "sqlite" or journal_mode(conn) == "wal":
        return
    if _journal(conn, "wal"):
        conn.execute("PRAGMA synchronous = NORMAL")


def _journal(conn: sqlite3.Connection, mode: str) -> bool:
    """Switch the journal mode, without waiting for others to let go of the file."""
    waits = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        return conn.execute(f"PRAGMA journal_mode = {mode}").fetchone()[0] == mode
    except sqlite3.OperationalError:  # locked by another connection, or a file we cannot write
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {waits}")


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    """What SQLite's integrity and foreign-key checks find wrong, one line each (none: all is well).
    PostgreSQL checks both as it writes: nothing to ask it."""
    if dialect(conn) != "sqlite":
        return []
    from redlines.store import search

    problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
    problems += [f"{r[0]} row {r[1]} refers to a missing {r[2]} row" for r in conn.execute("PRAGMA foreign_key_check")]
    return problems or search.index_problems(conn)
