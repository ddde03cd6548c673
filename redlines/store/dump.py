"""The whole data set read out for `export` (this is the store's half; `output/export.py` writes
it), in a stable order and in batches, so that an export of any size streams in bounded memory."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from redlines.schema import ACTOR, EVENT, SOURCE, THREAT
from redlines.store.queries import field_list, grouped, tags_of, targets_of
from redlines.store.sqlite import VALUES, select_in

BATCH = 900  # threats read a batch (their lists of ids are bound through `sqlite.select_in`)


def actors(conn: sqlite3.Connection) -> Iterator[dict]:
    aliases = grouped(conn, "SELECT actor_id, alias FROM alias ORDER BY id", ())
    for r in conn.execute(
        f"SELECT a.id, {field_list(ACTOR, 'a')}, o.slug AS 'of' FROM actor a "
        "LEFT JOIN actor o ON o.id = a.of_id ORDER BY a.slug"
    ):
        yield {**ACTOR.record(r), "of": r["of"], "aliases": aliases.get(r["id"], [])}


def sources(conn: sqlite3.Connection) -> Iterator[dict]:
    for r in conn.execute(f"SELECT {field_list(SOURCE)} FROM source ORDER BY url"):
        yield SOURCE.record(r)


def threats(conn: sqlite3.Connection, as_of: str = "9999-12-31") -> Iterator[dict]:
    """Every threat known on `as_of` with its targets, tags, sources and the events known then,
    ordered by id (a record dated after `as_of` is hidden, as everywhere)."""
    last = ""
    while True:
        rows = conn.execute(
            f"SELECT t.id, a.slug AS issuer, {field_list(THREAT, 't')} "
            "FROM threat t JOIN actor a ON a.id = t.issuer_id WHERE t.id > ? AND t.made_on <= ? ORDER BY t.id LIMIT ?",
            (last, as_of, BATCH),
        ).fetchall()
        if not rows:
            return
        ids = [r["id"] for r in rows]
        last = ids[-1]
        targets = targets_of(conn, ids)
        tags = tags_of(conn, ids)
        cited = _citations(conn, "threat_id", ids)
        events: dict[str, list[dict]] = {}
        event_rows = select_in(
            conn,
            f"SELECT id, threat_id, {field_list(EVENT)} FROM event "
            "WHERE threat_id IN ({values}) AND occurred_on <= ? ORDER BY threat_id, occurred_on, seq",
            ids,
            after=(as_of,),
        )
        event_cited = _citations(conn, "event_id", [e["id"] for e in event_rows])
        for e in event_rows:
            events.setdefault(e["threat_id"], []).append(
                {"id": e["id"], **EVENT.record(e), "sources": event_cited.get(e["id"], [])}
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
    """The sources each threat or event cites, as a document holds them: url and quote."""
    assert column in ("threat_id", "event_id")
    out: dict[str, list[dict]] = {}
    for subject, url, quote in select_in(
        conn,
        f"SELECT c.{column}, s.url, c.quote FROM citation c JOIN source s ON s.id = c.source_id "
        f"WHERE c.{column} IN ({VALUES}) ORDER BY c.id",
        ids,
    ):
        out.setdefault(subject, []).append({"url": url, "quote": quote})
    return out
