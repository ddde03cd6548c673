"""Every write goes through a `Writer`: it changes one row and logs the row before and after,
grouped under one run per command, which is what makes `history` and `undo` exact."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from redlines.schema import DATA_TABLES, SETTLED, SUMMARY
from redlines.store import search

# The tables a run may write, with their columns (the `id` column first), from the schema: the
# change log keeps a row whole. Names only ever come from here, never from input, so they are safe
# to put into SQL text.
COLUMNS: dict[str, tuple[str, ...]] = {
    t.name: tuple(c.name for c in t.columns if c.role not in (SUMMARY, SETTLED)) for t in DATA_TABLES
}


# The `row_id` of a row of the change log that stands for many inserted rows (no key is `*`).
BULK = "*"

AUTHOR_MAX = 100  # characters of a REDLINES_AUTHOR


def current_author(conn=None) -> str:
    """Who the runs of this process are recorded as: `REDLINES_AUTHOR`, else the database role on
    PostgreSQL (`conn`), else the login name (`getpass.getuser()`, which may find none in a bare
    container: then "unknown", never an error). A REDLINES_AUTHOR with control characters or over
    AUTHOR_MAX characters is bad input."""
    import os

    given = os.environ.get("REDLINES_AUTHOR", "").strip()
    if given:
        if len(given) > AUTHOR_MAX or any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in given):
            from redlines.errors import BadInput

            raise BadInput(
                f"REDLINES_AUTHOR must be a name of 1-{AUTHOR_MAX} characters without control characters",
                ["set it to the name your changes are recorded under, e.g. REDLINES_AUTHOR=alice"],
            )
        return given
    if conn is not None and getattr(conn, "dialect", "sqlite") != "sqlite":
        from redlines.store.postgres import current_role

        return current_role(conn)
    import getpass

    try:
        return getpass.getuser().strip() or "unknown"
    except Exception:  # no USER/LOGNAME and no passwd entry for the uid (KeyError, OSError)
        return "unknown"


@contextmanager
def writing(
    conn: sqlite3.Connection, command: str, *, undoes: int | None = None, dry_run: bool = False, loading: bool = False
):
    """The writes of one command run (a row of the table `run`, once it writes): one transaction
    that lands whole or not at all (nothing lands on a dry run). Before it commits, the summaries
    of the threats it touched are brought up to date.

    `loading`: an import. Into a SQLite database without threats, its writes are new rows whose
    references the loader took from the rows themselves (the issuer's id from `actor`, an event's
    threat written just before it, a citation's source looked up), and the only rows it may
    delete are an actor's aliases (under --replace), which nothing refers to; so SQLite's
    foreign-key checks, a look-up for every reference of every row, are switched off for the run
    (the pragma cannot change inside a transaction, so it is decided before it begins, and asked
    again once the run holds the database). `db check` still runs `foreign_key_check`. Such a
    load also writes its pages once, through a rollback journal (`sqlite.rollback_journal`)."""
    from redlines.store import summary
    from redlines.store.sqlite import back_to_wal, rollback_journal

    refusal = getattr(conn, "refusal", None)  # the file holds SQL redlines did not make
    if refusal is not None:
        raise refusal
    author = current_author(conn)  # before the transaction: a bad REDLINES_AUTHOR writes nothing
    unchecked = loading and getattr(conn, "dialect", "sqlite") == "sqlite" and _without_threats(conn)
    back_to_wal(conn)  # if a bulk load was killed midway
    journalled = unchecked and rollback_journal(conn)
    if unchecked:
        conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        if unchecked and not _without_threats(conn):  # another run added threats meanwhile
            conn.execute("ROLLBACK")
            conn.execute("PRAGMA foreign_keys = ON")
            unchecked = False
            conn.execute("BEGIN IMMEDIATE")
        try:
            w = Writer(conn, command, undoes, author=author)
            yield w
            summary.refresh(conn, w.touched)
        except BaseException:
            if conn.in_transaction:  # SQLite has already rolled back after some errors (SQLITE_FULL)
                conn.execute("ROLLBACK")
            raise
        conn.execute("ROLLBACK" if dry_run else "COMMIT")
    finally:
        if unchecked:
            conn.execute("PRAGMA foreign_keys = ON")
        if journalled:
            back_to_wal(conn)
    if not dry_run:
        # Keeps the planner's statistics fresh; usually does nothing, and may wait for next time.
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute("PRAGMA optimize")


def _without_threats(conn) -> bool:
    return conn.execute("SELECT 1 FROM threat LIMIT 1").fetchone() is None


class Writer:
    """Writes rows for one command run; the run is recorded on its first change."""

    def __init__(self, conn: sqlite3.Connection, command: str, undoes: int | None = None, *, author: str | None = None):
        self.conn = conn
        self.command = command
        self.undoes = undoes
        self.author = author
        self.run_id: int | None = None
        self.changes = 0
        self.touched: set[str] = set()  # threats written, or whose events were

    def _run_id(self) -> int:
        if self.run_id is None:
            at = datetime.now(UTC).isoformat(timespec="seconds")
            self.run_id = self.conn.execute(
                "INSERT INTO run (at, command, undoes, author) VALUES (?, ?, ?, ?)",
                (at, self.command, self.undoes, self.author),
            ).lastrowid
        return self.run_id

    def log_inserts(self, table: str, row_ids: list) -> None:
        """Log rows inserted in bulk by key alone, in one row of the log for the lot (`row_id`
        BULK, the keys a JSON array in `after`): undoing an insert needs no more (a threat or an
        event is removed with everything under it, see `records.revert`), and `records.changes`
        gives them back one change a key, as history shows them."""
        if row_ids:
            run_id = self._run_id()
            self.conn.execute(
                "INSERT INTO change (run_id, table_name, row_id, op, after) VALUES (?, ?, ?, 'insert', ?)",
                (run_id, table, BULK, json.dumps([str(i) for i in row_ids], ensure_ascii=False)),
            )
            self.changes += len(row_ids)

    def _log(self, table: str, row_id: Any, op: str, before: dict | None, after: dict | None) -> None:
        self._run_id()
        self.conn.execute(
            "INSERT INTO change (run_id, table_name, row_id, op, before, after) VALUES (?, ?, ?, ?, ?, ?)",
            (
                self.run_id,
                table,
                str(row_id),
                op,
                None if before is None else json.dumps(before, ensure_ascii=False),
                None if after is None else json.dumps(after, ensure_ascii=False),
            ),
        )
        self.changes += 1

    def row(self, table: str, row_id: Any) -> dict | None:
        cols = COLUMNS[table]
        found = self.conn.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE id = ?", (row_id,)).fetchone()
        return None if found is None else dict(zip(cols, found, strict=False))

    def insert(self, table: str, values: dict) -> Any:
        if table == "event" and values.get("seq") is None:  # the next place in its threat's order of entry
            values = {
                **values,
                "seq": self.conn.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM event WHERE threat_id = ?", (values["threat_id"],)
                ).fetchone()[0],
            }
        cols = [c for c in COLUMNS[table] if c in values]
        cur = self.conn.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", [values[c] for c in cols]
        )
        row_id = values.get("id", cur.lastrowid)
        search.index_row(self.conn, table, row_id)
        if table in ("threat", "event"):
            self.touched.add(values["threat_id"] if table == "event" else row_id)
        self._log(table, row_id, "insert", None, self.row(table, row_id))
        return row_id

    def insert_many(self, table: str, rows: list[dict]) -> None:
        """Insert rows with every column given, keys included (rows a run deleted, put back by an
        undo of it), each indexed for search and logged as `insert` does, in a statement a step
        for the lot."""
        cols = COLUMNS[table]
        values = [tuple(r[c] for c in cols) for r in rows]
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)
        search.index_rows(self.conn, table, [v[0] for v in values])
        if table in ("threat", "event"):
            self.touched.update(r["threat_id"] if table == "event" else r["id"] for r in rows)
        run_id = self._run_id()
        logged = [json.dumps(dict(zip(cols, v, strict=True)), ensure_ascii=False) for v in values]
        self.conn.executemany(
            "INSERT INTO change (run_id, table_name, row_id, op, after) VALUES (?, ?, ?, 'insert', ?)",
            [(run_id, table, str(v[0]), after) for v, after in zip(values, logged, strict=True)],
        )
        self.changes += len(values)

    def update(self, table: str, row_id: Any, values: dict) -> bool:
        """Change the given columns; nothing is written or logged when nothing differs."""
        before = self.row(table, row_id)
        changed = {k: v for k, v in values.items() if before is not None and before[k] != v}
        if not changed:
            return False
        self.conn.execute(
            f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in changed)} WHERE id = ?", [*changed.values(), row_id]
        )
        if table == "event":
            self.touched.update((before["threat_id"], values.get("threat_id", before["threat_id"])))
        elif table == "threat":
            self.touched.add(row_id)
        self._log(table, row_id, "update", before, {**before, **changed})
        return True

    def delete_where(self, table: str, where: str, params: tuple) -> None:
        """Delete the rows of `table` that `where` picks (SQL of the store's own, never input),
        each logged as `delete` logs it (a change a row, in key order), in two statements: the
        undo of a bulk import (`records.delete_threats`). Children first, as for `delete`."""
        pairs = ", ".join(f"'{c}', {c}" for c in COLUMNS[table])
        self.changes += self.conn.execute(
            "INSERT INTO change (run_id, table_name, row_id, op, before) SELECT ?, ?, CAST(id AS TEXT), 'delete', "
            f"CAST(json_object({pairs}) AS TEXT) FROM {table} WHERE {where} ORDER BY id",
            (self._run_id(), table, *params),
        ).rowcount
        self.conn.execute(f"DELETE FROM {table} WHERE {where}", params)

    def delete(self, table: str, row_id: Any) -> None:
        """Delete one row. Children must be deleted first, through the writer, so that no
        cascade removes a row the change log does not know about."""
        before = self.row(table, row_id)
        if before is None:
            return
        self.conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
        if table == "event":
            self.touched.add(before["threat_id"])
        self._log(table, row_id, "delete", before, None)
