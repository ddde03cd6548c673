"""Import speed (issue 14) without a change of rules: the one-pass check of a threat gives what the
full check gives, and refuses (hands back to the full check) whatever that one would say a word
about; so a file is refused with the same messages as before, whichever path read it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redlines.domain import document

BENCH = Path(__file__).resolve().parent.parent / "bench" / "generate.py"
TODAY = date(2025, 8, 12)


@pytest.fixture(scope="module")
def generated() -> list[dict]:
    out = subprocess.run([sys.executable, str(BENCH), "60", "7"], capture_output=True, text=True, check=True).stdout
    return [r for r in map(json.loads, out.splitlines()) if r.pop("type") == "threat"]


def full_check(record, today=TODAY) -> tuple[dict | None, list[str]]:
    """`check_threat` with the one-pass path switched off: the rules as written field by field."""
    p = document.Problems(today)
    saved = document._fast_threat
    document._fast_threat = lambda *a: None
    try:
        out = document.check_threat(p, "line 9", copy.deepcopy(record))
    finally:
        document._fast_threat = saved
    return out, p.items


def either_check(record, today=TODAY) -> tuple[dict | None, list[str]]:
    p = document.Problems(today)
    return document.check_threat(p, "line 9", copy.deepcopy(record)), p.items


def test_a_well_formed_threat_is_read_in_one_pass_and_as_the_full_check_reads_it(generated):
    for record in generated:
        fast = document._fast_threat(copy.deepcopy(record), "line 9", TODAY)
        assert fast is not None, record  # the common case takes the fast path
        assert full_check(record) == (fast, [])
        assert list(fast) == list(full_check(record)[0])  # the same keys in the same order


# Values that a field may hold in a hostile or sloppy file: each is either read the same way by
# both paths, or refused by the one-pass path and then judged by the full check.
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 3000),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "",
            "  ",
            " padded ",
            "a\x00b",
            "x" * 20_001,
            "x" * 20_000,
            "2025-08-13",
            "2025-08-12",
            "2025-08",
            "2025-09",
            "2025",
            "2026",
            " 2024-02-29 ",
            "2023-02-29",
            "2024-13",
            "2024-1-5",
            "0999",
            "21 Nov 2024",
            "military",
            "nuclear",
            "Military",
            "response",
            "deadline",
            "note",
            "partial",
            "followed_through",
            "t0000001#2",
            "t0000001#02",
            "t0000001#1",
            "other#1",
            "t0000001#x",
            "t-1",
            "bad id!",
            "leader-3",
            "https://news.example/1",
        ]
    ),
    st.text(max_size=6),
    st.lists(st.sampled_from(["a", " a", "", None, 3, "b", "a"]), max_size=4),
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "url": st.sampled_from(["https://x.example", " https://x.example", "", None, 5]),
                "quote": st.sampled_from(["q", " q ", "", "  ", None, 7]),
            },
        ),
        max_size=3,
    ),
    st.dictionaries(st.sampled_from(["url", "kind"]), st.integers(), max_size=2),
)
THREAT_KEYS = [
    "id",
    "issuer",
    "targets",
    "made_on",
    "statement",
    "trigger",
    "consequence",
    "category",
    "cameo",
    "deadline",
    "tags",
    "sources",
    "events",
]
EVENT_KEYS = ["id", "kind", "on", "what", "outcome", "due", "cameo", "sources"]


@st.composite
def mutated(draw, base: list[dict]):
    record = copy.deepcopy(draw(st.sampled_from(base)))
    for _ in range(draw(st.integers(1, 4))):
        events = record.get("events")
        if isinstance(events, list) and events and draw(st.booleans()):
            target = draw(st.sampled_from(events)) if all(isinstance(e, dict) for e in events) else record
            keys = EVENT_KEYS if target is not record else THREAT_KEYS
        else:
            target, keys = record, THREAT_KEYS
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 5)) == 0:
            target.pop(key, None)
        elif key == "events" and draw(st.booleans()) and isinstance(record.get("events"), list):
            record["events"] = record["events"] + copy.deepcopy(record["events"][:1])  # an event twice
        else:
            target[key] = draw(ODD)
    return record


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_threat_gets_the_same_record_and_the_same_messages_by_either_path(generated, data):
    record = data.draw(mutated(generated))
    today = data.draw(st.sampled_from([TODAY, None, date(2024, 2, 29)]))
    assert either_check(record, today) == full_check(record, today)
    fast = document._fast_threat(copy.deepcopy(record), "line 9", today)
    if fast is not None:  # what the one pass accepts, the full check accepts without a word
        assert full_check(record, today) == (fast, [])


def test_the_one_pass_hands_each_kind_of_problem_to_the_full_check(generated):
    """A handful of problems written out: each is refused by the one pass and said by the full check."""
    base = generated[0]
    cases = {
        "statement": ("  ", "line 9.statement: is required"),
        "made_on": ("2025-08-13", "is after 2025-08-12"),
        "category": ("Military", "'Military' is not one of"),
        "targets": (["a", None], "line 9.targets[1]: is required"),
        "trigger": ("a\x00b", "holds a NUL character"),
        "deadline": ("2024-13", "'2024-13' is not an ISO date"),
    }
    for key, (value, said) in cases.items():
        record = {**copy.deepcopy(base), key: value}
        assert document._fast_threat(copy.deepcopy(record), "line 9", TODAY) is None, key
        _, problems = either_check(record)
        assert any(said in x for x in problems), (key, problems)
    repeated = copy.deepcopy(base)  # repeats are dropped, not refused, by both
    repeated["sources"] = repeated["sources"] * 2 + [{"url": " https://x.example ", "quote": "q"}] * 2
    repeated["tags"] = ["a", " a", "b", "a"]
    fast = document._fast_threat(copy.deepcopy(repeated), "line 9", TODAY)
    assert fast["sources"] == [*base["sources"], {"url": "https://x.example", "quote": "q"}]
    assert fast["tags"] == ["a", "b"]
    assert full_check(repeated) == (fast, [])
    twice = copy.deepcopy(base)
    twice["events"] = [{"id": "t0000000#7", "kind": "note", "on": "2020", "what": "x"}] * 2
    _, problems = either_check(twice)
    assert problems == ["line 9.events[1].id: 't0000000#7' appears twice"]


# --- the change log of a bulk import ----------------------------------------------------------------


def _file(tmp_path: Path, name: str, threats: list[dict], actors=()) -> Path:
    path = tmp_path / name
    lines = [{"type": "meta", "schema_version": 1}, *({"type": "actor", **a} for a in actors)]
    lines += [{"type": "threat", **t} for t in threats]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def _threats(n: int, start: int = 0) -> list[dict]:
    return [
        {
            "id": f"bulk{i}",
            "issuer": "putin",
            "targets": ["ukraine"],
            "made_on": "2024-05",
            "statement": f"Statement {i}",
            "sources": [{"url": f"https://bulk.example/{i}", "quote": f"quote {i}"}],
            "events": [{"kind": "crossed", "on": "2024-06", "what": f"crossed {i}"}],
        }
        for i in range(start, start + n)
    ]


def _rows(db: Path) -> dict:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
            for t in ("actor", "source", "threat", "threat_target", "event", "citation", "search")
        }


def test_a_bulk_import_is_logged_in_a_few_rows_and_shown_and_undone_a_record_at_a_time(tmp_path):
    import sqlite3

    from conftest import Cli

    cli = Cli(tmp_path / "r.db", "2025-08-12")
    cli("db", "init")
    before = _rows(cli.db)
    cli("import", str(_file(tmp_path, "a.jsonl", _threats(2500))))  # two batches
    run = cli.json("history", "--json", "--limit", "1")[0]
    assert run["command"].startswith("import")
    added = [(c["table"], c["id"]) for c in run["changes"] if c["op"] == "insert"]
    assert [k for t, k in added if t == "threat"] == [f"bulk{i}" for i in range(2500)]
    with sqlite3.connect(cli.db) as conn:
        urls = dict(conn.execute("SELECT url, id FROM source WHERE url LIKE 'https://bulk.example/%'"))
        logged = conn.execute("SELECT COUNT(*) FROM change WHERE run_id = ?", (run["run"],)).fetchone()[0]
    assert sorted(int(k) for t, k in added if t == "source") == sorted(urls.values())
    assert len(urls) == 2500 and len(added) == 5000
    assert logged <= 4  # threats and sources, a row each a batch
    assert all(c["fields"] == {} for c in run["changes"])
    cli("undo", "--yes")
    assert _rows(cli.db) == before


def test_an_undo_of_a_bulk_import_is_refused_while_a_later_run_changed_one_of_its_records(tmp_path):
    from conftest import Cli

    cli = Cli(tmp_path / "r.db", "2025-08-12")
    cli("db", "init")
    before = _rows(cli.db)
    cli("import", str(_file(tmp_path, "a.jsonl", _threats(30))))
    imported = cli.json("history", "--json", "--limit", "1")[0]["run"]
    cli("edit", "bulk7", "--said", "Changed later")
    out = cli("undo", "--run", str(imported), "--yes", expect=1)
    assert "later run(s) changed the same records" in out.stderr and "edit" in out.stderr
    assert cli.json("show", "bulk7", "--json")["statement"] == "Changed later"  # nothing was undone
    assert len(_rows(cli.db)["threat"]) == len(before["threat"]) + 30


def test_a_later_bulk_import_of_a_record_counts_as_a_later_change_of_it(tmp_path):
    """The keys of a bulk row of the log are compared too when it is the later run: undoing the
    delete of a threat that a later import added back would write over that import."""
    from conftest import Cli

    cli = Cli(tmp_path / "r.db", "2025-08-12")
    cli("db", "init")
    cli("import", str(_file(tmp_path, "a.jsonl", _threats(5))))
    cli("delete", "bulk3", "--yes")
    deleted = cli.json("history", "--json", "--limit", "1")[0]["run"]
    cli("import", str(_file(tmp_path, "b.jsonl", _threats(1, start=3))))
    out = cli("undo", "--run", str(deleted), "--yes", expect=1)
    assert "later run(s) changed the same records" in out.stderr and "import" in out.stderr


def test_the_check_constraints_skipped_for_an_import_hold_for_its_rows_and_for_every_later_write(tmp_path):
    """An import writes its rows without evaluating the tables' CHECK constraints (its rules said
    the same already): the rows satisfy them all, and on the same connection every other write is
    checked as before."""
    import sqlite3

    from redlines.service import Tracker

    t = Tracker(tmp_path / "r.db", today=TODAY)
    t.init()
    t.import_file(_file(tmp_path, "a.jsonl", _threats(50)), "a.jsonl")
    conn = t.conn
    assert [tuple(r) for r in conn.execute("PRAGMA integrity_check")] == [("ok",)]  # checks CHECK constraints too
    assert conn.execute("PRAGMA ignore_check_constraints").fetchone()[0] == 0
    bad = [
        "INSERT INTO event (id, threat_id, kind, occurred_on, what) VALUES ('bulk1#9', 'bulk1', 'bogus', '2024', 'x')",
        "INSERT INTO threat (id, issuer_id, made_on, statement, category) VALUES ('zz', 1, '2024', 's', 'bogus')",
        "INSERT INTO citation (source_id, threat_id, event_id, quote) VALUES (1, 'bulk1', 'bulk1#1', 'q')",
    ]
    for sql in bad:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(sql)
    t.close()


# --- a large file is read in a process of its own ------------------------------------------------------


@pytest.mark.parametrize("where", ["here", "child"])
def test_a_file_read_in_a_process_of_its_own_is_imported_and_refused_as_one_read_here(tmp_path, monkeypatch, where):
    """Whichever process reads the file, the same output, the same refusals with the same
    messages, and the same rows."""
    import sqlite3

    from conftest import Cli

    from redlines import reading

    monkeypatch.setattr(reading, "IN_PROCESS_BELOW", 0 if where == "child" else 1 << 60)
    started = []
    real = reading._from_child
    monkeypatch.setattr(reading, "_from_child", lambda *a: started.append(1) or real(*a))
    cli = Cli(tmp_path / "r.db", "2025-08-12")
    cli("db", "init", "--empty")
    actors = [{"slug": "putin", "name": "Putin", "kind": "person"}, {"slug": "ukraine", "name": "Ukraine"}]
    good = _file(tmp_path, "good.jsonl", _threats(2100), actors=actors)
    bad_lines = good.read_text().splitlines()
    bad_lines[5] = bad_lines[5].replace('"2024-05"', '"2025-09"')  # after today (line 6)
    bad_lines.append('{"type": "threat", "id": "bulk3", "issuer": "nobody", "made_on": "2020"}')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(bad_lines) + "\n")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(good.read_bytes()[:5000] + b"\xff\xfe" + good.read_bytes()[5000:])
    refused = cli("import", str(bad), expect=2)
    unreadable = cli("import", str(binary), expect=2)
    done = cli("import", str(good))
    with sqlite3.connect(cli.db) as conn:
        threats = conn.execute("SELECT COUNT(*) FROM threat").fetchone()[0]
    assert bool(started) == (where == "child")
    assert threats == 2100
    assert "line 6.made_on: 2025-09 is after 2025-08-12" in refused.stderr
    assert "'bulk3' appears twice" in refused.stderr and "'nobody' is not an actor" in refused.stderr
    assert "is not UTF-8 text" in unreadable.stderr
    assert "threats: 2100 added, 0 changed, 0 unchanged" in done.stderr
    # the same words either way: kept for the other run of this test to compare
    said = tmp_path.parent / f"said-{where}.json"
    said.write_text(json.dumps([refused.stderr, unreadable.stderr.replace(str(tmp_path), "T"), done.stdout]))
    other = tmp_path.parent / f"said-{'here' if where == 'child' else 'child'}.json"
    if other.exists():
        assert json.loads(other.read_text()) == json.loads(said.read_text())


def test_what_crosses_from_the_reading_process_arrives_as_it_was_sent():
    """A batch of rows crosses by marshal, anything else by pickle; each arrives equal to what was
    sent: rows, records, actors and sources, an error with its message."""
    from redlines.errors import BadInput
    from redlines.reading import _packed, _unpacked
    from redlines.store.load import NewRows, prepared

    threat = {"id": "bulk1", "_where": "line 2", "issuer": "putin", "made_on": "2024-05", "statement": "S"}
    threat["events"] = [{"id": None, "kind": "crossed", "on": "2024-06-01", "what": "W", "_where": "line 2.events[0]"}]
    new = NewRows()
    new.add(threat)
    actor = {"slug": "putin", "name": "P", "_where": "line 1", "aliases": ["V"]}
    rows_only = {"actor": [actor], "source": [], "threat": []}
    with_records = {"actor": [], "source": [{"url": "u", "title": None, "_where": "line 3"}], "threat": [dict(threat)]}
    prepared(with_records["threat"][0])  # a record with its own NewRows: a load into a database with threats
    for batch, how in ((rows_only | {"new": new}, b"m"), (with_records | {"new": NewRows()}, b"p")):
        data = _packed(("batch", batch))
        assert data[:1] == how
        assert _unpacked(data) == ("batch", batch)
    what, error = _unpacked(_packed(("error", BadInput("line 9: wrong", ["a hint"]))))
    assert (what, type(error), error.message, error.hints) == ("error", BadInput, "line 9: wrong", ["a hint"])
    assert _unpacked(_packed(("done", None))) == ("done", None)


K = 64  # bulk.ROWS_A_STATEMENT, the rows of one statement


@pytest.mark.parametrize("n", [0, 1, K - 1, K, K + 1, 2 * K + 2, 2000])
@pytest.mark.parametrize("limit", [None, 999, 30])
def test_rows_written_in_bulk_are_every_row_in_order(tmp_path, n, limit):
    """SQLite takes a bulk insert in statements of many rows and the rest one at a time: every
    row arrives once, in the order given, whatever the count, and within the values a statement
    may bind on the connection (999 before SQLite 3.32; 30: one row of 22 columns a statement)."""
    import sqlite3

    from redlines.store import bulk

    assert bulk.ROWS_A_STATEMENT == K
    conn = sqlite3.connect(tmp_path / "b.db")
    if limit is not None:
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    columns = tuple(f"c{j}" for j in range(22))  # as many as a threat's row
    conn.execute(f"CREATE TABLE t ({', '.join(columns)})")
    rows = [(f"r{i}", i, None if i % 3 else "x", *range(19)) for i in range(n)]
    bulk.insert(conn, "t", columns, rows)
    assert conn.execute(f"SELECT {', '.join(columns)} FROM t ORDER BY rowid").fetchall() == rows


def test_no_reading_process_is_left_behind_whatever_ends_the_import(tmp_path, monkeypatch):
    import multiprocessing

    from conftest import Cli

    from redlines import reading

    monkeypatch.setattr(reading, "IN_PROCESS_BELOW", 0)
    cli = Cli(tmp_path / "r.db", "2025-08-12")
    cli("db", "init")
    threats = _threats(4100)
    del threats[2500]["statement"]  # refused by the loader (a new threat needs one), in the second batch
    cli("import", str(_file(tmp_path, "a.jsonl", threats)), expect=2)
    assert multiprocessing.active_children() == []
    cli("import", str(_file(tmp_path, "b.jsonl", _threats(10))))
    assert multiprocessing.active_children() == []
    assert cli.json("show", "bulk9", "--json")["statement"] == "Statement 9"


# --- into a database without threats, only the rows of each threat cross --------------------------------


def _everything(db: Path) -> dict:
    """Every row a user can reach, but the run's time: tables, summaries, the search index's rows
    and words (not how FTS5 lays them out in its own pages, which depends on the batches)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT IN ('search', 'search_data', 'search_idx', 'run', 'alembic_version')"
            )
        ]
        out = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
        out["run"] = conn.execute("SELECT id, command, undoes FROM run ORDER BY id").fetchall()
        for word in ("crossed", "statement", "quote", "strikes", "leave", "1999", "bulk7"):
            out[f"matches {word}"] = conn.execute(
                "SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid", (word,)
            ).fetchall()
        out["index whole"] = conn.execute("INSERT INTO search (search, rank) VALUES ('integrity-check', 1)").rowcount
        return out


@pytest.mark.parametrize("where", ["here", "child"])
def test_an_import_into_a_database_without_threats_writes_what_the_record_by_record_load_writes(
    tmp_path, monkeypatch, where
):
    """The rows-only load (every threat new: its rows worked out where the file is read) against
    the load that reads whole records and asks which are new: the same tables, change log,
    summaries and search index, the same refusals, and an undo back to the empty database."""
    import sqlite3

    from conftest import Cli

    from redlines import reading
    from redlines.store import load

    monkeypatch.setattr(reading, "IN_PROCESS_BELOW", 0 if where == "child" else 1 << 60)
    actors = [{"slug": "putin", "name": "Putin", "kind": "person"}, {"slug": "ukraine", "name": "Ukraine"}]
    threats = _threats(2100)
    threats[7]["events"] = [  # ids given and not, an outcome, a due date, a cited event
        {"id": "bulk7#4", "kind": "deadline", "on": "2024-06-01", "what": "Leave by July", "due": "2024-07-01"},
        {"kind": "response", "on": "2024-07-02", "what": "Strikes", "outcome": "partial", "cameo": "190"},
        {"kind": "crossed", "on": "2024-06-20", "what": "crossed again", "sources": [{"url": "https://e.x/1"}]},
    ]
    threats[8].update(tags=["nuclear", "energy"], targets=[], deadline="2024-12", category="military")
    good = _file(tmp_path, "good.jsonl", threats, actors=actors)
    lacking = [dict(t) for t in threats[:3]]
    del lacking[1]["statement"]  # required of a new threat
    lacking[2]["events"] = [{"kind": "response", "on": "2024-07"}]  # a new event needs what and an outcome
    bad = _file(tmp_path, "bad.jsonl", lacking, actors=actors)
    seen = {}
    for rows_only in (True, False):
        if not rows_only:
            monkeypatch.setattr(load.Loader, "empty", property(lambda self: False))
        cli = Cli(tmp_path / f"r-{rows_only}.db", "2025-08-12")
        cli("db", "init", "--empty")
        empty = _everything(cli.db)
        refused = cli("import", str(bad), expect=2)
        assert _everything(cli.db) == empty
        done = cli("import", str(good))
        seen[rows_only] = (refused.stderr, done.stdout, done.stderr, _everything(cli.db))
        with sqlite3.connect(cli.db) as conn:  # written without SQLite's foreign-key checks, and none fails
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert len(seen[rows_only][3]["threat"]) == 2100
        cli("undo", "--yes")
        after_undo = _everything(cli.db)
        # the index's own pages keep the marks of the words taken out: its rows and matches are compared
        left = ("run", "change", "search_data", "search_idx")
        assert {k: v for k, v in after_undo.items() if k not in left} == {
            k: v for k, v in empty.items() if k not in left
        }
    assert seen[True] == seen[False]
    said = seen[True][0]
    assert "line 5.statement: is required for a new threat" in said
    assert "line 6.events[0].what: is required for a new event" in said
    assert "line 6.events[0].outcome: a response needs an outcome" in said


def test_foreign_keys_are_checked_again_after_an_import_into_a_database_without_threats(tmp_path):
    """The load into a database without threats runs without SQLite's foreign-key checks; the
    connection checks them again afterwards, whether the import landed or was refused, and an
    import into a database with threats keeps them throughout."""
    import sqlite3

    from redlines.errors import BadInput
    from redlines.service import Tracker

    actors = [{"slug": "putin", "name": "Putin", "kind": "person"}, {"slug": "ukraine", "name": "Ukraine"}]
    t = Tracker(tmp_path / "r.db", today=TODAY)
    t.init(empty=True)
    bad = _threats(3)
    del bad[1]["statement"]
    with pytest.raises(BadInput):
        t.import_file(_file(tmp_path, "bad.jsonl", bad, actors=actors), "bad.jsonl")
    assert t.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    t.import_file(_file(tmp_path, "a.jsonl", _threats(20), actors=actors), "a.jsonl")
    assert t.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        t.conn.execute("INSERT INTO threat_tag (threat_id, tag) VALUES ('nosuch', 'x')")
    t.import_file(_file(tmp_path, "b.jsonl", _threats(5, start=20)), "b.jsonl")
    assert t.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert t.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    t.close()
