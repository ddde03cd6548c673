"""The summary cached on each threat row: what the outcome rules need from its events (first
crossing, strongest response, the deadline set by events, ...), and the verdict it settles on
once every event is known and the deadline and the default grace period have run out.
Recomputed for every threat a run touched, before it commits (the rules in Python,
`domain.outcomes.summary` and `settled`, give a bulk import's new threats theirs with their rows).
`db check` recomputes both for all threats and compares."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from redlines.domain import outcomes
from redlines.schema import NEVER
from redlines.store.queries import EVENT_AGGREGATES, SETTLED_COLUMNS, SUMMARY_COLUMNS, THREAT_COLUMNS, judge_sql, start

# Which threats a refresh covers: those whose ids are given as a JSON array. (A bulk import
# writes its new threats' summaries and verdicts with their rows: `domain.outcomes.settled`.)
BY_IDS = "t.id IN (SELECT value FROM json_each(?))"


def _refresh_sql(which: str) -> str:
    return f"""
UPDATE threat SET {", ".join(f"{c} = s.{c}" for c in SUMMARY_COLUMNS)}
FROM (
  SELECT t.id AS threat_id, {EVENT_AGGREGATES}
  FROM threat t LEFT JOIN event e ON e.threat_id = t.id
  WHERE {which} GROUP BY t.id
) s
WHERE threat.id = s.threat_id"""


STALE = f"""
SELECT t.id FROM threat t JOIN (
  SELECT t.id AS threat_id, {EVENT_AGGREGATES}
  FROM threat t LEFT JOIN event e ON e.threat_id = t.id GROUP BY t.id
) s ON s.threat_id = t.id
WHERE {" OR ".join(f"t.{c} IS NOT s.{c}" for c in SUMMARY_COLUMNS)}"""


def _lapse(col: str) -> str:
    """The first ISO day after the day, month or year in `col`."""
    return (
        f"CASE length({col}) WHEN 4 THEN date({col} || '-01-01', '+1 year') "
        f"WHEN 7 THEN date({col} || '-01', '+1 month') ELSE date({col}, '+1 day') END"
    )


# The day from which nothing but a new event changes the verdict: the latest of the day the
# threat was made, the day its last event starts, the day after its deadline in force ends and
# the day its first crossing's grace period runs out. A date SQLite cannot compute never settles.
# The grace period is the default one (`outcomes.DEFAULT_GRACE_DAYS`), read when the SQL is
# built, so that a change of it reaches the cache (see `store.rules.sync_rules`).
_NEVER = f"'{NEVER}'"  # as SQL
_DEADLINE = "COALESCE(t.deadline_set, t.deadline)"


def settles_on(grace: int) -> str:
    return f"""max({start("t.made_on")},
    COALESCE({start("t.last_event_on")}, ''),
    CASE WHEN {_DEADLINE} IS NULL THEN '' ELSE COALESCE({_lapse(_DEADLINE)}, {_NEVER}) END,
    CASE WHEN t.first_crossed IS NULL THEN ''
         ELSE COALESCE(date({start("t.first_crossed")}, '+{grace + 1} days'), {_NEVER}) END)"""


def _settling(where: str, grace: int) -> str:
    """Each threat matching `where` judged on the day it settles, with the grace period `grace`."""
    source = f"""
  SELECT {THREAT_COLUMNS}, {", ".join(f"t.{c}" for c in SUMMARY_COLUMNS)}, {settles_on(grace)} AS settled_on,
    {", ".join(f"CAST(NULL AS {'INTEGER' if c == 'settled_days' else 'TEXT'}) AS {c}" for c in SETTLED_COLUMNS[1:])}
  FROM threat t WHERE {where}"""
    # (no date of the day that never comes: SQLite's is NULL, PostgreSQL's an error)
    cutoff = f"CASE WHEN settled_on <> {_NEVER} THEN date(settled_on, '-{grace + 1} days') END"
    return judge_sql(source, as_of="settled_on", cutoff=cutoff, settled="FALSE")


# Each cached column, and the column of the judged row it takes.
_VERDICT = dict(zip(SETTLED_COLUMNS, ("judged_on", "outcome", "rule", "tested_on", "days"), strict=False))


def settle_sql(grace: int, which: str = BY_IDS) -> str:
    """The UPDATE that caches the settled verdict of the threats `which` picks (see BY_IDS)."""
    return f"""
UPDATE threat SET {", ".join(f"{c} = v.{v}" for c, v in _VERDICT.items())}
FROM ({_settling(which, grace)}) v
WHERE threat.id = v.id"""


def unsettled_sql(grace: int) -> str:
    """The ids of threats whose cached verdict differs from the one the rules give."""
    return f"""
SELECT t.id FROM threat t JOIN ({_settling("TRUE", grace)}) v ON v.id = t.id
WHERE {" OR ".join(f"t.{c} IS NOT v.{v}" for c, v in _VERDICT.items())}"""


def refresh(conn: sqlite3.Connection, threat_ids: Iterable[str]) -> None:
    import json

    ids = list(threat_ids)
    refresh, settle = _refresh_sql(BY_IDS), settle_sql(outcomes.DEFAULT_GRACE_DAYS)
    for start_at in range(0, len(ids), 50_000):
        chunk = json.dumps(ids[start_at : start_at + 50_000])
        conn.execute(refresh, (chunk,))
        conn.execute(settle, (chunk,))


def stale(conn: sqlite3.Connection) -> list[str]:
    """Threats whose cached summary or settled verdict does not match their events (none,
    unless the file was written around redlines)."""
    return [r[0] for r in conn.execute(STALE)] + [
        r[0] for r in conn.execute(unsettled_sql(outcomes.DEFAULT_GRACE_DAYS))
    ]
