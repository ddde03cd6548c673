"""Moving a whole data set between locations (`db copy`), and what belongs to a server (roles).

A location is a SQLite file path; a `postgresql://` location is said plainly to be unavailable
in this release (the store for it is being built). The copy goes row by row through
`redlines.store.copying`, never as a file copy, so that it can later cross engines.
"""

from __future__ import annotations

from pathlib import Path

from redlines.errors import Conflict, DatabaseProblem, NotFound


def copy(source: str, target: str, *, force: bool = False) -> tuple[Path, Path, dict[str, int], Path | None]:
    """Copy the data set at `source`, history included, to `target`, which must not exist or be
    empty (else only with `force`, after a backup, as `db init --force`). Returns the two files,
    the rows copied per table, and the backup of what `target` held (or None)."""
    from redlines.service import Tracker
    from redlines.store import copying, engine

    for location in (source, target):
        if engine.is_server(location):
            raise engine.no_server(location)
    src_path, dst_path = engine.location(source), engine.location(target)
    if not src_path.is_file():
        raise NotFound(f"{src_path} does not exist; nothing was copied", ["give the database to copy from"])
    if dst_path.exists() and dst_path.resolve() == src_path.resolve():
        raise Conflict(f"{src_path} is both FROM and TO; nothing was copied")
    if dst_path.is_dir():
        raise Conflict(f"{dst_path} is a folder; give a file to copy to")
    tracker = Tracker(src_path)  # opening it upgrades an older file first, and refuses a newer one
    counts: dict[str, int] = {}
    try:

        def fill(conn) -> None:
            counts.update(copying.copy_rows(tracker.conn, conn))

        if not dst_path.exists():
            engine.create(dst_path, fill)
            return src_path, dst_path, counts, None
        if not copying.is_empty(dst_path) and not force:
            raise Conflict(
                f"{dst_path} holds a data set already; nothing was copied",
                ["add --force to replace it (a backup is kept)"],
            )
        return src_path, dst_path, counts, engine.replace(dst_path, fill)
    finally:
        tracker.close()


def grant(location: str, role: str, *, write: bool) -> None:
    """Roles belong to a PostgreSQL server: on a SQLite file, this says so (exit 1)."""
    from redlines.store import engine

    if engine.is_server(location):
        raise engine.no_server(location)
    path = engine.location(location)
    raise DatabaseProblem(
        f"roles belong to a PostgreSQL server: {path} is a SQLite file, and its file permissions govern who may "
        f"{'write' if write else 'read'} it; no role was granted",
        ["use chmod/chgrp on the file and its folder (SQLite writes -wal and -shm files beside it)"],
    )
