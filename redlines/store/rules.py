"""The SQL views people browse with `sqlite3`, sqlite-utils or Datasette, and the rules version.

The views are made from the live rule SQL, the very SQL the commands run
(`queries.judged`), judged as of SQLite's `date('now')` (the UTC date) with the default grace
period (`outcomes.DEFAULT_GRACE_DAYS`). `VIEWS` maps each view's name to the exact statement
that creates it (as `sqlite_master.sql` holds it).

The cached verdicts (`store.summary`) and the views are computed from the rules, so the file
records which rules they were computed with: the rules version, in `setting`. On open,
`sync_rules` compares it with the code's (one small read); when it differs, the cache is
recomputed for every threat and the views are dropped and made again, in one transaction.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping

from redlines.domain import outcomes
from redlines.store import queries

RULES_KEY = "rules_version"
_STALE_MARK = "redlines_rules_stale"  # a TEMP table: the file's cache could not be brought up to date


def _judged_now(grace: int, cached: bool = True) -> str:
    """Every threat judged as of today (UTC), as the commands judge it, with no parameters
    (`cached`: reading the cached verdicts of settled threats, as the commands do)."""
    sql = queries.judged(settled=cached)
    sql = re.sub(r":as_of\b", "date('now')", sql)
    return re.sub(r":grace_cutoff\b", f"date('now', '-{grace + 1} days')", sql)


# The square root of x in (0, 2) by Newton's method from 1 (SQLite's sqrt() is not in every
# build): 60 steps reach full precision for any x the interval needs (x >= z²/4n², n < 10^9).
_SQRT = (
    "(WITH RECURSIVE it(n, x) AS (SELECT 0, 1.0 UNION ALL SELECT n + 1, (x + ({x}) / x) / 2 FROM it WHERE n < 60) "
    "SELECT x FROM it WHERE n = 60)"
)


def _scorecard() -> str:
    """Per issuer, the counts of `report --by actor`, the follow-through rate and its 95% Wilson
    score interval (z = 1.96, no continuity correction), as `outcomes.wilson_interval`."""
    z2 = 1.96 * 1.96
    half = f"1.96 * {_SQRT.format(x=f'r.p * (1 - r.p) / r.n + {z2} / (4.0 * r.n * r.n)')} / (1 + {z2} / r.n)"
    centre = f"(r.p + {z2} / (2.0 * r.n)) / (1 + {z2} / r.n)"
    return f"""CREATE VIEW actor_scorecard AS
WITH counted AS (
  SELECT issuer AS actor, issuer_name AS name, COUNT(*) AS threats,
    SUM(outcome = 'pending') AS pending, SUM(outcome = 'followed_through') AS followed_through,
    SUM(outcome = 'partial') AS partial, SUM(outcome = 'not_followed_through') AS not_followed_through,
    SUM(outcome = 'complied') AS complied, SUM(outcome = 'withdrawn') AS withdrawn,
    SUM(outcome IN ('followed_through', 'partial', 'not_followed_through')) AS tested
  FROM threat_outcome GROUP BY issuer, issuer_name
), rated AS (
  SELECT c.*, (c.followed_through + c.partial / 2.0) / NULLIF(c.tested, 0) AS p, c.tested AS n FROM counted c
)
SELECT r.actor, r.name, r.threats, r.pending, r.followed_through, r.partial, r.not_followed_through,
  r.complied, r.withdrawn, r.tested, r.p AS follow_through_rate,
  CASE WHEN r.n > 0 THEN max(0.0, {centre} - {half}) END AS rate_low,
  CASE WHEN r.n > 0 THEN min(1.0, {centre} + {half}) END AS rate_high
FROM rated r"""


def build(grace: int, cached: bool = True) -> dict[str, str]:
    """The statements that create the views, judged with the grace period `grace`; a view
    that reads another comes after it."""
    return {
        "threat_outcome": f"""CREATE VIEW threat_outcome AS
SELECT j.id, a.slug AS issuer, a.name AS issuer_name, j.made_on, j.statement, j.category,
  j.deadline, j.outcome, j.rule, j.tested_on
FROM ({_judged_now(grace, cached)}) j JOIN actor a ON a.id = j.issuer_id""",
        "actor_scorecard": _scorecard(),
    }


class _Views(Mapping[str, str]):
    """`build` with the default grace period as it is when read."""

    def _now(self) -> dict[str, str]:
        return build(outcomes.DEFAULT_GRACE_DAYS)

    def __getitem__(self, name: str) -> str:
        return self._now()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._now())

    def __len__(self) -> int:
        return len(self._now())


VIEWS: Mapping[str, str] = _Views()

_versions: dict[int, str] = {}


def rules_version() -> str:
    """The version of the rules in this code: the default grace period, and a hash of all the
    SQL computed from the rules (judging, the summary and settled-verdict cache, the views)."""
    grace = outcomes.DEFAULT_GRACE_DAYS
    if grace not in _versions:
        import zlib  # a checksum is enough to see a change, and cheaper to import than hashlib

        from redlines.store import summary

        sql = [
            queries.judged(),
            queries.judged(settled=True),
            queries.judged(current=True, settled=True, unsettled_only=True),
            queries.EVENT_AGGREGATES,
            summary.settle_sql(grace),
            *build(grace).values(),
        ]
        _versions[grace] = f"grace={grace};sql={zlib.crc32(chr(0).join(sql).encode()):08x}"
    return _versions[grace]


def stored_version(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM setting WHERE key = ?", (RULES_KEY,)).fetchone()
    return row[0] if row else None


def sync_rules(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Bring the cached verdicts and the views of an open file (at the current schema) up to the
    rules of this code, if the rules version it records is another; returns the connection. A
    file that cannot be written keeps its cache, marked as not to be read (`cache_usable`), and
    gets the views for this connection only."""
    want = rules_version()
    if stored_version(conn) == want:
        return conn
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return _mark_stale(conn, want)
    try:
        if stored_version(conn) != want:  # another process may have done it meanwhile
            _recompute(conn, want)
        conn.execute("COMMIT")
    except sqlite3.OperationalError as e:
        conn.execute("ROLLBACK")
        if "readonly" not in str(e).replace(" ", "") and "read-only" not in str(e):
            raise
        return _mark_stale(conn, want)
    return conn


def mark_if_stale(conn: sqlite3.Connection) -> sqlite3.Connection:
    """For a file that must not be written (it is read as it is): if it was made with other
    rules, its cache is not read and this connection sees views made with the live rules."""
    want = rules_version()
    if stored_version(conn) != want:
        _mark_stale(conn, want)
    return conn


def _recompute(conn: sqlite3.Connection, version: str) -> None:
    from redlines.store import summary

    summary.refresh(conn, [r[0] for r in conn.execute("SELECT id FROM threat")])
    _make_views(conn)
    conn.execute(
        "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (RULES_KEY, version),
    )


def _make_views(conn: sqlite3.Connection, schema: str = "main") -> None:
    from redlines.store.sqlite import dialect

    views = build(outcomes.DEFAULT_GRACE_DAYS, cached=schema == "main")
    prefix = f"{schema}." if dialect(conn) == "sqlite" else ("" if schema == "main" else "pg_temp.")
    for name in reversed(list(views)):  # what reads a view goes first
        conn.execute(f"DROP VIEW IF EXISTS {prefix}{name}")
    for sql in views.values():
        conn.execute(sql if schema == "main" else sql.replace("CREATE VIEW ", "CREATE TEMP VIEW ", 1))


def _mark_stale(conn: sqlite3.Connection, want: str) -> sqlite3.Connection:
    """A file we cannot write, made with other rules: its cached verdicts are not read (see
    `cache_usable`), and this connection sees views made with the live rules."""
    from redlines.store.sqlite import dialect

    if dialect(conn) != "sqlite":
        conn.rules_stale = True
        _make_views(conn, schema="temp")
        return conn
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STALE_MARK} (version TEXT)")
    _make_views(conn, schema="temp")
    return conn


def cache_usable(conn: sqlite3.Connection) -> bool:
    """May the cached summaries and verdicts be read? Not on a file whose rules version is not
    this code's and that could not be brought up to date."""
    from redlines.store.sqlite import dialect

    if dialect(conn) != "sqlite":
        return not conn.rules_stale
    return (
        conn.execute("SELECT 1 FROM temp.sqlite_master WHERE type = 'table' AND name = ?", (_STALE_MARK,)).fetchone()
        is None
    )
