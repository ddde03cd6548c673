"""The write side of `Tracker`: add, edit, delete, history and undo.

Each public method is one command run: it checks everything first, then writes in one
transaction through a `Writer`, so a refused command writes nothing and `undo` reverts a run
whole. Kept apart from `service.py` so that each file stays about one thing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import NamedTuple

from redlines.domain import dates, validation
from redlines.domain.checks import ACTOR_KINDS, EVENT_ID, SLUG, THREAT_ID
from redlines.domain.checks import choice as _choice
from redlines.domain.checks import limit as _limit
from redlines.domain.checks import text as _text
from redlines.domain.outcomes import CATEGORIES
from redlines.errors import BadInput, Conflict, NotFound
from redlines.schema import THREAT_OPTIONAL_TEXT
from redlines.store import queries, records
from redlines.store.write import Writer, current_author, writing

_WHOLE = "edit and delete need the whole id"


class Record(NamedTuple):
    """A record named on the command line: which table, its key, and how to show it."""

    kind: str  # actor, threat or event
    key: str | int
    label: str


class Recorder:
    """The write half of a `Tracker`, which holds it: it reads through that tracker (its
    connection, as-of date, and how it resolves actors, threats and dates) and never the other
    way round."""

    def __init__(self, reader):
        self.reader = reader

    @property
    def conn(self):
        return self.reader.conn

    # --- checking input ------------------------------------------------------------------------

    def _date(self, text: str, field: str, *, past: bool, base: str | None = None) -> str:
        """A date given for `field`, as a stored ISO string; relative forms count from the
        stored date `base` when one is given (a deadline from its threat's date)."""
        start = dates.FuzzyDate.from_iso(base).start() if base else None
        return self.reader.read_date(text, field, past=past, base=start).iso()

    def _sources(self, urls, quotes) -> list[tuple[str, str | None]]:
        urls, quotes = list(urls or []), list(quotes or [])
        if len(quotes) > len(urls):
            raise BadInput("each --quote needs a --source (the URL it is quoted from), given in the same order")
        return [
            (_text(u, "sources"), _text(q, "quotes", required=False) if i < len(quotes) else None)
            for i, (u, q) in enumerate(zip(urls, quotes + [None] * len(urls), strict=False))
        ]

    def _actor_ids(self, names) -> list[int]:
        return list(dict.fromkeys(self.reader.resolve_actor(a)["id"] for a in names or []))

    def _new_threat_id(self, issuer: str, statement: str) -> str:
        words = [w for w in re.findall(r"[a-z0-9]+", statement.lower()) if w not in _STOP][:4]
        base = "-".join([issuer, *words])[:48].strip("-") or issuer
        taken = queries.threat_ids_from(self.conn, base)
        n, candidate = 1, base
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def _check_event(self, kind: str, outcome: str | None, due: str | None) -> None:
        """The event rules of `validation`, said with the options that set each field."""
        for problem in validation.event_problems(kind, outcome, due):
            raise BadInput(problem.message, field=problem.field)

    def _check_actor(self, slug: str, name: str | None, aliases, of: str | None = None) -> list[str] | None:
        """Refuse a new or edited actor whose slug, name or an alias another actor answers to
        (compared by `validation.name_key`), or that would speak for itself through `of` (a slug).
        `name` and `aliases` None keep what is stored. Returns the aliases, checked, without repeats."""
        if aliases is not None:
            aliases = list(dict.fromkeys(_text(a, "aliases") for a in aliases))
        actors = {a.slug: a for a in records.actor_names(self.conn)}
        stored = actors.get(slug) or validation.ActorNames(slug, None, [])
        actors[slug] = validation.ActorNames(
            slug, stored.name if name is None else name, stored.aliases if aliases is None else aliases
        )
        for _, problem in validation.name_clashes(actors.values(), {slug}):
            if name is not None or aliases is not None:  # a clash stored before the rule is left alone
                raise Conflict(problem.text())
        if of is not None:
            speaks_for = records.speaks_for(self.conn)
            speaks_for[slug] = of
            for _, problem in validation.speaks_for_problems(speaks_for, [slug]):
                raise BadInput(problem.text())
        return aliases

    # --- add -----------------------------------------------------------------------------------

    def add_actor(self, slug: str, *, name: str, kind: str = "person", of: str | None = None, aliases=()) -> str:
        if not SLUG.fullmatch(slug or ""):
            raise BadInput(
                f"the slug {slug!r} is not valid: use 1-64 lowercase letters, digits and -, "
                "starting with a letter or digit"
            )
        name = _text(name, "name")
        _choice("kind", kind, ACTOR_KINDS)
        if queries.actor_by_slug(self.conn, slug):
            raise Conflict(f"the slug {slug!r} is taken", ["see `redlines actors`"])
        of_actor = self.reader.resolve_actor(of) if of else None
        of_id = of_actor["id"] if of_actor else None
        aliases = self._check_actor(slug, name, list(aliases or []), of_actor["slug"] if of_actor else None)
        with writing(self.conn, f"add actor {slug}") as w:
            actor_id = w.insert("actor", {"slug": slug, "name": name, "kind": kind, "of_id": of_id})
            for a in aliases:
                w.insert("alias", {"actor_id": actor_id, "alias": a})
        return slug

    def add_threat(
        self,
        *,
        by: str,
        on: str,
        said: str,
        against=(),
        category: str | None = None,
        deadline: str | None = None,
        sources=(),
        quotes=(),
        tags=(),
        threat_id: str | None = None,
        **texts: str | None,
    ) -> str:
        """Record a threat; returns its id. `texts`: its optional text fields, by name
        (`schema.THREAT_OPTIONAL_TEXT`: trigger, consequence, cameo)."""
        unknown = sorted(set(texts) - set(THREAT_OPTIONAL_TEXT))
        if unknown:
            raise TypeError(f"add_threat() got unexpected keyword arguments: {', '.join(unknown)}")
        issuer = self.reader.resolve_actor(by)
        made_on = self._date(on, "made_on", past=True)
        values = {
            "issuer_id": issuer["id"],
            "made_on": made_on,
            "statement": _text(said, "statement"),
            **{k: _text(texts.get(k), k, required=False) for k in THREAT_OPTIONAL_TEXT},
            "category": category or "other",
            "deadline": self._date(deadline, "deadline", past=False, base=made_on) if deadline else None,
        }
        _choice("category", values["category"], CATEGORIES)
        targets = self._actor_ids(against)
        tags = list(dict.fromkeys(_text(t, "tags") for t in tags or []))
        cited = self._sources(sources, quotes)
        if threat_id is not None:
            if not THREAT_ID.fullmatch(threat_id):
                raise BadInput(f"the id {threat_id!r} is not valid: use letters, digits and -")
            if queries.threat_exists(self.conn, threat_id):
                raise Conflict(f"a threat with the id {threat_id!r} exists already")
        with writing(self.conn, "add threat") as w:
            tid = threat_id or self._new_threat_id(issuer["slug"], values["statement"])
            w.command = f"add threat {tid}"
            w.insert("threat", {"id": tid, **values})
            for actor_id in targets:
                w.insert("threat_target", {"threat_id": tid, "actor_id": actor_id})
            for tag in tags:
                w.insert("threat_tag", {"threat_id": tid, "tag": tag})
            for url, quote in cited:
                records.cite(w, "threat_id", tid, url, quote)
        return tid

    def add_event(
        self,
        threat_id: str,
        *,
        kind: str,
        on: str,
        what: str,
        outcome: str | None = None,
        due: str | None = None,
        sources=(),
        quotes=(),
        cameo: str | None = None,
    ) -> str:
        tid = self.reader.resolve_threat(threat_id)
        occurred_on = self._date(on, "on", past=True)
        values = {
            "threat_id": tid,
            "kind": kind,
            "occurred_on": occurred_on,
            "what": _text(what, "what"),
            "outcome": outcome,
            "due": self._date(due, "due", past=False, base=occurred_on) if due else None,
            "cameo": _text(cameo, "cameo", required=False),
        }
        self._check_event(kind, outcome, values["due"])
        cited = self._sources(sources, quotes)
        with writing(self.conn, "add event") as w:
            eid = records.next_event_id(self.conn, tid)
            w.command = f"add event {eid}"
            w.insert("event", {"id": eid, **values})
            for url, quote in cited:
                records.cite(w, "event_id", eid, url, quote)
        return eid

    # --- edit and delete -----------------------------------------------------------------------

    def resolve_record(self, text: str) -> Record:
        """The record a whole id names, as of the as-of date: a threat id, an event id
        (`THREAT#N`, with the threat's whole id) or an actor's slug. What changes or destroys
        needs the whole id: the start of one is refused with the candidates, and a record hidden
        by the as-of date is not found."""
        text = text.strip()
        as_of = self.reader.as_of_iso
        when = f" as of {as_of}" if self.reader.as_of_given else ""
        if "#" in text:
            m = EVENT_ID.fullmatch(text)
            if m and queries.visible_event(self.conn, f"{m[1]}#{int(m[2])}", as_of):
                eid = f"{m[1]}#{int(m[2])}"
                return Record("event", eid, f"event {eid}")
            if m and queries.visible_threat(self.conn, m[1], as_of):
                hint = f"its events are listed by `redlines show {m[1]}`"
                raise NotFound(f"threat {m[1]} has no event #{int(m[2])}{when}", [hint])
            if m:
                candidates = [
                    f"{tid}#{int(m[2])}"
                    for tid in queries.threat_ids_with_prefix(self.conn, m[1], as_of)
                    if queries.visible_event(self.conn, f"{tid}#{int(m[2])}", as_of)
                ]
                if candidates:
                    raise Conflict(f"{text!r} is not a whole event id; {_WHOLE}", candidates[:10])
            raise NotFound(
                f"no event has the id {text!r}{when}",
                ["an event id is THREAT#N with the threat's whole id; `redlines show THREAT_ID` lists them"],
            )
        if THREAT_ID.fullmatch(text) and queries.visible_threat(self.conn, text, as_of):
            return Record("threat", text, f"threat {text}")
        actor = queries.actor_by_slug(self.conn, text)
        if actor:
            return Record("actor", actor["id"], f"actor {actor['slug']}")
        key = text.casefold()
        named = sorted(
            {
                r["slug"]
                for r in queries.actor_names(self.conn)
                if key in (r["slug"], r["name"].casefold(), (r["alias"] or "").casefold())
            }
        )
        if named:
            raise NotFound(
                f"{text!r} is not an actor's slug; {_WHOLE}", [f"did you mean the actor {', '.join(named)}?"]
            )
        candidates = [f"threat {t}" for t in queries.threat_ids_with_prefix(self.conn, text, as_of)] if text else []
        candidates += [f"actor {a}" for a in queries.actor_slugs_with_prefix(self.conn, text)] if text else []
        if candidates:
            raise Conflict(f"{text!r} is not a whole id; {_WHOLE}", candidates[:10])
        known = queries.threat_ids_like(self.conn, text, as_of) + list(queries.actor_slugs(self.conn).values())
        near = difflib.get_close_matches(text, known, n=3, cutoff=0.6)
        raise NotFound(
            f"no threat id, event id (THREAT#N) or actor slug is {text!r}{when}",
            [f"did you mean: {', '.join(near)}?"] if near else ["see `redlines list` and `redlines actors`"],
        )

    def edit(self, record_id: str, **given) -> tuple[Record, int]:
        """Change the given fields of a threat, event or actor; returns it and how many rows changed.
        Text given as "" clears an optional field; --against, --tag and --alias replace their lists;
        --source adds a citation."""
        rec = self.resolve_record(record_id)
        given = {k: v for k, v in given.items() if v is not None}
        allowed = _EDITABLE[rec.kind]
        wrong = sorted(set(given) - allowed)
        if wrong:
            raise BadInput(
                f"{', '.join(_OPTION.get(k, f'--{k}') for k in wrong)} cannot be changed on a {rec.kind}",
                [f"a {rec.kind} takes: {', '.join(sorted(_OPTION.get(k, f'--{k}') for k in allowed))}"],
            )
        if not given:
            raise BadInput(f"nothing to change: give the options to change on the {rec.kind}")
        edit = getattr(self, f"_edit_{rec.kind}")
        with writing(self.conn, f"edit {rec.label}") as w:
            edit(w, rec, given)
        return rec, w.changes

    def _edit_actor(self, w: Writer, rec: Record, given: dict) -> None:
        row = w.row("actor", rec.key)
        values = {}
        if "name" in given:
            values["name"] = _text(given["name"], "name")
        if "kind" in given:
            _choice("kind", given["kind"], ACTOR_KINDS)
            values["kind"] = given["kind"]
        of = None
        if "of" in given:
            of_actor = self.reader.resolve_actor(given["of"]) if given["of"] else None
            values["of_id"], of = (of_actor["id"], of_actor["slug"]) if of_actor else (None, None)
        aliases = self._check_actor(row["slug"], values.get("name"), given.get("aliases"), of)
        w.update("actor", rec.key, values)
        if aliases is not None:
            records.replace_children(w, "alias", "actor_id", rec.key, "alias", [{"alias": a} for a in aliases])

    def _edit_threat(self, w: Writer, rec: Record, given: dict) -> None:
        row = w.row("threat", rec.key)
        values = {}
        if "by" in given:
            values["issuer_id"] = self.reader.resolve_actor(given["by"])["id"]
        if "on" in given:
            values["made_on"] = self._date(given["on"], "made_on", past=True)
        if "said" in given:
            values["statement"] = _text(given["said"], "statement")
        for key in THREAT_OPTIONAL_TEXT:
            if key in given:
                values[key] = _text(given[key], key, required=False)
        if "category" in given:
            _choice("category", given["category"], CATEGORIES)
            values["category"] = given["category"]
        if "deadline" in given:
            made_on = values.get("made_on", row["made_on"])
            values["deadline"] = (
                self._date(given["deadline"], "deadline", past=False, base=made_on) if given["deadline"] else None
            )
        w.update("threat", rec.key, values)
        if "against" in given:
            records.replace_children(
                w,
                "threat_target",
                "threat_id",
                rec.key,
                "actor_id",
                [{"actor_id": i} for i in self._actor_ids(given["against"])],
            )
        if "tags" in given:
            tags = list(dict.fromkeys(_text(t, "tags") for t in given["tags"]))
            records.replace_children(w, "threat_tag", "threat_id", rec.key, "tag", [{"tag": t} for t in tags])
        for url, quote in self._sources(given.get("sources"), given.get("quotes")):
            records.cite(w, "threat_id", rec.key, url, quote)

    def _edit_event(self, w: Writer, rec: Record, given: dict) -> None:
        row = w.row("event", rec.key)
        values = {}
        if "kind" in given:
            values["kind"] = given["kind"]
        if "on" in given:
            values["occurred_on"] = self._date(given["on"], "on", past=True)
        if "what" in given:
            values["what"] = _text(given["what"], "what")
        if "outcome" in given:
            values["outcome"] = given["outcome"] or None
        if "due" in given:
            occurred_on = values.get("occurred_on", row["occurred_on"])
            values["due"] = self._date(given["due"], "due", past=False, base=occurred_on) if given["due"] else None
        if "cameo" in given:
            values["cameo"] = _text(given["cameo"], "cameo", required=False)
        merged = {**row, **values}
        self._check_event(merged["kind"], merged["outcome"], merged["due"])
        w.update("event", rec.key, values)
        for url, quote in self._sources(given.get("sources"), given.get("quotes")):
            records.cite(w, "event_id", rec.key, url, quote)

    def describe_delete(self, record_id: str) -> tuple[Record, list[str]]:
        """What `delete` would remove, for the question asked first; refuses what cannot go."""
        rec = self.resolve_record(record_id)
        if rec.kind == "actor":
            refs = records.actor_references(self.conn, rec.key)
            if refs:
                raise Conflict(f"{rec.label} is still referred to; delete or edit these first", refs[:20])
            return rec, [rec.label]
        if rec.kind == "event":
            return rec, [rec.label]
        events = queries.event_ids_of(self.conn, rec.key)
        return rec, [rec.label] + [f"event {e}" for e in events]

    def delete(self, record_id: str) -> Record:
        rec, _ = self.describe_delete(record_id)
        with writing(self.conn, f"delete {rec.label}") as w:
            {"actor": records.delete_actor, "threat": records.delete_threat, "event": records.delete_event}[rec.kind](
                w, rec.key
            )
        return rec

    # --- history and undo ----------------------------------------------------------------------

    def actor_slugs(self) -> dict[int, str]:
        """Each actor's slug by its row id: how history names the actors a change refers to."""
        return queries.actor_slugs(self.conn)

    def history(self, limit: int | None = None, author: str | None = None) -> list[dict]:
        return list(self.history_stream(limit, author))

    def history_stream(self, limit: int | None = None, author: str | None = None) -> Iterator[dict]:
        """Runs with their changes, newest first (with `author`, that author's alone), read a batch
        of runs at a time."""
        runs = records.runs(self.conn, _limit(limit), _author(author))

        def batches() -> Iterator[dict]:
            for start in range(0, len(runs), 500):
                batch = runs[start : start + 500]
                changes = records.changes(self.conn, [r["id"] for r in batch])
                for r in batch:
                    yield _logged(r, changes.get(r["id"], []))

        return batches()

    def count_runs(self, author: str | None = None) -> int:
        return records.count_runs(self.conn, _author(author))

    def last_run(self) -> dict:
        """The run `undo` would take back: the caller's newest run that no run has undone yet
        (when that is an undo, taking it back redoes what it undid)."""
        return self.history_of(self._own_last_run()["id"])

    def _own_last_run(self):
        author = current_author(self.conn)
        found = records.last_run(self.conn, author)
        if found is None:
            if not records.count_runs(self.conn):
                raise NotFound("there is nothing to undo: no change has been recorded")
            raise NotFound(
                f"there is nothing to undo: no run of yours ({author}) is left to take back",
                ["`redlines history` lists every run with its author; `redlines undo --run N` takes back one"],
            )
        return found

    def run_to_undo(self, run_id: int | None = None) -> dict:
        """The run `undo` (or `undo --run N`) would take back, with its changes; refuses a run
        that does not exist or has been undone already."""
        if run_id is None:
            return self.last_run()
        return self.history_of(self._undoable(run_id)["id"])

    def _undoable(self, run_id: int):
        found = records.run_by_id(self.conn, run_id)
        if found is None:
            raise NotFound(f"there is no run #{run_id}", ["`redlines history` lists the runs"])
        chain, by = [], records.undone_by(self.conn, run_id)
        while by is not None:  # undone, redone, undone again...: the newest of them is in effect
            chain.append(by)
            by = records.undone_by(self.conn, by["id"])
        if chain:
            last = chain[-1]
            if len(chain) % 2:
                raise Conflict(
                    f"run #{run_id} ({found['command']}) was undone already by run #{last['id']} ({_who(last)})",
                    [f"`redlines undo --run {last['id']}` redoes it"],
                )
            raise Conflict(
                f"run #{run_id} ({found['command']}) was undone and redone; run #{last['id']} ({_who(last)}) "
                "redid it last",
                [f"`redlines undo --run {last['id']}` takes it back"],
            )
        return found

    def history_of(self, run_id: int) -> dict:
        found = records.run_by_id(self.conn, run_id)
        return _logged(found, records.changes(self.conn, [run_id]).get(run_id, []))

    def undo(self, expected_run: int | None = None, run_id: int | None = None) -> None:
        """Take back a run whole, as a run of its own (so an undo can be undone): run `run_id`,
        else the caller's newest run not undone yet. Refused (nothing written) when a later run
        changed a row the undo would write: an undo never overwrites a later edit."""
        import sqlite3

        if self.reader.as_of_given:
            raise BadInput(
                "undo takes back a run of the record as it stands today, not as of another date",
                ["run it without --as-of"],
            )
        with writing(self.conn, "undo") as w:
            target = self._undoable(run_id) if run_id is not None else self._own_last_run()
            if expected_run is not None and target["id"] != expected_run:
                raise Conflict(
                    "the database changed while you were asked; nothing was undone", ["run `redlines undo` again"]
                )
            w.command, w.undoes = f"undo #{target['id']} ({target['command']})", target["id"]
            # The rows the run wrote, then (after reverting) every row the undo wrote, which
            # includes what hangs off a threat it removes: none may have changed since the run.
            _refuse_later(target, records.later_runs_on_rows_of(self.conn, target["id"], after=target["id"]))
            try:
                records.revert(w, records.changes(self.conn, [target["id"]]).get(target["id"], []))
            except sqlite3.IntegrityError:  # a record made later still refers to one the run added
                raise Conflict(
                    f"run #{target['id']} ({target['command']}) cannot be undone: records made since refer to "
                    "what it added; nothing was undone",
                    ["see `redlines history`; undo or delete those records first"],
                ) from None
            if w.run_id is not None:
                later = records.later_runs_on_rows_of(self.conn, w.run_id, after=target["id"], before=w.run_id)
                _refuse_later(target, later)


def _refuse_later(target, later: list) -> None:
    if later:
        raise Conflict(
            f"run #{target['id']} ({target['command']}) cannot be undone: later run(s) changed the same "
            "records, and undoing it would overwrite them; nothing was undone",
            [f"#{r['id']} {r['at']} {_who(r)}: {r['command']}" for r in later[-10:]]
            + ["undo those first (newest first), or edit the records by hand"],
        )


def _author(author: str | None) -> str | None:
    if author is not None and not author.strip():
        raise BadInput("--author needs a name", ["`redlines history` shows each run's author"])
    return None if author is None else author.strip()


def _who(r) -> str:
    return r["author"] or "author unknown"


def _logged(r, changes: list[dict]) -> dict:
    return {
        "run": r["id"],
        "at": r["at"],
        "author": r["author"],
        "command": r["command"],
        "undoes": r["undoes"],
        "changes": [_change(c) for c in changes],
    }


def _change(c: dict) -> dict:
    """One logged row change, as history shows it: the fields that differ, before and after."""
    before, after = c["before"] or {}, c["after"] or {}
    fields = {
        k: [before.get(k), after.get(k)]
        for k in dict.fromkeys([*before, *after])
        if before.get(k) != after.get(k) and k != "id"
    }
    return {"table": c["table"], "id": c["row_id"], "op": c["op"], "fields": fields}


_STOP = {
    "the",
    "a",
    "an",
    "of",
    "to",
    "if",
    "and",
    "or",
    "will",
    "be",
    "is",
    "that",
    "would",
    "in",
    "on",
    "with",
    "for",
    "he",
    "she",
    "it",
    "they",
    "we",
    "i",
    "his",
    "its",
}

_EDITABLE = {
    "actor": {"name", "kind", "of", "aliases"},
    "threat": {
        "by",
        "on",
        "said",
        "against",
        "category",
        "deadline",
        "tags",
        "sources",
        "quotes",
        *THREAT_OPTIONAL_TEXT,
    },
    "event": {"kind", "on", "what", "outcome", "due", "cameo", "sources", "quotes"},
}
_OPTION = {
    "name": "--name",
    "kind": "--kind",
    "of": "--of",
    "aliases": "--alias",
    "by": "--by",
    "on": "--on",
    "said": "--said",
    "against": "--against",
    "trigger": "--if",
    "consequence": "--then",
    "category": "--category",
    "deadline": "--deadline",
    "tags": "--tag",
    "cameo": "--cameo",
    "sources": "--source",
    "quotes": "--quote",
    "what": "--what",
    "outcome": "--outcome",
    "due": "--due",
}
