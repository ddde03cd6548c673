"""Write a checked data-set document (see `redlines.domain.document`) into the database.

Upserts by natural key (actor slug, source URL, threat and event id); a threat's targets, tags,
events and citations become exactly what the document says. Writing the same document twice
changes nothing. The bundled seed and `import` both come through here.

Threats new to the database go in by batches of plain `executemany`, and the change log keeps
one row for each (undo removes a threat with everything under it); threats already there are
compared and updated row by row, so that history shows what changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from redlines.store import search, summary
from redlines.store.records import delete_event, replace_children, source_id
from redlines.store.write import Writer

BATCH = 2000  # threats a batch; each batch's ids go into IN (...) lists of at most this size
THREAT_FIELDS = ("made_on", "statement", "trigger", "consequence", "category", "cameo", "deadline")


@dataclass
class LoadCounts:
    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)

    def bump(self, which: dict[str, int], kind: str, n: int = 1) -> None:
        which[kind] = which.get(kind, 0) + n


def load_document(w: Writer, doc: dict) -> LoadCounts:
    loader = Loader(w)
    loader.actors(doc["actors"])
    loader.sources(doc["sources"])
    for start in range(0, len(doc["threats"]), BATCH):
        loader.threats(doc["threats"][start : start + BATCH])
    return loader.counts


class Loader:
    """Loads one import: actors, then sources, then threats in batches."""

    def __init__(self, w: Writer):
        self.w, self.conn, self.counts = w, w.conn, LoadCounts()
        self.actor_ids: dict[str, int] = dict(self.conn.execute("SELECT slug, id FROM actor").fetchall())

    def _upsert(self, table: str, kind: str, row_id, values: dict):
        if row_id is None:
            self.counts.bump(self.counts.added, kind)
            return self.w.insert(table, values)
        if self.w.update(table, row_id, values):
            self.counts.bump(self.counts.changed, kind)
        return row_id

    def actors(self, actors: list[dict]) -> None:
        for a in actors:
            values = {"slug": a["slug"], "name": a["name"], "kind": a["kind"]}
            self.actor_ids[a["slug"]] = self._upsert("actor", "actors", self.actor_ids.get(a["slug"]), values)
        for a in actors:
            self.w.update(
                "actor", self.actor_ids[a["slug"]], {"of_id": self.actor_ids.get(a["of"]) if a["of"] else None}
            )
            replace_children(
                self.w, "alias", "actor_id", self.actor_ids[a["slug"]], "alias", [{"alias": x} for x in a["aliases"]]
            )

    def sources(self, sources: list[dict]) -> None:
        for s in sources:
            row = self.conn.execute("SELECT id FROM source WHERE url = ?", (s["url"],)).fetchone()
            self._upsert("source", "sources", row[0] if row else None, s)

    def threats(self, threats: list[dict]) -> None:
        marks = ", ".join("?" * len(threats))
        existing = {
            r[0] for r in self.conn.execute(f"SELECT id FROM threat WHERE id IN ({marks})", [t["id"] for t in threats])
        }
        self._insert_new([t for t in threats if t["id"] not in existing])
        for t in threats:
            if t["id"] in existing:
                self._upsert_threat(t)

    def _cite(self, citations: list[dict], subject: str, subject_id: str) -> None:
        rows = [{"source_id": source_id(self.w, c["url"]), "quote": c["quote"]} for c in citations]
        replace_children(self.w, "citation", subject, subject_id, ("source_id", "quote"), rows)

    def _upsert_threat(self, t: dict) -> None:
        w, tid = self.w, t["id"]
        values = {k: t[k] for k in THREAT_FIELDS} | {"issuer_id": self.actor_ids[t["issuer"]]}
        self._upsert("threat", "threats", tid, values)
        replace_children(
            w, "threat_target", "threat_id", tid, "actor_id", [{"actor_id": self.actor_ids[x]} for x in t["targets"]]
        )
        replace_children(w, "threat_tag", "threat_id", tid, "tag", [{"tag": x} for x in t["tags"]])
        self._cite(t["sources"], "threat_id", tid)
        if t["keep_events"]:
            return
        existing = {r[0] for r in self.conn.execute("SELECT id FROM event WHERE threat_id = ?", (tid,))}
        kept = set()
        for eid, e in _event_ids(tid, t["events"], existing):
            kept.add(eid)
            values = {
                "threat_id": tid,
                "kind": e["kind"],
                "occurred_on": e["on"],
                "what": e["what"],
                "outcome": e["outcome"],
                "due": e["due"],
                "cameo": e["cameo"],
            }
            self._upsert("event", "events", eid if eid in existing else None, {"id": eid, **values})
            self._cite(e["sources"], "event_id", eid)
        for gone in sorted(existing - kept):
            delete_event(w, gone)

    def _source_ids(self, urls: Iterable[str]) -> dict[str, int]:
        """The ids of these sources, adding (and logging) those not there yet."""
        urls = list(dict.fromkeys(urls))
        if not urls:
            return {}
        before = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM source").fetchone()[0]
        self.conn.executemany("INSERT INTO source (url) VALUES (?) ON CONFLICT (url) DO NOTHING", [(u,) for u in urls])
        ids: dict[str, int] = {}
        for start in range(0, len(urls), 900):
            chunk = urls[start : start + 900]
            ids.update(
                self.conn.execute(
                    f"SELECT url, id FROM source WHERE url IN ({', '.join('?' * len(chunk))})", chunk
                ).fetchall()
            )
        new = sorted(i for i in ids.values() if i > before)
        self.w.log_inserts("source", new)
        self.counts.bump(self.counts.added, "sources", len(new))
        return ids

    def _insert_new(self, threats: list[dict]) -> None:
        if not threats:
            return
        conn = self.conn
        events = [(t["id"], eid, e) for t in threats for eid, e in _event_ids(t["id"], t["events"], set())]
        source_of = self._source_ids(
            [c["url"] for t in threats for c in t["sources"]] + [c["url"] for _, _, e in events for c in e["sources"]]
        )
        conn.executemany(
            "INSERT INTO threat (id, issuer_id, made_on, statement, trigger, consequence, category, cameo, deadline) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(t["id"], self.actor_ids[t["issuer"]], *(t[k] for k in THREAT_FIELDS)) for t in threats],
        )
        conn.executemany(
            "INSERT INTO threat_target (threat_id, actor_id) VALUES (?, ?)",
            [(t["id"], self.actor_ids[x]) for t in threats for x in t["targets"]],
        )
        conn.executemany(
            "INSERT INTO threat_tag (threat_id, tag) VALUES (?, ?)", [(t["id"], x) for t in threats for x in t["tags"]]
        )
        conn.executemany(
            "INSERT INTO event (id, threat_id, kind, occurred_on, what, outcome, due, cameo) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(eid, tid, e["kind"], e["on"], e["what"], e["outcome"], e["due"], e["cameo"]) for tid, eid, e in events],
        )
        conn.executemany(
            "INSERT INTO citation (source_id, threat_id, event_id, quote) VALUES (?, ?, ?, ?)",
            [(source_of[c["url"]], t["id"], None, c["quote"]) for t in threats for c in t["sources"]]
            + [(source_of[c["url"]], None, eid, c["quote"]) for _, eid, e in events for c in e["sources"]],
        )
        ids = [t["id"] for t in threats]
        self.w.log_inserts("threat", ids)
        summary.refresh(conn, ids)
        search.index_threats(conn, ids)
        self.counts.bump(self.counts.added, "threats", len(threats))
        self.counts.bump(self.counts.added, "events", len(events))


def _event_ids(threat_id: str, events: list[dict], existing: set[str]):
    """Each event with its id: the one given, or the next free `threat#n`."""
    numbers = [int(i.rsplit("#", 1)[1]) for i in existing | {e["id"] for e in events if e["id"]}]
    next_n = max(numbers, default=0) + 1
    for e in events:
        eid = e["id"]
        if eid is None:
            eid, next_n = f"{threat_id}#{next_n}", next_n + 1
        yield eid, e
