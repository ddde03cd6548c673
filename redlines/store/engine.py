"""The database file: where it is, opening it with the right pragmas, its schema version,
creating, upgrading and backing it up.

The schema version is read with one `sqlite3` query; Alembic (and with it SQLAlchemy) is
imported only when a database has to be created or upgraded.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from redlines.errors import DatabaseProblem
from redlines.resources import migrations_dir

BUSY_TIMEOUT_MS = 10_000


def default_path() -> Path:
    """The user's data directory, as each platform names it."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "redlines" / "redlines.db"


def known_revisions() -> list[str]:
    """The schema revisions this release knows, oldest first (`0001_initial_schema.py` -> `0001`)."""
    names = os.listdir(migrations_dir() / "versions")
    return sorted(n.split("_", 1)[0] for n in names if n[:4].isdigit() and n.endswith(".py"))


def head_revision() -> str:
    return known_revisions()[-1]


def _open(path: Path) -> sqlite3.Connection:
    """A file we may not write is opened read-only: reads work, writes are refused by SQLite
    (and said plainly by the CLI). Without write access to the folder either, SQLite cannot keep
    its shared-memory file beside a WAL database, so the file is then read as immutable."""
    if not path.exists() or os.access(path, os.W_OK):
        return sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        return sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None)


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode: each command opens its own transaction (`write.run`)."""
    try:
        conn = _open(path)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA analysis_limit = 1000")  # bounds what PRAGMA optimize may cost
    except sqlite3.DatabaseError as e:
        raise DatabaseProblem(
            f"{path} is not a redlines database ({e})",
            ["choose another file with --db or REDLINES_DB; it was not changed"],
        ) from e
    except sqlite3.Error as e:
        raise DatabaseProblem(f"cannot open the database {path}: {e}") from e
    return conn


def schema_version(conn: sqlite3.Connection, path: Path) -> str | None:
    """The Alembic revision of the file; None for a file with no tables at all."""
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return None
        if "alembic_version" not in tables:
            raise DatabaseProblem(
                f"{path} is a SQLite database, but not one of redlines",
                ["choose another file with --db or REDLINES_DB"],
            )
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as e:
        raise DatabaseProblem(
            f"{path} is not a redlines database ({e})",
            ["choose another file with --db or REDLINES_DB; it was not changed"],
        ) from e
    return row[0] if row else None


def open_database(path: Path, seed) -> sqlite3.Connection:
    """Open the file, creating and seeding it first if it does not exist, upgrading it
    (after a backup) if an older release made it, refusing it if a newer one did."""
    if not path.exists():
        create(path, seed)
    conn = connect(path)
    version = schema_version(conn, path)
    head = head_revision()
    if version == head:
        return _rules_synced(conn)
    known = known_revisions()
    if version is None:
        conn.close()
        raise DatabaseProblem(
            f"{path} is empty, not a redlines database", [f"remove it, or run `redlines --db {path} db init --force`"]
        )
    if version not in known:
        conn.close()
        raise DatabaseProblem(
            f"{path} was written by a newer release of redlines (schema {version}; "
            f"this release knows up to {head}); it was left untouched",
            ["upgrade redlines to read it"],
        )
    backup_path = backup(conn, path, suffix=f"before-{head}")
    conn.close()
    print(f"upgrading {path} from schema {version} to {head}; backup at {backup_path}", file=sys.stderr)
    migrate(path)
    return _rules_synced(connect(path))


def _rules_synced(conn: sqlite3.Connection) -> sqlite3.Connection:
    """The cached verdicts and the views brought up to this code's rules (one small read when
    they are; see `redlines.store.views`)."""
    from redlines.store.views import sync_rules

    return sync_rules(conn)


def migrate(path: Path, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    # Alembic's own messages go to stderr: stdout carries data alone.
    cfg = Config(stdout=sys.stderr)
    cfg.set_main_option("script_location", str(migrations_dir()).replace("%", "%%"))
    cfg.attributes["sqlite_path"] = str(path)  # not a URL: a path may hold %, ? or #
    command.upgrade(cfg, revision)


def create(path: Path, seed, *, replace: bool = False) -> None:
    """Build a new database beside `path`, then move it into place in one step, so that a
    half-made file is never seen and two processes creating it at once cannot clash."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatabaseProblem(f"cannot create the folder {path.parent}: {e.strerror}") from e
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    for leftover in (tmp, Path(f"{tmp}-journal")):
        leftover.unlink(missing_ok=True)
    try:
        migrate(tmp)
        conn = connect(tmp)
        if seed is not None:
            seed(conn)
        _rules_synced(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.close()
        if replace:
            os.replace(tmp, path)
        else:
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(tmp, path)
    except OSError as e:
        raise DatabaseProblem(f"cannot create {path}: {e.strerror or e}") from e
    finally:
        tmp.unlink(missing_ok=True)


def backup(conn: sqlite3.Connection, path: Path, suffix: str | None = None, to: Path | None = None) -> Path:
    """A consistent copy of the database (`VACUUM INTO`), safe while others write."""
    if to is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        to = path.with_name(f"{path.name}.{suffix or 'backup'}-{stamp}")
    if to.exists():
        raise DatabaseProblem(f"{to} exists already; it was not overwritten")
    partial = to.with_name(f".{to.name}.partial")  # renamed when whole: a backup is never half there
    partial.unlink(missing_ok=True)
    try:
        conn.execute("VACUUM INTO ?", (str(partial),))
        os.replace(partial, to)
    except (sqlite3.Error, OSError) as e:
        partial.unlink(missing_ok=True)
        raise DatabaseProblem(f"cannot write the backup {to}: {e}") from e
    return to
