"""The data-set document: what `export` writes, `import` reads and the bundled seed is.

`check_document` validates a whole document before anything is written and returns it in
canonical form, or raises `BadInput` listing every problem with where it is. Pure: no I/O.

    {"schema_version": 1,
     "actors":  [{"slug", "name", "kind", "of", "aliases": [...]}],
     "sources": [{"url", "title", "publisher", "published_on"}],
     "threats": [{"id", "issuer", "targets": [...], "made_on", "statement", "trigger",
                  "consequence", "category", "cameo", "deadline", "tags": [...],
                  "sources": [{"url", "quote"}],
                  "events": [{"id", "kind", "on", "what", "outcome", "due", "cameo",
                              "sources": [{"url", "quote"}]}]}]}
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from redlines import SCHEMA_VERSION
from redlines.domain.checks import ACTOR_KINDS, EVENT_ID, MAX_TEXT, SLUG, THREAT_ID
from redlines.domain.dates import FuzzyDate
from redlines.domain.outcomes import CATEGORIES, EVENT_KINDS, RESPONSE_OUTCOMES
from redlines.errors import BadInput

DOCUMENT_VERSION = SCHEMA_VERSION


class _Problems:
    """Problems found, in order: all are counted, the first hundred kept."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.count = 0

    def add(self, where: str, what: str) -> None:
        self.count += 1
        if len(self.items) < 100:
            self.items.append(f"{where}: {what}")


def _text(p: _Problems, where: str, value: Any, *, required: bool) -> str | None:
    if type(value) is str and 0 < len(value) <= MAX_TEXT and "\x00" not in value:
        stripped = value.strip()
        if stripped:
            return stripped
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            p.add(where, "is required")
        return None
    if not isinstance(value, str):
        p.add(where, f"should be text, not {type(value).__name__}")
        return None
    if "\x00" in value:
        p.add(where, "holds a NUL character")
        return None
    if len(value) > MAX_TEXT:
        p.add(where, f"is longer than {MAX_TEXT:,} characters")
        return None
    return value.strip()


def _date(p: _Problems, where: str, value: Any, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, (str, int)):
        p.add(where, "should be an ISO date such as 2025-01-05, 2025-01 or 2025")
        return None
    try:
        return _canonical_date(str(value))
    except ValueError:
        p.add(where, f"{value!r} is not an ISO date such as 2025-01-05, 2025-01 or 2025")
        return None


@lru_cache(maxsize=1 << 16)
def _canonical_date(text: str) -> str:
    """A stored date in canonical form; cached, as a large data set repeats its dates."""
    return FuzzyDate.from_iso(text).iso()


def _choice(p: _Problems, where: str, value: Any, choices: tuple[str, ...], default: str | None) -> str | None:
    if value is None:
        return default
    if value not in choices:
        p.add(where, f"{value!r} is not one of {', '.join(choices)}")
        return default
    return value


def _list(p: _Problems, where: str, value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        p.add(where, "should be a list")
        return []
    return value


def _obj(p: _Problems, where: str, value: Any) -> dict | None:
    if not isinstance(value, dict):
        p.add(where, "should be an object")
        return None
    return value


def _citations(p: _Problems, where: str, value: Any) -> list[dict]:
    out = []
    for i, c in enumerate(_list(p, where, value)):
        c = _obj(p, f"{where}[{i}]", c)
        if c is None:
            continue
        url = _text(p, f"{where}[{i}].url", c.get("url"), required=True)
        quote = _text(p, f"{where}[{i}].quote", c.get("quote"), required=False)
        if url:
            out.append({"url": url, "quote": quote})
    return out


def parse_document(text: str) -> dict:
    """A document from the text of an export: one JSON object, or JSON lines of typed records
    (`{"type": "actor", ...}`). Raises BadInput, with the line, when it cannot be read."""
    import json

    stripped = text.lstrip()
    if not stripped:
        raise BadInput("the data set is empty")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as e:
        whole = None
        first_error = e
    if isinstance(whole, dict) and "type" not in whole:
        return whole
    doc: dict = {"actors": [], "sources": [], "threats": []}
    for n, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+0085 and U+2028 are text
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if whole is None and n == 1:
                e = first_error
            raise BadInput(
                f"line {e.lineno if n == 1 else n}: not valid JSON ({e.msg})",
                [
                    "an import is one JSON object (export --format json) or one record a line "
                    "(export --format jsonl); nothing was written"
                ],
            ) from None
        if not isinstance(record, dict) or record.get("type") not in JSONL_TYPES:
            raise BadInput(f"line {n}: a record needs a type: one of {', '.join(JSONL_TYPES)}")
        kind = record.pop("type")
        if kind == "meta":
            doc["schema_version"] = record.get("schema_version", DOCUMENT_VERSION)
        else:
            doc[JSONL_TYPES[kind]].append(record)
    return doc


CSV_LISTS = ("targets", "tags", "sources", "quotes")
CSV_DERIVED = ("deadline_in_force", "outcome", "tested_on")  # shown in an export, never read back: outcomes are derived


def parse_csv(text: str) -> dict:
    """Threats from a spreadsheet in the shape of `export --format csv`. Events are not in it,
    so those of existing threats are kept as they are."""
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "id" not in reader.fieldnames or "issuer" not in reader.fieldnames:
        raise BadInput(
            "a CSV import needs a header row with at least id and issuer",
            ["see `redlines export --format csv` for the columns"],
        )
    threats = []
    for row in reader:
        t = {k: _uncell(v) for k, v in row.items() if k is not None and k not in CSV_DERIVED}
        for k in CSV_LISTS:
            t[k] = [x for x in (t.get(k) or "").split("\n") if x.strip()] if k in t else []
        quotes = t.pop("quotes")
        t["sources"] = [
            {"url": u, "quote": quotes[i] if i < len(quotes) and quotes[i] else None}
            for i, u in enumerate(t["sources"])
        ]
        t["keep_events"] = True
        threats.append({k: (v if v != "" else None) for k, v in t.items()})
    return {"actors": [], "sources": [], "threats": threats}


def _uncell(value: str | None) -> str | None:
    """Undo the export's guard against spreadsheet formulas (a ' before = + - @ tab or return)."""
    if value and value[0] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


JSONL_TYPES = {"meta": None, "actor": "actors", "source": "sources", "threat": "threats"}


def check_actor(p: _Problems, where: str, a: Any) -> dict | None:
    a = _obj(p, where, a)
    if a is None:
        return None
    slug = _text(p, f"{where}.slug", a.get("slug"), required=True)
    if slug and not SLUG.fullmatch(slug):
        p.add(f"{where}.slug", f"{slug!r}: use 1-64 lowercase letters, digits and -")
    aliases = [
        _text(p, f"{where}.aliases[{j}]", x, required=True)
        for j, x in enumerate(_list(p, f"{where}.aliases", a.get("aliases")))
    ]
    return {
        "slug": slug,
        "name": _text(p, f"{where}.name", a.get("name"), required=True),
        "kind": _choice(p, f"{where}.kind", a.get("kind"), ACTOR_KINDS, "person"),
        "of": _text(p, f"{where}.of", a.get("of"), required=False),
        "aliases": [x for x in aliases if x],
    }


def check_source(p: _Problems, where: str, s: Any) -> dict | None:
    s = _obj(p, where, s)
    if s is None:
        return None
    return {
        "url": _text(p, f"{where}.url", s.get("url"), required=True),
        "title": _text(p, f"{where}.title", s.get("title"), required=False),
        "publisher": _text(p, f"{where}.publisher", s.get("publisher"), required=False),
        "published_on": _date(p, f"{where}.published_on", s.get("published_on"), required=False),
    }


def check_threat(p: _Problems, where: str, t: Any) -> dict | None:
    """One threat in canonical form; the actors it names are checked by the caller (`actors_named`)."""
    t = _obj(p, where, t)
    if t is None:
        return None
    tid = _text(p, f"{where}.id", t.get("id"), required=True)
    if tid and not THREAT_ID.fullmatch(tid):
        p.add(f"{where}.id", f"{tid!r}: use letters, digits and -")
    tags = []
    for j, x in enumerate(_list(p, f"{where}.tags", t.get("tags"))):
        x = _text(p, f"{where}.tags[{j}]", x, required=True)
        if x and x not in tags:
            tags.append(x)
    targets = []
    for x in _list(p, f"{where}.targets", t.get("targets")):
        if x not in targets:
            targets.append(x)
    events, event_ids = [], set()
    for j, e in enumerate(_list(p, f"{where}.events", t.get("events"))):
        ewhere = f"{where}.events[{j}]"
        e = _obj(p, ewhere, e)
        if e is None:
            continue
        eid = _text(p, f"{ewhere}.id", e.get("id"), required=False)
        if eid is not None:
            m = EVENT_ID.fullmatch(eid)
            if not m or m[1] != tid:
                p.add(f"{ewhere}.id", f"{eid!r} should be {tid}#<number>")
            if eid in event_ids:
                p.add(f"{ewhere}.id", f"{eid!r} appears twice")
            event_ids.add(eid)
        kind = _choice(p, f"{ewhere}.kind", e.get("kind"), EVENT_KINDS, "note")
        outcome = _choice(p, f"{ewhere}.outcome", e.get("outcome"), RESPONSE_OUTCOMES, None)
        due = _date(p, f"{ewhere}.due", e.get("due"), required=kind == "deadline")
        if kind == "response" and outcome is None:
            p.add(f"{ewhere}.outcome", "a response needs an outcome: " + ", ".join(RESPONSE_OUTCOMES))
        events.append(
            {
                "id": eid,
                "kind": kind,
                "on": _date(p, f"{ewhere}.on", e.get("on"), required=True),
                "what": _text(p, f"{ewhere}.what", e.get("what"), required=True),
                "outcome": outcome if kind == "response" else None,
                "due": due if kind == "deadline" else None,
                "cameo": _text(p, f"{ewhere}.cameo", e.get("cameo"), required=False),
                "sources": _citations(p, f"{ewhere}.sources", e.get("sources")),
            }
        )
    return {
        "id": tid,
        "issuer": _text(p, f"{where}.issuer", t.get("issuer"), required=True),
        "targets": targets,
        "made_on": _date(p, f"{where}.made_on", t.get("made_on"), required=True),
        "statement": _text(p, f"{where}.statement", t.get("statement"), required=True),
        "trigger": _text(p, f"{where}.trigger", t.get("trigger"), required=False),
        "consequence": _text(p, f"{where}.consequence", t.get("consequence"), required=False),
        "category": _choice(p, f"{where}.category", t.get("category"), CATEGORIES, "other"),
        "cameo": _text(p, f"{where}.cameo", t.get("cameo"), required=False),
        "deadline": _date(p, f"{where}.deadline", t.get("deadline"), required=False),
        "tags": tags,
        "sources": _citations(p, f"{where}.sources", t.get("sources")),
        "events": events,
        "keep_events": bool(t.get("keep_events")),
    }


def actors_named(where: str, record: dict, kind: str) -> list[tuple[str, str]]:
    """The actor slugs a checked record refers to, each with where it stands."""
    if kind == "actor":
        return [(f"{where}.of", record["of"])] if record["of"] else []
    named = [(f"{where}.issuer", record["issuer"])] if record["issuer"] else []
    return named + [(f"{where}.targets[{j}]", x) for j, x in enumerate(record["targets"])]


def _known(p: _Problems, named: list[tuple[str, str]], slugs: set[str]) -> None:
    for where, slug in named:
        if slug not in slugs:
            p.add(where, f"{slug!r} is not an actor in the data set")


def _refuse(p: _Problems) -> None:
    if p.count:
        shown = p.items[:20]
        more = [f"... and {p.count - 20} more"] if p.count > 20 else []
        raise BadInput(f"the data set has {p.count} problem(s); nothing was written", shown + more)


class LineChecker:
    """Checks a JSON-lines data set one record at a time, so that a file of any size is read in
    bounded memory. An actor must come before the threats that name it (as exports write them)."""

    def __init__(self, known_actors: set[str]):
        self.p = _Problems()
        self.slugs = set(known_actors)
        self.ids: set[int] = set()  # hashes of threat ids seen: duplicates are refused
        self.seen = {"actors": 0, "sources": 0, "threats": 0, "events": 0}
        self.speaks_for: list[tuple[str, str]] = []

    def check(self, n: int, line: str) -> tuple[str, dict] | None:
        """(kind, record in canonical form), or None for a blank line, the meta record or a problem."""
        import json

        if not line.strip():
            return None
        where = f"line {n}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            self.p.add(where, f"not valid JSON ({e.msg})")
            return None
        kind = raw.pop("type", None) if isinstance(raw, dict) else None
        if kind not in JSONL_TYPES:
            self.p.add(where, f"a record needs a type: one of {', '.join(JSONL_TYPES)}")
            return None
        if kind == "meta":
            if raw.get("schema_version", DOCUMENT_VERSION) != DOCUMENT_VERSION:
                self.p.add(where, f"schema_version {raw.get('schema_version')!r} is not one this release reads")
            return None
        before = self.p.count
        record = {"actor": check_actor, "source": check_source, "threat": check_threat}[kind](self.p, where, raw)
        if record is None:
            return None
        self.seen[kind + "s"] += 1
        if kind == "actor":
            self.slugs.add(record["slug"])
        if kind == "threat":
            self.seen["events"] += len(record["events"])
            key = hash(record["id"])
            if key in self.ids:
                self.p.add(f"{where}.id", f"{record['id']!r} appears twice")
            self.ids.add(key)
        if kind == "actor":
            self.speaks_for += actors_named(where, record, kind)  # may name an actor listed later
        elif kind == "threat":
            _known(self.p, actors_named(where, record, kind), self.slugs)
        return (kind, record) if self.p.count == before else None

    def finish(self) -> None:
        """Raise BadInput listing the problems, if there were any."""
        _known(self.p, self.speaks_for, self.slugs)
        _refuse(self.p)


def check_document(doc: Any, known_actors: set[str] = frozenset()) -> dict:
    """Validate a whole document; return it in canonical form or raise BadInput with every problem.
    Actors may be those of the document or `known_actors` (already in the database)."""
    p = _Problems()
    if not isinstance(doc, dict):
        raise BadInput("the data set should be one object with actors, sources and threats")
    version = doc.get("schema_version", DOCUMENT_VERSION)
    if version != DOCUMENT_VERSION:
        p.add("schema_version", f"{version!r} is not a version this release reads ({DOCUMENT_VERSION})")
    out: dict[str, list] = {"actors": [], "sources": [], "threats": []}
    slugs, ids = set(known_actors), set()
    for i, raw in enumerate(_list(p, "actors", doc.get("actors"))):
        record = check_actor(p, f"actors[{i}]", raw)
        if record is not None:
            if record["slug"] in slugs - set(known_actors):
                p.add(f"actors[{i}].slug", f"{record['slug']!r} appears twice")
            slugs.add(record["slug"])
            out["actors"].append(record)
    for i, record in enumerate(out["actors"]):  # an actor may speak for one listed after it
        _known(p, actors_named(f"actors[{i}]", record, "actor"), slugs)
    for i, raw in enumerate(_list(p, "sources", doc.get("sources"))):
        record = check_source(p, f"sources[{i}]", raw)
        if record is not None:
            out["sources"].append(record)
    for i, raw in enumerate(_list(p, "threats", doc.get("threats"))):
        record = check_threat(p, f"threats[{i}]", raw)
        if record is not None:
            if record["id"] in ids:
                p.add(f"threats[{i}].id", f"{record['id']!r} appears twice")
            ids.add(record["id"])
            _known(p, actors_named(f"threats[{i}]", record, "threat"), slugs)
            out["threats"].append(record)
    _refuse(p)
    return {"schema_version": DOCUMENT_VERSION, **out}
