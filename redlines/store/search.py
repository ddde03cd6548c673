"""Full-text search over the FTS5 index `search` (migrations 0002 and 0004): the one place that
knows SQLite's FTS5. New rows are indexed here, by the code that writes them (`Writer.insert`
one at a time, the bulk loader a batch at a time); triggers handle updates of the indexed
text, and deletes. FTS rowids: a threat's rowid * 3, an event's rowid * 3 + 1, a citation's
id * 3 + 2."""

from __future__ import annotations

import re
import sqlite3

OPEN, CLOSE = "\x02", "\x03"  # marks around matched words in snippets, replaced by the output layer


_THREATS = ("SELECT t.rowid * 3, 'threat', t.id, NULL, coalesce(t.statement, '') || ' ' || "
            "coalesce(t.trigger, '') || ' ' || coalesce(t.consequence, '') FROM threat t")
_EVENTS = "SELECT e.rowid * 3 + 1, 'event', e.threat_id, e.id, e.what FROM event e"
_CITATIONS = ("SELECT c.id * 3 + 2, 'quote', coalesce(c.threat_id, (SELECT threat_id FROM event WHERE id = c.event_id)), "
              "c.event_id, c.quote FROM citation c")
_INSERT = "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
INDEXED = {"threat": f"{_INSERT}{_THREATS} WHERE t.id = ?", "event": f"{_INSERT}{_EVENTS} WHERE e.id = ?",
           "citation": f"{_INSERT}{_CITATIONS} WHERE c.id = ? AND c.quote IS NOT NULL"}


def index_row(conn: sqlite3.Connection, table: str, key) -> None:
    """Index one row just inserted into threat, event or citation (other tables: nothing to do)."""
    sql = INDEXED.get(table)
    if sql:
        conn.execute(sql, (key,))


def index_threats(conn: sqlite3.Connection, threat_ids: list[str]) -> None:
    """Index threats just inserted in bulk, with their events and citations."""
    ids = f"(SELECT value FROM json_each(?))"
    import json

    arg = (json.dumps(threat_ids),)
    conn.execute(f"{_INSERT}{_THREATS} WHERE t.id IN {ids}", arg)
    conn.execute(f"{_INSERT}{_EVENTS} WHERE e.threat_id IN {ids}", arg)
    conn.execute(f"{_INSERT}{_CITATIONS} WHERE c.quote IS NOT NULL AND (c.threat_id IN {ids} OR c.event_id IN "
                 f"(SELECT id FROM event WHERE threat_id IN {ids}))", (*arg, *arg))


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
