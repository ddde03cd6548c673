"""The PostgreSQL half of the store: a connection that gives the store the small surface it uses
on `sqlite3` (execute/executemany, rows by index and by name, rowcount, lastrowid, transactions
by statement), with the store's SQL translated once per statement (cached).

The store writes SQLite's SQL; what PostgreSQL spells otherwise is translated here, in one place:
`?` and `:name` placeholders, `%` escaping, index hints (`INDEXED BY`, dropped), `INSERT OR
IGNORE` (`ON CONFLICT DO NOTHING`), `IS [NOT]` between values (`IS [NOT] DISTINCT FROM`), scalar
`max`/`min` (`greatest`/`least`), `date()` with modifiers, `char`, `instr`, `ifnull`,
`group_concat`, `json_each`, `json_object`, `LIMIT -1`, subqueries in FROM without a name, and the transaction
statements (`BEGIN IMMEDIATE` takes the writers' advisory lock, so runs land one after another).
The few SQLite functions the rule SQL uses that PostgreSQL lacks (`julianday`, `printf('%0Nd')`,
`rl_date`, and `max`/`sum` over booleans) are made by migration 0011 on PostgreSQL only.

Errors come out as the `sqlite3` exception classes the store already handles (an integrity error
as `sqlite3.IntegrityError`, a write refused to a read-only role as a "read-only" error), so that
the rest of the code does not know which engine it has. psycopg is imported only here.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache

from redlines.errors import DatabaseProblem
from redlines.store.server import Server

# The key of the transaction-level advisory lock every write run takes (`BEGIN IMMEDIATE`).
WRITERS_LOCK = 0x7265646C  # "redl"
CREATING_LOCK = 0x7265646D  # held while a new database is built (first use, `db init`)

_TOKEN = re.compile(
    r"""
    (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*")
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<param>\?|(?<![:\w]):[A-Za-z_]\w*)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<ws>\s+)
  | (?P<op>\|\||<=|>=|<>|!=|==|::|.)
    """,
    re.S | re.X,
)

_RENAMED = {
    "date": "rl_date",
    "char": "chr",
    "instr": "strpos",
    "ifnull": "coalesce",
    "json_object": "json_build_object",
}
# Words after a subquery in FROM that show it has no name of its own.
_NOT_AN_ALIAS = {
    "where", "on", "join", "left", "right", "inner", "cross", "full", "natural", "group", "order", "limit",
    "union", "except", "intersect", "having", "window", "offset", "using",
}  # fmt: skip
# The tables a bulk load writes (and reads back by key as it goes), analysed as it grows (`copy_rows`).
_ANALYZED = ("threat", "threat_target", "threat_tag", "event", "citation", "source")
_TABLES_WITH_ID = {"actor", "alias", "source", "threat_target", "threat_tag", "citation", "run", "change"}


class Translated:
    __slots__ = ("sql", "returning_id")

    def __init__(self, sql: str, returning_id: bool):
        self.sql, self.returning_id = sql, returning_id


@lru_cache(maxsize=2048)
def translate(sql: str) -> Translated:
    """SQLite's SQL, as PostgreSQL takes it (see the module's notes)."""
    toks = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(sql)]
    kinds = [k for k, _ in toks]
    text = [t for _, t in toks]
    n = len(toks)
    # Matching parentheses.
    match: dict[int, int] = {}
    stack: list[int] = []
    for i, t in enumerate(text):
        if kinds[i] == "op" and t == "(":
            stack.append(i)
        elif kinds[i] == "op" and t == ")" and stack:
            match[stack.pop()] = i

    def nxt(i: int) -> int:
        """The index of the next token after i that is not white space or a comment (n if none)."""
        i += 1
        while i < n and kinds[i] in ("ws", "comment"):
            i += 1
        return i

    def prev(i: int) -> int:
        i -= 1
        while i >= 0 and kinds[i] in ("ws", "comment"):
            i -= 1
        return i

    def word(i: int) -> str:
        return text[i].lower() if 0 <= i < n and kinds[i] == "word" else ""

    def top_commas(open_at: int) -> list[int]:
        depth, out = 0, []
        for j in range(open_at + 1, match.get(open_at, open_at)):
            if text[j] == "(" and kinds[j] == "op":
                depth += 1
            elif text[j] == ")" and kinds[j] == "op":
                depth -= 1
            elif text[j] == "," and kinds[j] == "op" and depth == 0:
                out.append(j)
        return out

    or_ignore = False
    aliases = 0
    first = word(nxt(-1))
    for i in range(n):
        kind, t = kinds[i], text[i]
        low = t.lower()
        if kind == "param":
            text[i] = "%s" if t == "?" else f"%({t[1:]})s"
            if word(nxt(i)) == "is" and word(nxt(nxt(i))) in ("null", "not"):  # a type for `? IS NULL`
                text[i] = f"CAST({text[i]} AS TEXT)"
        elif kind == "str" and word(prev(i)) == "as":  # `AS 'name'`: a column name, in SQLite's leniency
            text[i] = '"' + t[1:-1].replace("''", "'").replace('"', '""').replace("%", "%%") + '"'
        elif kind == "str" and "%" in t:
            text[i] = t.replace("%", "%%")
        elif kind == "comment":  # nothing PostgreSQL needs; and a `-- note` would swallow what is appended
            text[i] = " "
        elif kind == "op" and t == "%":
            text[i] = "%%"
        elif kind == "word" and low == "like" and word(prev(i)) != "i":  # SQLite's LIKE ignores case
            text[i] = "ILIKE"
        elif kind == "op" and t == "==":
            text[i] = "="
        elif kind == "word":
            if low == "indexed" and word(nxt(i)) == "by":
                b = nxt(i)
                name = nxt(b)
                for j in range(i, name + 1):
                    text[j] = ""
            elif low == "or" and word(prev(i)) == "insert" and word(nxt(i)) == "ignore":
                text[i] = text[nxt(i)] = ""
                or_ignore = True
            elif low == "is":
                j = nxt(i)
                after = word(j)
                if after == "not":
                    k = nxt(j)
                    if word(k) not in ("null", "true", "false", "distinct"):
                        text[i], text[j] = "IS DISTINCT", "FROM"
                elif after not in ("null", "true", "false", "distinct"):
                    text[i] = "IS NOT DISTINCT FROM"
            elif low == "limit":
                j = nxt(i)
                if j < n and kinds[j] == "param":
                    pass  # rewritten below, once the placeholder is translated
                elif j < n and text[j] == "-" and nxt(j) < n and text[nxt(j)] == "1":
                    text[j], text[nxt(j)] = "ALL", ""
            else:
                j = nxt(i)
                called = j < n and text[j] == "(" and kinds[j] == "op" and text[prev(i)] != "."
                if called:
                    if low == "json_each":  # a bound text or a text column: PostgreSQL wants a json value
                        text[i] = "json_array_elements_text"
                        text[j] = "(CAST("
                        text[match[j]] = " AS json))"
                    elif low in _RENAMED:
                        text[i] = _RENAMED[low]
                    elif low in ("max", "min") and top_commas(j):
                        text[i] = "greatest" if low == "max" else "least"
                    elif low == "group_concat":
                        commas = top_commas(j)
                        text[i] = "string_agg"
                        text[j] = "(CAST("
                        end = commas[0] if commas else match[j]
                        text[end] = " AS TEXT)" + ("," if commas else ", ','")
                        if not commas:
                            text[end] += ")"
        elif kind == "op" and t == "(" and word(prev(i)) in ("from", "join") and i in match:
            close = match[i]
            j = nxt(close)
            if j >= n or kinds[j] != "word" or word(j) in _NOT_AN_ALIAS:
                aliases += 1
                text[close] = f") AS _q{aliases}"
    # LIMIT ? -> LIMIT NULLIF(?, -1): SQLite's "no limit" is -1, PostgreSQL's NULL.
    for i in range(n):
        if word(i) == "limit":
            j = nxt(i)
            if j < n and kinds[j] == "param":
                text[j] = f"NULLIF({text[j]}, -1)"
    out = "".join(text)
    if or_ignore:
        out = out.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    returning = False
    insert = _INSERT_VALUES.match(out) if first == "insert" else None
    if insert is not None:
        out, returning = _numbered(out, insert)
    elif first == "insert" and (selected := _INSERT_SELECT.match(out)) is not None:
        out = _numbered_select(out, selected)
    return Translated(out, returning)


_INSERT_VALUES = re.compile(r"\s*INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)\s*VALUES\s*\(", re.I)
_ROWID_TABLES = {"threat", "event"}
_INSERT_SELECT = re.compile(r"\s*INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)\s*(SELECT\b.*)$", re.I | re.S)


def _key(table: str) -> str | None:
    """The column a table numbers its rows by, as SQLite does (`id`, or the `rowid` of threats
    and events); None for a table whose rows are keyed by what they hold."""
    return "id" if table in _TABLES_WITH_ID else "rowid" if table in _ROWID_TABLES else None


def _numbered_select(sql: str, insert: re.Match) -> str:
    """An INSERT ... SELECT into a table numbered as SQLite numbers rows, where the statement
    leaves the number out: each row selected is numbered on from the largest number, in the
    order selected (as SQLite numbers them; the column's sequence, which the numbers written
    by `_numbered` leave behind, would give numbers already taken)."""
    table = insert.group(1).lower()
    cols = [c.strip().lower() for c in insert.group(2).split(",")]
    key = _key(table)
    select = insert.group(3)
    if key is None or key in cols or re.search(r"\b(ON\s+CONFLICT|RETURNING)\b", select, re.I):
        return sql
    return (
        f"INSERT INTO {table} ({key}, {insert.group(2).strip()}) "
        f"SELECT (SELECT COALESCE(MAX({key}), 0) FROM {table}) + row_number() OVER (), _n.* "
        f"FROM ({select.rstrip().rstrip(';')}\n) AS _n"
    )


def _numbered(sql: str, insert: re.Match) -> tuple[str, bool]:
    """An INSERT ... VALUES into a table numbered as SQLite numbers rows (the largest number
    plus one, so that a number freed by undoing the newest row is given again, as SQLite does),
    where the statement leaves the number out; and RETURNING id, for `lastrowid`."""
    table = insert.group(1).lower()
    cols = [c.strip().lower() for c in insert.group(2).split(",")]
    key = _key(table)
    if key is None:
        return sql, False
    if key not in cols:
        values_at = insert.end()
        sql = (
            f"{sql[: insert.start(2)]}{key}, {sql[insert.start(2) : values_at]}"
            f"(SELECT COALESCE(MAX({key}), 0) + 1 FROM {table}), {sql[values_at:]}"
        )
    if key == "id" and " returning " not in sql.lower():
        return sql + " RETURNING id", True
    return sql, False


# --- rows and cursors ------------------------------------------------------------------------------


class Row(tuple):
    """A row readable by index and by column name (as `sqlite3.Row`), and as a mapping (`dict(row)`)."""

    __slots__ = ()
    _names: tuple[str, ...] = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._index[key])
            except KeyError:
                return tuple.__getitem__(self, self._index[key.lower()])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    index = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
        index.setdefault(name.lower(), i)
    return type("Row", (Row,), {"__slots__": (), "_names": names, "_index": index})


def _row_factory(cursor):
    desc = cursor.description
    if desc is None:
        return tuple
    cls = _row_class(tuple(d.name for d in desc))
    return cls


class Cursor:
    """What `Connection.execute` returns: rows by index and by name, rowcount, lastrowid."""

    def __init__(self, cur, returning_id: bool = False):
        self._cur = cur
        self.lastrowid = None
        if returning_id:
            row = cur.fetchone()
            self.lastrowid = row[0] if row else None

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def description(self):
        return self._cur.description

    def __iter__(self):
        if self._cur.description is None:
            return iter(())
        return iter(self._cur)

    def fetchone(self):
        return None if self._cur.description is None else self._cur.fetchone()

    def fetchall(self) -> list:
        return [] if self._cur.description is None else self._cur.fetchall()

    def fetchmany(self, size: int = 1) -> list:
        return [] if self._cur.description is None else self._cur.fetchmany(size)

    def close(self) -> None:
        self._cur.close()


_EMPTY = object()


def _reading(sql: str) -> bool:
    return sql.lstrip().lstrip("(").split(None, 1)[0].upper() in ("SELECT", "WITH", "VALUES")


def _sqlite_error(e: Exception, sql: str = "") -> sqlite3.Error:
    """A psycopg error as the `sqlite3` error the store handles (its first line only)."""
    import psycopg
    from psycopg import errors

    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    if isinstance(e, errors.ReadOnlySqlTransaction) or (
        isinstance(e, errors.InsufficientPrivilege) and not _reading(sql)
    ):
        return sqlite3.OperationalError(f"the database is read-only for this role ({text})")
    if isinstance(e, errors.InsufficientPrivilege):
        return sqlite3.OperationalError(
            f"this role may not read the data set ({text}); its owner can run `redlines db grant-read ROLE`"
        )
    if isinstance(e, psycopg.IntegrityError):
        return sqlite3.IntegrityError(text)
    if isinstance(e, errors.LockNotAvailable | errors.DeadlockDetected | errors.QueryCanceled):
        return sqlite3.OperationalError(f"database is locked ({text})")
    if isinstance(e, psycopg.OperationalError):
        return sqlite3.OperationalError(f"the connection to the server failed: {text}")
    return sqlite3.OperationalError(text)


class Connection:
    """A psycopg connection with the surface the store uses on `sqlite3` connections."""

    dialect = "postgresql"
    refusal: DatabaseProblem | None = None
    rules_stale = False
    row_factory = None  # accepted and ignored: rows are always `Row`

    def __init__(self, raw, server: Server):
        self._raw = raw
        self.server = server
        self._copied = self._analyzed_at = 0  # rows `copy_rows` wrote in this run; when statistics were taken

    # The transaction statements, as the store writes them for SQLite.
    def _control(self, sql: str):
        word = sql.strip().rstrip(";").upper()
        if word == "BEGIN":  # a read that sees one snapshot throughout (`db copy` from here)
            self._raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            return True
        if word == "BEGIN IMMEDIATE" or word == "BEGIN EXCLUSIVE":
            self._copied = self._analyzed_at = 0
            self._raw.execute("BEGIN")
            self._raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITERS_LOCK,))
            return True
        if word.startswith("PRAGMA"):
            if "DEFER_FOREIGN_KEYS" in word.replace(" ", ""):
                self._raw.execute("SET CONSTRAINTS ALL DEFERRED")
            elif "QUERY_ONLY" in word:
                on = word.endswith("ON") or word.endswith("1")
                if self.in_transaction:
                    self._raw.execute(f"SET TRANSACTION READ {'ONLY' if on else 'WRITE'}")
                self._raw.execute(f"SET default_transaction_read_only = {'on' if on else 'off'}")
            return True  # other pragmas tune SQLite alone
        return False

    def execute(self, sql: str, params=()):
        import psycopg

        if sql.lstrip()[:6].upper() in ("BEGIN", "BEGIN ", "PRAGMA") and self._control(sql):
            return Cursor(_Nothing())
        t = translate(sql)
        try:
            cur = self._raw.cursor(row_factory=_row_factory)
            cur.execute(t.sql, _params(params))
            return Cursor(cur, t.returning_id)
        except psycopg.Error as e:
            raise _sqlite_error(e, sql) from None

    def executemany(self, sql: str, seq):
        import psycopg

        t = translate(sql)
        try:
            cur = self._raw.cursor()
            cur.executemany(t.sql, [_params(p) for p in seq])
            return Cursor(cur)
        except psycopg.Error as e:
            raise _sqlite_error(e, sql) from None

    def copy_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Write `rows` (tuples in the order of `columns`) into `table` by one `COPY ... FROM STDIN`,
        the bulk loader's way in (`redlines.store.bulk`). A table that numbers its rows itself
        (`_numbered`), given rows without their number, numbers them as SQLite would: on from the
        largest number, in the order given (read once; the run holds the writers' lock)."""
        import psycopg
        from psycopg import sql

        key = _key(table)
        try:
            if key is not None and key not in columns:
                start = self._raw.execute(
                    sql.SQL("SELECT COALESCE(MAX({}), 0) FROM {}").format(sql.Identifier(key), sql.Identifier(table))
                ).fetchone()[0]
                columns = (key, *columns)
                rows = [(start + i, *row) for i, row in enumerate(rows, 1)]
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with self._raw.cursor() as cur, cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            self._copied += len(rows)
            if self._copied >= 2 * self._analyzed_at:
                # The planner's statistics, as the load grows: each time the rows copied in this
                # run have doubled. Without them the look-ups of a batch (its sources by URL, its
                # threats by id) were planned for the tables as they were before (empty, after an
                # undo), a scan of the table for every key: a 150k import ran for over ten minutes. ANALYZE
                # counts this transaction's own rows, and is undone with it.
                self._raw.execute(f"ANALYZE {', '.join(_ANALYZED)}")
                self._analyzed_at = self._copied
        except psycopg.Error as e:
            raise _sqlite_error(e, f"INSERT INTO {table}") from None

    def defer_for_load(self, tables: tuple[str, ...]) -> list[tuple[str, str]]:
        """PostgreSQL's half of `load.Loader._defer_indexes`, for a load into a database without
        threats: the indexes of `tables` that only reading uses (not those of a key or a unique
        constraint), the search index's words (its GIN index: the index is empty) and the foreign
        keys of `tables` are dropped inside the run's transaction (a refused or dry run gets them
        back) and returned as (table, statement that puts it back), to build each index in one
        pass and check each foreign key in one join once the rows are in. Checked row by row as
        COPY writes them, the foreign keys took over half the time of the copies (200,000 tags:
        2.0 s, against 0.9 s and 0.1 s to add the key afterwards). Until the run ends, other
        connections wait to read these tables, and those their keys refer to (`actor`, `source`),
        as they wait for no run that writes into a database holding threats. Only a role that owns
        the tables may drop an index or a key: for one given write access alone (`db grant-write`)
        nothing is deferred, and the load goes in with them."""
        owns = self.raw_execute(
            "SELECT bool_and(pg_has_role(t.relowner, 'USAGE')) FROM pg_class t "
            "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s)",
            ([*tables, "search"],),
        ).fetchone()[0]
        if not owns:
            return []
        indexes = self.raw_execute(
            "SELECT i.relname, t.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s) "
            "AND NOT x.indisunique AND NOT x.indisprimary ORDER BY i.relname",
            ([*tables, "search"],),
        ).fetchall()
        keys = self.raw_execute(
            "SELECT c.conname, t.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s) "
            "AND c.contype = 'f' ORDER BY t.relname, c.conname",
            (list(tables),),
        ).fetchall()
        for name, _, _ in indexes:
            self.raw_execute(f'DROP INDEX "{name}"')
        for name, table, _ in keys:
            self.raw_execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        return [(table, sql) for _, table, sql in indexes] + [
            (table, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}') for name, table, definition in keys
        ]

    def raw_execute(self, sql: str, params=None):
        """PostgreSQL's own SQL, untranslated (for the store's PostgreSQL variants)."""
        import psycopg

        try:
            cur = self._raw.cursor(row_factory=_row_factory)
            cur.execute(sql, params)
            return Cursor(cur)
        except psycopg.Error as e:
            raise _sqlite_error(e, sql) from None

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self._raw.info.transaction_status != TransactionStatus.IDLE

    def commit(self) -> None:
        if self.in_transaction:
            self._raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self._raw.execute("ROLLBACK")

    def close(self) -> None:
        self._raw.close()

    def cursor(self):
        return self


class _Nothing:
    description = None
    rowcount = -1

    def close(self) -> None:
        pass


def _params(params):
    if params is None:
        return ()
    if isinstance(params, dict | tuple | list):
        return params
    return tuple(params)


# --- connecting ------------------------------------------------------------------------------------


def _reason(e: BaseException) -> str:
    """psycopg's connection error in one line: what the server or libpq said, without the noise."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    for ln in lines:
        if "FATAL:" in ln:
            return ln.split("FATAL:", 1)[1].strip()
    text = lines[0] if lines else type(e).__name__
    return re.sub(r"^connection failed:\s*", "", text)


# Each session runs in UTC, and without JIT compilation: its queries are short, and compiling
# cost more than it saved (settling the verdicts of 100,000 imported threats: 2.6 s of 9.7 s).
SESSION = "-c TimeZone=UTC -c jit=off"


def connect(server: Server) -> Connection:
    """A connection in autocommit mode (each command opens its own transaction), in UTC."""
    import psycopg
    from psycopg.types.numeric import FloatLoader

    try:
        raw = psycopg.connect(server.conninfo, autocommit=True, connect_timeout=10, options=SESSION)
    except psycopg.Error as e:
        reason = _reason(e)
        hints = []
        if "does not exist" in reason and "database" in reason:
            hints.append(f"create it first (createdb {server.dbname}), or give another database")
        elif "password" in reason:
            hints.append("check the password (in the URL, PGPASSWORD or ~/.pgpass)")
        raise DatabaseProblem(f"cannot connect to {server}: {reason}", hints) from None
    except Exception as e:  # a malformed URL: libpq's parser says why (it never holds the password)
        raise DatabaseProblem(f"cannot connect to {server}: {_reason(e)}") from None
    raw.adapters.register_loader("numeric", FloatLoader)
    return Connection(raw, server)


def sqlalchemy_engine(server: Server):
    """An SQLAlchemy engine on the server, for Alembic (libpq reads the location as given)."""
    import psycopg
    from sqlalchemy import create_engine

    return create_engine(
        "postgresql+psycopg://",
        creator=lambda: psycopg.connect(server.conninfo, connect_timeout=10, options=SESSION),
    )


# --- the database on the server: its schema, creating, upgrading -----------------------------------


def _tables(conn: Connection) -> set[str]:
    return {r[0] for r in conn.raw_execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}


def schema_revision(conn: Connection, server: Server) -> str | None:
    """The Alembic revision of the database; None when it has no tables at all."""
    from redlines.store.engine import revision_in

    return revision_in(
        _tables(conn),
        lambda: conn.raw_execute("SELECT version_num FROM alembic_version").fetchone(),
        DatabaseProblem(
            f"{server} is a PostgreSQL database, but not one of redlines (it holds other tables)",
            ["give an empty database (createdb NAME) or another one with --db or REDLINES_DB"],
        ),
    )


def migrate(server: Server, revision: str = "head") -> None:
    import sys

    from alembic import command
    from alembic.config import Config

    from redlines.resources import migrations_dir

    cfg = Config(stdout=sys.stderr)
    cfg.set_main_option("script_location", str(migrations_dir()).replace("%", "%%"))
    cfg.attributes["server"] = server
    command.upgrade(cfg, revision)


def _failed(e: BaseException, doing: str) -> DatabaseProblem:
    if isinstance(e, DatabaseProblem):
        return e
    from redlines.store.engine import root_error

    root = root_error(e)
    text = (str(root).strip().splitlines() or [type(root).__name__])[0]
    return DatabaseProblem(f"{doing}: {text}")


def build(conn: Connection, server: Server, seed) -> None:
    """Make the schema in the empty database and seed it, under the creators' lock (a second
    process that finds it made meanwhile leaves it be)."""
    from redlines.store.rules import sync_rules

    conn.raw_execute("SELECT pg_advisory_lock(%s)", (CREATING_LOCK,))
    try:
        if schema_revision(conn, server) is not None:
            return
        try:
            migrate(server)
            if seed is not None:
                seed(conn)
            sync_rules(conn)
        except Exception as e:
            raise _failed(e, f"cannot create the redlines tables in {server}") from None
    finally:
        conn.raw_execute("SELECT pg_advisory_unlock(%s)", (CREATING_LOCK,))


def open_database(server: Server, seed) -> Connection:
    """Open the database on the server: an empty database is given the schema and the seed
    (as a new file is); an older schema is upgraded; a newer one is refused, untouched."""
    import sys

    from redlines.store.engine import head_revision, known_revisions
    from redlines.store.rules import sync_rules

    conn = connect(server)
    try:
        version = schema_revision(conn, server)
        if version is None:
            build(conn, server, seed)
            version = schema_revision(conn, server)
        head = head_revision()
        if version not in known_revisions():
            raise DatabaseProblem(
                f"{server} was written by a newer release of redlines (schema {version}; "
                f"this release knows up to {head}); it was left untouched",
                ["upgrade redlines to read it"],
            )
        if version != head:
            print(f"upgrading {server} from schema {version} to {head} (keep a pg_dump of it)", file=sys.stderr)
            try:
                migrate(server)
            except Exception as e:
                raise _failed(e, f"cannot upgrade {server}") from None
        return sync_rules(conn)
    except BaseException:
        conn.close()
        raise


def exists(server: Server) -> bool:
    """Does the database hold any tables (a data set, or something else)?"""
    conn = connect(server)
    try:
        return bool(_tables(conn))
    finally:
        conn.close()


# Every table and view redlines makes on PostgreSQL (what `db init --force` drops).
_OURS = (
    "change", "run", "citation", "event", "threat_tag", "threat_target", "threat", "source", "alias", "actor",
    "setting", "search", "alembic_version",
)  # fmt: skip


# And the functions migration 0011 makes.
_ROUTINES = (
    "AGGREGATE IF EXISTS sum(boolean)", "AGGREGATE IF EXISTS max(boolean)",
    "FUNCTION IF EXISTS rl_bool_sum(bigint, boolean)", "FUNCTION IF EXISTS rl_bool_max(integer, boolean)",
    "FUNCTION IF EXISTS rl_date(text, text, text)", "FUNCTION IF EXISTS rl_date(text, text)",
    "FUNCTION IF EXISTS rl_date(text)", "FUNCTION IF EXISTS rl_iso(date)", "FUNCTION IF EXISTS rl_day(text)",
    "FUNCTION IF EXISTS printf(text, bigint)", "FUNCTION IF EXISTS julianday(text)",
    *(f"FUNCTION IF EXISTS search_{t}_{w}()" for t in ("threat", "event", "citation") for w in ("update", "delete")),
)  # fmt: skip


def replace(server: Server, seed) -> None:
    """Drop redlines' tables and views in the database and make them anew (`db init --force`)."""
    conn = connect(server)
    try:
        conn.raw_execute("SELECT pg_advisory_lock(%s)", (CREATING_LOCK,))
        conn.execute("BEGIN IMMEDIATE")
        try:
            for view in ("actor_scorecard", "threat_outcome"):
                conn.raw_execute(f"DROP VIEW IF EXISTS {view} CASCADE")
            for table in _OURS:
                conn.raw_execute(f"DROP TABLE IF EXISTS {table} CASCADE")
            for routine in _ROUTINES:
                conn.raw_execute(f"DROP {routine} CASCADE")
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise
        conn.raw_execute("SELECT pg_advisory_unlock(%s)", (CREATING_LOCK,))
        build(conn, server, seed)
    finally:
        conn.close()


def size(conn: Connection) -> int:
    return conn.raw_execute("SELECT pg_database_size(current_database())").fetchone()[0]


def backup(server: Server, to) -> str:
    """`pg_dump` of the database into `to` (a file that must not exist yet), when pg_dump is on
    PATH; else say what to run."""
    import os
    import shutil
    import subprocess

    from redlines.errors import BadInput

    dump = shutil.which("pg_dump")
    if to is None:
        raise BadInput(
            f"{server} is a PostgreSQL database: its backup is a pg_dump file",
            [f"give the file: redlines --db {server} db backup FILE", f"or run: pg_dump -Fc -f FILE {server.dbname}"],
        )
    if dump is None:
        raise DatabaseProblem(
            f"pg_dump is not on PATH: back up {server} with pg_dump (e.g. pg_dump -Fc -f {to} {server.dbname})"
        )
    if os.path.exists(to):
        raise DatabaseProblem(f"{to} exists already; it was not overwritten")
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(server.conninfo)
    env = dict(os.environ)
    if params.get("password"):  # not on the command line, where `ps` would show it
        env["PGPASSWORD"] = str(params.pop("password"))
    partial = f"{to}.partial"
    done = subprocess.run(
        [dump, "--format=custom", "--file", partial, "--dbname", make_conninfo(**params)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        with __import__("contextlib").suppress(OSError):
            os.remove(partial)
        why = (done.stderr.strip().splitlines() or ["failed"])[-1].replace(server.conninfo, str(server))
        raise DatabaseProblem(f"pg_dump could not back up {server}: {why}")
    os.replace(partial, to)
    return to


def grant(server: Server, role: str, *, write: bool) -> list[str]:
    """GRANTs for `role` on the present tables, views and sequences, and on those made later
    (ALTER DEFAULT PRIVILEGES, for objects the granting role makes); returns the statements."""
    from psycopg import sql

    conn = connect(server)
    try:
        if not conn.raw_execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            raise DatabaseProblem(
                f"there is no role {role!r} on the server of {server}; nothing was granted",
                [f"create it first: CREATE ROLE {sql.Identifier(role).as_string(conn._raw)} LOGIN PASSWORD '...'"],
            )
        who = sql.Identifier(role)
        tables = "SELECT, INSERT, UPDATE, DELETE" if write else "SELECT"
        seqs = "USAGE, SELECT, UPDATE" if write else "SELECT"
        stmts = [
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(_schema(conn)), who),
            sql.SQL(f"GRANT {tables} ON ALL TABLES IN SCHEMA {{}} TO {{}}").format(sql.Identifier(_schema(conn)), who),
            sql.SQL(f"GRANT {seqs} ON ALL SEQUENCES IN SCHEMA {{}} TO {{}}").format(sql.Identifier(_schema(conn)), who),
            sql.SQL(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {{}} GRANT {tables} ON TABLES TO {{}}").format(
                sql.Identifier(_schema(conn)), who
            ),
            sql.SQL(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {{}} GRANT {seqs} ON SEQUENCES TO {{}}").format(
                sql.Identifier(_schema(conn)), who
            ),
        ]
        conn.execute("BEGIN")
        try:
            for s in stmts:
                conn.raw_execute(s)
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise
        return [s.as_string(conn._raw) for s in stmts]
    finally:
        conn.close()


def _schema(conn: Connection) -> str:
    return conn.raw_execute("SELECT current_schema()").fetchone()[0]


def current_role(conn: Connection) -> str:
    return conn.raw_execute("SELECT current_user").fetchone()[0]


def columns(conn: Connection, table: str) -> list[str]:
    """A table's columns, in their order."""
    return [
        r[0]
        for r in conn.raw_execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ]


def is_empty(server: Server, records: tuple[str, ...]) -> bool:
    """Whether the database holds nothing to lose: no tables, or redlines' without records or runs."""
    conn = connect(server)
    try:
        tables = _tables(conn)
        if not tables:
            return True
        if "alembic_version" not in tables:
            return False
        return all(
            conn.raw_execute(f"SELECT NOT EXISTS (SELECT 1 FROM {t})").fetchone()[0] for t in records if t in tables
        )
    finally:
        conn.close()
