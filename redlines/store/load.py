"""Write a checked data-set document (see `redlines.domain.document`) into the database.

An import merges by natural key (actor slug, source URL, threat id; events by id, else by
content: kind, date and text; citations by URL and quote). A key absent from a record leaves
the stored value as it is, an explicit null clears it, and nothing is deleted unless `replace`
is given (then each record is the whole truth about itself: absent keys clear, unmatched events
and citations go). Writing the same document twice changes nothing. The bundled seed and
`import` both come through here.

What needs the database to check (a new threat needs a statement, an event's outcome and due
date taken with the stored event, names unique, no circle of `of`) is checked here, with the
rules of `redlines.domain.validation`, as `add` and `edit` check them. Problems are collected
and nothing is written after the first; the caller rolls the run back (`finish` raises).

Threats new to the database go in by batches, one bulk insert a table (`store.bulk`: SQLite's
`executemany` without the tables' CHECK constraints, `checked_already`; PostgreSQL's COPY), their
rows worked out from the record alone (`prepared`, in the process that reads the file), and the
change log keeps one row for each batch, holding the keys (`Writer.log_inserts`; undo removes a
threat with everything under it); threats already there are compared and updated row by row, so
that history shows what changed. A new threat's row carries its summary and its settled verdict
(`domain.outcomes.summary`, worked out with its other rows where the file is read, and
`settled`, as the rows are written: `_verdict`), so that no statement of the load goes back over
the rows. Into a database without threats, the indexes
of the loaded tables are built after the rows (on PostgreSQL their foreign keys are checked then
too, `finish`); each batch goes into the search index as it is written, where the engine's index
takes it so (`search.batch_marks`; FTS5 merges less meanwhile, `search.merge_less`), else the new
threats in one pass at `finish`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from redlines.domain import outcomes, validation
from redlines.domain.checks import event_id, event_number
from redlines.domain.document import Problems
from redlines.errors import Conflict
from redlines.schema import DEFAULTS, NEVER, SETTLED_COLUMNS, SUMMARY_COLUMNS, THREAT_FIELDS
from redlines.schema import THREAT_REQUIRED as REQUIRED
from redlines.store import bulk, records, search
from redlines.store.sqlite import sorting_threads
from redlines.store.write import Writer

BATCH = 2000  # threats a batch; lists of their ids and URLs are bound as one JSON array (`json_each`)
# Loading into a database without threats, the indexes of these tables are built after the rows,
# each in one sort, once the new threats' verdicts are settled (`finish`).
DEFERRED_TABLES = ("threat", "threat_tag", "threat_target", "event", "citation")
DETAILS = 100  # per-record lines kept for the summary; the rest are counted


@dataclass
class LoadCounts:
    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)  # what changes, one line a record
    more: int = 0  # records changed beyond the lines kept

    def bump(self, which: dict[str, int], kind: str, n: int = 1) -> None:
        which[kind] = which.get(kind, 0) + n

    def say(self, record: str, parts: list[str]) -> None:
        if not parts:
            return
        if len(self.details) < DETAILS:
            self.details.append(f"{record}: {'; '.join(parts)}")
        else:
            self.more += 1


def load_document(
    w: Writer, doc: dict, *, replace: bool = False, renumber: bool = False, problems: Problems | None = None
) -> LoadCounts:
    """Load a checked document; `problems`, those its check found (then only more are looked for)."""
    loader = Loader(w, replace=replace, renumber=renumber, problems=problems)
    loader.actors(doc["actors"])
    loader.sources(doc["sources"])
    for start in range(0, len(doc["threats"]), BATCH):
        loader.threats(doc["threats"][start : start + BATCH])
    loader.finish()
    return loader.counts


def _listed(label: str, items: Iterable) -> list[str]:
    items = [str(x) for x in items]
    if not items:
        return []
    shown = ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")
    return [f"{label} {shown}"]


class Loader:
    """Loads one import: actors, then sources, then threats in batches; `finish` raises when
    anything was refused (the run is then rolled back)."""

    def __init__(self, w: Writer, *, replace: bool = False, renumber: bool = False, problems: Problems | None = None):
        self.w, self.conn, self.counts = w, w.conn, LoadCounts()
        self.replace, self.renumber = replace, renumber
        self.p = problems if problems is not None else Problems()
        self.conflicts: list[str] = []
        self.actor_ids: dict[str, int] = dict(self.conn.execute("SELECT slug, id FROM actor").fetchall())
        # New threats are numbered above this; into a database without threats each batch goes into the
        # search index as it is written, else they all do at `finish`, in one pass.
        self.floor: int = self.conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM threat").fetchone()[0]
        self.unsearched = False  # new threats not searchable yet
        self.deferred = self._defer_indexes() if self.floor == 0 else []
        if self.empty:
            search.merge_less(self.conn)  # until `finish`

    @property
    def refused(self) -> bool:
        return bool(self.p.count or self.conflicts)

    def finish(self) -> None:
        self.p.refuse()
        if self.conflicts:
            raise Conflict(
                f"{len(self.conflicts)} event(s) in the file have the id of a different stored event; "
                "nothing was written",
                self.conflicts[:20] + ["add --renumber to add each under the next free number of its threat"],
            )
        # A search pass here (a load into a database holding threats) reads citations by their
        # index (PostgreSQL), and the indexes of the search index's own table are built after its rows.
        with sorting_threads(self.conn):
            for table, sql in self.deferred:
                if table != "search":
                    self.conn.execute(sql)
            if self.unsearched:
                search.index_threats_after(self.conn, self.floor)
                self.unsearched = False
            for table, sql in self.deferred:
                if table == "search":
                    self.conn.execute(sql)
            self.deferred = []
        if self.empty:
            search.merge_as_usual(self.conn)

    def _defer_indexes(self) -> list[tuple[str, str]]:
        """Into a database without threats, the rows go in faster without the indexes that only
        reading uses, built after the load in one sort each (and, on PostgreSQL, without the
        foreign keys of the loaded tables, checked after it in one join each): these are dropped
        (inside the run's transaction, so a refused or dry run gets them back) and returned as
        (table, SQL that puts each back)."""
        from redlines.store.sqlite import dialect

        if dialect(self.conn) != "sqlite":
            return self.conn.defer_for_load(DEFERRED_TABLES)
        indexes = self.conn.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join('?' * len(DEFERRED_TABLES))}) ORDER BY name",
            DEFERRED_TABLES,
        ).fetchall()
        for name, _, _ in indexes:
            self.conn.execute(f'DROP INDEX "{name}"')
        return [(table, sql) for _, table, sql in indexes]

    def _given(self, record: dict, key: str) -> bool:
        """Whether the record sets `key`: given in it, or cleared by its absence under replace."""
        return key in record or self.replace

    def _update(self, table: str, row_id, values: dict) -> list[str]:
        """Change these columns of a row; the names of those that differed."""
        before = self.w.row(table, row_id)
        changed = [k for k, v in values.items() if before[k] != v]
        self.w.update(table, row_id, values)
        return changed

    # --- actors and sources ----------------------------------------------------------------------

    def actors(self, actors: list[dict]) -> None:
        actors = [a for a in actors if a["slug"]]  # one without a slug is refused already
        if not actors:
            return
        names = {a.slug: a for a in records.actor_names(self.conn)}
        speaks_for = records.speaks_for(self.conn)
        where = {}
        for a in actors:
            slug = a["slug"]
            where[slug] = a["_where"]
            stored = names.get(slug)
            if stored is None and a.get("name") is None and "name" not in a:
                self.p.add(f"{a['_where']}.name", "is required for a new actor")
            names[slug] = validation.ActorNames(
                slug,
                a.get("name") if self._given(a, "name") or stored is None else stored.name,
                (a.get("aliases") or []) if self._given(a, "aliases") or stored is None else stored.aliases,
            )
            if self._given(a, "of"):
                speaks_for[slug] = a.get("of")
        # Only the names a record sets (or a new actor's): a clash already stored is not this import's.
        naming = {a["slug"] for a in actors if a["slug"] not in self.actor_ids or self._given(a, "name")}
        naming |= {a["slug"] for a in actors if self._given(a, "aliases")}
        for slug, problem in validation.name_clashes(names.values(), naming):
            self.p.add(f"{where[slug]}.{problem.field}", problem.text())
        for slug, problem in validation.speaks_for_problems(speaks_for, list(where)):
            self.p.add(f"{where[slug]}.of", problem.text())
        if self.refused:
            return
        for a in actors:
            slug, row_id = a["slug"], self.actor_ids.get(a["slug"])
            if row_id is None:
                values = {"slug": slug, "name": a["name"], "kind": a.get("kind") or DEFAULTS["kind"]}
                self.actor_ids[slug] = self.w.insert("actor", values)
                self.counts.bump(self.counts.added, "actors")
                self.counts.say(f"actor {slug}", ["added"])
                a["_changed"] = None
            else:
                values = {k: a.get(k) or DEFAULTS.get(k) for k in ("name", "kind") if self._given(a, k)}
                a["_changed"] = self._update("actor", row_id, values)
        for a in actors:
            slug, row_id, changed = a["slug"], self.actor_ids[a["slug"]], a.pop("_changed")
            new, changed = changed is None, changed or []
            if self._given(a, "of"):
                changed += self._update("actor", row_id, {"of_id": self.actor_ids[a["of"]] if a.get("of") else None})
            parts = [_fields(["of" if c == "of_id" else c for c in changed])] if changed else []
            if self._given(a, "aliases"):
                added, removed = records.replace_children(
                    self.w, "alias", "actor_id", row_id, "alias", [{"alias": x} for x in a.get("aliases") or []]
                )
                parts += _listed("aliases added:", [x[0] for x in added])
                parts += _listed("aliases removed:", [x[0] for x in removed])
            if parts and not new:
                self.counts.bump(self.counts.changed, "actors")
                self.counts.say(f"actor {slug}", parts)

    def sources(self, sources: list[dict]) -> None:
        if self.refused:
            return
        for s in sources:
            row = self.conn.execute("SELECT id FROM source WHERE url = ?", (s["url"],)).fetchone()
            values = {k: s.get(k) for k in ("title", "publisher", "published_on") if self._given(s, k) or row is None}
            if row is None:
                self.w.insert("source", {"url": s["url"], **values})
                self.counts.bump(self.counts.added, "sources")
                self.counts.say(f"source {s['url']}", ["added"])
            else:
                changed = self._update("source", row[0], values)
                if changed:
                    self.counts.bump(self.counts.changed, "sources")
                    self.counts.say(f"source {s['url']}", [_fields(changed)])

    # --- threats -----------------------------------------------------------------------------------

    @property
    def empty(self) -> bool:
        """Whether the database held no threat when the load began: then every threat of the
        file is new (a file cannot hold one twice), and only its rows are needed (`new_threats`)."""
        return self.floor == 0

    def threats(self, threats: list[dict]) -> None:
        threats = [t for t in threats if t["id"]]  # one without an id is refused already
        if not threats:
            return
        ids = [t["id"] for t in threats]
        existing = {r[0] for r in self.conn.execute(_EXISTING, (json.dumps(ids, ensure_ascii=False),))}
        news = NewRows()
        for t in threats:
            if t["id"] not in existing:
                news.extend(prepared(t))
        self.new_threats(news)
        for t in threats:
            if t["id"] in existing:
                self._merge_threat(t)

    def new_threats(self, news: NewRows) -> None:
        """Threats new to the database, as `NewRows` gives them: checked, then written in bulk."""
        for where, problem in news.problems:
            self.p.add(where, problem)
        if not self.refused:
            self._insert_new(news)

    def _check_event(self, where: str, kind, outcome, due) -> None:
        for at, problem in _event_problems(where, kind, outcome, due):
            self.p.add(at, problem)

    def _merge_threat(self, t: dict) -> None:
        tid, where, w = t["id"], t["_where"], self.w
        values = {}
        for k in THREAT_FIELDS:
            if self._given(t, k):
                values[k] = t.get(k) or DEFAULTS.get(k)
                if k in REQUIRED and k not in t:
                    self.p.add(f"{where}.{k}", "is required (with --replace, each record is the whole threat)")
        if self._given(t, "issuer"):
            if "issuer" not in t:
                self.p.add(f"{where}.issuer", "is required (with --replace, each record is the whole threat)")
            elif t["issuer"] in self.actor_ids:  # else refused by the document check
                values["issuer_id"] = self.actor_ids[t["issuer"]]
        plan, next_n = self._plan_events(t)
        if self.refused:
            return
        changed = self._update("threat", tid, values)
        if "issuer_id" in changed:
            changed[changed.index("issuer_id")] = "issuer"
        parts = [_fields(changed)] if changed else []
        slugs = {i: slug for slug, i in self.actor_ids.items()}
        for key, table, col in (("targets", "threat_target", "actor_id"), ("tags", "threat_tag", "tag")):
            if self._given(t, key):
                rows = [{col: self.actor_ids[x] if key == "targets" else x} for x in t.get(key) or []]
                added, removed = records.replace_children(w, table, "threat_id", tid, col, rows)
                name = (lambda k: slugs.get(k[0], k[0])) if key == "targets" else (lambda k: k[0])
                parts += _listed(f"{key} added:", map(name, added)) + _listed(f"{key} removed:", map(name, removed))
        parts += self._merge_citations("threat_id", tid, t, "sources")
        parts += self._apply_events(tid, plan, next_n)
        if parts:
            self.counts.bump(self.counts.changed, "threats")
            self.counts.say(f"threat {tid}", parts)

    def _merge_citations(self, subject: str, subject_id: str, record: dict, key: str) -> list[str]:
        """Add the citations of `record[key]` not stored yet (by URL and quote; a citation without
        a quote matches any of its URL); remove the others only when null or under replace."""
        if not self._given(record, key):
            return []
        incoming = record.get(key)
        stored = records.citations(self.conn, subject, subject_id)
        matched: set[int] = set()
        added = []
        for c in incoming or []:
            found = next(
                (
                    cid
                    for cid, url, quote in stored
                    if cid not in matched and url == c["url"] and (quote == c["quote"] or c["quote"] is None)
                ),
                None,
            )
            if found is None:
                records.cite(self.w, subject, subject_id, c["url"], c["quote"])
                added.append(c["url"])
            else:
                matched.add(found)
        removed = []
        if incoming is None or self.replace:
            for cid, url, _ in stored:
                if cid not in matched:
                    self.w.delete("citation", cid)
                    removed.append(url)
        return _listed("sources added:", added) + _listed("sources removed:", removed)

    def _plan_events(self, t: dict) -> tuple[list[tuple[str, str | None, dict, dict]], int]:
        """Match the record's events to the stored ones: by id, else by content (kind, date, text).
        Returns the steps in order, each (what to do, event id, values, the incoming event):
        `update` a stored event, `insert` a new one (id None: the next free number, the second
        value returned), `delete` one (the events are null, or under replace)."""
        if "events" not in t:
            return [], 0  # absent, even under replace: a CSV row cannot carry events, so they stay
        tid = t["id"]
        stored = {r["id"]: r for r in records.events_of(self.conn, tid)}
        incoming = t["events"] or []
        match: dict[int, str] = {}
        for j, e in enumerate(incoming):  # first by id: the same id, kind and date is the same event
            s = stored.get(e["id"]) if e["id"] else None
            if s is None:
                continue
            if (s["kind"], s["on"]) == (e["kind"], e["on"]):
                match[j] = s["id"]
            elif not self.renumber:
                self.conflicts.append(
                    f"{e['_where']}: {e['id']} is a {e['kind']} on {e['on']} in the file, "
                    f"but a {s['kind']} on {s['on']} in the database ({_short(s['what'])})"
                )
        claimed = set(match.values())
        by_content: dict[tuple, list[str]] = {}
        for s in stored.values():
            if s["id"] not in claimed:
                by_content.setdefault((s["kind"], s["on"], s["what"]), []).append(s["id"])
        for j, e in enumerate(incoming):  # then by content
            if j not in match and "what" in e:
                ids = by_content.get((e["kind"], e["on"], e["what"]))
                if ids:
                    match[j] = ids.pop(0)
        plan: list[tuple[str, str | None, dict, dict]] = []
        numbers = {event_number(i) for i in stored} | records.retired_event_numbers(self.conn, tid)
        for j, e in enumerate(incoming):
            if j in match:
                s = stored[match[j]]
                values = {"kind": e["kind"], "occurred_on": e["on"]}
                for k in ("what", "outcome", "due", "cameo"):
                    values[k] = e.get(k) if self._given(e, k) else s[k]
                if values["what"] is None:
                    self.p.add(f"{e['_where']}.what", "is required (with --replace, each record is the whole event)")
                self._check_event(e["_where"], e["kind"], values["outcome"], values["due"])
                plan.append(("update", s["id"], values, e))
                continue
            if "what" not in e:
                self.p.add(f"{e['_where']}.what", "is required for a new event")
            self._check_event(e["_where"], e["kind"], e.get("outcome"), e.get("due"))
            own = e["id"] if e["id"] and e["id"] not in stored else None
            if own:
                numbers.add(event_number(own))
            values = {"kind": e["kind"], "occurred_on": e["on"]} | {
                k: e.get(k) for k in ("what", "outcome", "due", "cameo")
            }
            plan.append(("insert", own, values, e))
        if t["events"] is None or self.replace:
            kept = set(match.values())
            plan += [("delete", i, {}, {}) for i in stored if i not in kept]
        return plan, max(numbers, default=0) + 1

    def _apply_events(self, tid: str, plan: list, next_n: int) -> list[str]:
        added, changed, removed = [], [], []
        for action, eid, values, e in plan:
            if action == "update":
                edited = self._update("event", eid, values)
                if self._merge_citations("event_id", eid, e, "sources") or edited:
                    changed.append(eid)
            elif action == "insert":
                if eid is None:
                    eid, next_n = event_id(tid, next_n), next_n + 1
                self.w.insert("event", {"id": eid, "threat_id": tid, **values})
                for c in e.get("sources") or []:
                    records.cite(self.w, "event_id", eid, c["url"], c["quote"])
                added.append(eid)
            else:
                records.delete_event(self.w, eid)
                removed.append(eid)
        self.counts.bump(self.counts.added, "events", len(added))
        self.counts.bump(self.counts.changed, "events", len(changed))
        return (
            _listed("events added:", added) + _listed("events changed:", changed) + _listed("events removed:", removed)
        )

    # --- new threats, in bulk -----------------------------------------------------------------------

    def _source_ids(self, urls: Iterable[str]) -> dict[str, int]:
        """The ids of these sources, adding (and logging) those not there yet, numbered on from
        the largest id, in one bulk insert. The list is bound as one JSON value, so that each
        batch runs the same statement: a statement of its own per length of list (`IN (?, ?,
        ...)`) was kept in the connection's statement cache, some 700 KiB each, which grew the
        memory of a large import by a hundred MiB."""
        urls = list(dict.fromkeys(urls))
        if not urls:
            return {}
        ids: dict[str, int] = dict(
            self.conn.execute(
                "SELECT s.url, s.id FROM json_each(?) j JOIN source s ON s.url = j.value",
                (json.dumps(urls, ensure_ascii=False),),
            )
        )
        new = [url for url in urls if url not in ids]
        if new:
            before = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM source").fetchone()[0]
            numbers = range(before + 1, before + 1 + len(new))
            bulk.insert(self.conn, "source", ("id", "url"), list(zip(numbers, new, strict=True)))
            ids.update(zip(new, numbers, strict=True))
            self.w.log_inserts("source", list(numbers))
            self.counts.bump(self.counts.added, "sources", len(new))
        return ids

    def _insert_new(self, news: NewRows) -> None:
        """Threats new to the database, a batch in one bulk insert a table."""
        if not news:
            return
        actor_ids = self.actor_ids
        # each row with its settled verdict, worked out here (the reading process was the longer at 100k)
        threat_rows = [(tid, actor_ids[issuer], *known, *_verdict(known)) for tid, issuer, *known in news.threats]
        target_rows = [(tid, actor_ids[x]) for tid, x in news.targets]
        tag_rows, event_rows, cited, said = news.tags, news.events, news.cited, news.said
        conn = self.conn
        marks = search.batch_marks(conn) if self.empty else None  # (all rows of such a load are new)
        with checked_already(conn):
            source_of = self._source_ids([c[0] for c in cited])
            bulk.insert(conn, "threat", THREAT_COLUMNS, threat_rows)
            bulk.insert(conn, "threat_target", ("threat_id", "actor_id"), target_rows)
            bulk.insert(conn, "threat_tag", ("threat_id", "tag"), tag_rows)
            bulk.insert(conn, "event", EVENT_COLUMNS, event_rows)
            bulk.insert(
                conn,
                "citation",
                ("source_id", "threat_id", "event_id", "quote"),
                [(source_of[url], tid, eid, quote) for url, tid, eid, quote in cited],
            )
            ids = [row[0] for row in threat_rows]
            self.w.log_inserts("threat", ids)
        if marks is not None:
            search.index_batch(conn, marks)
        else:
            self.unsearched = True  # indexed by `finish`, with all the others
        counts = self.counts
        counts.bump(counts.added, "threats", len(news))
        counts.bump(counts.added, "events", len(event_rows))
        room = max(DETAILS - len(counts.details), 0)  # the lines kept; the others are counted
        for tid, n in said[:room]:
            counts.say(f"threat {tid}", [f"added, with {n} event{'s' if n != 1 else ''}"])
        counts.more += len(said[room:])


_EXISTING = "SELECT t.id FROM json_each(?) j JOIN threat t ON t.id = j.value"
# A new threat's row carries its summary (`NewRows`) and settled verdict (`_verdict`).
THREAT_COLUMNS = ("id", "issuer_id", *THREAT_FIELDS, *SUMMARY_COLUMNS, *SETTLED_COLUMNS)
EVENT_COLUMNS = ("id", "threat_id", "kind", "occurred_on", "what", "outcome", "due", "cameo", "seq")


_SAID = {"outcome": "an outcome", "due": "a due date"}  # how a message names a field it needs


@contextmanager
def checked_already(conn):
    """Bulk writes of rows that the rules of `domain.validation` and `domain.document` have
    checked already (kinds, outcomes, categories, dates at a precision, one subject a citation)
    skip the table's CHECK constraints, which say the same: SQLite evaluates each `IN (...)` list
    of them anew for every row of an `executemany`, over half the cost of writing an event.
    Only the statements prepared inside are affected (their text is the loader's own, so no
    other write shares a prepared statement with them); `db check` (integrity_check) still
    verifies every constraint of the rows."""
    conn.execute("PRAGMA ignore_check_constraints = ON")
    try:
        yield
    finally:
        conn.execute("PRAGMA ignore_check_constraints = OFF")


def _fields(names: list[str]) -> str:
    return ", ".join(dict.fromkeys(names)) + " changed"


def _short(text: str, width: int = 50) -> str:
    return repr(text if len(text) <= width else text[:width] + "…")


def _event_ids(tid: str, events: list[dict]) -> list[tuple[str, dict]]:
    """Each event of a new threat with its id: the one given, or the next free `threat#n`."""
    next_n = max((event_number(e["id"]) for e in events if e["id"]), default=0) + 1
    out = []
    for e in events:
        eid = e["id"]
        if eid is None:
            eid, next_n = event_id(tid, next_n), next_n + 1
        out.append((eid, e))
    return out


class NewRows:
    """What threat records write if they are new to the database, worked out from the records
    alone (`add`), table by table: the threats' rows (with the issuer's slug for its id), their
    targets (threat id, actor slug), tags, events' rows and citations (URL, threat, event,
    quote), and the problems they have as new threats (a threat with any adds no rows). One
    record's (`prepared`), or a batch's: the reading process of a large file sends a batch of
    rows as one of these (fewer objects to pack than one a threat, and none to build here)."""

    __slots__ = ("threats", "targets", "tags", "events", "cited", "problems", "said")

    def __init__(self) -> None:
        self.threats: list[tuple] = []
        self.targets: list[tuple[str, str]] = []
        self.tags: list[tuple[str, str]] = []
        self.events: list[tuple] = []
        self.cited: list[tuple[str, str | None, str | None, str | None]] = []
        self.problems: list[tuple[str, str]] = []  # (where, what is wrong)
        self.said: list[tuple[str, int]] = []  # (threat id, its events): a threat each, as added

    def __len__(self) -> int:
        return len(self.said)

    def add(self, t: dict) -> None:
        """A checked threat record's rows (its id given; the document check has passed it)."""
        tid = t["id"]
        events = t.get("events") or ()
        self.said.append((tid, len(events)))
        if not t.keys() >= _REQUIRED_KEYS or not all(map(_fit, events)):
            self.problems += _new_threat_problems(t, events)
            return
        targets, tags, sources = t.get("targets"), t.get("tags"), t.get("sources")
        if targets:
            self.targets += [(tid, x) for x in targets]
        if tags:
            self.tags += [(tid, x) for x in tags]
        cited = self.cited
        if sources:
            cited += [(c["url"], tid, None, c["quote"]) for c in sources]
        rows = []
        if events:
            row = rows.append
            # (without an id given, each is numbered in order, from 1)
            ided = (
                _event_ids(tid, events)
                if any(e["id"] for e in events)
                else [(f"{tid}#{n}", e) for n, e in enumerate(events, 1)]
            )
            for n, (eid, e) in enumerate(ided, 1):
                row((eid, tid, e["kind"], e["on"], e["what"], e.get("outcome"), e.get("due"), e.get("cameo"), n))
                sources = e.get("sources")
                if sources:
                    cited += [(c["url"], None, eid, c["quote"]) for c in sources]
            self.events += rows
        summarised = outcomes.summary([(r[2], r[3], r[5], r[6], r[8]) for r in rows])
        fields = [t.get(k) or default for k, default in _FIELD_DEFAULTS]
        self.threats.append((tid, t["issuer"], *fields, *summarised))

    def parts(self) -> tuple[list, ...]:
        """Its lists, in the order of `__slots__` (to cross between processes by `marshal`)."""
        return tuple(getattr(self, name) for name in self.__slots__)

    @classmethod
    def of_parts(cls, parts: tuple[list, ...]) -> NewRows:
        """The NewRows whose `parts` these are."""
        new = cls.__new__(cls)
        for name, part in zip(cls.__slots__, parts, strict=True):
            setattr(new, name, part)
        return new

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NewRows) and self.parts() == other.parts()

    def extend(self, other: NewRows) -> None:
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))


_REQUIRED_KEYS = frozenset(REQUIRED)
_UNSETTLED = (NEVER, None, None, None, None)
_MADE_ON, _DEADLINE = THREAT_FIELDS.index("made_on"), THREAT_FIELDS.index("deadline")


def _verdict(known: list) -> tuple:
    """The settled verdict of a new threat, from its row as `NewRows` keeps it, after the id and
    issuer: its fields (`THREAT_FIELDS`), then its summary (`SUMMARY_COLUMNS`)."""
    made_on = known[_MADE_ON]  # None when the document check refused it (the run is refused: nothing is written)
    if made_on is None:
        return _UNSETTLED
    return outcomes.settled(made_on, known[_DEADLINE], known[len(THREAT_FIELDS) :])


_FIELD_DEFAULTS = tuple((k, DEFAULTS.get(k)) for k in THREAT_FIELDS)


def _fit(e: dict) -> bool:
    """Whether an event of a checked record may be written as a new one (what `_event_problems`
    finds nothing in, its text given, and its date not refused by the document check, which
    reported it: the run is refused)."""
    return (
        "what" in e
        and e["on"] is not None
        and not _event_problems(e["_where"], e["kind"], e.get("outcome"), e.get("due"))
    )


def _new_threat_problems(t: dict, events) -> list[tuple[str, str]]:
    """What stops a checked threat record from being written as a new threat."""
    where = t["_where"]
    problems = [(f"{where}.{k}", "is required for a new threat") for k in REQUIRED if k not in t]
    for e in events:
        if "what" not in e:
            problems.append((f"{e['_where']}.what", "is required for a new event"))
        problems += _event_problems(e["_where"], e["kind"], e.get("outcome"), e.get("due"))
    return problems


def prepared(t: dict) -> NewRows:
    """The record's own `NewRows`, kept in it under "_new": made where the file is read (the
    reading process of a large file, beside the writes: `redlines.reading`), or here when it was not."""
    new = t.get("_new")
    if new is None:
        new = t["_new"] = NewRows()
        new.add(t)
    return new


def _event_problems(where: str, kind, outcome, due) -> list[tuple[str, str]]:
    if kind is None:
        return []  # reported by the document check
    return [
        (f"{where}.{problem.field}", problem.text(_SAID.get(problem.field, problem.field)))
        for problem in validation.event_problems(kind, outcome, due)
    ]
