"""Property tests at the boundary of `import`: documents generated from the JSON Schema of
`export` (hypothesis-jsonschema), often made coherent (known actors, real dates) so that some
are accepted, then mutated (types, sizes, nesting, Unicode, keys dropped). Whatever comes in:
exit 0, 1 or 2 and never a traceback; a refusal writes nothing (every table compared); a
re-import of an accepted document changes nothing; and undo of it restores the data set.
Run with -s to see the counts measured."""

import json
import sqlite3
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from redlines.cli import app
from redlines.output.shapes import json_schema

hypothesis_jsonschema = pytest.importorskip("hypothesis_jsonschema")

SEEDED = ["putin", "trump", "russia", "ukraine", "nato"]
GOOD = ["2023", "2024-02", "2024-02-29", "2025-01-31", "2025-08-12", "1999-12-31"]
DATES = GOOD * 30 + ["2025-08-13", "2025-13"]  # now and then after today, or no date at all
KINDS = ["crossed", "deadline", "response", "complied", "withdrawn", "restated", "note"]
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.just("__BIG__"),  # becomes a JSON number of 4,400 digits: too long for Python's int by default
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.text(alphabet="e\u0301\u00e9\u212b\u00c5\u0000\u2028\ufeff", max_size=10),  # NFD, NFC, NUL, separators
    st.just("x" * 25_000),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.integers(50, 5_000).map(lambda n: f"__DEEP{n}__"),  # becomes n nested lists
)


def _written(doc, form: str = "json") -> str:
    """The document as a hostile file would hold it, as one JSON object or as JSON lines (the
    streamed path): placeholders become a number too long to read and lists nested thousands
    deep (json.dumps itself would refuse to write those)."""
    import re

    if form == "jsonl" and isinstance(doc, dict):
        lines = [{"type": "meta", "schema_version": doc.get("schema_version")}]
        for key, kind in (("actors", "actor"), ("sources", "source"), ("threats", "threat")):
            items = doc.get(key)
            for item in items if isinstance(items, list) else []:
                lines.append({"type": kind, **item} if isinstance(item, dict) else item)
        text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
    else:
        text = json.dumps(doc, ensure_ascii=False)
    text = text.replace('"__BIG__"', "9" * 4_400)
    return re.sub(r'"__DEEP(\d+)__"', lambda m: "[" * int(m[1]) + "]" * int(m[1]), text)


def _paths(value, at=()):
    """Every place in a document: (path to it, its container's key or index)."""
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*at, i))


def _set(doc, path, value):
    if not path:
        return value
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    parent[path[-1]] = value
    return doc


def _drop(doc, path):
    if path:
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        if isinstance(parent, dict):
            del parent[path[-1]]
    return doc


def _bounded(schema):
    """The export schema with sizes bounded (arrays of at most 3 items, text of at most 12
    characters), so that a document is generated in milliseconds; mutation makes them large."""
    if isinstance(schema, dict):
        out = {k: _bounded(v) for k, v in schema.items()}
        if out.get("type") == "array":
            out["maxItems"] = 3
        if out.get("type") == "string" and "enum" not in out and "pattern" not in out:
            out["maxLength"] = 12
        return out
    if isinstance(schema, list):
        return [_bounded(x) for x in schema]
    return schema


EXPORT = hypothesis_jsonschema.from_schema(_bounded(json_schema("export")))


@st.composite
def documents(draw):
    doc = draw(EXPORT)
    if draw(st.integers(0, 3)) > 0:  # coherent: version, slugs, actors named, dates, kinds with their fields
        doc["schema_version"] = 1
        text = st.sampled_from(["x", "A quote.", "José", "Jose\u0301", "ПУТИН", "  padded  "])
        slugs = []
        doc["actors"] = doc["actors"][:3]
        for i, a in enumerate(doc["actors"]):
            a["slug"] = f"gen-{i}"
            a["name"] = draw(st.sampled_from(["José", "Jose\u0301", "PUTIN", *[f"Name {i}"] * 20]))
            a["of"] = draw(st.sampled_from([*[None] * 40, *SEEDED, *(f"gen-{j}" for j in range(len(doc["actors"])))]))
            a["aliases"] = draw(st.lists(st.sampled_from([f"Alias {i}"] * 5 + ["Alias", "vladmir putin"]), max_size=1))
            slugs.append(a["slug"])
        doc["sources"] = doc["sources"][:2]
        URLS = [f"https://s.org/{n}" for n in range(6)] + ["x"]
        for src in doc["sources"]:
            src["url"], src["title"], src["publisher"] = draw(st.sampled_from(URLS)), draw(text), None
            src["published_on"] = draw(st.sampled_from([None, *DATES]))
        doc["threats"] = doc["threats"][:3]
        ids = draw(st.permutations(["gen-0", "gen-1", "putin-long-range-weapons", "trump-sanctions-july"]))
        for i, t in enumerate(doc["threats"]):
            t["id"] = ids[i]
            t["issuer"] = draw(st.sampled_from(SEEDED + slugs))
            t["targets"] = draw(st.lists(st.sampled_from(SEEDED + slugs), max_size=2))
            t["made_on"] = draw(st.sampled_from(DATES))
            t["deadline"] = draw(st.sampled_from([None, *DATES]))
            t["statement"] = draw(text)
            t["tags"] = draw(st.lists(text, max_size=2))
            t["sources"] = [
                {"url": draw(text), "quote": draw(st.none() | text)} for _ in range(draw(st.integers(0, 1)))
            ]
            t["events"] = t["events"][:3]
            for j, e in enumerate(t["events"]):
                e["kind"] = draw(st.sampled_from(KINDS))
                e["id"] = draw(st.sampled_from([None, None, None, f"{t['id']}#{j + 1}", f"{t['id']}#{j + 7}"]))
                if e["id"] is None:
                    del e["id"]
                e["on"] = draw(st.sampled_from(DATES))
                e["what"] = draw(text)
                e["outcome"] = "partial" if e["kind"] == "response" else None
                e["due"] = draw(st.sampled_from(DATES)) if e["kind"] == "deadline" else None
                e["sources"] = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):  # then mutate
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        doc = _drop(doc, path) if path and draw(st.integers(0, 3)) == 0 else _set(doc, path, draw(HOSTILE))
    if draw(st.integers(0, 4)) == 0:  # Unicode: every string in NFD
        doc = json.loads(unicodedata.normalize("NFD", json.dumps(doc, ensure_ascii=False)))
    return doc


def _dump(db, skip=()) -> dict:
    with sqlite3.connect(db) as c:
        tables = [
            r[0]
            for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            if not r[0].startswith(skip)
        ]
        out = {t: sorted(map(repr, c.execute(f"SELECT * FROM {t}"))) for t in tables}
    c.close()
    return out


def _runs(db) -> int:
    with sqlite3.connect(db) as c:
        n = c.execute("SELECT COUNT(*) FROM run").fetchone()[0]
    c.close()
    return n


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    db = tmp_path_factory.mktemp("props") / "seeded.db"
    _invoke(db, "list")
    return db


def _invoke(db, *args, text=None):
    env = {"REDLINES_DB": str(db), "REDLINES_TODAY": "2025-08-12", "NO_COLOR": "1", "REDLINES_AS_OF": None}
    return CliRunner().invoke(app, list(args), input=text, env=env, catch_exceptions=True)


COUNTS = {"tried": 0, "refused": 0, "accepted": 0, "reimports_unchanged": 0, "undone_exactly": 0, "tracebacks": 0}
FAILURES: list[str] = []


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(doc=documents(), form=st.sampled_from(["json", "json", "jsonl"]))
def _one_document(seeded, doc, form):
    text = _written(doc, form)
    COUNTS["tried"] += 1
    before, runs = _dump(seeded), _runs(seeded)
    result = _invoke(seeded, "import", "-", text=text)
    if not isinstance(result.exception, SystemExit) and result.exception is not None:
        COUNTS["tracebacks"] += 1
        import traceback

        FAILURES.append("".join(traceback.format_exception(*result.exc_info))[-1500:])
        return
    if result.exit_code != 0:
        COUNTS["refused"] += 1
        import os

        if os.environ.get("DEBUG_PROPS"):
            print(result.stderr.splitlines()[:2])
        if result.exit_code not in (1, 2) or _dump(seeded) != before:
            FAILURES.append(f"refused with {result.exit_code} and wrote: {result.stderr[:200]}")
        return
    COUNTS["accepted"] += 1
    after = _dump(seeded)
    again = _invoke(seeded, "import", "-", text=text)
    if again.exit_code == 0 and _dump(seeded) == after:
        COUNTS["reimports_unchanged"] += 1
    else:
        FAILURES.append(f"a re-import changed something: {again.stderr[:300]}")
    if _runs(seeded) > runs:  # put the data set back as it was, by undo
        _invoke(seeded, "undo", "--yes")
    if _dump(seeded, skip=("run", "change", "search")) == _dump_before(before):
        COUNTS["undone_exactly"] += 1
    else:
        FAILURES.append(f"undo did not restore the data set after: {result.stderr[:300]}")


def _dump_before(before: dict) -> dict:
    return {t: rows for t, rows in before.items() if not t.startswith(("run", "change", "search"))}


def test_any_document_ends_in_0_1_or_2_and_refusals_write_nothing(seeded):
    _one_document(seeded)
    print(f"\nimport property test: {COUNTS}")
    assert not FAILURES, "\n\n".join(FAILURES[:3])
    assert COUNTS["tracebacks"] == 0
    assert COUNTS["reimports_unchanged"] == COUNTS["accepted"]
    assert COUNTS["undone_exactly"] == COUNTS["accepted"]
    assert COUNTS["tried"] == COUNTS["refused"] + COUNTS["accepted"]
    assert COUNTS["accepted"] and COUNTS["refused"]  # both paths were exercised
