"""Reading the whole data set out, in a stable order and in batches, so that an export of any
size streams in bounded memory."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from redlines.store.queries import grouped

BATCH = 900  # ids per query: under the bound-parameter limit of any SQLite


def actors(conn: sqlite3.Connection) -> Iterator[dict]:
    aliases = grouped(conn, "SELECT actor_id, alias FROM alias ORDER BY id", ())
    for r in conn.execute(
        "SELECT a.id, a.slug, a.name, a.kind, o.slug AS 'of' FROM actor a "
        "LEFT JOIN actor o ON o.id = a.of_id ORDER BY a.slug"
    ):
        yield {
            "slug": r["slug"],
            "name": r["name"],
            "kind": r["kind"],
            "of": r["of"],
            "aliases": aliases.get(r["id"], []),
        }


def sources(conn: sqlite3.Connection) -> Iterator[dict]:
    for r in conn.execute("SELECT url, title, publisher, published_on FROM source ORDER BY url"):
        yield dict(r)


def threats(conn: sqlite3.Connection) -> Iterator[dict]:
    """Every threat with its targets, tags, sources and events, ordered by id."""
    last = ""
    while True:
        rows = conn.execute(
            "SELECT t.id, a.slug AS issuer, t.made_on, t.statement, t.trigger, t.consequence, t.category, "
            "t.cameo, t.deadline FROM threat t JOIN actor a ON a.id = t.issuer_id "
            "WHERE t.id > ? ORDER BY t.id LIMIT ?",
            (last, BATCH),
        ).fetchall()
        if not rows:
            return
        ids = [r["id"] for r in rows]
        last = ids[-1]
        marks = ", ".join("?" * len(ids))
        targets = grouped(
            conn,
            f"SELECT tt.threat_id, a.slug FROM threat_target tt JOIN actor a "
            f"ON a.id = tt.actor_id WHERE tt.threat_id IN ({marks}) ORDER BY tt.id",
            ids,
        )
        tags = grouped(conn, f"SELECT threat_id, tag FROM threat_tag WHERE threat_id IN ({marks}) ORDER BY id", ids)
        cited = _citations(conn, "threat_id", ids)
        events: dict[str, list[dict]] = {}
        event_rows = conn.execute(
            f"SELECT id, threat_id, kind, occurred_on, what, outcome, due, cameo FROM event "
            f"WHERE threat_id IN ({marks}) ORDER BY threat_id, occurred_on, seq",
            ids,
        ).fetchall()
        event_cited = _citations(conn, "event_id", [e["id"] for e in event_rows])
        for e in event_rows:
            events.setdefault(e["threat_id"], []).append(
                {
                    "id": e["id"],
                    "kind": e["kind"],
                    "on": e["occurred_on"],
                    "what": e["what"],
                    "outcome": e["outcome"],
                    "due": e["due"],
                    "cameo": e["cameo"],
                    "sources": event_cited.get(e["id"], []),
                }
            )
        for r in rows:
            yield {
                **dict(r),
                "targets": targets.get(r["id"], []),
                "tags": tags.get(r["id"], []),
                "sources": cited.get(r["id"], []),
                "events": events.get(r["id"], []),
            }


def _citations(conn: sqlite3.Connection, column: str, ids: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for start in range(0, len(ids), 900):  # stay under SQLite's limit on bound parameters
        chunk = ids[start : start + 900]
        for r in conn.execute(
            f"SELECT c.{column} AS subject, s.url, c.quote FROM citation c JOIN source s ON s.id = c.source_id "
            f"WHERE c.{column} IN ({', '.join('?' * len(chunk))}) ORDER BY c.id",
            chunk,
        ):
            out.setdefault(r["subject"], []).append({"url": r["url"], "quote": r["quote"]})
    return out
