"""The SQL of reads and reports: portable SQL run through stdlib `sqlite3`.

`judged` computes every visible threat's outcome as of a date in SQL, by the same rules as
`redlines.domain.outcomes.judge` (tests hold the two to each other). How it judges is a
`Judging`: the values it binds, `:as_of` (a full ISO day) and `:grace_cutoff` (see
`outcomes.grace_cutoff`), and which caches may answer (`current`, `settled`), kept apart from
them. Dates are ISO strings at their own precision, and `s <= :as_of` means "s starts on or
before as_of" (see `redlines.domain.dates`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from redlines.domain.outcomes import OUTCOMES
from redlines.schema import (
    AWAITING_INDEX,
    EVENT,
    REPORT_DATED_INDEX,
    REPORT_INDEX,
    SETTLED_COLUMNS,
    SETTLING_INDEX,
    SUMMARY_COLUMNS,
    THREAT_AS_STORED,
    Table,
)
from redlines.store.sqlite import VALUES, chunks, select_in


@dataclass(frozen=True)
class Judging:
    """How the threats are judged: as of `as_of`, the grace period ending at `grace_cutoff` (both
    bound as values), and which caches may answer: `current` when nothing is dated after the
    as-of date (the cached summaries), `settled` when the grace period is the default (the
    cached verdicts of threats settled by then)."""

    as_of: str
    grace_cutoff: str | None = None
    current: bool = False
    settled: bool = False

    def args(self) -> dict:
        """The values the judging SQL binds."""
        return {"as_of": self.as_of, "grace_cutoff": self.grace_cutoff}


@dataclass(frozen=True)
class Where:
    """Which threats a read keeps, resolved by the service: the issuers and the target by actor
    id, `since` and `until` as the bounds `dates.starts_on_or_after` and `dates.starts_on_or_before`
    give (made after `since`, on or before `until`), a category, an outcome, and text that the
    statement, trigger or consequence holds. The default keeps every threat."""

    issuers: tuple[int, ...] = ()
    target: int | None = None
    category: str | None = None
    outcome: str | None = None
    since: str | None = None
    until: str | None = None
    search: str | None = None


EVERY = Where()


# What the outcome rules need from a threat's events, aggregated over events `e` grouped by
# threat: the same expressions keep the cached summary on `threat` (see `store.summary`) and
# judge as of a past date. The deadline in force is the `due` of the latest deadline event in
# date order, then order of entry: its key sorts by date (char(1) sorts a month before its days),
# then `seq` (the event's place in its threat's order of entry, kept by undo, unlike a rowid),
# written at a fixed width; the `due` follows, after the second separator.
_SEQ_WIDTH = 12
_DEADLINE_KEY = (
    "MAX(CASE WHEN e.kind = 'deadline' THEN "
    f"e.occurred_on || char(1) || printf('%0{_SEQ_WIDTH}d', e.seq) || char(1) || e.due END)"
)
# The due of the key: what follows the first separator, the seq and the second separator.
_DUE_OF_KEY = f"substr({_DEADLINE_KEY}, instr({_DEADLINE_KEY}, char(1)) + {1 + _SEQ_WIDTH + 1})"
EVENT_AGGREGATES = f"""
    MIN(CASE WHEN e.kind = 'crossed' THEN e.occurred_on END) AS first_crossed,
    MAX(CASE WHEN e.kind = 'response' THEN CASE e.outcome WHEN 'followed_through' THEN 3
             WHEN 'partial' THEN 2 WHEN 'not_followed_through' THEN 1 END END) AS response_rank,
    MIN(CASE WHEN e.kind = 'response' THEN e.occurred_on END) AS first_response,
    COALESCE(MAX(e.kind = 'complied'), 0) AS complied,
    COALESCE(MAX(e.kind = 'withdrawn'), 0) AS withdrawn,
    COALESCE(SUM(e.kind = 'restated'), 0) AS restated,
    {_DUE_OF_KEY} AS deadline_set,
    MAX(e.occurred_on) AS last_event_on"""
# The threat's own columns, as the rules and the listings read them (`deadline` is the one set
# with the threat; the judged `deadline` is the one in force), and its cached columns.
THREAT_COLUMNS = ", ".join(["t.id", "t.issuer_id", *(f"t.{c}" for c in THREAT_AS_STORED), "t.deadline AS own_deadline"])
_SETTLED = ", ".join(f"t.{c}" for c in SETTLED_COLUMNS)

_CACHED_SUMMARY = ", ".join(f"t.{c}" for c in SUMMARY_COLUMNS)


def _current(threats: str) -> str:
    """As of today (no event after the as-of date): the summary cached on each threat row of
    `threats` (the table, with any index hint)."""
    return f"""
  SELECT {THREAT_COLUMNS}, {_CACHED_SUMMARY}, {_SETTLED}
  FROM {threats} WHERE t.made_on <= :as_of"""


# As of a past date: the events known then, aggregated in one pass; only for the threats not
# settled by then (a settled threat's cached summary is the one it had on that date).
_FROM_EVENTS = {
    c: f"COALESCE(ev.{c}, 0)" if c in ("complied", "withdrawn", "restated") else f"ev.{c}" for c in SUMMARY_COLUMNS
}
_SUMMARY_THEN = ", ".join(
    f"CASE WHEN t.settled_on <= :as_of THEN t.{c} ELSE {then} END AS {c}" for c, then in _FROM_EVENTS.items()
)


def _historical(threats: str, events: str) -> str:
    """As of a past date: the threats of `threats` (the table, with any index hint) with their
    events aggregated, the events kept by the condition `events` (SQL after `AND`, or empty)."""
    return f"""
  SELECT {THREAT_COLUMNS},
    {_SUMMARY_THEN},
    {_SETTLED}
  FROM {threats} LEFT JOIN (
    SELECT e.threat_id, {EVENT_AGGREGATES}
    FROM event e WHERE e.occurred_on <= :as_of {events} GROUP BY e.threat_id
  ) ev ON ev.threat_id = t.id
  WHERE t.made_on <= :as_of"""


# The threats a past date must judge from their events: those not settled by then, read through
# the index of settling dates (few of them, however many threats).
_NOT_SETTLED = "t.settled_on > :as_of"
_THREATS = "threat t"
_THREATS_SETTLING = f"threat t INDEXED BY {SETTLING_INDEX}"
_UNSETTLED = f"AND e.threat_id IN (SELECT t.id FROM {_THREATS_SETTLING} WHERE {_NOT_SETTLED} AND t.made_on <= :as_of)"


def field_list(table: Table, alias: str = "") -> str:
    """A table's plain columns (`Table.plain`) for a SELECT list, each under its name in documents
    (`occurred_on AS "on"`), so that `Table.record` reads the row."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{c.name}" + (f' AS "{c.key}"' if c.key != c.name else "") for c in table.plain)


def start(col: str) -> str:
    """The ISO day on which a date stored at any precision starts."""
    return f"CASE length({col}) WHEN 4 THEN {col} || '-01-01' WHEN 7 THEN {col} || '-01' ELSE {col} END"


def end(col: str) -> str:
    """The ISO day on which a date stored at any precision ends (December needs no date
    arithmetic, so that 9999-12 ends too)."""
    return (
        f"CASE length({col}) WHEN 4 THEN {col} || '-12-31' "
        f"WHEN 7 THEN CASE substr({col}, 6, 2) WHEN '12' THEN substr({col}, 1, 4) || '-12-31' "
        f"ELSE date({col} || '-01', '+1 month', '-1 day') END ELSE {col} END"
    )


def first_tested(crossed: str, responded: str, deadline: str, passed: str) -> str:
    """`outcomes.first_tested` in SQL: the earliest of the first crossing and the first response
    (from the day each starts) and the deadline if `passed` (from the day it ends); on the same
    day a crossing, then a response, then a deadline. Each candidate is keyed by its day (10
    characters) and rank (1), so the smallest key names it."""
    keys = (
        f"COALESCE({start(crossed)} || '0' || {crossed}, '~')",
        f"COALESCE({start(responded)} || '1' || {responded}, '~')",
        f"CASE WHEN {passed} THEN COALESCE({end(deadline)} || '2' || {deadline}, '~') ELSE '~' END",
    )
    return f"NULLIF(substr(min({', '.join(keys)}), 12), '')"


def _start_day(col: str) -> str:
    """SQLite's julianday of the first day of a date stored at any precision."""
    return f"julianday({start(col)})"


_JUDGE = """
WITH summary AS ({source}
), passed AS (
  SELECT s.*, COALESCE(s.deadline_set, s.own_deadline) AS deadline,
    (COALESCE(s.deadline_set, s.own_deadline) IS NOT NULL
     AND substr({as_of}, 1, length(COALESCE(s.deadline_set, s.own_deadline)))
         > COALESCE(s.deadline_set, s.own_deadline)) AS deadline_passed
  FROM summary s
), judged AS (
  SELECT p.*, ({settled}) AS settled,
    CASE WHEN p.response_rank = 3 THEN 'followed_through'
         WHEN p.response_rank = 2 THEN 'partial'
         WHEN p.response_rank = 1 THEN 'not_followed_through'
         WHEN p.complied <> 0 THEN 'complied'
         WHEN p.withdrawn <> 0 THEN 'withdrawn'
         WHEN p.deadline_passed THEN 'not_followed_through'
         WHEN p.first_crossed <= {cutoff} THEN 'not_followed_through'
         ELSE 'pending' END AS judged_outcome,
    CASE WHEN p.response_rank IS NOT NULL THEN 'response'
         WHEN p.complied <> 0 THEN 'complied'
         WHEN p.withdrawn <> 0 THEN 'withdrawn'
         WHEN p.deadline_passed THEN 'deadline'
         WHEN p.first_crossed <= {cutoff} THEN 'grace'
         ELSE 'pending' END AS judged_rule,
    {tested_on} AS judged_tested_on
  FROM passed p
)
SELECT {threat},
  j.deadline, j.own_deadline, j.restated, j.first_crossed, j.first_response, j.deadline_passed,
  CASE WHEN j.settled THEN j.settled_outcome ELSE j.judged_outcome END AS outcome,
  CASE WHEN j.settled THEN j.settled_rule ELSE j.judged_rule END AS rule,
  CASE WHEN j.settled THEN j.settled_tested_on ELSE j.judged_tested_on END AS tested_on,
  CASE WHEN j.settled THEN j.settled_days
       WHEN j.first_response IS NOT NULL AND j.judged_tested_on IS NOT NULL
       THEN CAST({first_response_day} - {tested_day} AS INTEGER) END AS days,
  {as_of} AS judged_on
FROM judged j
"""


def judge_sql(source: str, *, settled: str, as_of: str = ":as_of", cutoff: str = ":grace_cutoff") -> str:
    """The outcome rules in SQL over `source` (the summary of each threat), judged on `as_of`
    with the grace period ending at `cutoff`; a threat for which `settled` holds takes its
    cached verdict instead. The three are SQL expressions, and may name the source's columns
    (unqualified)."""
    return _JUDGE.format(
        source=source,
        threat=", ".join(f"j.{c}" for c in ("id", "issuer_id", *THREAT_AS_STORED)),
        as_of=as_of,
        cutoff=cutoff,
        settled=settled,
        tested_on=first_tested("p.first_crossed", "p.first_response", "p.deadline", "p.deadline_passed"),
        first_response_day=_start_day("j.first_response"),
        tested_day=_start_day("j.judged_tested_on"),
    )


def judged(
    *, current: bool = False, settled: bool = False, ids: Sequence[str] = (), unsettled_only: bool = False
) -> str:
    """The SQL of every visible threat judged as of `:as_of`: from the cached summaries when
    `current` (nothing is dated after the as-of date), else from the events; and from the cached
    verdicts of settled threats when `settled` (the default grace period). With `ids`, only
    the events of those threats are read (bound as `:t0, :t1, ...`, the names `_bind` gives
    them). With `unsettled_only`, only the threats not settled by then."""
    settled_now = "settled_on <= :as_of" if settled else "FALSE"
    threats, only = (_THREATS_SETTLING, f" AND {_NOT_SETTLED}") if unsettled_only else (_THREATS, "")
    if current:
        return judge_sql(_current(threats) + only, settled=settled_now)
    events = f"AND e.threat_id IN ({', '.join(f':t{n}' for n in range(len(ids)))})" if ids else ""
    if settled:
        events += " " + _UNSETTLED
    return judge_sql(_historical(threats, events) + only, settled=settled_now)


def _judged(judging: Judging, ids: Sequence[str] = (), *, unsettled_only: bool = False) -> str:
    return judged(current=judging.current, settled=judging.settled, ids=ids, unsettled_only=unsettled_only)


def nothing_after(conn: sqlite3.Connection, as_of: str) -> bool:
    """Is every event dated on or before `as_of`? Then the cached summaries are the answer."""
    last = conn.execute("SELECT MAX(occurred_on) FROM event").fetchone()[0]
    return last is None or last <= as_of


def actor_slugs(conn: sqlite3.Connection) -> dict[int, str]:
    return dict(conn.execute("SELECT id, slug FROM actor"))


def known_slugs(conn: sqlite3.Connection) -> set[str]:
    """Every actor's slug."""
    return {r[0] for r in conn.execute("SELECT slug FROM actor")}


def actor_by_slug(conn: sqlite3.Connection, slug: str) -> sqlite3.Row | None:
    """The actor (id, slug) with exactly this slug, or None."""
    return conn.execute("SELECT id, slug FROM actor WHERE slug = ?", (slug,)).fetchone()


def threat_exists(conn: sqlite3.Connection, threat_id: str) -> bool:
    """Is there a threat with exactly this id, whenever it was made?"""
    return conn.execute("SELECT 1 FROM threat WHERE id = ?", (threat_id,)).fetchone() is not None


def threat_ids_from(conn: sqlite3.Connection, base: str) -> set[str]:
    """The ids taken among `base` and `base-...` (where a new threat's id is looked for)."""
    like = _escape_like(base) + "-%"
    return {r[0] for r in conn.execute("SELECT id FROM threat WHERE id = ? OR id LIKE ? ESCAPE '\\'", (base, like))}


def event_ids_of(conn: sqlite3.Connection, threat_id: str) -> list[str]:
    """A threat's event ids, in order of entry, whenever they happened."""
    return [r[0] for r in conn.execute("SELECT id FROM event WHERE threat_id = ? ORDER BY seq", (threat_id,))]


COUNTED_TABLES = ("actor", "threat", "event", "source", "run")


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many rows each of the main tables holds (`COUNTED_TABLES`)."""
    return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in COUNTED_TABLES}


def actor_names(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every name an actor answers to: (id, slug, name, alias-or-null)."""
    return conn.execute(
        "SELECT a.id, a.slug, a.name, al.alias FROM actor a LEFT JOIN alias al ON al.actor_id = a.id"
    ).fetchall()


# The condition on the threats `j` that each filter of one value (`Where`) sets, the value bound
# under the filter's name.
_CONDITIONS = {
    "category": "j.category = :category",
    "since": "j.made_on > :since",
    "until": "j.made_on <= :until",
    "target": "EXISTS (SELECT 1 FROM threat_target tt WHERE tt.threat_id = j.id AND tt.actor_id = :target)",
    "outcome": "j.outcome = :outcome",
}
_SHARED = ("category", "since", "until")  # what every read of threats filters by, besides issuers


def _filters(judging: Judging, kept: Where, names: tuple[str, ...] = _SHARED) -> tuple[list[str], dict]:
    """The conditions of the filters over the threats `j` (the issuers and those `names`), and
    the values the statement binds (the judging's first)."""
    where, args = [], judging.args()
    if kept.issuers:
        where.append(f"j.issuer_id IN ({_bind(args, 'i', kept.issuers)})")
    for name in names:
        if getattr(kept, name):
            where.append(_CONDITIONS[name])
            args[name] = getattr(kept, name)
    return where, args


def _bind(args: dict, prefix: str, values: Sequence) -> str:
    """Named parameters `:prefix0, :prefix1, ...` for the values, added to args: the inside of IN (...)."""
    args.update({f"{prefix}{n}": v for n, v in enumerate(values)})
    return ", ".join(f":{prefix}{n}" for n in range(len(values)))


def _escape_like(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _threats_sql(judging: Judging, kept: Where, ids: Sequence[str] = ()) -> tuple[str, str, dict]:
    """The judged threats (`j`), the WHERE clause of the filters, and the args."""
    where, args = _filters(judging, kept, (*_SHARED, "target", "outcome"))
    if ids:
        where.append(f"j.id IN ({_bind(args, 't', ids)})")  # the names judged(ids=ids) uses
    if kept.search:
        where.append(
            "(j.statement LIKE :like ESCAPE '\\' OR j.trigger LIKE :like ESCAPE '\\'"
            " OR j.consequence LIKE :like ESCAPE '\\')"
        )
        args["like"] = "%" + _escape_like(kept.search) + "%"
    return f"({_judged(judging, ids)}) j", f"{'WHERE ' + ' AND '.join(where) if where else ''}", args


def threats_cursor(
    conn: sqlite3.Connection,
    judging: Judging,
    kept: Where = EVERY,
    *,
    ids: Sequence[str] = (),
    limit: int | None = None,
) -> sqlite3.Cursor:
    """Judged threats with their issuer, newest first, as a cursor to read a batch at a time."""
    judged_j, where, args = _threats_sql(judging, kept, ids)
    sql = (
        f"SELECT j.*, a.slug AS issuer, a.name AS issuer_name FROM {judged_j} "
        f"JOIN actor a ON a.id = j.issuer_id {where} ORDER BY j.made_on DESC, j.id"
    )
    if limit is not None:
        sql += " LIMIT :limit"
        args["limit"] = limit
    return conn.execute(sql, args)


def threats(conn: sqlite3.Connection, judging: Judging, *, ids: Sequence[str]) -> list[dict]:
    """The judged threats with these ids, with their issuer, newest first: many ids are judged a
    chunk at a time (`sqlite.chunks`), then put in order."""
    rows = [
        dict(r)
        for chunk in chunks(conn, ids, reserved=len(judging.args()))
        for r in threats_cursor(conn, judging, ids=chunk)
    ]
    rows.sort(key=lambda r: r["id"])
    rows.sort(key=lambda r: r["made_on"], reverse=True)
    return rows


def count_threats(conn: sqlite3.Connection, judging: Judging, kept: Where = EVERY) -> int:
    """How many threats `threats` would give without a limit."""
    judged_j, where, args = _threats_sql(judging, kept)
    return conn.execute(f"SELECT COUNT(*) FROM {judged_j} {where}", args).fetchone()[0]


def threat_ids_with_prefix(conn: sqlite3.Connection, prefix: str, as_of: str) -> list[str]:
    like = _escape_like(prefix) + "%"
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM threat WHERE (id = ? OR id LIKE ? ESCAPE '\\') AND made_on <= ? ORDER BY id",
            (prefix, like, as_of),
        )
    ]


def threat_ids_like(conn: sqlite3.Connection, text: str, as_of: str, limit: int = 500) -> list[str]:
    """Ids of threats visible on `as_of` that share the start of `text` (its first three
    characters): the candidates for a "did you mean", found through the index however many
    threats there are."""
    start = text[:3]
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM threat WHERE id >= ? AND id < ? AND made_on <= ? ORDER BY id LIMIT ?",
            (start, start + "\U0010ffff", as_of, limit),
        )
    ]


def visible_threat(conn: sqlite3.Connection, threat_id: str, as_of: str) -> bool:
    """Is there a threat with exactly this id, made on or before `as_of`?"""
    return conn.execute("SELECT 1 FROM threat WHERE id = ? AND made_on <= ?", (threat_id, as_of)).fetchone() is not None


def visible_event(conn: sqlite3.Connection, event_id: str, as_of: str) -> bool:
    """Is there an event with exactly this id, dated on or before `as_of`, of a threat made by then?"""
    return (
        conn.execute(
            "SELECT 1 FROM event e JOIN threat t ON t.id = e.threat_id "
            "WHERE e.id = ? AND e.occurred_on <= ? AND t.made_on <= ?",
            (event_id, as_of, as_of),
        ).fetchone()
        is not None
    )


def actor_slugs_with_prefix(conn: sqlite3.Connection, prefix: str, limit: int = 20) -> list[str]:
    like = _escape_like(prefix) + "%"
    return [
        r[0]
        for r in conn.execute(
            "SELECT slug FROM actor WHERE slug LIKE ? ESCAPE '\\' ORDER BY slug LIMIT ?", (like, limit)
        )
    ]


def targets_of(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    """The slugs of the actors each threat targets, in the order they were given."""
    return grouped_in(conn, _TARGETS.format(name="a.slug", values=VALUES), ids)


def tags_of(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    return grouped_in(conn, "SELECT threat_id, tag FROM threat_tag WHERE threat_id IN ({values}) ORDER BY id", ids)


def citations_of(conn: sqlite3.Connection, column: str, ids: Sequence[str]) -> dict[str, list[dict]]:
    """Sources cited by threats (`column='threat_id'`) or events (`column='event_id'`)."""
    assert column in ("threat_id", "event_id")
    rows = select_in(
        conn,
        f"SELECT c.{column} AS subject, s.url, s.title, s.publisher, s.published_on, c.quote "
        f"FROM citation c JOIN source s ON s.id = c.source_id "
        f"WHERE c.{column} IN ({VALUES}) ORDER BY c.id",
        ids,
    )
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["subject"], []).append(
            {
                "url": r["url"],
                "title": r["title"],
                "publisher": r["publisher"],
                "published_on": r["published_on"],
                "quote": r["quote"],
            }
        )
    return out


def events_of(conn: sqlite3.Connection, threat_id: str, as_of: str) -> list[dict]:
    """A threat's events known on `as_of`, in date order (then order of entry)."""
    return [
        dict(r)
        for r in conn.execute(
            f"SELECT id, {field_list(EVENT)}, seq FROM event WHERE threat_id = ? AND occurred_on <= ? "
            "ORDER BY occurred_on, seq",
            (threat_id, as_of),
        )
    ]


def events_for(conn: sqlite3.Connection, threat_ids: Sequence[str], as_of: str) -> dict[str, list[dict]]:
    """The events known on `as_of` of many threats, in date order, by threat."""
    out: dict[str, list[dict]] = {}
    for r in select_in(
        conn,
        f"SELECT threat_id, id, {field_list(EVENT)}, seq FROM event "
        "WHERE threat_id IN ({values}) AND occurred_on <= ? ORDER BY occurred_on, seq",
        threat_ids,
        after=[as_of],
    ):
        out.setdefault(r["threat_id"], []).append(dict(r))
    return out


def grouped(conn: sqlite3.Connection, sql: str, args: Iterable = ()) -> dict[str, list]:
    """The second column of each row by the first, in the rows' order."""
    return _grouped(conn.execute(sql, list(args)))


def grouped_in(conn: sqlite3.Connection, sql: str, values: Iterable) -> dict[str, list]:
    """`grouped` for a statement keyed by `IN ({values})`: a key's rows come from one chunk."""
    return _grouped(select_in(conn, sql, values))


def _grouped(rows: Iterable) -> dict[str, list]:
    out: dict[str, list] = {}
    for key, value in rows:
        out.setdefault(key, []).append(value)
    return out


def actors(conn: sqlite3.Connection, as_of: str) -> list[dict]:
    """Every actor with the body it speaks for, its aliases and how many threats it issued."""
    rows = conn.execute(
        "SELECT a.id, a.slug, a.name, a.kind, o.slug AS 'of', "
        "  (SELECT COUNT(*) FROM threat t WHERE t.issuer_id = a.id AND t.made_on <= ?) AS threats, "
        "  (SELECT COUNT(*) FROM threat_target tt JOIN threat t ON t.id = tt.threat_id "
        "   WHERE tt.actor_id = a.id AND t.made_on <= ?) AS targeted "
        "FROM actor a LEFT JOIN actor o ON o.id = a.of_id ORDER BY a.slug",
        (as_of, as_of),
    ).fetchall()
    aliases = grouped(conn, "SELECT actor_id, alias FROM alias ORDER BY id", ())
    return [{**dict(r), "aliases": aliases.get(r["id"], [])} for r in rows]


# How each grouping of a report is keyed: threats are counted per `base` value (an integer
# issuer where it can be, so that a million rows need no join), then the few bases are named,
# and rolled up into groups, by `names` (SQL giving base, key and label).
GROUPINGS: dict[str, tuple[str, str, str]] = {
    # key expression, label expression, joins (for `decisions`, which lists every threat)
    "actor": ("a.slug", "a.name", "JOIN actor a ON a.id = j.issuer_id"),
    "state": (
        "COALESCE(o.slug, a.slug)",
        "COALESCE(o.name, a.name)",
        "JOIN actor a ON a.id = j.issuer_id LEFT JOIN actor o ON o.id = a.of_id",
    ),
    "category": ("j.category", "j.category", ""),
    "year": ("substr(j.made_on, 1, 4)", "substr(j.made_on, 1, 4)", ""),
}
_BASES = {"actor": "j.issuer_id", "state": "j.issuer_id", "category": "j.category", "year": "substr(j.made_on, 1, 4)"}
_NAMES = {
    "actor": "SELECT a.id, a.slug, a.name FROM actor a",
    "state": "SELECT a.id, COALESCE(o.slug, a.slug), COALESCE(o.name, a.name) "
    "FROM actor a LEFT JOIN actor o ON o.id = a.of_id",
}


def report(conn: sqlite3.Connection, judging: Judging, by: str, kept: Where = EVERY) -> tuple[list[dict], float | None]:
    """Outcome counts per group, and per group and for all the median of the days from a test
    to the first response. SQL counts the judged threats by group base and outcome, and lists
    their days: the settled threats from their cached verdicts, through an index kept in that
    order so nothing is sorted, the others judged. Returns (rows ordered by key, median for all)."""
    where, args = _filters(judging, kept)
    parts = [(f"({_judged(judging, unsettled_only=judging.settled)}) j", "j.outcome", "j.days", where)]
    counted = []
    if judging.settled and by in _DATED:
        counted += _settled_dated(conn, by, where, args, kept.category)
    elif judging.settled:
        parts.append(
            (
                f"threat j INDEXED BY {REPORT_INDEX}",
                "j.settled_outcome",
                "j.settled_days",
                ["j.settled_on <= :as_of", *where],
            )
        )
    for source, outcome, days_to_response, conditions in parts:
        counted += conn.execute(
            f"SELECT {_BASES[by]}, {outcome}, COUNT(*), group_concat({days_to_response}, ' ') FROM {source} "
            f"{'WHERE ' + ' AND '.join(conditions) if conditions else ''} GROUP BY 1, 2",
            args,
        ).fetchall()
    names = (
        {b: (key, label) for b, key, label in conn.execute(_NAMES[by])}
        if by in _NAMES
        else {b: (b, b) for b, _, _, _ in counted}
    )
    groups: dict[str, dict] = {}
    days: dict[str | None, list[int]] = {None: []}  # key None: all groups
    for b, outcome, n, listed in counted:
        key, label = names[b]
        g = groups.setdefault(key, {"key": key, "label": label, "threats": 0, **dict.fromkeys(OUTCOMES, 0)})
        g["label"] = min(g["label"], label)
        g["threats"] += n
        g[outcome] += n
        if listed:
            values = list(map(int, listed.split()))
            days.setdefault(key, []).extend(values)
            days[None].extend(values)
    rows = [groups[k] for k in sorted(groups)]
    for r in rows:
        r["median_days_to_response"] = _median(days.get(r["key"], []))
    return rows, _median(days[None])


_DATED = ("category", "year")  # groupings whose settled verdicts are read through REPORT_DATED_INDEX


def _settled_dated(
    conn: sqlite3.Connection, by: str, where: list[str], args: dict, category: str | None
) -> list[tuple]:
    """The settled verdicts of a report by category or by year, as `report` counts them (base,
    outcome, count, days listed), read in the order of REPORT_DATED_INDEX (category, outcome,
    date) so that nothing is sorted: by category, grouped as the index runs; by year, each year
    one range of the index per category and outcome (a date at any precision starts with its year)."""
    from redlines.domain.outcomes import CATEGORIES

    conditions = ["j.settled_on <= :as_of", *where]
    select = (
        f"j.settled_outcome, COUNT(*), group_concat(j.settled_days, ' ') FROM threat j INDEXED BY {REPORT_DATED_INDEX}"
    )
    group = "GROUP BY j.category, j.settled_outcome"
    if by == "category":
        return conn.execute(f"SELECT j.category, {select} WHERE {' AND '.join(conditions)} {group}", args).fetchall()
    span = "SELECT substr(MIN(made_on), 1, 4), substr(MAX(made_on), 1, 4) FROM threat"
    first, last = conn.execute(span).fetchone()
    years = range(int(first), int(last) + 1) if first and first.isdigit() and last.isdigit() else range(0)
    if category is None:  # every category, so that each year is a range of the index
        conditions.append(f"j.category IN ({', '.join(repr(c) for c in CATEGORIES)})")
    conditions.append(f"j.settled_outcome IN ({', '.join(repr(o) for o in OUTCOMES)})")
    rows = []
    for start in range(0, len(years), 400):  # SQLite allows 500 SELECTs in a compound one
        arms = [
            f"SELECT '{y:04d}', {select} WHERE {' AND '.join(conditions)} "
            f"AND j.made_on >= '{y:04d}' AND j.made_on < '{y + 1:04d}' {group}"
            for y in years[start : start + 400]
        ]
        rows += conn.execute(" UNION ALL ".join(arms), args).fetchall()
    return rows


def _median(values: list[int]) -> float | None:
    """The median (of the middle two, their mean); sorts `values` in place."""
    if not values:
        return None
    values.sort()
    return (values[(len(values) - 1) // 2] + values[len(values) // 2]) / 2


# The day a waiting threat is due, by which `due` sorts: the end of its deadline's period once
# the deadline has passed, else the day its first crossing starts, else the end of the deadline
# ahead. `due_on` below is the same in Python.
DUE_ON = (
    f"CASE WHEN j.deadline_passed THEN {end('j.deadline')} "
    f"WHEN j.first_crossed IS NOT NULL THEN {start('j.first_crossed')} ELSE {end('j.deadline')} END"
)
# For a settled threat waiting under the deadline rule (its deadline passed) or the grace rule
# (crossed, no deadline passed), from its cached columns. It is never before the day its
# cached `settled_tested_on` starts, the order of `ix_threat_awaiting`.
_SETTLED_DUE_ON = (
    f"CASE WHEN j.settled_rule = 'deadline' THEN {end('COALESCE(j.deadline_set, j.deadline)')} "
    f"ELSE {start('j.first_crossed')} END"
)


def due_on(row: dict) -> str:
    """`DUE_ON` of a judged row, in Python."""
    from redlines.domain.dates import FuzzyDate

    if row["deadline_passed"]:
        return FuzzyDate.from_iso(row["deadline"]).end().isoformat()
    if row["first_crossed"]:
        return FuzzyDate.from_iso(row["first_crossed"]).start().isoformat()
    return FuzzyDate.from_iso(row["deadline"]).end().isoformat()


def due(
    conn: sqlite3.Connection, judging: Judging, horizon: str, kept: Where = EVERY, *, limit: int | None = None
) -> list[dict]:
    """Threats still waiting for a response: a deadline in force whose period ends on or before
    `horizon` (a full ISO day), a deadline passed, or a red line crossed; by the day each is due
    (`DUE_ON`), then id. With a limit, the settled ones are read in order from their own index,
    only until no later one can be among the first `limit`, and only the unsettled few are judged."""
    where, args = _filters(judging, kept)
    args.update(horizon=horizon, limit=-1 if limit is None else limit)
    waiting = [
        *where,
        "j.rule IN ('deadline', 'grace', 'pending')",
        f"(j.first_crossed IS NOT NULL OR (j.deadline IS NOT NULL AND {end('j.deadline')} <= :horizon))",
    ]
    order = "ORDER BY due_on, j.id LIMIT :limit"
    if limit is None or not judging.settled:
        return [
            dict(r)
            for r in conn.execute(
                f"SELECT j.*, {DUE_ON} AS due_on, a.slug AS issuer, a.name AS issuer_name FROM ({_judged(judging)}) j "
                f"JOIN actor a ON a.id = j.issuer_id WHERE {' AND '.join(waiting)} {order}",
                args,
            )
        ]
    if limit == 0:
        return []
    import heapq

    # The first `limit` so far, as a heap whose top is the last of them.
    heap = [
        _Last((r[0], r[1]))
        for r in conn.execute(  # the unsettled threats, judged: at most `limit` of them
            f"SELECT {DUE_ON} AS due_on, j.id FROM ({_judged(judging, unsettled_only=True)}) j "
            f"WHERE {' AND '.join(waiting)} {order}",
            args,
        )
    ]
    heapq.heapify(heap)
    # A settled threat waits for a response only under the deadline or grace rule, and then
    # it was tested on or before the day it settled, which is on or before the as-of date.
    settled = ["j.settled_rule IN ('deadline', 'grace')", "j.settled_on <= :as_of", *where]
    for key, tid, tested_from in conn.execute(
        f"SELECT {_SETTLED_DUE_ON}, j.id, {start('j.settled_tested_on')} FROM threat j INDEXED BY {AWAITING_INDEX} "
        f"WHERE {' AND '.join(settled)} ORDER BY j.settled_tested_on, j.id",
        args,
    ):
        if len(heap) < limit:
            heapq.heappush(heap, _Last((key, tid)))
        elif tested_from > heap[0].key[0]:
            break  # each later row is due on or after the day its test starts: none can be among the first
        elif (key, tid) < heap[0].key:
            heapq.heapreplace(heap, _Last((key, tid)))
    ids = [h.key[1] for h in heap]
    rows = threats(conn, judging, ids=ids) if ids else []
    return sorted(({**r, "due_on": due_on(r)} for r in rows), key=lambda r: (r["due_on"], r["id"]))


class _Last:
    """A (due_on, id) key ordered backwards: heapq keeps the last of the first `limit` on top."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[str, str]):
        self.key = key

    def __lt__(self, other: _Last) -> bool:
        return self.key > other.key


def _timeline_parts(as_of: str, kept: Where, limit: int | None = None, *, stored_order: bool = False):
    """The threats made and the events of the timeline (of the issuers and dates `kept` keeps),
    as two SELECTs (each newest first, limited when a limit is given), and their args. With
    `stored_order`, the dates are compared without their indexes (`|| ''`): the tables are then
    read in the order they are stored, each event's threat beside the one before, instead of a
    row here and there in date order (the whole timeline of 1M threats: 10.5 s against 26.1 s
    in the query, 28.8 against 44.9 s for `timeline --json`)."""
    args: dict = {"as_of": as_of, "since": kept.since, "until": kept.until, "limit": -1 if limit is None else limit}
    who = f"AND t.issuer_id IN ({_bind(args, 'i', kept.issuers)})" if kept.issuers else ""
    window = "(:since IS NULL OR {col} > :since) AND (:until IS NULL OR {col} <= :until) AND {col} <= :as_of"
    made_on = "t.made_on"
    if stored_order:
        window, made_on = window.replace("{col}", "({col} || '')"), "(t.made_on || '')"
    made = f"""
          SELECT t.made_on AS "on", 0 AS step, t.rowid AS seq, t.id AS threat, a.slug AS issuer,
                 'made' AS kind, t.statement AS what, NULL AS outcome, t.deadline AS due, NULL AS event
          FROM threat t JOIN actor a ON a.id = t.issuer_id
          WHERE {window.format(col="t.made_on")} {who}"""
    happened = f"""
          SELECT e.occurred_on, 1, e.rowid, t.id, a.slug, e.kind, e.what, e.outcome, e.due, e.id
          FROM event e JOIN threat t ON t.id = e.threat_id JOIN actor a ON a.id = t.issuer_id
          WHERE {window.format(col="e.occurred_on")} AND {made_on} <= :as_of {who}"""
    return made, happened, args


def timeline(conn: sqlite3.Connection, as_of: str, kept: Where = EVERY, *, limit: int | None = None) -> list[dict]:
    """Threats made and their events, in date order (a threat before its events on a day): the
    `limit` latest of them, found through the date indexes rather than by sorting everything."""
    made, happened, args = _timeline_parts(as_of, kept, limit)
    sql = f"""
      SELECT * FROM (
        SELECT * FROM ({made} ORDER BY t.made_on DESC, t.rowid DESC LIMIT :limit)
        UNION ALL
        SELECT * FROM ({happened} ORDER BY e.occurred_on DESC, e.rowid DESC LIMIT :limit)
      ) ORDER BY "on" DESC, step DESC, seq DESC LIMIT :limit"""
    return [dict(r) for r in conn.execute(sql, args)][::-1]


def timeline_cursor(conn: sqlite3.Connection, as_of: str, kept: Where = EVERY) -> sqlite3.Cursor:
    """The whole timeline in date order, as a cursor to read as it comes."""
    return conn.execute(*whole_timeline(conn, as_of, kept))


def whole_timeline(conn: sqlite3.Connection, as_of: str, kept: Where = EVERY) -> tuple[str, dict]:
    """The SELECT of the whole timeline, and its args. It is sorted whole (no index gives the
    order of both parts at once): where it keeps every row (no bound, and nothing dated after
    the as-of date), its rows are read in stored order, else through the indexes of what bounds
    them (an early as-of date keeps a few rows of many)."""
    whole = not (kept.issuers or kept.since or kept.until) and nothing_after(conn, as_of)
    made, happened, args = _timeline_parts(as_of, kept, stored_order=whole)
    return f'SELECT * FROM ({made} UNION ALL {happened}) ORDER BY "on", step, seq', args


def count_timeline(conn: sqlite3.Connection, as_of: str, kept: Where = EVERY) -> int:
    made, happened, args = _timeline_parts(as_of, kept)
    return conn.execute(
        f"SELECT (SELECT COUNT(*) FROM ({made})) + (SELECT COUNT(*) FROM ({happened}))", args
    ).fetchone()[0]


def own_deadline(conn: sqlite3.Connection, threat_id: str) -> str | None:
    return conn.execute("SELECT deadline FROM threat WHERE id = ?", (threat_id,)).fetchone()[0]


def decisions(conn: sqlite3.Connection, judging: Judging, by: str, kept: Where = EVERY) -> dict[str, list[dict]]:
    """Per group, its threats with their outcome and the rule that decided it."""
    key, _, joins = GROUPINGS[by]
    where, args = _filters(judging, kept)
    sql = (
        f"SELECT {key} AS key, j.id, j.outcome, j.rule, j.tested_on, j.deadline FROM ({_judged(judging)}) j {joins} "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY key, j.made_on, j.id"
    )
    out: dict[str, list[dict]] = {}
    for r in conn.execute(sql, args):
        out.setdefault(r["key"], []).append({k: r[k] for k in ("id", "outcome", "rule", "tested_on", "deadline")})
    return out


# --- the HTML report: counts for its timeline chart and the few threats it prints whole ---------


def _month_index(col: str) -> str:
    """The month a date stored at any precision starts in, as year * 12 + month - 1 (a year
    counts from its January; text that is no date counts as month 0, before any real one)."""
    return (
        f"(CAST(substr({col}, 1, 4) AS INTEGER) * 12"
        f" + CASE WHEN length({col}) >= 7 THEN CAST(substr({col}, 6, 2) AS INTEGER) - 1 ELSE 0 END)"
    )


def _visible(where: list[str]) -> str:
    """The condition on threats `j` (the table itself) visible as of `:as_of` and kept by the filters."""
    return " AND ".join(["j.made_on <= :as_of", *where])


def visible_count(conn: sqlite3.Connection, judging: Judging, kept: Where = EVERY) -> tuple[int, int]:
    """How many threats the filters leave as of `:as_of`, and how many issuers made them."""
    where, args = _filters(judging, kept)
    return tuple(
        conn.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT j.issuer_id) FROM threat j WHERE {_visible(where)}",
            args,
        ).fetchone()
    )


def made_on_at(
    conn: sqlite3.Connection,
    judging: Judging,
    offset: int,
    kept: Where = EVERY,
    *,
    newest: bool = False,
) -> str | None:
    """The date of the threat at `offset` in date order, oldest first (0: the oldest; with
    `newest`, newest first), read through the date index: where a chart of many threats may
    start and end."""
    where, args = _filters(judging, kept)
    row = conn.execute(
        f"SELECT j.made_on FROM threat j WHERE {_visible(where)} "
        f"ORDER BY j.made_on {'DESC' if newest else ''} LIMIT 1 OFFSET :offset",
        {**args, "offset": offset},
    ).fetchone()
    return None if row is None else row[0]


def busiest_issuers(conn: sqlite3.Connection, judging: Judging, limit: int, kept: Where = EVERY) -> list[dict]:
    """The `limit` issuers of most threats (id, slug, name, threats), most first."""
    where, args = _filters(judging, kept)
    return [
        dict(r)
        for r in conn.execute(
            f"SELECT a.id, a.slug, a.name, c.threats FROM ("
            f"  SELECT j.issuer_id, COUNT(*) AS threats FROM threat j"
            f"  WHERE {_visible(where)} GROUP BY j.issuer_id"
            f") c JOIN actor a ON a.id = c.issuer_id ORDER BY c.threats DESC, a.slug LIMIT :limit",
            {**args, "limit": limit},
        )
    ]


def activity(
    conn: sqlite3.Connection,
    judging: Judging,
    kept: Where = EVERY,
    *,
    lanes: Sequence[int],
    origin: int,
    months: int,
) -> list[tuple]:
    """Judged threats counted per lane, period and outcome: (lane, bin, outcome, count). The lane
    is the issuer's id for the issuers in `lanes`, NULL for all others together; the bin is the
    number of the period of `months` months, counted from the month index `origin`, in which the
    threat was made (-1: before `origin`). At most (len(lanes) + 1) * bins * 6 rows, however
    many threats: the settled ones are counted from their cached verdicts through the report's
    index, the others judged, as in `report`."""
    where, args = _filters(judging, kept)
    args.update(origin=origin, months=months)
    lane = f"CASE WHEN j.issuer_id IN ({_bind(args, 'l', lanes)}) THEN j.issuer_id END" if lanes else "NULL"
    month = _month_index("j.made_on")
    period = f"CASE WHEN {month} < :origin THEN -1 ELSE ({month} - :origin) / :months END"
    parts = [(f"({_judged(judging, unsettled_only=judging.settled)}) j", "j.outcome", where)]
    if judging.settled:
        parts.append((f"threat j INDEXED BY {REPORT_INDEX}", "j.settled_outcome", ["j.settled_on <= :as_of", *where]))
    counted: dict[tuple, int] = {}
    for source, outcome, conditions in parts:
        for key_lane, key_bin, key_outcome, n in conn.execute(
            f"SELECT {lane}, {period}, {outcome}, COUNT(*) FROM {source} "
            f"{'WHERE ' + ' AND '.join(conditions) if conditions else ''} GROUP BY 1, 2, 3",
            args,
        ):
            key = (key_lane, key_bin, key_outcome)
            counted[key] = counted.get(key, 0) + n
    return [(*key, n) for key, n in counted.items()]


def recent_threat_ids(conn: sqlite3.Connection, judging: Judging, limit: int, kept: Where = EVERY) -> list[str]:
    """The ids of the `limit` most recent threats (newest first, as `threats` orders them),
    read through the date index: nothing is judged."""
    where, args = _filters(judging, kept)
    return [
        r[0]
        for r in conn.execute(
            f"SELECT j.id FROM threat j WHERE {_visible(where)} ORDER BY j.made_on DESC, j.id LIMIT :limit",
            {**args, "limit": limit},
        )
    ]


def target_names_of(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    """The names of the actors each threat targets, in the order they were given."""
    return grouped_in(conn, _TARGETS.format(name="a.name", values=VALUES), ids)


# A threat's targets by one of their names (`{name}`), for the threats whose ids fill `{values}`.
_TARGETS = (
    "SELECT tt.threat_id, {name} FROM threat_target tt JOIN actor a ON a.id = tt.actor_id "
    "WHERE tt.threat_id IN ({values}) ORDER BY tt.id"
)
