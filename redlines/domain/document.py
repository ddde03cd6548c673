"""The data-set document: what `export` writes, `import` reads and the bundled seed is.

`check_document` validates a whole document before anything is written and returns it in
canonical form, or raises `BadInput` listing every problem with where it is. Pure: no I/O.

An import merges by id: a record holds only the keys its input gave (a key absent leaves the
stored value as it is, an explicit null clears it), plus `_where`, where it stands in the input.
The rules that need the database (a new threat needs a statement; an event's outcome and due
date, taken with what is stored; names unique) are checked by the loader, with `validation`.

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

from datetime import date
from functools import lru_cache
from typing import Any

from redlines import DOCUMENT_VERSION
from redlines.domain.checks import ACTOR_KINDS, EVENT_ID, MAX_TEXT, SLUG, THREAT_ID, event_id, not_a_character
from redlines.domain.dates import FuzzyDate
from redlines.domain.outcomes import CATEGORIES, EVENT_KINDS, RESPONSE_OUTCOMES
from redlines.domain.validation import in_the_future, shown
from redlines.errors import BadInput
from redlines.schema import THREAT_TEXT


class Problems:
    """Problems found, in order: all are counted, the first hundred kept. `today`, when given,
    refuses threats and events dated after it (as `add` does)."""

    def __init__(self, today: date | None = None) -> None:
        self.items: list[str] = []
        self.count = 0
        self.today = today

    def add(self, where: str, what: str) -> None:
        self.count += 1
        if len(self.items) < 100:
            self.items.append(f"{where}: {what}")

    def refuse(self) -> None:
        """Raise BadInput listing the problems, if there were any: nothing is written."""
        if self.count:
            shown_ = self.items[:20]
            more = [f"... and {self.count - 20} more"] if self.count > 20 else []
            raise BadInput(f"the data set has {self.count} problem(s); nothing was written", shown_ + more)


_Problems = Problems


def _text(p: Problems, where: str, value: Any, *, required: bool) -> str | None:
    if type(value) is str and 0 < len(value) <= MAX_TEXT and "\x00" not in value and not_a_character(value) is None:
        stripped = value.strip()
        if stripped:
            return stripped
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            p.add(where, "is required")
        return None
    if not isinstance(value, str):
        p.add(where, f"should be text, not {shown(value)}")
        return None
    if "\x00" in value:
        p.add(where, "holds a NUL character")
        return None
    if (bad := not_a_character(value)) is not None:
        p.add(where, f"holds {bad}, which is not a character (a JSON escape of half a surrogate pair)")
        return None
    if len(value) > MAX_TEXT:
        p.add(where, f"is longer than {MAX_TEXT:,} characters")
        return None
    return value.strip()


def _date(p: Problems, where: str, value: Any, *, required: bool, past: bool = False) -> str | None:
    if value is None and not required:
        return None
    if type(value) is not str and type(value) is not int:
        p.add(where, "should be an ISO date such as 2025-01-05, 2025-01 or 2025")
        return None
    try:
        iso = _canonical_date(value if type(value) is str and len(value) < 40 else str(value)[:40])
    except ValueError:
        p.add(where, f"{shown(value)} is not an ISO date such as 2025-01-05, 2025-01 or 2025")
        return None
    if past and p.today is not None and in_the_future(_starts(iso), p.today):
        p.add(where, f"{iso} is after {p.today.isoformat()}: a threat or event cannot be dated in the future")
    return iso


@lru_cache(maxsize=1 << 16)
def _starts(iso: str) -> date:
    """The first day of a canonical stored date; cached, as `_canonical_date` is."""
    return FuzzyDate.from_iso(iso).start()


@lru_cache(maxsize=1 << 16)
def _canonical_date(text: str) -> str:
    """A stored date in canonical form; cached, as a large data set repeats its dates."""
    return FuzzyDate.from_iso(text).iso()


def _choice(p: Problems, where: str, value: Any, choices: tuple[str, ...], default: str | None) -> str | None:
    if value is None:
        return default
    if type(value) is not str or value not in choices:
        p.add(where, f"{shown(value)} is not one of {', '.join(choices)}")
        return default
    return value


def _list(p: Problems, where: str, value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        p.add(where, "should be a list")
        return []
    return value


def _obj(p: Problems, where: str, value: Any) -> dict | None:
    if not isinstance(value, dict):
        p.add(where, "should be an object")
        return None
    return value


def _texts(p: Problems, where: str, value: Any) -> list[str]:
    """A list of text, without repeats (null: empty)."""
    out: list[str] = []
    for j, x in enumerate(_list(p, where, value)):
        x = _text(p, f"{where}[{j}]", x, required=True)
        if x and x not in out:
            out.append(x)
    return out


def _citations(p: Problems, where: str, value: Any) -> list[dict] | None:
    """Citations; None for an explicit null (which clears them)."""
    if value is None:
        return None
    out = []
    for i, c in enumerate(_list(p, where, value)):
        c = _obj(p, f"{where}[{i}]", c)
        if c is None:
            continue
        url = _text(p, f"{where}[{i}].url", c.get("url"), required=True)
        quote = _text(p, f"{where}[{i}].quote", c.get("quote"), required=False)
        if url and {"url": url, "quote": quote} not in out:
            out.append({"url": url, "quote": quote})
    return out


def _json(text: str, where: str = "") -> Any:
    """JSON text read, or BadInput saying why not: a number too long for Python's int, nesting too
    deep to read, as well as plain syntax errors, end in one clear line."""
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise BadInput(f"{where}the JSON is nested too deeply to read", [_ONE_DOCUMENT]) from None
    except ValueError as e:  # "Exceeds the limit (4300 digits) for integer string conversion"
        what = "it holds a number too long to read" if "digits" in str(e) else str(e)[:120]
        raise BadInput(f"{where}the JSON cannot be read: {what}", [_ONE_DOCUMENT]) from None


_ONE_DOCUMENT = (
    "an import is one JSON object (export --format json) or one record a line "
    "(export --format jsonl); nothing was written"
)


def parse_document(text: str) -> dict:
    """A document from the text of an export: one JSON object, or JSON lines of typed records
    (`{"type": "actor", ...}`). Raises BadInput, with the line, when it cannot be read."""
    import json

    stripped = text.lstrip()
    if not stripped:
        raise BadInput("the data set is empty")
    try:
        whole = _json(text)
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
            record = _json(line, f"line {n}: ")
        except json.JSONDecodeError:
            if whole is None and n == 1:
                e = first_error
            raise BadInput(f"line {e.lineno if n == 1 else n}: not valid JSON ({e.msg})", [_ONE_DOCUMENT]) from None
        kind = record.get("type") if isinstance(record, dict) else None
        if type(kind) is not str or kind not in JSONL_TYPES:
            raise BadInput(f"line {n}: a record needs a type: one of {', '.join(JSONL_TYPES)}")
        record.pop("type")
        if kind == "meta":
            doc["schema_version"] = record.get("schema_version", DOCUMENT_VERSION)
        else:
            doc[JSONL_TYPES[kind]].append(record)
    return doc


CSV_LISTS = ("targets", "tags", "sources", "quotes")
CSV_DERIVED = ("deadline_in_force", "outcome", "tested_on")  # shown in an export, never read back: outcomes are derived


def parse_csv(text: str) -> dict:
    """Threats from a spreadsheet in the shape of `export --format csv`: a column absent leaves
    the stored value as it is, an empty cell clears it. Events are not in it, so those of
    existing threats are kept as they are."""
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if not reader.fieldnames or "id" not in reader.fieldnames:
            raise BadInput(
                "a CSV import needs a header row with at least an id column",
                ["see `redlines export --format csv` for the columns"],
            )
        rows = list(reader)
    except csv.Error as e:
        raise BadInput(f"line {reader.line_num}: the CSV cannot be read ({e})") from None
    threats = []
    for row in rows:
        t = {k: _uncell(v) for k, v in row.items() if k is not None and k not in CSV_DERIVED}
        t = {k: (v if v != "" else None) for k, v in t.items()}
        for k in CSV_LISTS:
            if k in t and t[k] is not None:
                items = split_cell(t[k])
                # quotes stay aligned with sources line by line: an empty one is kept (no quote)
                t[k] = items if k == "quotes" else [x for x in items if x.strip()]
        quotes = t.pop("quotes", None) or []
        if "sources" in t and t["sources"] is not None:
            t["sources"] = [
                {"url": u, "quote": quotes[i] if i < len(quotes) and quotes[i] else None}
                for i, u in enumerate(t["sources"])
            ]
        threats.append(t)
    return {"actors": [], "sources": [], "threats": threats}


def join_cell(items: list[str]) -> str:
    """A list as one CSV cell: an item a line; as a JSON array when an item holds a line break
    itself (a quote of two paragraphs) or the first starts with `[`, so that it reads back whole."""
    import json

    if any("\n" in x or "\r" in x for x in items) or (items and items[0].startswith("[")):
        return json.dumps(items, ensure_ascii=False)
    return "\n".join(items)


def split_cell(text: str) -> list[str]:
    """The list `join_cell` wrote."""
    import json

    if text.startswith("["):
        try:
            items = json.loads(text)
        except (ValueError, RecursionError):
            items = None
        if isinstance(items, list) and all(isinstance(x, str) for x in items):
            return items
    return text.split("\n")


def _uncell(value: str | None) -> str | None:
    """Undo the export's guard against spreadsheet formulas (a ' before = + - @ tab or return)."""
    if value and value[0] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


JSONL_TYPES = {"meta": None, "actor": "actors", "source": "sources", "threat": "threats"}


def _keyed(p: Problems, where: str, value: Any, key: str, form, advice: str) -> tuple[dict | None, str | None]:
    """A record (None when it is not an object) and its natural key, which is required and must
    have the `form` (a compiled pattern); `advice` says what the key may hold."""
    record = _obj(p, where, value)
    if record is None:
        return None, None
    k = _text(p, f"{where}.{key}", record.get(key), required=True)
    if k and not form.fullmatch(k):
        p.add(f"{where}.{key}", f"{shown(k)}: {advice}")
    return record, k


def check_actor(p: Problems, where: str, a: Any) -> dict | None:
    a, slug = _keyed(p, where, a, "slug", SLUG, "use 1-64 lowercase letters, digits and -")
    if a is None:
        return None
    out: dict = {"slug": slug, "_where": where}
    if "name" in a:
        out["name"] = _text(p, f"{where}.name", a["name"], required=True)
    if "kind" in a:
        out["kind"] = _choice(p, f"{where}.kind", a["kind"], ACTOR_KINDS, "person")
    if "of" in a:
        out["of"] = _text(p, f"{where}.of", a["of"], required=False)
    if "aliases" in a:
        out["aliases"] = _texts(p, f"{where}.aliases", a["aliases"])
    return out


def check_source(p: Problems, where: str, s: Any) -> dict | None:
    s = _obj(p, where, s)
    if s is None:
        return None
    out: dict = {"url": _text(p, f"{where}.url", s.get("url"), required=True), "_where": where}
    for k in ("title", "publisher"):
        if k in s:
            out[k] = _text(p, f"{where}.{k}", s[k], required=False)
    if "published_on" in s:
        out["published_on"] = _date(p, f"{where}.published_on", s["published_on"], required=False)
    return out


# A threat's fields as the input names them: how each is read, when present.
_THREAT_TEXT = THREAT_TEXT  # from the schema: issuer, statement, trigger, consequence, cameo


def check_threat(p: Problems, where: str, t: Any) -> dict | None:
    """One threat in canonical form (only the keys given); the actors it names are checked by
    the caller (`actors_named`)."""
    if type(t) is dict:
        fast = _fast_threat(t, where, p.today)
        if fast is not None:
            return fast
    t, tid = _keyed(p, where, t, "id", THREAT_ID, "use letters, digits and -")
    if t is None:
        return None
    out: dict = {"id": tid, "_where": where}
    for k, required in _THREAT_TEXT.items():
        if k in t:
            out[k] = _text(p, f"{where}.{k}", t[k], required=required)
    if "made_on" in t:
        out["made_on"] = _date(p, f"{where}.made_on", t["made_on"], required=True, past=True)
    if "deadline" in t:
        out["deadline"] = _date(p, f"{where}.deadline", t["deadline"], required=False)
    if "category" in t:
        out["category"] = _choice(p, f"{where}.category", t["category"], CATEGORIES, "other")
    for k in ("targets", "tags"):
        if k in t:
            out[k] = _texts(p, f"{where}.{k}", t[k])
    if "sources" in t:
        out["sources"] = _citations(p, f"{where}.sources", t["sources"])
    if "events" in t:
        out["events"] = None if t["events"] is None else _events(p, where, tid, t["events"])
    return out


# --- the fast path ---------------------------------------------------------------------------------
# A record with nothing wrong is read in one pass, without building the name of each field for a
# message it will not need (most of the cost of checking a large file). Anything unusual (a type,
# a blank, a date in the future, a repeated event id...) returns None, and the checks above then
# read the record again and say what is wrong: the fast path only ever accepts what they accept,
# and gives what they give (tests/test_import_speed.py compares the two).

_CATEGORY_SET = frozenset(CATEGORIES)
_KIND_SET = frozenset(EVENT_KINDS)
_OUTCOME_SET = frozenset(RESPONSE_OUTCOMES)
_fullmatch_threat_id = THREAT_ID.fullmatch
_fullmatch_event_id = EVENT_ID.fullmatch


def _fast_text(v: Any) -> str | None:
    """`_text` of a value it accepts without a word (None: let `_text` say)."""
    if type(v) is str and len(v) <= MAX_TEXT and "\x00" not in v and (v.isascii() or not_a_character(v) is None):
        v = v.strip()
        if v:
            return v
    return None


def _fast_date(v: Any, today: date | None) -> str | None:
    """`_date` of a text date it accepts without a word (None: let `_date` say); `today`, when
    given, refuses a date after it."""
    if type(v) is not str:
        return None
    known = _DATES.get(v)
    if known is None:
        if len(v) >= 40:
            return None
        try:
            iso = _canonical_date(v)
        except ValueError:
            return None
        if len(_DATES) >= 1 << 16:
            _DATES.clear()
        known = _DATES[v] = (iso, _starts(iso))
    if today is not None and known[1] > today:
        return None
    return known[0]


_DATES: dict[str, tuple[str, date]] = {}  # text read as a date: (its canonical form, the day it starts)


def _fast_any_date(v: Any) -> str | None:
    """`_fast_date` of a date that may lie after today (a deadline, a due date)."""
    return _fast_date(v, None)


def _fast_given(record: dict, key: str, check, out: dict, refused: Any = None) -> bool:
    """Copy `record[key]`, when given, into `out` as `check` reads it; False when `check` gives
    `refused` (it does not accept the value), to let the full check say why."""
    if key in record:
        v = check(record[key])
        if v is refused:
            return False
        out[key] = v
    return True


def _fast_optional(record: dict, key: str, check, out: dict) -> bool:
    """Copy `record[key]`, when given, into `out` as `check` reads it (null stays null); False
    when `check` does not accept it (None), to let the full check say why."""
    if key in record:
        v = record[key]
        if v is not None:
            v = check(v)
            if v is None:
                return False
        out[key] = v
    return True


def _fast_citations(value: Any) -> list[dict] | None | bool:
    """`_citations` of a list it accepts without a word; False: let `_citations` say."""
    if value is None:
        return None
    if type(value) is not list:
        return False
    out: list[dict] = []
    seen: set = set()
    for c in value:
        if type(c) is not dict:
            return False
        url = _fast_text(c.get("url"))
        if url is None:
            return False
        cited = {"url": url, "quote": None}
        if not _fast_optional(c, "quote", _fast_text, cited):
            return False
        if (url, cited["quote"]) not in seen:
            seen.add((url, cited["quote"]))
            out.append(cited)
    return out


def _fast_texts(value: Any) -> list[str] | None:
    """`_texts` of a list it accepts without a word (None: let `_texts` say)."""
    if value is None:
        return []
    if type(value) is not list:
        return None
    out: list[str] = []
    for x in value:
        x = _fast_text(x)
        if x is None:
            return None
        if x not in out:
            out.append(x)
    return out


def _fast_threat(t: dict, where: str, today: date | None) -> dict | None:
    """`check_threat` of a record without a problem, in one pass; None when anything is unusual."""
    tid = _fast_text(t.get("id"))
    if tid is None or not _fullmatch_threat_id(tid):
        return None
    out: dict = {"id": tid, "_where": where}
    for k, required in _THREAT_TEXT.items():
        if k in t:
            v = t[k]
            if v is None:
                if required:
                    return None
                out[k] = None
                continue
            v = _fast_text(v)
            if v is None:
                return None
            out[k] = v
    if "made_on" in t:
        v = _fast_date(t["made_on"], today)
        if v is None:
            return None
        out["made_on"] = v
    if not _fast_optional(t, "deadline", _fast_any_date, out):
        return None
    if "category" in t:
        v = t["category"]
        if v is None:
            v = "other"
        elif type(v) is not str or v not in _CATEGORY_SET:
            return None
        out["category"] = v
    if not (
        _fast_given(t, "targets", _fast_texts, out)
        and _fast_given(t, "tags", _fast_texts, out)
        and _fast_given(t, "sources", _fast_citations, out, refused=False)
    ):
        return None
    if "events" in t:
        events = t["events"]
        if events is None:
            out["events"] = None
        else:
            events = _fast_events(where, tid, events, today)
            if events is None:
                return None
            out["events"] = events
    return out


def _fast_events(where: str, tid: str, events: Any, today: date | None) -> list[dict] | None:
    """`_events` of a list it accepts without a word (None: let `_events` say)."""
    if type(events) is not list:
        return None
    out, event_ids = [], set()
    for j, e in enumerate(events):
        if type(e) is not dict:
            return None
        eid = e.get("id")
        if eid is not None:
            eid = _fast_text(eid)
            if eid is None:
                return None
            m = _fullmatch_event_id(eid)
            if not m or m[1] != tid:
                return None
            eid = event_id(tid, m[2])  # compared in normal form: t#07 is t#7
            if eid in event_ids:
                return None
            event_ids.add(eid)
        kind = e.get("kind")
        if type(kind) is not str or kind not in _KIND_SET:
            return None
        on = _fast_date(e.get("on"), today)
        if on is None:
            return None
        checked: dict = {"id": eid, "kind": kind, "on": on, "_where": f"{where}.events[{j}]"}
        if not _fast_given(e, "what", _fast_text, checked):
            return None
        if "outcome" in e:
            v = e["outcome"]
            if v is not None and (type(v) is not str or v not in _OUTCOME_SET):
                return None
            checked["outcome"] = v
        if not (_fast_optional(e, "due", _fast_any_date, checked) and _fast_optional(e, "cameo", _fast_text, checked)):
            return None
        if not _fast_given(e, "sources", _fast_citations, checked, refused=False):
            return None
        out.append(checked)
    return out


def _events(p: Problems, where: str, tid: str | None, events: Any) -> list[dict]:
    out, event_ids = [], set()
    for j, e in enumerate(_list(p, f"{where}.events", events)):
        ewhere = f"{where}.events[{j}]"
        e = _obj(p, ewhere, e)
        if e is None:
            continue
        eid = _text(p, f"{ewhere}.id", e.get("id"), required=False)
        if eid is not None:
            m = EVENT_ID.fullmatch(eid)
            if not m or m[1] != tid:
                p.add(f"{ewhere}.id", f"{shown(eid)} should be {tid}#<number>")
            else:
                normal = event_id(tid, m[2])  # compared in normal form: t#07 is t#7
                if normal in event_ids:
                    also = "" if normal == eid else f" (as {shown(normal)})"
                    p.add(f"{ewhere}.id", f"{shown(eid)} appears twice{also}")
                eid = normal
            event_ids.add(eid)
        kind = e.get("kind")
        if kind is None:
            p.add(f"{ewhere}.kind", "is required: one of " + ", ".join(EVENT_KINDS))
        else:
            kind = _choice(p, f"{ewhere}.kind", kind, EVENT_KINDS, None)
        checked: dict = {
            "id": eid,
            "kind": kind,
            "on": _date(p, f"{ewhere}.on", e.get("on"), required=True, past=True),
            "_where": ewhere,
        }
        if "what" in e:
            checked["what"] = _text(p, f"{ewhere}.what", e["what"], required=True)
        if "outcome" in e:
            checked["outcome"] = _choice(p, f"{ewhere}.outcome", e["outcome"], RESPONSE_OUTCOMES, None)
        if "due" in e:
            checked["due"] = _date(p, f"{ewhere}.due", e["due"], required=False)
        if "cameo" in e:
            checked["cameo"] = _text(p, f"{ewhere}.cameo", e["cameo"], required=False)
        if "sources" in e:
            checked["sources"] = _citations(p, f"{ewhere}.sources", e["sources"])
        out.append(checked)
    return out


def actors_named(where: str, record: dict, kind: str) -> list[tuple[str, str]]:
    """The actor slugs a checked record refers to, each with where it stands."""
    if kind == "actor":
        return [(f"{where}.of", record["of"])] if record.get("of") else []
    named = [(f"{where}.issuer", record["issuer"])] if record.get("issuer") else []
    return named + [(f"{where}.targets[{j}]", x) for j, x in enumerate(record.get("targets") or [])]


def _known(p: Problems, named: list[tuple[str, str]], slugs: set[str]) -> None:
    for where, slug in named:
        if slug not in slugs:
            p.add(where, f"{shown(slug)} is not an actor in the data set")


class LineChecker:
    """Checks a JSON-lines data set one record at a time, so that a file of any size is read in
    bounded memory. An actor must come before the threats that name it (as exports write them)."""

    def __init__(self, known_actors: set[str], today: date | None = None, ids=None):
        self.p = Problems(today)
        self.slugs = set(known_actors)
        # Threat ids seen: a duplicate is refused. `ids`: a container with `in` and `add` to keep
        # them in (a set by default; the store gives one on disk, for files of millions of threats).
        self.ids = ids if ids is not None else set()
        self.actors_seen: set[str] = set()
        self.urls: set[str] = set()
        self.seen = {"actors": 0, "sources": 0, "threats": 0, "events": 0}
        self.speaks_for: list[tuple[str, str]] = []

    def check(self, n: int, line: str) -> tuple[str, dict] | None:
        """(kind, record in canonical form), or None for a blank line, the meta record or a problem."""
        import json

        if not line.strip():
            return None
        where = f"line {n}"
        try:
            raw = _json(line)
        except json.JSONDecodeError as e:
            self.p.add(where, f"not valid JSON ({e.msg})")
            return None
        except BadInput as e:
            self.p.add(where, e.message)
            return None
        kind = raw.pop("type", None) if isinstance(raw, dict) else None
        if type(kind) is not str or kind not in JSONL_TYPES:
            self.p.add(where, f"a record needs a type: one of {', '.join(JSONL_TYPES)}")
            return None
        if kind == "meta":
            if raw.get("schema_version", DOCUMENT_VERSION) != DOCUMENT_VERSION:
                self.p.add(where, f"schema_version {shown(raw.get('schema_version'))} is not one this release reads")
            return None
        before = self.p.count
        record = {"actor": check_actor, "source": check_source, "threat": check_threat}[kind](self.p, where, raw)
        if record is None:
            return None
        self.seen[kind + "s"] += 1
        if kind == "actor":
            if record["slug"] in self.actors_seen:
                self.p.add(f"{where}.slug", f"{shown(record['slug'])} appears twice")
            self.actors_seen.add(record["slug"])
            self.slugs.add(record["slug"])
            self.speaks_for += actors_named(where, record, kind)  # may name an actor listed later
        if kind == "source":
            if record["url"] in self.urls:
                self.p.add(f"{where}.url", f"{shown(record['url'])} appears twice")
            self.urls.add(record["url"])
        if kind == "threat":
            self.seen["events"] += len(record.get("events") or [])
            if record["id"] in self.ids:
                self.p.add(f"{where}.id", f"{shown(record['id'])} appears twice")
            self.ids.add(record["id"])
            slugs, issuer = self.slugs, record.get("issuer")
            if (issuer is not None and issuer not in slugs) or any(x not in slugs for x in record.get("targets") or ()):
                _known(self.p, actors_named(where, record, kind), slugs)
        return (kind, record) if self.p.count == before else None

    def finish(self) -> None:
        """Raise BadInput listing the problems, if there were any."""
        _known(self.p, self.speaks_for, self.slugs)
        self.p.refuse()


def _each(p: Problems, doc: dict, section: str, check, key: str, seen: set, known: frozenset = frozenset()):
    """The checked records of a section of the document, with where each stands; a key met twice
    in it is a problem (`seen` collects the keys; `known` ones, from the database, may recur)."""
    for i, raw in enumerate(_list(p, section, doc.get(section))):
        where = f"{section}[{i}]"
        record = check(p, where, raw)
        if record is not None:
            if record[key] in seen and record[key] not in known:
                p.add(f"{where}.{key}", f"{shown(record[key])} appears twice")
            seen.add(record[key])
            yield where, record


def check_document(
    doc: Any, known_actors: set[str] = frozenset(), today: date | None = None, problems: Problems | None = None
) -> dict:
    """Validate a whole document; return it in canonical form or raise BadInput with every problem.
    Actors may be those of the document or `known_actors` (already in the database). With
    `today`, threats and events dated after it are refused. Given `problems`, they are added
    there and not raised, so that the loader's checks add theirs (it refuses them all at once)."""
    p = problems if problems is not None else Problems(today)
    if not isinstance(doc, dict):
        raise BadInput("the data set should be one object with actors, sources and threats")
    version = doc.get("schema_version", DOCUMENT_VERSION)
    if version != DOCUMENT_VERSION:
        p.add("schema_version", f"{shown(version)} is not a version this release reads ({DOCUMENT_VERSION})")
    out: dict[str, list] = {"actors": [], "sources": [], "threats": []}
    slugs, ids = set(known_actors), set()
    out["actors"] = [r for _, r in _each(p, doc, "actors", check_actor, "slug", slugs, frozenset(known_actors))]
    for record in out["actors"]:  # an actor may speak for one listed after it
        _known(p, actors_named(record["_where"], record, "actor"), slugs)
    out["sources"] = [r for _, r in _each(p, doc, "sources", check_source, "url", set())]
    for where, record in _each(p, doc, "threats", check_threat, "id", ids):
        _known(p, actors_named(where, record, "threat"), slugs)
        out["threats"].append(record)
    if problems is None:
        p.refuse()
    return {"schema_version": DOCUMENT_VERSION, **out}
