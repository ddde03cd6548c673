"""Paths as a user types them."""

from __future__ import annotations

from pathlib import Path


def user_path(text: str) -> Path:
    """`text` with a leading `~` or `~user` expanded, as a shell would; a `~name` that names no
    user stays as written (a shell leaves it too), rather than failing."""
    path = Path(text)
    try:
        return path.expanduser()
    except RuntimeError:  # "Could not determine home directory"
        return path


# The database files this process has open (with their companions), so that no output is ever
# written over them: each as its resolved path, and as (device, inode) when it exists.
_IN_USE: dict[Path, Path] = {}
COMPANIONS = ("", "-wal", "-shm", "-journal")


def mark_in_use(database: Path) -> None:
    """Record that `database` is open: it and its `-wal`, `-shm` and `-journal` are not outputs."""
    import os

    real = Path(os.path.realpath(database))
    for suffix in COMPANIONS:
        _IN_USE[Path(f"{real}{suffix}")] = database


def in_use(target: Path) -> Path | None:
    """The database `target` is (or is a companion of), compared by resolved path and by inode."""
    import os

    real = Path(os.path.realpath(target))
    if real in _IN_USE:
        return _IN_USE[real]
    try:
        st = os.stat(real)
    except OSError:
        return None
    for path, database in _IN_USE.items():
        try:
            other = os.stat(path)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            return database
    return None
