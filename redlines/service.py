"""`Tracker`: everything the commands do, callable from Python.

    from redlines.service import Tracker
    t = Tracker("redlines.db", as_of="2025-08-12")
    t.report()["rows"]

The CLI is a thin shell over this class; it holds the rules of the application (which actor a
name means, what the as-of date hides, how a report is shaped), and leaves SQL to the store.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date
from pathlib import Path

from redlines import DOCUMENT_VERSION
from redlines.domain import dates, outcomes
from redlines.domain.checks import EVENT_ID, choice
from redlines.domain.checks import limit as _limit
from redlines.domain.filters import Filters
from redlines.errors import BadInput, Conflict, DatabaseProblem, NotFound
from redlines.paths import user_path
from redlines.recording import Recorder
from redlines.resources import data_dir
from redlines.schema import EVENT, THREAT_AS_STORED
from redlines.store import engine, queries, records, sqlite
from redlines.store.write import writing

REPORT_GROUPINGS = tuple(queries.GROUPINGS)
# The filters a report (and its HTML page) and a timeline take; listings take all of `Filters`.
SCORED_BY = ("actors", "category", "since", "until")
IN_TIME_BY = ("actors", "since", "until")
# Fewer tested threats than this and a group's rate is shown as too few to judge (its interval
# spans most of 0-1 anyway); the numbers stay in the JSON.
MIN_TESTED = 3
# The HTML report prints whole only the most recent threats, and charts the busiest issuers.
DOSSIERS = 200
CHART_LANES = 12
CHART_PERIODS = 24


def _writes(method):
    """A method of the `Tracker` that its `Recorder` carries out (same name, signature, docs)."""
    import functools

    @functools.wraps(method)
    def delegated(self, *args, **kwargs):
        return method(self.recorder, *args, **kwargs)

    return delegated


class Tracker:
    """A redlines database, seen as of a date (today unless `as_of` says otherwise). It reads;
    the writes are its `recorder`'s (`redlines.recording.Recorder`), named here too."""

    def __init__(self, path: str | Path | None = None, *, today: date | None = None, as_of: str | None = None):
        self.path = engine.location(path)
        self.today = today or date.today()
        self.as_of_given = as_of is not None
        self.as_of = dates.parse(as_of, self.today).end() if as_of is not None else self.today
        self._conn: sqlite3.Connection | None = None
        self.recorder = Recorder(self)

    add_actor = _writes(Recorder.add_actor)
    add_threat = _writes(Recorder.add_threat)
    add_event = _writes(Recorder.add_event)
    resolve_record = _writes(Recorder.resolve_record)
    edit = _writes(Recorder.edit)
    describe_delete = _writes(Recorder.describe_delete)
    delete = _writes(Recorder.delete)
    undo = _writes(Recorder.undo)
    history = _writes(Recorder.history)
    history_stream = _writes(Recorder.history_stream)
    history_of = _writes(Recorder.history_of)
    count_runs = _writes(Recorder.count_runs)
    last_run = _writes(Recorder.last_run)
    run_to_undo = _writes(Recorder.run_to_undo)
    actor_slugs = _writes(Recorder.actor_slugs)

    # --- the database ------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = engine.open_database(self.path, seed=self._seed)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _seed(self, conn: sqlite3.Connection) -> None:
        import tomllib

        from redlines.domain.document import check_document
        from redlines.store.load import load_document

        with open(data_dir() / "seed.toml", "rb") as f:
            doc = check_document(tomllib.load(f))
        with writing(conn, "seed (the bundled data set)") as w:
            load_document(w, doc)

    def init(self, *, empty: bool = False, force: bool = False) -> Path | None:
        """Create the database anew; returns the backup of the file it replaced, if any. An
        existing file is replaced only with `force`, under its exclusive lock (refused while
        another program holds it), after a backup that keeps every write acknowledged before."""
        self.close()
        seed = None if empty else self._seed
        if not engine.exists(self.path):
            engine.create(self.path, seed)
            return None
        if engine.is_server(self.path):
            if not force:
                hint = f"add --force to replace it (keep a copy first: redlines --db {self.path} db backup FILE)"
                raise Conflict(f"{self.path} holds tables already", [hint])
            return engine.replace(self.path, seed)
        if not force:
            raise Conflict(f"{self.path} exists already", ["add --force to replace it (a backup is kept)"])
        if not self.path.is_file() or not _is_sqlite_file(self.path):
            raise DatabaseProblem(f"{self.path} is not a SQLite database; it was not replaced")
        return engine.replace(self.path, seed)

    def import_document(
        self, doc: dict, command: str, *, dry_run: bool = False, replace: bool = False, renumber: bool = False
    ) -> dict:
        """Load a data-set document whole, or not at all (nothing is written on a dry run), merging
        by id (see `redlines.store.load`). Returns, per kind of record, how many were added,
        changed and left as they were, and under `changes` a line per record that changes."""
        from redlines.domain.document import Problems, check_document
        from redlines.store.load import load_document

        known = queries.known_slugs(self.conn)
        problems = Problems(self.as_of)
        doc = check_document(doc, known_actors=known, problems=problems)
        with writing(self.conn, command, dry_run=dry_run) as w:
            counts = load_document(w, doc, replace=replace, renumber=renumber, problems=problems)
        return _counted(
            counts,
            {
                "actors": len(doc["actors"]),
                "sources": len(doc["sources"]),
                "threats": len(doc["threats"]),
                "events": sum(len(t.get("events") or []) for t in doc["threats"]),
            },
        )

    def import_text(self, text: str, name: str, *, dry_run: bool = False, **how) -> dict:
        """Import the text of an export: JSON, JSON lines, or CSV of threats (a .csv file, or text
        whose first line is a header starting with `id,`). `how`: replace, renumber."""
        from redlines.domain.document import parse_csv, parse_document

        is_csv = name.lower().endswith(".csv") or text.lstrip("\ufeff").startswith("id,")
        doc = parse_csv(text.lstrip("\ufeff")) if is_csv else parse_document(text)
        return self.import_document(doc, f"import {name}", dry_run=dry_run, **how)

    def import_file(self, path: Path, name: str, *, dry_run: bool = False, progress=None, **how) -> dict:
        """Import a file: JSON lines are streamed, checked and written a batch at a time in one
        transaction (bounded memory, whatever the size); other forms are read whole."""
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                first = f.readline()
            if _is_jsonl(first) and not name.lower().endswith(".csv"):
                return self._import_lines(path, f"import {name}", dry_run=dry_run, progress=progress, **how)
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as e:
            raise BadInput(f"{name} is not UTF-8 text ({e.reason})") from None
        return self.import_text(text, name, dry_run=dry_run, **how)

    def _import_lines(self, path: Path, command: str, **how) -> dict:
        """`_read_lines` with the cyclic garbage collector paused: the records of a file form no
        cycles (reference counting frees each batch), and its passes over the batches held took
        a sixth of the time of checking them."""
        import gc

        paused = gc.isenabled()
        gc.disable()
        try:
            return self._read_lines(path, command, **how)
        finally:
            if paused:
                gc.enable()

    def _read_lines(
        self, path: Path, command: str, *, dry_run: bool, progress, replace: bool = False, renumber: bool = False
    ) -> dict:
        """Read the file's batches and load them as they come, in one run. Reading starts once the
        run holds the database: into a database without threats, each threat is handed over as
        the rows it writes alone (`Loader.new_threats`)."""
        from redlines.reading import checked_batches
        from redlines.store.load import BATCH, Loader

        known = queries.known_slugs(self.conn)
        seen = {"actors": 0, "sources": 0, "threats": 0, "events": 0}
        with writing(self.conn, command, dry_run=dry_run, loading=True) as w:
            loader, done = Loader(w, replace=replace, renumber=renumber), 0
            batches = checked_batches(path, known, self.as_of, BATCH, rows_only=loader.empty)
            try:
                for pending in batches:  # the last comes once the whole file is checked; a problem raises
                    loader.actors(pending["actor"])
                    loader.sources(pending["source"])
                    if pending["threat"]:
                        loader.threats(pending["threat"])
                    if pending["new"]:
                        loader.new_threats(pending["new"])
                    n = len(pending["threat"]) + len(pending["new"])
                    if n:
                        done += n
                        if progress:
                            progress(done)
                    seen["actors"] += len(pending["actor"])
                    seen["sources"] += len(pending["source"])
                    seen["threats"] += n
                    seen["events"] += sum(len(t.get("events") or ()) for t in pending["threat"])
                    seen["events"] += len(pending["new"].events)
            finally:
                batches.close()  # a reading process still running is stopped now, not when the error is freed
            loader.finish()
            if progress:
                progress(done)
        return _counted(loader.counts, seen)

    def export(self) -> dict:
        """The whole data set as lazy parts: `meta`, then `actors`, `sources`, `threats` iterators."""
        from datetime import datetime

        from redlines.store import dump

        conn = self.conn
        return {
            "meta": {
                "schema_version": DOCUMENT_VERSION,
                "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            "actors": dump.actors(conn),
            "sources": dump.sources(conn),
            "threats": dump.threats(conn, self.as_of_iso),
        }

    def status(self) -> dict:
        conn = self.conn
        count = queries.row_counts(conn)
        last = records.last_run(conn)
        return {
            "path": str(self.path),
            "size_bytes": engine.size(conn, self.path),
            "schema_version": engine.schema_revision(conn, self.path),
            "schema_head": engine.head_revision(),
            "journal_mode": sqlite.journal_mode(conn),
            "actors": count["actor"],
            "threats": count["threat"],
            "events": count["event"],
            "sources": count["source"],
            "runs": count["run"],
            "last_change": None if last is None else {"at": last["at"], "command": last["command"]},
        }

    def check(self, *, repair: bool = False) -> list[str]:
        """Problems found by SQLite's integrity and foreign-key checks and FTS5's check of the search
        index, and triggers or views that redlines did not make; empty when all is well. With
        `repair`, such triggers and views and the index are first put right (after a backup; see
        `repaired`)."""
        self.repaired: tuple[list[str], Path | None] = ([], None)
        self.foreign: list = []
        self.repairable = False
        if repair:
            self.close()
            self.repaired = engine.repair(self.path)
        conn = self.conn
        problems = sqlite.integrity_problems(conn)
        if not problems:  # the cache is compared only in a file whose rows hold together
            from redlines.store.summary import stale

            problems += [f"threat {tid}: its cached summary does not match its events" for tid in stale(conn)[:20]]
        self.foreign = engine.foreign_objects(conn)
        from redlines.store.search import INDEX_MISMATCH

        # what `repair` puts right: triggers and views redlines did not make, a stale search index
        self.repairable = bool(self.foreign) or any(p.startswith(INDEX_MISMATCH) for p in problems)
        return problems + [str(f) for f in self.foreign]

    def backup(self, to: str | Path | None = None) -> Path:
        if to is not None and ("\x00" in str(to) or not str(to).strip()):
            raise BadInput(f"{str(to)[:80]!r} is not a file name for the backup")
        target = user_path(to) if to else None
        if target is not None and target.is_dir():
            raise BadInput(f"{str(to)[:80]!r} is a folder; give a file name for the backup")
        return engine.backup(self.conn, self.path, to=target)

    # --- names and ids -----------------------------------------------------------------------

    def resolve_actor(self, text: str) -> sqlite3.Row:
        """The actor a slug, name or alias means, compared by `validation.name_key` (Unicode NFC
        and case folding); a slug wins over another actor's name or alias."""
        from redlines.domain.validation import name_key

        key = name_key(text.strip())
        rows = queries.actor_names(self.conn)
        slug = [r for r in rows if r["slug"] == key]
        if slug:
            return slug[0]
        found = {r["id"]: r for r in rows if key in (name_key(r["name"]), name_key(r["alias"]) if r["alias"] else None)}
        if len(found) == 1:
            return next(iter(found.values()))
        if found:
            raise Conflict(
                f"{text!r} could mean several actors", [f"{r['slug']} ({r['name']})" for r in found.values()]
            )
        by_name: dict[str, sqlite3.Row] = {}
        for r in rows:
            for name in (r["slug"], r["name"], r["alias"]):
                if name:
                    by_name.setdefault(name_key(name), r)
        near = difflib.get_close_matches(key, list(by_name), n=8, cutoff=0.6)
        slugs = list(dict.fromkeys(f"{by_name[n]['slug']} ({by_name[n]['name']})" for n in near))
        raise NotFound(
            f"no actor is called {text!r}",
            [f"did you mean: {', '.join(slugs[:3])}?"] if slugs else ["see `redlines actors`"],
        )

    def resolve_threat(self, prefix: str) -> str:
        """The id of the one threat whose id is `prefix` or starts with it, as of the as-of date."""
        if not prefix.strip():
            raise BadInput("a threat id is needed, not an empty one", ["see `redlines list`"])
        ids = queries.threat_ids_with_prefix(self.conn, prefix.strip(), self.as_of_iso)
        if prefix.strip() in ids:
            return prefix.strip()
        if len(ids) == 1:
            return ids[0]
        if ids:
            raise Conflict(f"{prefix!r} is the start of several threat ids", ids[:10])
        near = difflib.get_close_matches(
            prefix, queries.threat_ids_like(self.conn, prefix, self.as_of_iso), n=3, cutoff=0.6
        )
        raise NotFound(
            f"no threat has the id {prefix!r}" + (f" as of {self.as_of_iso}" if self.as_of_given else ""),
            [f"did you mean: {', '.join(near)}?"] if near else ["see `redlines list`"],
        )

    # --- reads -------------------------------------------------------------------------------

    @property
    def as_of_iso(self) -> str:
        """The as-of date (`as_of`) as the store compares dates: an ISO day."""
        return self.as_of.isoformat()

    def read_date(self, text: str, field: str, *, past: bool, base=None) -> dates.FuzzyDate:
        """Read a date; relative forms (+30d, in 2 weeks, tomorrow) count from `base`, else from
        the as-of date (today unless --as-of). `past` refuses a date after the as-of date."""
        try:
            d = dates.parse(text, base or self.as_of)
        except BadInput as e:
            raise BadInput("{field}: " + e.message, e.hints, field=field) from None
        if past and d.start() > self.as_of:
            raise BadInput(
                f"{{field}} {text!r} is {d.iso()}, after {self.as_of.isoformat()}: "
                "a threat or event cannot be dated in the future",
                ["future dates serve --deadline and --due"],
                field=field,
            )
        return d

    def _judging(self, grace: int | None) -> queries.Judging:
        """How to judge: as of the as-of date with this grace period; `current` when the cached
        summaries can answer, `settled` when the cached verdicts can (they are made with the
        default grace period)."""
        grace = _grace(grace)
        if not 0 <= grace <= 36_500:
            raise BadInput("{field} must be a number of days from 0 to 36,500", field="grace")
        from redlines.store.rules import cache_usable

        cached = cache_usable(self.conn)
        return queries.Judging(
            as_of=self.as_of_iso,
            grace_cutoff=outcomes.grace_cutoff_iso(self.as_of, grace),
            current=cached and queries.nothing_after(self.conn, self.as_of_iso),
            settled=cached and grace == outcomes.DEFAULT_GRACE_DAYS,
        )

    def _bounds(self, since: str | None, until: str | None) -> dict:
        first = self.read_date(since, "since", past=False) if since else None
        last = self.read_date(until, "until", past=False) if until else None
        if first and last and first.start() > last.end():
            raise BadInput(
                f"--since {since!r} ({first.iso()}) is after --until {until!r} ({last.iso()}): nothing could match",
                ["give --since the earlier date"],
            )
        return {
            "since": dates.starts_on_or_after(first.start()) if first else None,
            "until": dates.starts_on_or_before(last.end()) if last else None,
        }

    def where(self, filters: Filters, allowed: tuple[str, ...] | None = None) -> queries.Where:
        """What the store filters by for these filters: every name resolved and every value checked
        (so that a bad one is refused before anything is read). `allowed`: the filters a command
        takes, if not all."""
        extra = sorted(filters.given() - set(allowed)) if allowed is not None else []
        if extra:
            raise BadInput(f"{{field}} cannot narrow this command (it takes {', '.join(allowed)})", field=extra[0])
        choice("category", filters.category, outcomes.CATEGORIES)
        choice("outcome", filters.outcome, outcomes.OUTCOMES)
        return queries.Where(
            issuers=tuple(self.resolve_actor(a)["id"] for a in filters.actors),
            target=self.resolve_actor(filters.target)["id"] if filters.target else None,
            category=filters.category,
            outcome=filters.outcome,
            search=filters.search,
            **self._bounds(filters.since, filters.until),
        )

    def list_threats(
        self, filters: Filters | None = None, *, limit: int | None = None, grace: int | None = None, **given
    ) -> list[dict]:
        """Threats, newest first (see `threats_stream`)."""
        return list(self.threats_stream(filters, limit=limit, grace=grace, **given))

    def threats_stream(
        self, filters: Filters | None = None, *, limit: int | None = None, grace: int | None = None, **given
    ) -> Iterator[dict]:
        """Threats, newest first, as an iterator that reads the database a batch at a time (so
        that a listing of every threat is written as it comes, in bounded memory). The filters
        (`Filters`, or its fields as keywords) are checked now, before the first threat is read."""
        where = self.where(Filters.of(filters, **given))
        cursor = queries.threats_cursor(self.conn, self._judging(grace), where, limit=_limit(limit))

        def batches() -> Iterator[dict]:
            while rows := cursor.fetchmany(500):
                yield from self._threat_objects([dict(r) for r in rows])

        return batches()

    def count_threats(self, filters: Filters | None = None, *, grace: int | None = None, **given) -> int:
        """How many threats `threats_stream` gives without a limit."""
        where = self.where(Filters.of(filters, **given))
        return queries.count_threats(self.conn, self._judging(grace), where)

    def dossiers(
        self,
        filters: Filters | None = None,
        *,
        grace: int | None = None,
        limit: int = DOSSIERS,
        lanes: int = CHART_LANES,
        periods: int = CHART_PERIODS,
        **given,
    ) -> dict:
        """What the HTML report shows besides the scorecard, in memory bounded by `limit`,
        `lanes` and `periods` whatever the number of threats: `threats`, the `limit` most recent
        (newest first) with their events, sources and targets' names, as `show` gives them;
        `total`, how many threats the filters leave; `chart`, those threats counted per issuer
        and period (see `_activity`); and `filters`, the filters as given."""
        if limit < 0:
            raise BadInput("{field} must be 0 or more", field="dossiers")
        judging = self._judging(grace)
        filters = Filters.of(filters, **given)
        where = self.where(filters, SCORED_BY)
        total, issuers = queries.visible_count(self.conn, judging, where)
        ids = queries.recent_threat_ids(self.conn, judging, limit, where) if limit else []
        threats = []
        for start in range(0, len(ids), 500):  # a few hundred bound values at a time, whatever the build allows
            threats += self._dossiers_of(judging, ids[start : start + 500])
        order = {tid: n for n, tid in enumerate(ids)}
        threats.sort(key=lambda t: order[t["id"]])
        return {
            "threats": threats,
            "total": total,
            "chart": self._activity(judging, where, total, issuers, lanes, periods),
            "filters": {
                "actors": list(filters.actors),
                "category": filters.category,
                "since": filters.since,
                "until": filters.until,
                "grace": grace,
                "as_of": self.as_of_iso if self.as_of_given else None,
            },
        }

    def _dossiers_of(self, judging: queries.Judging, ids: list[str]) -> list[dict]:
        threats = self._threat_objects(queries.threats(self.conn, judging, ids=ids))
        names = queries.target_names_of(self.conn, ids)
        cited = queries.citations_of(self.conn, "threat_id", ids)  # again, with publisher and date
        events = queries.events_for(self.conn, ids, self.as_of_iso)
        cited_events = queries.citations_of(self.conn, "event_id", [e["id"] for es in events.values() for e in es])
        for t in threats:
            t["target_names"] = names.get(t["id"], [])
            t["sources"] = [_citation(s) for s in cited.get(t["id"], [])]
            t["events"] = [
                {
                    "id": e["id"],
                    **EVENT.record(e),
                    "sources": [_citation(s) for s in cited_events.get(e["id"], [])],
                }
                for e in events.get(t["id"], [])
            ]
        return threats

    def _activity(
        self, judging: queries.Judging, where: queries.Where, total: int, issuers: int, lanes: int, periods: int
    ) -> dict:
        """The threats counted per issuer (the `lanes` busiest; the others together) and period
        (at most `periods` of them, each of 1, 3, 6, 12, ... months) up to the newest threat;
        older threats than the chart's start are counted as `earlier`. By outcome."""
        if not total:
            return {"origin": None, "months": 12, "periods": 0, "lanes": [], "others": None, "earlier": {}}
        newest = queries.made_on_at(self.conn, judging, 0, where, newest=True)
        end = _month_index(newest)
        end = self.as_of.year * 12 + self.as_of.month - 1 if end is None else end
        # From the oldest hundredth on, but no further back before the oldest tenth than the
        # tenth is from the end (one threat dated a century early does not squash the rest);
        # a year at least, 50 years at most.
        p1, p10 = (_month_index(queries.made_on_at(self.conn, judging, total // k, where)) for k in (100, 10))
        start = end - 50 * 12 + 1 if p1 is None else p1
        if p10 is not None:
            start = max(start, p10 - (end - p10))
        start = min(max(start, end - 50 * 12 + 1), end - 11)
        for months in (1, 3, 6, 12, 24, 60, 120, 300, 600):
            origin = start - start % months
            if (end - origin) // months + 1 <= periods:
                break
        busiest = queries.busiest_issuers(self.conn, judging, lanes, where)
        counts = queries.activity(
            self.conn, judging, where, lanes=[b["id"] for b in busiest], origin=origin, months=months
        )
        by_lane: dict[int | None, dict] = {
            b["id"]: {"slug": b["slug"], "name": b["name"], "threats": b["threats"], "cells": {}} for b in busiest
        }
        others = {"actors": issuers - len(busiest), "threats": 0, "cells": {}}
        earlier: dict[str, int] = {}
        for lane, period, outcome, n in counts:
            row = by_lane.get(lane, others)
            if lane is None:
                others["threats"] += n
            if period < 0:
                earlier[outcome] = earlier.get(outcome, 0) + n
            cell = row["cells"].setdefault(period, {})
            cell[outcome] = cell.get(outcome, 0) + n
        return {
            "origin": origin,
            "months": months,
            "periods": (end - origin) // months + 1,
            "lanes": list(by_lane.values()),
            "others": others if others["threats"] else None,
            "earlier": earlier,
        }

    def threat_table(self, *, grace: int | None = None) -> Iterator[dict]:
        """Every threat as one flat record, for a spreadsheet: the threat object with the deadline
        set with the threat (`deadline`, what an import reads back) apart from the one in force.
        An iterator that reads the database a batch at a time, so that an export of any size is
        written in bounded memory."""
        cursor = queries.threats_cursor(self.conn, self._judging(grace))

        def batches() -> Iterator[dict]:
            while rows := [dict(r) for r in cursor.fetchmany(500)]:
                own = {r["id"]: r["own_deadline"] for r in rows}
                for t in self._threat_objects(rows):
                    yield {**t, "deadline": own[t["id"]], "deadline_in_force": t["deadline"]}

        return batches()

    def resolve_event(self, text: str) -> str:
        """The id of the event `THREAT#N` names, its threat given by any unique start of its id,
        as of the as-of date."""
        m = EVENT_ID.fullmatch(text.strip())
        if not m:
            raise NotFound(
                f"{text!r} is not an event id", ["an event id is THREAT#N, as `redlines show THREAT_ID` lists them"]
            )
        tid = self.resolve_threat(m[1])
        eid = f"{tid}#{int(m[2])}"
        if not queries.visible_event(self.conn, eid, self.as_of_iso):
            raise NotFound(
                f"threat {tid} has no event #{int(m[2])}" + (f" as of {self.as_of_iso}" if self.as_of_given else ""),
                [f"its events are listed by `redlines show {tid}`"],
            )
        return eid

    def threat(self, threat_id: str, *, grace: int | None = None, explain: bool = False) -> dict:
        """One threat's dossier: the threat object with its events and their sources; with
        `explain`, which rule decided its outcome and which event. Given an event id
        (`THREAT#N`), the dossier of its threat, with that event marked (`event`)."""
        event_id = self.resolve_event(threat_id) if "#" in threat_id else None
        tid = event_id.rsplit("#", 1)[0] if event_id else self.resolve_threat(threat_id)
        [obj] = self._threat_objects(queries.threats(self.conn, self._judging(grace), ids=[tid]))
        obj = {"schema_version": DOCUMENT_VERSION, **obj}
        events = queries.events_of(self.conn, tid, self.as_of_iso)
        cited = queries.citations_of(self.conn, "event_id", [e["id"] for e in events])
        obj["events"] = [
            {"id": e["id"], **EVENT.record(e), "sources": [_cited(s) for s in cited.get(e["id"], [])]} for e in events
        ]
        if event_id:
            obj["event"] = event_id
        if explain:
            obj["explanation"] = self._explain(tid, events, _grace(grace))
        return obj

    def _explain(self, threat_id: str, events: list[dict], grace: int) -> dict:
        own = queries.own_deadline(self.conn, threat_id)
        v = outcomes.judge(
            dates.FuzzyDate.from_iso(own) if own else None,
            [
                outcomes.Event(
                    e["kind"],
                    dates.FuzzyDate.from_iso(e["on"]),
                    e["outcome"],
                    dates.FuzzyDate.from_iso(e["due"]) if e["due"] else None,
                    e["seq"],
                    e["id"],
                )
                for e in events
            ],
            self.as_of,
            grace,
        )
        setters = [e["id"] for e in events if e["kind"] == "deadline"]
        return {
            "outcome": v.outcome,
            "rule": v.rule,
            "why": outcomes.RULES[v.rule],
            "decided_by": v.decided_by.id if v.decided_by else None,
            "deadline": v.deadline.iso() if v.deadline else None,
            "deadline_set_by": setters[-1] if setters else ("threat" if own else None),
            "tested_on": v.tested_on.iso() if v.tested_on else None,
            "as_of": self.as_of_iso,
            "grace_days": grace,
        }

    def _threat_objects(self, rows: list[dict]) -> list[dict]:
        ids = [r["id"] for r in rows]
        targets = queries.targets_of(self.conn, ids)
        tags = queries.tags_of(self.conn, ids)
        cited = queries.citations_of(self.conn, "threat_id", ids)
        return [
            {
                "id": r["id"],
                "issuer": r["issuer"],
                "issuer_name": r["issuer_name"],
                "targets": targets.get(r["id"], []),
                **{k: r[k] for k in THREAT_AS_STORED},
                "tags": tags.get(r["id"], []),
                "deadline": r["deadline"],
                "outcome": r["outcome"],
                "tested_on": r["tested_on"],
                "restated": r["restated"],
                "sources": [_cited(s) for s in cited.get(r["id"], [])],
            }
            for r in rows
        ]

    def actors(self) -> list[dict]:
        return [
            {k: a[k] for k in ("slug", "name", "kind", "of", "aliases", "threats", "targeted")}
            for a in queries.actors(self.conn, self.as_of_iso)
        ]

    def report(
        self,
        filters: Filters | None = None,
        *,
        by: str = "actor",
        grace: int | None = None,
        explain: bool = False,
        **given,
    ) -> dict:
        """The follow-through scorecard, one row per group, and the total; with `explain`, each
        row lists its threats with the rule that decided each."""
        choice("by", by, REPORT_GROUPINGS)
        judging = self._judging(grace)
        where = self.where(Filters.of(filters, **given), SCORED_BY)
        rows, total_median = queries.report(self.conn, judging, by, where)
        scored = [_scored(r, r["median_days_to_response"]) for r in rows]
        # Years in year order (a chronology); other groups, the biggest first.
        scored.sort(key=(lambda r: r["key"]) if by == "year" else (lambda r: (-r["threats"], r["key"])))
        total = {"key": "total", "label": "All"}
        for field in ("threats", *outcomes.OUTCOMES):
            total[field] = sum(r[field] for r in scored)
        report = {
            "schema_version": DOCUMENT_VERSION,
            "as_of": self.as_of_iso,
            "by": by,
            "grace_days": _grace(grace),
            "min_tested": MIN_TESTED,
            "rows": scored,
            "total": _scored(total, total_median),
        }
        if explain:
            decided = queries.decisions(self.conn, judging, by, where)
            for row in scored:
                row["threats_judged"] = decided.get(row["key"], [])
        return report

    def due(
        self,
        filters: Filters | None = None,
        *,
        within: str = "30d",
        limit: int | None = 50,
        grace: int | None = None,
        **given,
    ) -> list[dict]:
        """What to check next: deadlines coming up within the span, and deadlines passed or red
        lines crossed with no response recorded, oldest first."""
        span = within.strip()
        if re.fullmatch(r"\d+\s*[dwmy]", span):
            span = "+" + span
        try:
            horizon = self.read_date(span, "within", past=False)
        except BadInput:
            if not _beyond_the_calendar(span):
                raise
            horizon = dates.FuzzyDate.of(date.max)  # a span past 9999-12-31 reaches the end of the calendar
        if horizon.end() < self.as_of:
            raise BadInput(f"{{field}} {within!r} lies in the past; give a span such as 30d, 2w or 3m", field="within")
        where = self.where(Filters.of(filters, **given), ("actors",))
        rows = queries.due(self.conn, self._judging(grace), horizon.end().isoformat(), where, limit=_limit(limit))
        out = []
        for r in rows:
            if r["deadline_passed"]:
                status, on = "deadline passed", r["deadline"]
                days = (self.as_of - dates.FuzzyDate.from_iso(on).end()).days
            elif r["first_crossed"]:
                status, on = "crossed", r["first_crossed"]
                days = (self.as_of - dates.FuzzyDate.from_iso(on).start()).days
            else:
                status, on = "deadline ahead", r["deadline"]
                days = (self.as_of - dates.FuzzyDate.from_iso(on).end()).days
            out.append(
                {
                    "id": r["id"],
                    "issuer": r["issuer"],
                    "status": status,
                    "on": on,
                    "days": days,
                    "outcome": r["outcome"],
                    "deadline": r["deadline"],
                    "statement": r["statement"],
                }
            )
        return out

    def search(self, text: str, *, limit: int | None = None, grace: int | None = None) -> list[dict]:
        """Threats matching the words, best first, with the passages that matched (all of
        them unless `limit`)."""
        from redlines.store.search import search

        hits = search(self.conn, text, self.as_of_iso, _limit(limit))
        if not hits:
            return []
        threats = {
            t["id"]: t
            for start in range(0, len(hits), 500)
            for t in self._threat_objects(
                queries.threats(self.conn, self._judging(grace), ids=[h["id"] for h in hits[start : start + 500]])
            )
        }
        return [
            {
                **{k: threats[h["id"]][k] for k in ("id", "issuer", "made_on", "outcome", "statement")},
                "score": round(-h["score"], 4),
                "matches": h["matches"],
            }
            for h in hits
        ]

    def search_as_words(self, text: str) -> str | None:
        """The words `text` is searched for when its search syntax cannot be read (`NOT putin`,
        an unbalanced quote); None when it is searched as typed."""
        from redlines.store.search import as_searched

        return as_searched(self.conn, text)

    def count_search(self, text: str) -> int:
        """How many threats known on the as-of date match the words."""
        from redlines.store.search import count

        return count(self.conn, text, self.as_of_iso)

    def timeline(
        self, filters: Filters | None = None, *, limit: int | None = None, **given
    ) -> list[dict] | Iterator[dict]:
        """Threats made and their events, in date order: the latest `limit` of them (a list),
        or without a limit all of them (an iterator, read as it comes)."""
        where = self.where(Filters.of(filters, **given), IN_TIME_BY)
        if limit is None:
            return (dict(r) for r in queries.timeline_cursor(self.conn, self.as_of_iso, where))
        return queries.timeline(self.conn, self.as_of_iso, where, limit=_limit(limit))

    def count_timeline(self, filters: Filters | None = None, **given) -> int:
        where = self.where(Filters.of(filters, **given), IN_TIME_BY)
        return queries.count_timeline(self.conn, self.as_of_iso, where)


def _grace(grace: int | None) -> int:
    """The grace period given, else the default one (read now, so that it has one place)."""
    return outcomes.DEFAULT_GRACE_DAYS if grace is None else grace


def _beyond_the_calendar(span: str) -> bool:
    """Is `span` a relative date that reads well from an earlier day (so only its result lies
    past 9999-12-31)?"""
    try:
        dates.parse(span, date(2000, 1, 1))
    except BadInput:
        return False
    return True


def _is_jsonl(first_line: str) -> bool:
    import json

    try:
        record = json.loads(first_line)
    except (ValueError, RecursionError):  # not JSON, a number too long, nesting too deep
        return False
    return isinstance(record, dict) and "type" in record


def _counted(counts, totals: dict[str, int]) -> dict:
    """Added, changed and unchanged, per kind of record given in the data set."""
    out = {}
    for kind in ("actors", "sources", "threats", "events"):
        added, changed = counts.added.get(kind, 0), counts.changed.get(kind, 0)
        out[kind] = {"added": added, "changed": changed, "unchanged": max(0, totals.get(kind, 0) - added - changed)}
    out["changes"] = counts.details + ([f"... and {counts.more:,} more records"] if counts.more else [])
    return out


def _cited(s: dict) -> dict:
    return {"url": s["url"], "title": s["title"], "quote": s["quote"]}


def _citation(s: dict) -> dict:
    """A source as a report cites it: with its publisher and date."""
    return {k: s[k] for k in ("url", "title", "publisher", "published_on", "quote")}


def _month_index(iso: str | None) -> int | None:
    """year * 12 + month - 1 of the month a stored date starts in; None for text that is no date."""
    try:
        d = dates.FuzzyDate.from_iso(iso or "")
    except ValueError:
        return None
    return d.year * 12 + (d.month or 1) - 1


def _scored(row: dict, median_days: float | None = None) -> dict:
    counts = {o: row[o] or 0 for o in outcomes.OUTCOMES}
    tested = sum(counts[o] for o in outcomes.TESTED)
    rate = outcomes.follow_through_rate(counts["followed_through"], counts["partial"], counts["not_followed_through"])
    low, high = outcomes.wilson_interval(rate, tested)
    return {
        "key": row["key"],
        "label": row["label"],
        "threats": row["threats"],
        **counts,
        "tested": tested,
        "follow_through_rate": _round(rate),
        "rate_low": _round(low),
        "rate_high": _round(high),
        "median_days_to_response": median_days,
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _is_sqlite_file(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(16)
    return head in (b"", b"SQLite format 3\x00")
