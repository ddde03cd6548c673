"""Full-text search over the FTS5 index `search` (migration 0002): the one place that knows
SQLite's FTS5. The index is kept in step with every write by triggers."""

from __future__ import annotations

import re
import sqlite3

OPEN, CLOSE = "\x02", "\x03"  # marks around matched words in snippets, replaced by the output layer


def _plain(query: str) -> str:
    """A query as plain words, each quoted, for when FTS5 cannot parse what was typed."""
    words = re.findall(r"\w+", query)
    return " ".join(f'"{w}"' for w in words)


def search(conn: sqlite3.Connection, query: str, as_of: str, limit: int | None) -> list[dict]:
    """Threats whose statement, trigger, consequence, events or quotes match, best first, each
    with its matching passages."""
    sql = f"""
      SELECT s.threat_id, s.kind, s.event_id, bm25(search) AS score,
             snippet(search, 3, '{OPEN}', '{CLOSE}', '…', 12) AS snippet
      FROM search s JOIN threat t ON t.id = s.threat_id
      LEFT JOIN event e ON e.id = s.event_id
      WHERE search MATCH ? AND t.made_on <= ? AND (e.id IS NULL OR e.occurred_on <= ?)
      ORDER BY score"""
    try:
        hits = conn.execute(sql, (query, as_of, as_of)).fetchall()
    except sqlite3.OperationalError:
        plain = _plain(query)
        if not plain:
            return []
        hits = conn.execute(sql, (plain, as_of, as_of)).fetchall()
    found: dict[str, dict] = {}
    for h in hits:
        entry = found.setdefault(h["threat_id"], {"id": h["threat_id"], "score": h["score"], "matches": []})
        entry["matches"].append({"in": h["kind"], "event": h["event_id"], "snippet": h["snippet"]})
    ranked = list(found.values())
    return ranked[:limit] if limit is not None else ranked
