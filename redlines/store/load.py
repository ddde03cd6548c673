"""Write a checked data-set document (see `redlines.domain.document`) into the database.

Upserts by natural key (actor slug, source URL, threat and event id); a threat's targets, tags,
events and citations become exactly what the document says. Writing the same document twice
changes nothing. The bundled seed and `import` both come through here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from redlines.store.records import delete_event, replace_children, source_id
from redlines.store.write import Writer


@dataclass
class LoadCounts:
    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)

    def bump(self, which: dict[str, int], kind: str) -> None:
        which[kind] = which.get(kind, 0) + 1


def load_document(w: Writer, doc: dict) -> LoadCounts:
    conn, counts = w.conn, LoadCounts()

    def upsert(table: str, kind: str, row_id, values: dict):
        if row_id is None:
            counts.bump(counts.added, kind)
            return w.insert(table, values)
        if w.update(table, row_id, values):
            counts.bump(counts.changed, kind)
        return row_id

    actor_ids: dict[str, int] = dict(conn.execute("SELECT slug, id FROM actor").fetchall())
    for a in doc["actors"]:
        values = {"slug": a["slug"], "name": a["name"], "kind": a["kind"]}
        actor_ids[a["slug"]] = upsert("actor", "actors", actor_ids.get(a["slug"]), values)
    for a in doc["actors"]:
        w.update("actor", actor_ids[a["slug"]], {"of_id": actor_ids.get(a["of"]) if a["of"] else None})
        replace_children(w, "alias", "actor_id", actor_ids[a["slug"]], "alias",
              [{"alias": x} for x in a["aliases"]])

    source_ids: dict[str, int] = dict(conn.execute("SELECT url, id FROM source").fetchall())
    for s in doc["sources"]:
        source_ids[s["url"]] = upsert("source", "sources", source_ids.get(s["url"]), s)

    def cite(citations: list[dict], subject: str, subject_id: str) -> None:
        rows = [{"source_id": source_id(w, c["url"], source_ids), "quote": c["quote"]} for c in citations]
        replace_children(w, "citation", subject, subject_id, ("source_id", "quote"), rows)

    for t in doc["threats"]:
        exists = conn.execute("SELECT 1 FROM threat WHERE id = ?", (t["id"],)).fetchone()
        values = {k: t[k] for k in ("made_on", "statement", "trigger", "consequence", "category",
                                    "cameo", "deadline")}
        values["issuer_id"] = actor_ids[t["issuer"]]
        upsert("threat", "threats", t["id"] if exists else None, {"id": t["id"], **values})
        replace_children(w, "threat_target", "threat_id", t["id"], "actor_id",
              [{"actor_id": actor_ids[x]} for x in t["targets"]])
        replace_children(w, "threat_tag", "threat_id", t["id"], "tag", [{"tag": x} for x in t["tags"]])
        cite(t["sources"], "threat_id", t["id"])
        if t["keep_events"]:
            continue

        existing = {r[0] for r in conn.execute("SELECT id FROM event WHERE threat_id = ?", (t["id"],))}
        numbers = [int(i.rsplit("#", 1)[1]) for i in existing | {e["id"] for e in t["events"] if e["id"]}]
        next_n = max(numbers, default=0) + 1
        kept = set()
        for e in t["events"]:
            eid = e["id"]
            if eid is None:
                eid, next_n = f"{t['id']}#{next_n}", next_n + 1
            kept.add(eid)
            values = {"threat_id": t["id"], "kind": e["kind"], "occurred_on": e["on"], "what": e["what"],
                      "outcome": e["outcome"], "due": e["due"], "cameo": e["cameo"]}
            upsert("event", "events", eid if eid in existing else None, {"id": eid, **values})
            cite(e["sources"], "event_id", eid)
        for gone in sorted(existing - kept):
            delete_event(w, gone)
    return counts
