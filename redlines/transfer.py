"""Moving a whole data set between locations (`db copy`), and what belongs to a server (roles).

A location is a SQLite file path or a `postgresql://` database. The copy goes row by row through
`redlines.store.copying`, never as a file copy, so that it crosses engines.
"""

from __future__ import annotations

from pathlib import Path

from redlines.errors import Conflict, DatabaseProblem, NotFound


def copy(source: str, target: str, *, force: bool = False) -> tuple[Path, Path, dict[str, int], Path | None]:
    """Copy the data set at `source`, history included, to `target`, which must not exist or be
    empty (else only with `force`, after a backup of a file, as `db init --force`). Either may be
    a file or a PostgreSQL database. Returns the two locations, the rows copied per table, and the
    backup of what `target` held (or None)."""
    from redlines.service import Tracker
    from redlines.store import copying, engine

    src_path, dst_path = engine.location(source), engine.location(target)
    src_server, dst_server = engine.is_server(src_path), engine.is_server(dst_path)
    if not src_server and not src_path.is_file():
        raise NotFound(f"{src_path} does not exist; nothing was copied", ["give the database to copy from"])
    if src_server and dst_server and src_path == dst_path:
        raise Conflict(f"{src_path} is both FROM and TO; nothing was copied")
    if not src_server and not dst_server and dst_path.exists() and dst_path.resolve() == src_path.resolve():
        raise Conflict(f"{src_path} is both FROM and TO; nothing was copied")
    if not dst_server and dst_path.is_dir():
        raise Conflict(f"{dst_path} is a folder; give a file to copy to")
    tracker = Tracker(src_path)  # opening it upgrades an older file first, and refuses a newer one
    counts: dict[str, int] = {}
    try:

        def fill(conn) -> None:
            counts.update(copying.copy_rows(tracker.conn, conn))

        if not engine.exists(dst_path):
            engine.create(dst_path, fill)
            return src_path, dst_path, counts, None
        if not copying.is_empty(dst_path) and not force:
            kept = " (back it up with pg_dump first)" if dst_server else " (a backup is kept)"
            hint = "add --force to replace it" + kept
            raise Conflict(f"{dst_path} holds a data set already; nothing was copied", [hint])
        return src_path, dst_path, counts, engine.replace(dst_path, fill)
    finally:
        tracker.close()


def grant(location: str, role: str, *, write: bool) -> str:
    """Let `role` read (or read and write) the data set on a PostgreSQL server, present tables and
    future ones; returns what was granted, said plainly. On a SQLite file, this says that roles
    belong to a server (exit 1)."""
    from redlines.store import engine

    path = engine.location(location)
    if engine.is_server(path):
        from redlines.store import postgres

        postgres.grant(path, role, write=write)
        what = "read and write" if write else "read"
        return f"{role} may now {what} the data set in {path} (its tables now and those made later)"
    raise DatabaseProblem(
        f"roles belong to a PostgreSQL server: {path} is a SQLite file, and its file permissions govern who may "
        f"{'write' if write else 'read'} it; no role was granted",
        ["use chmod/chgrp on the file and its folder (SQLite writes -wal and -shm files beside it)"],
    )
