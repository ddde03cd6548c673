"""`db copy`: a whole data set, history included, from one database into another, row by row.

Rows are read from the source in batches (one consistent read transaction) and written into
the target in one write transaction, with their ids as they are: the change log still points at
the rows it describes, so `history` and `undo` work on the copy. Derived data that is not stored
as rows (the full-text index) is rebuilt in the target; the settings (rules version) are the
target's own. Only plain SELECT and INSERT here, so that another engine's target can take the
same path.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from redlines.errors import DatabaseProblem

# Parents before children; `run` before `change`. The self-references (actor.of_id, run.undoes)
# are checked at commit (foreign keys deferred).
TABLES = ("actor", "alias", "source", "threat", "threat_target", "threat_tag", "event", "citation", "run", "change")
# Threats and events in their order of entry (SQLite's rowid; ties elsewhere are broken by it).
_ORDER = {"threat": "rowid", "event": "rowid"}
BATCH = 1000
_RECORDS = ("actor", "source", "threat", "run")


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    if getattr(conn, "dialect", "sqlite") != "sqlite":  # without PostgreSQL's `rowid` (SQLite's is implicit)
        from redlines.store.postgres import columns

        return [c for c in columns(conn, table) if c != "rowid"]
    return [r[1] for r in conn.execute("SELECT * FROM pragma_table_info(?)", (table,))]


def copy_rows(src: sqlite3.Connection, dst: sqlite3.Connection) -> dict[str, int]:
    """Copy every row of `TABLES` from `src` into the empty database `dst`, in one transaction
    of `dst`; returns how many rows of each table were copied."""
    from redlines.store import search

    counts: dict[str, int] = {}
    src.execute("BEGIN")  # one snapshot, whatever others write meanwhile
    try:
        dst.execute("BEGIN IMMEDIATE")
        try:
            dst.execute("PRAGMA defer_foreign_keys = ON")
            for table in TABLES:
                cols, theirs = _columns(src, table), set(_columns(dst, table))
                missing = [c for c in cols if c not in theirs]
                if missing:
                    raise DatabaseProblem(f"the target has no column {table}.{missing[0]}; nothing was copied")
                names = ", ".join(cols)
                insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(cols))})"
                cur = src.execute(f"SELECT {names} FROM {table} ORDER BY {_ORDER.get(table, 'id')}")
                counts[table] = 0
                while rows := cur.fetchmany(BATCH):
                    dst.executemany(insert, rows)
                    counts[table] += len(rows)
            ids = [r[0] for r in dst.execute("SELECT id FROM threat ORDER BY rowid")]
            for start in range(0, len(ids), BATCH):
                search.index_threats(dst, ids[start : start + BATCH])
            dst.execute("COMMIT")
        except BaseException:
            if dst.in_transaction:
                dst.execute("ROLLBACK")
            raise
    finally:
        if src.in_transaction:
            src.execute("ROLLBACK")
    return counts


def is_empty(path: Path) -> bool:
    """Whether the file holds nothing to lose: no bytes, no tables, or a redlines database without
    records or runs (as `db init --empty` makes it). A file that is not SQLite is refused."""
    from redlines.store.engine import is_server

    if is_server(path):
        from redlines.store.postgres import is_empty as empty

        return empty(path, _RECORDS)
    if path.stat().st_size == 0:
        return True
    from urllib.parse import quote

    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise DatabaseProblem(f"{path} cannot be read ({e}); it was not replaced") from e
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return all(
            conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {t})").fetchone()[0] for t in _RECORDS if t in tables
        ) and (not tables or "alembic_version" in tables)
    except sqlite3.DatabaseError as e:
        raise DatabaseProblem(f"{path} is not a SQLite database ({e}); it was not replaced") from e
    finally:
        conn.close()
