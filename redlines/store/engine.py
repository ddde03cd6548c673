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
from redlines.store import objects

BUSY_TIMEOUT_MS = 10_000

# Called with each connection `connect` opens, after its pragmas: a seam for tests (and tools)
# that must run the store under other limits, e.g. `conn.setlimit(...)`.
CONNECT_HOOKS: list = []


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


def is_server(location) -> bool:
    """Does the location name a PostgreSQL database (a `postgresql://` URL, or a `Server`)?"""
    from redlines.store.server import is_server as server

    return location is not None and server(location)


def _server(location) -> bool:
    from redlines.store.server import Server

    return isinstance(location, Server)


def location(text: str | os.PathLike | None):
    """The database a location names: a file (a `Path`; the default when none is given) or a
    database on a PostgreSQL server (a `Server`, for a `postgresql://` URL). An empty location
    (`--db ""`, `REDLINES_DB=`) is bad usage, never a silent fallback to the default."""
    from redlines.errors import BadInput
    from redlines.paths import user_path

    if text is None:
        return default_path()
    if _server(text):
        return text
    text = os.fspath(text)
    if not text.strip():
        raise BadInput("the database location is empty", ["give a file with --db PATH or REDLINES_DB=PATH"])
    if "\x00" in text:
        raise BadInput("a database path cannot hold a NUL character")
    if is_server(text):  # never taken for a file name: that would write locally, password and all
        from redlines.store.server import Server

        return Server(text.strip())
    return user_path(text)


class Connection(sqlite3.Connection):
    """A connection that knows why writes are refused, when they are (`refusal`)."""

    refusal: DatabaseProblem | None = None


def known_revisions() -> list[str]:
    """The schema revisions this release knows, oldest first (`0001_initial_schema.py` -> `0001`)."""
    names = os.listdir(migrations_dir() / "versions")
    return sorted(n.split("_", 1)[0] for n in names if n[:4].isdigit() and n.endswith(".py"))


def head_revision() -> str:
    return known_revisions()[-1]


def _open(path: Path) -> sqlite3.Connection:
    """A file we may not write is opened read-only: reads work, writes are refused by SQLite
    (and said plainly by the CLI). Without write access to the folder either, SQLite cannot keep
    its shared-memory file beside a WAL database, so such a file is then read as immutable: in WAL
    the file itself holds committed pages only. Not so in a rollback journal (a bulk load into an
    empty database writes its pages into the file as it goes, `sqlite.rollback_journal`): there
    a file that is busy, or holds an unfinished write to roll back, is refused, not read torn."""
    if not path.exists() or os.access(path, os.W_OK):
        return sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, factory=Connection)
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, factory=Connection)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as e:
        conn.close()
        if not _in_wal(path):
            if "locked" in str(e) or "busy" in str(e):
                raise DatabaseProblem(
                    f"{path} is being written (an import into a database without threats holds it "
                    "until it ends); nothing was read",
                    ["try again when the import has finished"],
                ) from None
            raise DatabaseProblem(
                f"{path} holds a write that did not finish (a journal beside it), which only a user "
                "who may write the file can roll back; nothing was read",
                ["run any redlines command on it as such a user, then read it again"],
            ) from None
        return sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None, factory=Connection)


def _in_wal(path: Path) -> bool:
    """Whether the database file is in WAL mode, by its header (bytes 18 and 19 are 2)."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        return False
    return header[18:20] == b"\x02\x02"


def connect(path: Path) -> Connection:
    """A connection in autocommit mode: each command opens its own transaction (`write.run`)."""
    from redlines.paths import mark_in_use

    try:
        conn = _open(path)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA analysis_limit = 1000")  # bounds what PRAGMA optimize may cost
        for hook in CONNECT_HOOKS:
            hook(conn)
    except sqlite3.Error as e:
        raise problem(e, path, opening=True) from e
    mark_in_use(path)
    return conn


FULL_CODES = {13}  # SQLITE_FULL
NOT_A_DATABASE_CODES = {26, 11}  # SQLITE_NOTADB, SQLITE_CORRUPT


def root_error(e: BaseException) -> BaseException:
    """The error underneath: SQLAlchemy's wrapped DBAPI error, or the error an attempt to roll
    back ran into ("cannot rollback - no transaction is active" hides SQLITE_FULL)."""
    for _ in range(10):
        inner = getattr(e, "orig", None)
        if isinstance(inner, BaseException):
            e = inner
        elif isinstance(e, sqlite3.Error) and "rollback" in str(e) and e.__context__ is not None:
            e = e.__context__
        else:
            break
    return e


def _is_full(e: BaseException) -> bool:
    import errno

    if isinstance(e, sqlite3.Error):
        code = getattr(e, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF in FULL_CODES) or "database or disk is full" in str(e)
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)


LOW_SPACE_BYTES = 256 * 1024
FREE_SPACE = "free some space, then run the command again"


def _io_error_on_a_full_disk(e: BaseException, where: Path | str) -> bool:
    """SQLite reports some writes that find no space as an I/O error (growing the `-shm` file:
    SQLITE_IOERR_SHMSIZE); when the folder has next to no space left, that is what it was."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is None or code & 0xFF != 10:  # SQLITE_IOERR and its extended codes
        return False
    try:
        st = os.statvfs(Path(where).parent)
    except (OSError, ValueError, AttributeError):
        return False
    return st.f_bavail * st.f_frsize < LOW_SPACE_BYTES


def problem(e: BaseException, where: Path | str, *, opening: bool = False) -> DatabaseProblem:
    """A database error said plainly, by what it means: a full disk, a file that is read-only,
    busy, or not a database at all. The command wrote nothing (its transaction rolled back)."""
    e = root_error(e)
    text = str(e)
    if _is_full(e) or _io_error_on_a_full_disk(e, where):
        why = "SQLite needs a little space even to read it" if opening else "nothing was written"
        return DatabaseProblem(f"the disk holding {where} is full: {why}", [FREE_SPACE])
    code = getattr(e, "sqlite_errorcode", None)
    code = None if code is None else code & 0xFF
    if "readonly" in text or "read-only" in text:
        return DatabaseProblem(f"{where} is read-only: reading works, writing needs write access; nothing was written")
    if "locked" in text or "busy" in text:
        return DatabaseProblem(
            f"{where} stayed busy with another writer; nothing was written",
            ["try again (an import into a database without threats holds it until the import ends)"],
        )
    if code in NOT_A_DATABASE_CODES or (opening and code is None and isinstance(e, sqlite3.DatabaseError)):
        return DatabaseProblem(
            f"{where} is not a redlines database ({e})",
            ["choose another file with --db or REDLINES_DB; it was not changed"],
        )
    if opening:
        return DatabaseProblem(f"cannot open the database {where}: {e}")
    return DatabaseProblem(f"{where}: {text}; nothing was written")


def schema_revision(conn: sqlite3.Connection, path: Path) -> str | None:
    """The Alembic revision of the file; None for a file with no tables at all."""
    if _server(path):
        from redlines.store import postgres

        return postgres.schema_revision(conn, path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return revision_in(
            tables,
            lambda: conn.execute("SELECT version_num FROM alembic_version").fetchone(),
            DatabaseProblem(
                f"{path} is a SQLite database, but not one of redlines",
                ["choose another file with --db or REDLINES_DB"],
            ),
        )
    except sqlite3.Error as e:
        raise problem(e, path, opening=True) from e


def revision_in(tables: set[str], version_row, not_ours: DatabaseProblem) -> str | None:
    """The revision a database of these tables is at (read by `version_row` from alembic_version):
    None when it has no tables at all; `not_ours` raised when it has tables but not redlines'."""
    if not tables:
        return None
    if "alembic_version" not in tables:
        raise not_ours
    row = version_row()
    return row[0] if row else None


def open_database(path: Path, seed) -> Connection:
    """Open the file, creating and seeding it first if it does not exist, upgrading it
    (after a backup) if an older release made it, refusing it if a newer one did.

    A file is checked against what redlines expects before anything is written to it: a schema
    version its tables belie is refused (nothing touched, no backup); a trigger or view that
    redlines did not make refuses an upgrade, and at the newest schema it refuses writes
    (reads go on), until `db check --repair` removes it."""
    if _server(path):
        from redlines.store import postgres

        return postgres.open_database(path, seed)
    if not path.exists():
        create(path, seed)
    conn = connect(path)
    try:
        version = schema_revision(conn, path)
        head = head_revision()
        known = known_revisions()
        if version is None:
            raise DatabaseProblem(
                f"{path} is empty, not a redlines database",
                [f"remove it, or run `redlines --db {path} db init --force`"],
            )
        if version not in known:
            raise DatabaseProblem(
                f"{path} was written by a newer release of redlines (schema {version}; "
                f"this release knows up to {head}); it was left untouched",
                ["upgrade redlines to read it"],
            )
        found = _inventory(conn, path)
        _check_version(path, version, found, known)
        findings = objects.compare(found.objects, objects.expected_at(version))
        if version == head:
            if any(f.problem in objects.FOREIGN for f in findings):
                conn.refusal = _foreign(path, [f for f in findings if f.problem in objects.FOREIGN])
                from redlines.store.rules import mark_if_stale

                mark_if_stale(conn)  # read as it is; its views and cache are brought up to date after --repair
                conn.execute("PRAGMA query_only = ON")
                return conn
            return _rules_synced(conn)
        if any(f.problem != "outdated" for f in findings):
            raise _foreign(path, [f for f in findings if f.problem != "outdated"], upgrading=version)
    except BaseException:
        conn.close()
        raise
    backup_path = backup(conn, path, suffix=f"before-{head}")
    conn.close()
    print(f"upgrading {path} from schema {version} to {head}; backup at {backup_path}", file=sys.stderr)
    try:
        migrate(path)
    except Exception as e:
        kept = [f"the file before the upgrade is kept at {backup_path}"]
        raise _failed(e, f"cannot upgrade {path}", kept, where=path) from e
    return open_database(path, seed)


def _rules_synced(conn: sqlite3.Connection) -> sqlite3.Connection:
    """The cached verdicts and the views brought up to this code's rules (one small read when
    they are; see `redlines.store.rules`)."""
    from redlines.store.rules import sync_rules

    return sync_rules(conn)


def _inventory(conn: sqlite3.Connection, path: Path) -> objects.Inventory:
    try:
        return objects.inventory(conn)
    except sqlite3.Error as e:
        raise problem(e, path, opening=True) from e


def _check_version(path: Path, version: str, found: objects.Inventory, known: list[str]) -> None:
    """Refuse a file whose tables are not those of the revision it claims (once, plainly)."""
    if not objects.described(version) or found.columns & objects.universe() == objects.columns_at(version):
        return
    like = objects.looks_like(found.columns, [r for r in known if objects.described(r)])
    if like:
        seen = f"its tables are those of schema {' or '.join(like)}"
    else:
        missing = sorted(objects.columns_at(version) - found.columns)
        extra = sorted((found.columns & objects.universe()) - objects.columns_at(version))
        parts = []
        if missing:
            parts.append(
                "it lacks " + ", ".join(f"{t}.{c}" for t, c in missing[:6]) + (" ..." if len(missing) > 6 else "")
            )
        if extra:
            parts.append("it has " + ", ".join(f"{t}.{c}" for t, c in extra[:6]) + (" ..." if len(extra) > 6 else ""))
        seen = "its tables match no schema of redlines (" + "; ".join(parts) + ")"
    hints = ["restore a backup of it, or choose another file with --db or REDLINES_DB"]
    if like:
        import shlex

        fix = f"UPDATE alembic_version SET version_num = '{like[-1]}'"  # safe in double quotes: [0-9] only
        hints.append(f'if only its version is wrong: sqlite3 {shlex.quote(str(path))} "{fix}"')
    raise DatabaseProblem(f"{path} says it is at schema {version}, but {seen}; it was left untouched", hints)


def _foreign(path: Path, findings: list, upgrading: str | None = None) -> DatabaseProblem:
    what = "; ".join(str(f) for f in findings[:5]) + (f"; and {len(findings) - 5} more" if len(findings) > 5 else "")
    if upgrading:
        text = f"{path} was not upgraded from schema {upgrading}: {what}"
    else:
        text = f"{path} holds SQL that redlines did not make ({what}); reading works, writing is refused"
    return DatabaseProblem(
        text,
        [
            f"`redlines --db {path} db check` lists it; "
            f"`redlines --db {path} db check --repair` puts it right (after a backup)"
        ],
    )


def _failed(e: BaseException, doing: str, hints: list[str] = (), where: Path | None = None) -> DatabaseProblem:
    """What went wrong while `doing` something to a file, said in one line (no traceback)."""
    if isinstance(e, DatabaseProblem):
        return e
    root = root_error(e)
    if _is_full(root) or (where is not None and _io_error_on_a_full_disk(root, where)):
        return DatabaseProblem(f"{doing}: the disk is full", [FREE_SPACE, *hints])
    if isinstance(root, OSError):
        return DatabaseProblem(f"{doing}: {root.strerror or root}", list(hints))
    text = str(root).splitlines()[0] if str(root) else type(root).__name__
    return DatabaseProblem(f"{doing}: {text}", list(hints))


def migrate(path: Path, revision: str = "head") -> None:
    if _server(path):
        from redlines.store import postgres

        return postgres.migrate(path, revision)
    from alembic import command
    from alembic.config import Config

    # Alembic's own messages go to stderr: stdout carries data alone.
    cfg = Config(stdout=sys.stderr)
    cfg.set_main_option("script_location", str(migrations_dir()).replace("%", "%%"))
    cfg.attributes["sqlite_path"] = str(path)  # not a URL: a path may hold %, ? or #
    command.upgrade(cfg, revision)


def _build(path: Path, seed) -> Path:
    """A new database, migrated and seeded, in a file of its own beside `path` (returned)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatabaseProblem(f"cannot create the folder {path.parent}: {e.strerror}") from e
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    _remove(tmp)
    try:
        migrate(tmp)
        conn = connect(tmp)
        try:
            if seed is not None:
                seed(conn)
            _rules_synced(conn)
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()
    except BaseException as e:
        _remove(tmp)
        if isinstance(e, Exception):
            raise _failed(e, f"cannot create {path}", ["nothing was written"], where=path) from e
        raise
    return tmp


def _remove(db: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def create(path: Path, seed) -> None:
    """Build a new database beside `path`, then move it into place in one step, so that a
    half-made file is never seen and two processes creating it at once cannot clash."""
    if _server(path):
        from redlines.store import postgres

        conn = postgres.connect(path)
        try:
            return postgres.build(conn, path, seed)
        finally:
            conn.close()
    tmp = _build(path, seed)
    try:
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(tmp, path)
    except OSError as e:
        raise _failed(e, f"cannot create {path}", ["nothing was written"], where=path) from e
    finally:
        _remove(tmp)


REPLACE_WAIT_S = 3.0  # how long `db init --force` waits for others to let go of the file


def replace(path: Path, seed) -> Path | None:
    """Replace the database at `path` with a new one; returns the backup of the old one (None if
    it was an empty file).

    The new database is built aside first. Then the old file is locked exclusively (no other
    connection may read or write it: if one holds it, this refuses, as "in use"), backed up
    under that lock, and overwritten through SQLite's backup API: the file keeps its name, its
    `-wal` and `-shm` stay consistent with it, and no write acknowledged before the lock can be
    missing from the backup, while none can land after it."""
    if _server(path):
        from redlines.store import postgres

        return postgres.replace(path, seed)
    tmp = _build(path, seed)
    try:
        return _overwrite(path, tmp)
    finally:
        _remove(tmp)


def _overwrite(path: Path, new: Path) -> Path | None:
    try:
        old = sqlite3.connect(path, isolation_level=None, timeout=REPLACE_WAIT_S)
    except sqlite3.Error as e:
        raise problem(e, path, opening=True) from e
    try:
        try:
            old.execute("PRAGMA locking_mode = EXCLUSIVE")
            old.execute("BEGIN EXCLUSIVE")
            old.execute("COMMIT")  # the lock stays: exclusive locking mode keeps it until closed
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise DatabaseProblem(
                    f"{path} is in use by another program; it was not replaced",
                    ["close what holds it open (another redlines, sqlite3, Datasette), then run again"],
                ) from e
            raise problem(e, path, opening=True) from e
        except sqlite3.DatabaseError as e:
            raise DatabaseProblem(f"{path} is not a readable SQLite database ({e}); it was not replaced") from e
        saved = None
        if path.stat().st_size:
            saved = _backup_name(path, "replaced")
            _copy(old, saved)
        src = sqlite3.connect(new, isolation_level=None)
        try:
            src.backup(old)
        except sqlite3.Error as e:
            kept = [f"the old database is kept as it was; a copy is at {saved}"]
            raise _failed(e, f"cannot replace {path}", kept, where=path) from e
        finally:
            src.close()
        return saved
    finally:
        old.close()


def _backup_name(path: Path, suffix: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return path.with_name(f"{path.name}.{suffix}-{stamp}")


def _copy(conn: sqlite3.Connection, to: Path) -> None:
    """A consistent copy through the backup API (for a connection that holds its file locked)."""
    if to.exists():
        raise DatabaseProblem(f"{to} exists already; it was not overwritten")
    partial = to.with_name(f".{to.name}.partial")
    _remove(partial)
    try:
        dst = sqlite3.connect(partial)
        try:
            conn.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
        os.replace(partial, to)
    except (sqlite3.Error, OSError) as e:
        _remove(partial)
        raise _failed(e, f"cannot write the backup {to}", ["nothing was changed"], where=to) from e


def backup(conn: sqlite3.Connection, path: Path, suffix: str | None = None, to: Path | None = None) -> Path:
    """A consistent copy of the database (`VACUUM INTO`), safe while others write."""
    from redlines.paths import in_use

    if _server(path):
        from redlines.store import postgres

        return postgres.backup(path, to)

    if to is None:
        to = _backup_name(path, suffix or "backup")
    if to.exists():
        raise DatabaseProblem(f"{to} exists already; it was not overwritten")
    if in_use(to) is not None:
        raise DatabaseProblem(f"{to} belongs to the database in use; it was not overwritten")
    partial = to.with_name(f".{to.name}.partial")  # renamed when whole: a backup is never half there
    partial.unlink(missing_ok=True)
    guarded = getattr(conn, "refusal", None) is not None
    try:
        if guarded:
            conn.execute("PRAGMA query_only = OFF")  # a copy changes nothing in the file itself
        conn.execute("VACUUM INTO ?", (str(partial),))
        os.replace(partial, to)
    except (sqlite3.Error, OSError) as e:
        partial.unlink(missing_ok=True)
        raise _failed(e, f"cannot write the backup {to}", where=to) from e
    finally:
        if guarded:
            conn.execute("PRAGMA query_only = ON")
    return to


def repair(path: Path) -> tuple[list[str], Path | None]:
    """Make the file's triggers and views exactly those redlines expects at its schema: drop what
    redlines did not make, recreate what is altered or missing, and build the search index anew
    when it does not match the records, in one transaction, after a backup. Returns what was done
    and the backup (None when nothing needed doing)."""
    if _server(path):
        return [], None  # a server database holds no trigger or view but redlines' own (the store makes them)
    if not path.exists():
        return [], None  # opening it creates it, as redlines makes it
    conn = connect(path)
    try:
        version = schema_revision(conn, path)
        if version is None or version not in known_revisions():
            return [], None
        _check_version(path, version, _inventory(conn, path), known_revisions())
        expected = objects.expected_at(version)
        findings = objects.compare(_inventory(conn, path).objects, expected)
        from redlines.store import search

        stale_index = bool(search.index_problems(conn))
        if not findings and not stale_index:
            return [], None
        saved = backup(conn, path, suffix="before-repair")
        done = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for f in findings:
                kind, name = f.key
                if f.problem != "missing":
                    conn.execute(f"DROP {kind.upper()} IF EXISTS {_quoted(name)}")
                    done.append(f"dropped the {kind} {name} ({f.problem})")
            redo = {f.key for f in findings if f.problem != "unknown"}
            for key, sql in expected.items():  # in the order they depend on each other
                if key in redo:
                    conn.execute(sql)
                    done.append(f"created the {key[0]} {key[1]}")
            if stale_index:
                search.rebuild(conn)
                done.append("built the search index anew from the records")
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise _failed(e, f"cannot repair {path}", ["nothing was changed"], where=path) from e
        return done, saved
    finally:
        conn.close()


def foreign_objects(conn: sqlite3.Connection) -> list[objects.Finding]:
    """How the open database's triggers and views differ from those of its schema."""
    if getattr(conn, "dialect", "sqlite") != "sqlite":
        return []
    version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    return objects.compare(objects.inventory(conn).objects, objects.expected_at(version))


def exists(path) -> bool:
    """Is there a database at the location already (a file; a server database with tables)?"""
    if _server(path):
        from redlines.store import postgres

        return postgres.exists(path)
    return path.exists()


def size(conn, path) -> int:
    """How many bytes the database takes."""
    if _server(path):
        from redlines.store import postgres

        return postgres.size(conn)
    return path.stat().st_size


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
