"""The summary cached on each threat row (first crossing, strongest response, the deadline set
by events, ...): recomputed from the events for every threat a run touched, before it commits.
`db check` recomputes it for all threats and compares."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from redlines.store.queries import EVENT_AGGREGATES, SUMMARY_COLUMNS

_REFRESH = f"""
UPDATE threat SET {', '.join(f'{c} = s.{c}' for c in SUMMARY_COLUMNS)}
FROM (
  SELECT t.id AS threat_id, {EVENT_AGGREGATES}
  FROM threat t LEFT JOIN event e ON e.threat_id = t.id
  WHERE t.id IN (SELECT value FROM json_each(?)) GROUP BY t.id
) s
WHERE threat.id = s.threat_id"""

STALE = f"""
SELECT t.id FROM threat t JOIN (
  SELECT t.id AS threat_id, {EVENT_AGGREGATES}
  FROM threat t LEFT JOIN event e ON e.threat_id = t.id GROUP BY t.id
) s ON s.threat_id = t.id
WHERE {' OR '.join(f't.{c} IS NOT s.{c}' for c in SUMMARY_COLUMNS)}"""


def refresh(conn: sqlite3.Connection, threat_ids: Iterable[str]) -> None:
    import json

    ids = list(threat_ids)
    for start in range(0, len(ids), 50_000):
        conn.execute(_REFRESH, (json.dumps(ids[start:start + 50_000]),))


def stale(conn: sqlite3.Connection) -> list[str]:
    """Threats whose cached summary does not match their events (none, unless written around redlines)."""
    return [r[0] for r in conn.execute(STALE)]
