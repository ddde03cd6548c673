"""import merges and says what it changes; add, edit and import share one set of rules; undo
restores the order of events; hostile input ends in one clear line (issue 11, issue 12)."""

import json
import sqlite3

import pytest
from conftest import raw, run_installed, table_names

LRW = "putin-long-range-weapons"


def dump_all(db) -> dict:
    """Every table, the change log included: a refused import must leave all of it as it was."""
    with raw(db) as c:
        return {t: sorted(map(repr, c.execute(f"SELECT * FROM {t}"))) for t in table_names(c)}


def run_import(cli, doc, *args, expect=0):
    text = doc if isinstance(doc, str) else json.dumps(doc)
    return cli("import", "-", *args, input=text, expect=expect)


@pytest.fixture
def small(empty_cli):
    run_import(
        empty_cli,
        {
            "actors": [{"slug": "a", "name": "Alpha", "kind": "state"}, {"slug": "b", "name": "Beta"}],
            "threats": [{"id": "t", "issuer": "a", "made_on": "2025-01-01", "statement": "s", "targets": ["b"]}],
        },
    )
    return empty_cli


# --- import merges -------------------------------------------------------------------------------


def test_a_json_record_with_four_keys_changes_those_and_keeps_events_and_sources(cli):
    before = cli.json("show", LRW, "--json")
    assert before["outcome"] == "partial" and len(before["events"]) == 2
    doc = {"threats": [{"id": LRW, "issuer": "putin", "made_on": "2024-09-12", "statement": "Changed."}]}
    dry = run_import(cli, doc, "--dry-run")
    assert dry.stderr.splitlines() == [
        f"threat {LRW}: statement changed",
        "threats: 0 to add, 1 to change, 0 unchanged",
        "dry run: nothing was written",
    ]
    run_import(cli, doc)
    after = cli.json("show", LRW, "--json")
    assert after["statement"] == "Changed."
    assert {k: v for k, v in after.items() if k != "statement"} == {
        k: v for k, v in before.items() if k != "statement"
    }  # events, sources, targets, trigger, outcome: all as they were


def test_a_csv_with_four_columns_keeps_the_other_columns_and_an_empty_cell_clears(cli, tmp_path):
    before = cli.json("show", LRW, "--json")
    path = tmp_path / "four.csv"
    path.write_text(f"id,issuer,made_on,statement\n{LRW},putin,2024-09-12,Changed.\n")
    assert cli("import", str(path)).stderr.splitlines()[0] == f"threat {LRW}: statement changed"
    after = cli.json("show", LRW, "--json")
    for key in ("trigger", "consequence", "category", "tags", "sources", "events", "outcome"):
        assert after[key] == before[key], key
    path.write_text(f"id,trigger,tags\n{LRW},,\n")
    assert cli("import", str(path)).stderr.splitlines()[0] == (
        f"threat {LRW}: trigger changed; tags removed: ukraine-war, long-range-weapons"
    )
    after = cli.json("show", LRW, "--json")
    assert (after["trigger"], after["tags"], after["consequence"]) == (None, [], before["consequence"])


def test_an_explicit_null_clears_and_replace_makes_the_file_the_whole_truth(small):
    run_import(small, {"threats": [{"id": "t", "events": [{"kind": "note", "on": "2025-02-01", "what": "n"}]}]})
    cleared = run_import(small, {"threats": [{"id": "t", "targets": None, "trigger": None}]})
    assert cleared.stderr.splitlines()[0] == "threat t: targets removed: b"
    t = small.json("show", "t", "--json")
    assert (t["targets"], len(t["events"])) == ([], 1)
    result = run_import(small, {"threats": [{"id": "t", "issuer": "a", "made_on": "2025-01-01", "statement": "s2",
                                             "events": []}]}, "--replace")  # fmt: skip
    assert result.stderr.splitlines()[0] == "threat t: statement changed; events removed: t#1"
    assert small.json("show", "t", "--json")["events"] == []


def test_the_summary_says_what_changes_on_actors_and_sources(small):
    doc = {
        "actors": [{"slug": "a", "name": "Alpha State", "of": "b", "aliases": ["AS"]}, {"slug": "c", "name": "C"}],
        "sources": [{"url": "https://s.org", "title": "T"}],
    }
    assert run_import(small, doc, "--dry-run").stderr.splitlines()[:3] == [
        "actor c: added",
        "actor a: name, of changed; aliases added: AS",
        "source https://s.org: added",
    ]
    run_import(small, doc)
    doc["actors"][0]["aliases"] = []
    assert run_import(small, doc).stderr.splitlines()[0] == "actor a: aliases removed: AS"


def test_importing_events_without_ids_twice_changes_nothing(small):
    doc = {
        "threats": [
            {
                "id": "t",
                "issuer": "a",
                "made_on": "2025-01-01",
                "statement": "s",
                "targets": ["b"],
                "events": [
                    {"kind": "crossed", "on": "2025-02-01", "what": "x", "sources": [{"url": "https://e.org/1"}]},
                    {"kind": "note", "on": "2025-02-02", "what": "y"},
                ],
            }
        ]
    }
    first = run_import(small, doc)
    history = small.json("history", "--json")
    before = dump_all(small.db)
    second = run_import(small, doc)
    assert [e["id"] for e in small.json("show", "t", "--json")["events"]] == ["t#1", "t#2"]
    assert dump_all(small.db) == before  # the change log too: it does not grow by the file
    assert small.json("history", "--json") == history
    assert first.stderr.splitlines()[0] == "threat t: events added: t#1, t#2"
    assert "events: 0 added, 0 changed, 2 unchanged" in second.stderr


def test_an_event_id_of_a_different_stored_event_is_a_conflict_unless_renumbered(small):
    run_import(small, {"threats": [{"id": "t", "events": [{"kind": "note", "on": "2025-02-01", "what": "n"}]}]})
    before = dump_all(small.db)
    clash = {"threats": [{"id": "t", "events": [{"id": "t#1", "kind": "crossed", "on": "2025-03-01", "what": "c"}]}]}
    result = run_import(small, clash, expect=1)
    assert result.stderr.splitlines()[:2] == [
        "error: 1 event(s) in the file have the id of a different stored event; nothing was written",
        "  threats[0].events[0]: t#1 is a crossed on 2025-03-01 in the file, but a note on 2025-02-01 in the database"
        " ('n')",
    ]
    assert dump_all(small.db) == before
    assert run_import(small, clash, "--renumber").stderr.splitlines()[0] == "threat t: events added: t#2"
    again = run_import(small, clash, "--renumber")  # the renumbered event now matches by content
    assert "events: 0 added, 0 changed, 1 unchanged" in again.stderr
    same = {"threats": [{"id": "t", "events": [{"id": "t#1", "kind": "note", "on": "2025-02-01", "what": "edited"}]}]}
    assert run_import(small, same).stderr.splitlines()[0] == "threat t: events changed: t#1"


# --- undo is exact -------------------------------------------------------------------------------


def test_undo_of_a_delete_keeps_which_of_two_same_day_deadlines_is_in_force(small):
    small("add", "event", "t", "--kind", "deadline", "--on", "2025-03-01", "--what", "first", "--due", "2025-04-01")
    small("add", "event", "t", "--kind", "deadline", "--on", "2025-03-01", "--what", "second", "--due", "2025-12-01")
    before = small.json("show", "t", "--json")
    assert (before["deadline"], before["outcome"]) == ("2025-12-01", "pending")
    small("delete", "t", "--yes")
    small("undo", "--yes")
    after = small.json("show", "t", "--json")
    assert (after["deadline"], after["outcome"]) == ("2025-12-01", "pending")
    assert [e["what"] for e in after["events"]] == ["first", "second"]


# --- one set of rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc, line",
    [
        (
            {"actors": [{"slug": "c", "name": "C", "aliases": ["ALPHA"]}]},
            "actors[0].aliases[0]: the alias 'ALPHA' is taken by the actor a",
        ),
        ({"actors": [{"slug": "c", "name": "A"}]}, "actors[0].name: the name 'A' is taken by the actor a"),
        ({"actors": [{"slug": "c", "name": "C", "of": "c"}]}, "actors[0].of: an actor cannot speak for itself"),
        (
            {"actors": [{"slug": "a", "of": "b"}, {"slug": "b", "of": "a"}]},
            "actors[0].of: speaking for b -> a would go round in a circle",
        ),
        (
            {
                "threats": [
                    {"id": "t", "events": [{"kind": "note", "on": "2025-02-01", "what": "n", "outcome": "partial"}]}
                ]
            },
            "threats[0].events[0].outcome: an outcome is for a response, not a note event",
        ),
        (
            {"threats": [{"id": "t", "events": [{"kind": "crossed", "on": "2025-02-01", "what": "n", "due": "2026"}]}]},
            "threats[0].events[0].due: a due date is for a deadline event, not a crossed event",
        ),
        (
            {"threats": [{"id": "t", "events": [{"on": "2025-02-01", "what": "n"}]}]},
            "threats[0].events[0].kind: is required: one of crossed, deadline, response, complied, withdrawn, "
            "restated, note",
        ),
        (
            {"threats": [{"id": "u", "issuer": "a", "statement": "s"}]},
            "threats[0].made_on: is required for a new threat",
        ),
        (
            {"threats": [{"id": "t", "made_on": "2026-01-01"}]},
            "threats[0].made_on: 2026-01-01 is after 2025-08-12: a threat or event cannot be dated in the future",
        ),
        (
            {"actors": [{"slug": "jose", "name": "Jos\u00e9"}, {"slug": "jose-2", "name": "Jose\u0301"}]},
            "actors[0].name: the name 'José' is taken by the actor jose-2",
        ),
    ],
)
def test_import_refuses_what_add_and_edit_refuse(small, doc, line):
    before = dump_all(small.db)
    result = run_import(small, doc, expect=2)
    assert result.stderr.splitlines()[0].startswith("error: the data set has ")
    assert "  " + line in result.stderr.splitlines()
    assert dump_all(small.db) == before


def test_add_and_edit_refuse_the_same_clashes(small):
    before = dump_all(small.db)
    assert "the alias 'ALPHA' is taken by the actor a" in small("add", "actor", "c", "--name", "C", "--alias",
                                                                "ALPHA", expect=1).stderr  # fmt: skip
    assert "the name 'ALPHA' is taken by the actor a" in small("add", "actor", "c", "--name", "ALPHA", expect=1).stderr
    small("add", "actor", "jose", "--name", "Jos\u00e9")
    before = dump_all(small.db)
    assert "taken by the actor jose" in small("add", "actor", "jose-2", "--name", "JOSE\u0301", expect=1).stderr
    assert "an actor cannot speak for itself" in small("edit", "a", "--of", "a", expect=2).stderr
    small("edit", "a", "--of", "b")
    assert "go round in a circle" in small("edit", "b", "--of", "a", expect=2).stderr
    assert dump_all(small.db) != before  # only the edit that was allowed landed
    assert small.json("actors", "--json")[0]["of"] == "b"


def test_actors_resolve_by_nfc_and_casefold_and_a_slug_wins(small, db):
    small("add", "actor", "jose", "--name", "Jos\u00e9")
    small("add", "threat", "--id", "j", "--by", "JOSE\u0301", "--on", "2025-01-01", "--said", "x")
    assert small.json("show", "j", "--json")["issuer"] == "jose"
    with raw(db) as c:  # a database from before the rule, where an alias is another's slug
        c.execute("INSERT INTO alias (actor_id, alias) SELECT id, 'b' FROM actor WHERE slug = 'a'")
    assert [t["id"] for t in small.json("list", "--actor", "b", "--json")] == []
    assert [t["id"] for t in small.json("list", "--actor", "a", "--json")] == ["t"]


# --- every input path ends in a message ----------------------------------------------------------


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("bigint.json", '{"threats": [{"id": "t", "cameo": ' + "9" * 4400 + "}]}", "a number too long to read"),
        ("deep.json", '{"threats": ' + "[" * 3000 + "]" * 3000 + "}", "nested too deeply"),
        ("deep.jsonl", '{"type": "threat", "id": "t", "tags": ' + "[" * 3000 + "]" * 3000 + "}\n", "nested too deep"),
        ("type.jsonl", '{"type": ["threat"], "id": "t"}\n', "line 1: a record needs a type"),
        ("typeobj.jsonl", '{"type": {"a": 1}, "id": "t"}\n', "line 1: a record needs a type"),
        ("target.jsonl", '{"type": "threat", "id": "t", "targets": [["b"]]}\n', "targets[0]: should be text"),
        ("target2.jsonl", '{"type": "threat", "id": "t", "issuer": {"a": 1}}\n', "issuer: should be text"),
        ("big.csv", "id,statement\nt," + "x" * 140_000 + "\n", "the CSV cannot be read"),
        ("cat.json", '{"threats": [{"id": "t", "category": ' + "[" * 900 + "]" * 900 + "}]}", "is not one of"),
    ],
)
def test_hostile_files_end_in_one_clear_line(small, tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    before = dump_all(small.db)
    result = small("import", str(path), expect=2)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert dump_all(small.db) == before


def test_a_pipe_is_read_like_a_file(installed, tmp_path):
    db = tmp_path / "r.db"
    assert run_installed(installed, "db", "init", "--empty", db=db).returncode == 0
    doc = json.dumps({"actors": [{"slug": "a", "name": "A"}]})
    result = run_installed(installed, "import", "/dev/stdin", db=db, stdin=doc)  # a pipe, not a regular file
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == "actor a: added"
    fifo = tmp_path / "fifo"
    import os
    import threading

    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(json.dumps({"actors": [{"slug": "b", "name": "B"}]})))
    writer.start()
    result = run_installed(installed, "import", str(fifo), db=db)
    writer.join()
    assert result.returncode == 0, result.stderr
    assert "actor b: added" in result.stderr


def test_jsonl_duplicate_threat_ids_are_found_by_id(small, tmp_path):
    path = tmp_path / "dup.jsonl"
    lines = [{"type": "threat", "id": "u", "issuer": "a", "made_on": "2025-01-01", "statement": "s"}] * 2
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = small("import", str(path), expect=2)
    assert "line 2.id: 'u' appears twice" in result.stderr


def test_the_library_names_the_field_and_the_command_line_its_option(small, db):
    from redlines.errors import BadInput
    from redlines.service import Tracker

    tracker = Tracker(db)
    with pytest.raises(BadInput) as e:
        tracker.add_event("t", kind="note", on="2025-02-01", what="x", outcome="partial")
    assert e.value.message == "outcome is for a response, not a note event"
    with pytest.raises(BadInput) as e:
        tracker.add_threat(by="a", on="2025-01-01", said="  ")
    assert e.value.message == "statement needs some text"
    tracker.close()
    args = ("add", "event", "t", "--kind", "note", "--on", "2025-02-01", "--what", "x", "--outcome", "partial")
    assert small(*args, expect=2).stderr == "error: --outcome is for a response, not a note event\n"
    said = small("add", "threat", "--by", "a", "--on", "2025-01-01", "--said", "  ", expect=2)
    assert said.stderr == "error: --said needs some text\n"


@pytest.mark.sqlite_only  # a file of schema 0001, upgraded
def test_migration_0008_numbers_each_threats_events_in_their_order_of_entry(cli, db):
    import shutil
    from pathlib import Path

    fixture = Path(__file__).resolve().parent / "fixtures" / "schema-0001.db"
    shutil.copy(fixture, db)
    with sqlite3.connect(db) as c:
        entered = [tuple(r) for r in c.execute("SELECT threat_id, id FROM event ORDER BY threat_id, rowid")]
    c.close()
    assert len(entered) > 3
    cli("list", "--json")  # upgrades the file
    with sqlite3.connect(db) as c:
        numbered = [tuple(r) for r in c.execute("SELECT threat_id, id, seq FROM event ORDER BY threat_id, seq")]
    c.close()
    expected, n, last = [], 0, None
    for threat, event in entered:
        n = n + 1 if threat == last else 1
        expected.append((threat, event, n))
        last = threat
    assert numbered == expected


def test_a_name_clash_stored_before_the_rule_does_not_block_other_changes(small, db):
    with raw(db) as c:  # a database written before names had to be unique
        c.execute("INSERT INTO alias (actor_id, alias) SELECT id, 'Alpha' FROM actor WHERE slug = 'b'")
    small("edit", "a", "--kind", "bloc")
    run_import(small, {"actors": [{"slug": "b", "kind": "bloc"}]})
    assert {a["slug"]: a["kind"] for a in small.json("actors", "--json")} == {"a": "bloc", "b": "bloc"}
    assert "taken by the actor b" in small("edit", "a", "--name", "ALPHA", expect=1).stderr
    assert "taken by the actor a" in run_import(small, {"actors": [{"slug": "b", "name": "B2"}]}, expect=2).stderr
