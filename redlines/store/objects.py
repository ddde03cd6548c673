"""What a redlines database is expected to hold, beyond its rows: the triggers and views (code
that SQLite runs on its own), and the tables and columns each schema revision has.

This is the one owner of that knowledge for checking a file that may come from elsewhere: a
database received from someone else can carry a trigger that rewrites records on the next
write, or an `alembic_version` that does not match its tables. Migrations stay the history that
builds the schema; a test migrates a blank file to every revision and holds the objects and
columns it finds to exactly what is written here.

Reading a file's side of this costs one query (`inventory`); no SQLAlchemy, no Alembic.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from typing import NamedTuple

Key = tuple[str, str]  # (type, name): ("trigger", "search_threat_delete"), ("view", "threat_outcome")

# --- triggers: the search index is kept in step by them (migrations 0002, 0004 and 0010) -------------

_THREAT_BODY = "coalesce(new.statement, '') || ' ' || coalesce(new.trigger, '') || ' ' || coalesce(new.consequence, '')"
_CITATION_THREAT = "coalesce(new.threat_id, (SELECT threat_id FROM event WHERE id = new.event_id))"
_INSERTS_0002 = {
    "threat": f"INSERT INTO search (rowid, kind, threat_id, event_id, body) "
    f"VALUES (new.rowid * 3, 'threat', new.id, NULL, {_THREAT_BODY});",
    "event": "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
    "VALUES (new.rowid * 3 + 1, 'event', new.threat_id, new.id, new.what);",
    "citation": f"INSERT INTO search (rowid, kind, threat_id, event_id, body) "
    f"SELECT new.id * 3 + 2, 'quote', {_CITATION_THREAT}, new.event_id, new.quote "
    f"WHERE new.quote IS NOT NULL;",
}
_INSERTS_0004 = {
    "threat": "INSERT INTO search (rowid, kind, threat_id, event_id, body) VALUES (new.rowid * 3, 'threat', new.id, "
    "NULL, coalesce(new.statement, '') || ' ' || coalesce(new.trigger, '') || ' ' || "
    "coalesce(new.consequence, ''));",
    "event": "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
    "VALUES (new.rowid * 3 + 1, 'event', new.threat_id, new.id, new.what);",
    "citation": "INSERT INTO search (rowid, kind, threat_id, event_id, body) SELECT new.id * 3 + 2, 'quote', "
    "coalesce(new.threat_id, (SELECT threat_id FROM event WHERE id = new.event_id)), new.event_id, "
    "new.quote WHERE new.quote IS NOT NULL;",
}
_DELETES = {
    "threat": "DELETE FROM search WHERE rowid = old.rowid * 3;",
    "event": "DELETE FROM search WHERE rowid = old.rowid * 3 + 1;",
    "citation": "DELETE FROM search WHERE rowid = old.id * 3 + 2;",
}
_TEXT_COLUMNS_0004 = {
    "threat": "statement, trigger, consequence",
    "event": "what, threat_id",
    "citation": "quote, threat_id, event_id",
}


# From 0010 the index keeps no copy of the texts (external content, read through the view
# `search_source`): the triggers hand FTS5 the old words of a changed or deleted text, for rows
# that are indexed, and only the indexed text's columns fire them. The text of each table, its
# key and its columns are read from the migration's constants (`frozen`), which are their one copy.
_MIGRATION_0010 = "0010_search_without_copies.py"


def _forget_0010(t: str) -> str:
    key, body = frozen(_MIGRATION_0010, "KEY")[t].format(r="old"), frozen(_MIGRATION_0010, "BODY")[t].format(r="old")
    return (
        f"INSERT INTO search (search, rowid, body) SELECT 'delete', {key}, {body} "
        f"WHERE EXISTS (SELECT 1 FROM search_docsize WHERE id = {key});"
    )


def _index_0010(t: str) -> str:
    key, body = frozen(_MIGRATION_0010, "KEY")[t].format(r="new"), frozen(_MIGRATION_0010, "BODY")[t].format(r="new")
    return f"INSERT INTO search (rowid, body) SELECT {key}, {body} WHERE {body} IS NOT NULL;"


def _trigger_history() -> dict[Key, list[tuple[str, str | None]]]:
    """Each search object's SQL (its triggers, and from 0010 the view its passages are read
    through) from the revision that set it (None: dropped from that revision on)."""
    history: dict[Key, list[tuple[str, str | None]]] = {
        ("view", "search_source"): [("0010", frozen(_MIGRATION_0010, "SOURCE_VIEW"))]
    }
    for t in ("threat", "event", "citation"):
        history[("trigger", f"search_{t}_insert")] = [
            ("0002", f"CREATE TRIGGER search_{t}_insert AFTER INSERT ON {t} BEGIN {_INSERTS_0002[t]} END"),
            ("0004", None),
        ]
        history[("trigger", f"search_{t}_delete")] = [
            ("0002", f"CREATE TRIGGER search_{t}_delete AFTER DELETE ON {t} BEGIN {_DELETES[t]} END"),
            ("0010", f"CREATE TRIGGER search_{t}_delete AFTER DELETE ON {t} BEGIN {_forget_0010(t)} END"),
        ]
        history[("trigger", f"search_{t}_update")] = [
            (
                "0002",
                f"CREATE TRIGGER search_{t}_update AFTER UPDATE ON {t} BEGIN {_DELETES[t]} {_INSERTS_0002[t]} END",
            ),
            (
                "0004",
                f"CREATE TRIGGER search_{t}_update AFTER UPDATE OF {_TEXT_COLUMNS_0004[t]} ON {t} "
                f"BEGIN {_DELETES[t]} {_INSERTS_0004[t]} END",
            ),
            (
                "0010",
                f"CREATE TRIGGER search_{t}_update AFTER UPDATE OF {frozen(_MIGRATION_0010, 'TEXT_COLUMNS')[t]} ON {t} "
                f"BEGIN {_forget_0010(t)} {_index_0010(t)} END",
            ),
        ]
    return history


# --- views: the CLI's answers for sqlite3, sqlite-utils and Datasette users (migration 0002) ---------


def frozen(migration: str, name: str):
    """A statement (or a table of them) a migration froze: the constant `name` of
    migrations/versions/`migration`, read from its source without running it (that would import
    Alembic): the migration is its one copy."""
    found = _constants(migration)
    if name not in found:
        raise LookupError(f"{migration} has no constant {name}")
    return found[name]


@cache
def _constants(migration: str) -> dict:
    """The literal constants of a migration's source, read once (a parse of the file)."""
    import ast

    from redlines.resources import migrations_dir

    tree = ast.parse((migrations_dir() / "versions" / migration).read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError):
                continue  # not a literal
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = value
    return out


@cache
def _view_history() -> dict[Key, list[tuple[str, str | None]]]:
    """The views migration 0002 made; from 0007 on, the store makes them from the live rule SQL
    (`store.rules`), on open."""
    made = "0002_search_and_views.py"
    return {
        ("view", "threat_outcome"): [("0002", frozen(made, "OUTCOME_VIEW")), ("0007", None)],
        ("view", "actor_scorecard"): [("0002", frozen(made, "SCORECARD_VIEW")), ("0007", None)],
    }


def expected_views() -> dict[str, str]:
    """The views a current database holds: name -> SQL (a whole `CREATE VIEW`, or only the query).

    The one place that says which views are expected. For now they are the views as migration
    0002 creates them; when the store creates its views itself (`redlines.store.rules.VIEWS`),
    this returns that dict, and nothing else here changes."""
    from redlines.store.rules import VIEWS

    return dict(VIEWS)


@cache
def expected_objects() -> dict[Key, str]:
    """Every trigger and view a database at the newest schema holds: (type, name) -> SQL."""
    objects = {key: sql for key, sql in _at(_trigger_history(), _head()).items()}
    objects.update({("view", name): _view_sql(name, sql) for name, sql in expected_views().items()})
    return objects


@cache
def expected_at(revision: str) -> dict[Key, str]:
    """The triggers and views a database at `revision` holds (the newest: `expected_objects()`)."""
    if revision >= _head():
        return expected_objects()
    return _at({**_trigger_history(), **_view_history()}, revision)


def _at(history: dict[Key, list[tuple[str, str | None]]], revision: str) -> dict[Key, str]:
    out = {}
    for key, steps in history.items():
        sql = None
        for since, text in steps:
            if since <= revision:
                sql = text
        if sql is not None:
            out[key] = sql
    return out


def _view_sql(name: str, sql: str) -> str:
    text = sql.strip()
    return text if text[:6].upper() == "CREATE" else f"CREATE VIEW {name} AS {text}"


def _head() -> str:
    from redlines.store.engine import head_revision

    return head_revision()


def same_sql(a: str | None, b: str | None) -> bool:
    """Two CREATE statements are the same when they differ only around them (SQLite keeps the text
    as given, from CREATE on) or by `IF NOT EXISTS`."""
    return a is not None and b is not None and _canonical(a) == _canonical(b)


def _canonical(sql: str) -> str:
    text = sql.strip().rstrip(";").strip()
    return re.sub(r"^CREATE\s+(TEMP\w*\s+)?(TRIGGER|VIEW)\s+IF\s+NOT\s+EXISTS\s+", r"CREATE \2 ", text, flags=re.I)


# --- tables and columns per revision (from the migrations; a test holds them to it) ----------------

_COLUMNS: dict[str, dict[str, str]] = {
    "0001": {
        "actor": "id slug name kind of_id",
        "alias": "id actor_id alias",
        "change": "id run_id table_name row_id op before after",
        "citation": "id source_id threat_id event_id quote",
        "event": "id threat_id kind occurred_on what outcome due cameo",
        "run": "id at command undoes",
        "source": "id url title publisher published_on",
        "threat": "id issuer_id made_on statement trigger consequence category cameo deadline",
        "threat_tag": "id threat_id tag",
        "threat_target": "id threat_id actor_id",
    },
    "0002": {"search": "kind threat_id event_id body"},
    "0003": {
        "threat": "first_crossed response_rank first_response complied withdrawn restated deadline_set last_event_on"
    },
    "0006": {"threat": "settled_on settled_outcome settled_rule settled_tested_on settled_days"},
    "0007": {"setting": "key value"},
    "0008": {"event": "seq"},
    "0009": {"run": "author"},
    "0010": {"search": "-kind -threat_id -event_id"},  # the index holds the words of `body` alone
    "0011": {},  # PostgreSQL's own objects: nothing changes in a file
    "0012": {},  # PostgreSQL's search index alone: nothing changes in a file
    "0013": {},  # a PostgreSQL function alone: nothing changes in a file
}


@cache
def columns_at(revision: str) -> frozenset[tuple[str, str]]:
    """The (table, column) pairs of the schema at `revision` (see `described`)."""
    out: set[tuple[str, str]] = set()
    for since in sorted(_COLUMNS):
        if since > revision:
            break
        for table, names in _COLUMNS[since].items():
            for name in names.split():
                if name.startswith("-"):
                    out.discard((table, name[1:]))
                else:
                    out.add((table, name))
    return frozenset(out)


_COLUMNS_LAST = "0013"  # the newest revision this shape history has been checked against


@cache
def universe() -> frozenset[tuple[str, str]]:
    return frozenset(
        (table, name.lstrip("-"))
        for step in _COLUMNS.values()
        for table, names in step.items()
        for name in names.split()
    )


# --- a file's side: one query ------------------------------------------------------------------------

_INVENTORY = """
SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'view')
UNION ALL
SELECT 'column', m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name NOT LIKE 'search\\_%' ESCAPE '\\'
"""


class Inventory(NamedTuple):
    objects: dict[Key, str]  # triggers and views: (type, name) -> SQL
    columns: frozenset[tuple[str, str]]  # (table, column)


def inventory(conn: sqlite3.Connection) -> Inventory:
    objects, columns = {}, set()
    for kind, name, text in conn.execute(_INVENTORY):
        if kind == "column":
            columns.add((name, text))
        else:
            objects[(kind, name)] = text or ""
    return Inventory(objects, frozenset(columns))


FOREIGN = ("unknown", "altered")  # SQL that redlines did not write: it refuses writes


class Finding(NamedTuple):
    key: Key
    problem: str  # "unknown", "altered", "outdated" or "missing"

    def __str__(self) -> str:
        kind, name = self.key
        return {
            "unknown": f"{kind} {name} is not one of redlines",
            "altered": f"{kind} {name} differs from the one redlines creates",
            "outdated": f"{kind} {name} is one an older release created",
            "missing": f"{kind} {name} is missing",
        }[self.problem]


@cache
def known_sql() -> dict[Key, list[str]]:
    """Every SQL text each trigger and view has had in some revision (ours, if out of date)."""
    out: dict[Key, list[str]] = {}
    for key, steps in {**_trigger_history(), **_view_history()}.items():
        out[key] = [sql for _, sql in steps if sql is not None]
    return out


def compare(found: dict[Key, str], expected: dict[Key, str]) -> list[Finding]:
    """How a file's triggers and views differ from those expected, unknown ones first. An object
    whose SQL is one redlines wrote in an earlier revision is `outdated`, not `altered`."""
    known = known_sql()
    out = [Finding(k, "unknown") for k in sorted(found) if k not in expected]
    for k in sorted(found):
        if k in expected and not same_sql(found[k], expected[k]):
            ours = any(same_sql(found[k], sql) for sql in known.get(k, []))
            out.append(Finding(k, "outdated" if ours else "altered"))
    out += [Finding(k, "missing") for k in sorted(expected) if k not in found]
    return out


def looks_like(columns: frozenset[tuple[str, str]], revisions: list[str]) -> list[str]:
    """The revisions whose tables and columns the file has (columns redlines never made are
    ignored: a user's own table does no harm)."""
    seen = columns & universe()
    like = [r for r in revisions if columns_at(r) == seen]
    # Of revisions that left the tables as they were, the newest (a file at it looks the same).
    return [r for n, r in enumerate(like) if n + 1 == len(like) or columns_at(like[n + 1]) != columns_at(r)]


def described(revision: str) -> bool:
    """Whether the shape history here reaches `revision` (a newer migration may not be in it yet)."""
    return revision <= _COLUMNS_LAST
