"""add, edit, delete, history and undo: what lands in the database, and what never does."""

import shutil
from pathlib import Path

import pytest
from conftest import Cli, raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DATA_TABLES = ("actor", "alias", "source", "threat", "threat_target", "threat_tag", "event", "citation")


def dump(db) -> dict:
    """The data set as stored (not the change log): what a refused or undone command must leave."""
    with raw(db) as c:
        return {t: sorted(map(tuple, c.execute(f"SELECT * FROM {t}"))) for t in DATA_TABLES}


@pytest.fixture
def kim(empty_cli):
    empty_cli("add", "actor", "kim", "--name", "Kim Jong Un", "--kind", "person")
    empty_cli("add", "actor", "korea-south", "--name", "South Korea", "--kind", "state", "--alias", "ROK")
    return empty_cli


@pytest.fixture(scope="module")
def kim_template(tmp_path_factory):
    """A database with kim and South Korea in it, made once; each Hypothesis example works on a
    fresh copy of it (`kim_copy`), so no example sees what another left behind."""
    db = tmp_path_factory.mktemp("kim") / "template.db"
    cli = Cli(db, "2025-08-12")
    cli("db", "init", "--empty")
    cli("add", "actor", "kim", "--name", "Kim Jong Un", "--kind", "person")
    cli("add", "actor", "korea-south", "--name", "South Korea", "--kind", "state", "--alias", "ROK")
    return db


@pytest.fixture
def kim_copy(kim_template, tmp_path):
    made = []

    def fresh() -> tuple[Cli, Path]:
        db = tmp_path / f"example-{len(made)}.db"
        shutil.copy(kim_template, db)
        made.append(db)
        return Cli(db, "2025-08-12"), db

    return fresh


def test_add_threat_prints_its_id_and_stores_every_field(kim, db):
    out = kim(
        "add",
        "threat",
        "--by",
        "Kim Jong Un",
        "--against",
        "rok",
        "--against",
        "korea-south",
        "--on",
        "1 Mar 2025",
        "--said",
        "Drills will be met with fire",
        "--if",
        "joint drills go ahead",
        "--then",
        "artillery strikes",
        "--category",
        "military",
        "--deadline",
        "+3m",
        "--source",
        "https://example.org/a",
        "--quote",
        "met with fire",
        "--source",
        "https://example.org/b",
        "--tag",
        "korea",
        "--tag",
        "drills",
        "--cameo",
        "138",
        today="2025-03-02",
    ).stdout
    assert out == "kim-drills-met-fire\n"
    t = kim.json("show", "kim-drills-met-fire", "--json", today="2025-03-02")
    assert {
        k: t[k]
        for k in (
            "issuer",
            "targets",
            "made_on",
            "statement",
            "trigger",
            "consequence",
            "category",
            "deadline",
            "tags",
            "cameo",
        )
    } == {
        "issuer": "kim",
        "targets": ["korea-south"],
        "made_on": "2025-03-01",
        "statement": "Drills will be met with fire",
        "trigger": "joint drills go ahead",
        "consequence": "artillery strikes",
        "category": "military",
        "deadline": "2025-06-01",  # +3m counts from --on (1 Mar 2025), not from today
        "tags": ["korea", "drills"],
        "cameo": "138",
    }
    assert [(s["url"], s["quote"]) for s in t["sources"]] == [
        ("https://example.org/a", "met with fire"),
        ("https://example.org/b", None),
    ]


def test_generated_ids_are_readable_and_unique(kim):
    ids = [
        kim("add", "threat", "--by", "kim", "--on", "2025-01-01", "--said", "Seoul will burn").stdout.strip()
        for _ in range(3)
    ]
    assert ids == ["kim-seoul-burn", "kim-seoul-burn-2", "kim-seoul-burn-3"]


def test_add_event_numbers_events_per_threat(kim):
    kim("add", "threat", "--id", "t", "--by", "kim", "--on", "2025-01-01", "--said", "x", "--deadline", "2025-06")
    assert kim("add", "event", "t", "--kind", "crossed", "--on", "2025-02-01", "--what", "a").stdout == "t#1\n"
    assert (
        kim("add", "event", "t", "--kind", "deadline", "--on", "2025-03-01", "--what", "cut", "--due", "2025-04").stdout
        == "t#2\n"
    )
    t = kim.json("show", "t", "--json", today="2025-05-02")
    assert (t["deadline"], t["outcome"], t["tested_on"]) == ("2025-04", "not_followed_through", "2025-02-01")


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["add", "threat", "--by", "kim", "--on", "+50d", "--said", "x"], 2, "cannot be dated in the future"),
        (["add", "threat", "--by", "kim", "--on", "31 Febtember", "--said", "x"], 2, "'31 Febtember'"),
        (["add", "threat", "--by", "nobody", "--on", "2025-01-01", "--said", "x"], 1, "no actor is called 'nobody'"),
        (["add", "threat", "--by", "kim", "--on", "2025-01-01", "--said", "x", "--category", "psychic"], 2, "psychic"),
        (["add", "threat", "--by", "kim", "--on", "2025-01-01", "--said", "  "], 2, "--said needs some text"),
        (["add", "threat", "--by", "kim", "--on", "2025-01-01", "--said", "x\x00y"], 2, "NUL"),
        (["add", "threat", "--by", "kim", "--on", "2025-01-01", "--said", "x", "--quote", "q"], 2, "needs a --source"),
        (["add", "threat", "--by", "kim", "--on", "2025-01-01", "--said", "x", "--id", "bad id"], 2, "not valid"),
        (["add", "threat", "--by", "kim", "--on", "2025-01-01", "--said", "x", "--against", "nowhere"], 1, "nowhere"),
        (["add", "threat", "--by", "kim"], 2, "missing --on, --said"),
        (["add", "event", "nope", "--kind", "crossed", "--on", "2025-01-01", "--what", "x"], 1, "no threat"),
        (["add", "actor", "Bad Slug", "--name", "x"], 2, "slug 'Bad Slug' is not valid"),
        (["add", "actor", "kim", "--name", "x"], 1, "slug 'kim' is taken"),
        (["add", "actor", "rok2", "--name", "x", "--alias", "rok"], 1, "alias 'rok' is taken by the actor korea-south"),
        (["add", "actor", "x", "--name", "x", "--kind", "tribe"], 2, "tribe"),
        (["delete", "kim", "--yes"], 1, "actor kim is still referred to"),
    ],
)
def test_refused_commands_write_nothing(kim, db, args, code, message):
    kim("add", "threat", "--id", "t", "--by", "kim", "--on", "2025-01-01", "--said", "x")
    before = dump(db)
    result = kim(*args, expect=code)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert dump(db) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["--kind", "response", "--what", "x", "--on", "2025-01-02"], "a response needs --outcome"),
        (
            ["--kind", "crossed", "--what", "x", "--on", "2025-01-02", "--outcome", "partial"],
            "--outcome is for a response",
        ),
        (["--kind", "deadline", "--what", "x", "--on", "2025-01-02"], "needs --due"),
        (["--kind", "note", "--what", "x", "--on", "2025-01-02", "--due", "2025-05"], "--due is for a deadline"),
        (["--kind", "rumour", "--what", "x", "--on", "2025-01-02"], "--kind 'rumour' is not one of"),
        (["--kind", "response", "--what", "x", "--on", "2025-01-02", "--outcome", "won"], "--outcome 'won'"),
    ],
)
def test_events_must_be_consistent(kim, db, args, message):
    kim("add", "threat", "--id", "t", "--by", "kim", "--on", "2025-01-01", "--said", "x")
    before = dump(db)
    assert message in kim("add", "event", "t", *args, expect=2).stderr
    assert dump(db) == before


def test_edit_threat_event_and_actor(kim):
    kim("add", "threat", "--id", "t", "--by", "kim", "--on", "2025-01-01", "--said", "x", "--tag", "a", "--if", "y")
    kim("add", "event", "t", "--kind", "crossed", "--on", "2025-01-05", "--what", "crossed")
    assert kim("edit", "t", "--deadline", "2025-02", "--tag", "b", "--if", "", "--against", "rok").stderr == (
        "changed threat t (4 rows)\n"
    )  # the threat row, tag a out, tag b in, one target
    t = kim.json("show", "t", "--json")
    assert (t["deadline"], t["tags"], t["trigger"], t["targets"]) == ("2025-02", ["b"], None, ["korea-south"])
    kim("edit", "t#1", "--kind", "response", "--outcome", "followed_through")
    assert kim.json("show", "t", "--json")["outcome"] == "followed_through"
    kim("edit", "kim", "--name", "Kim Jong-un", "--alias", "Kim", "--of", "rok")
    actor = {a["slug"]: a for a in kim.json("actors", "--json")}["kim"]
    assert (actor["name"], actor["aliases"], actor["of"]) == ("Kim Jong-un", ["Kim"], "korea-south")
    assert kim("edit", "t", "--said", "x").stderr == "threat t: nothing changed\n"


def test_edit_refuses_options_of_another_kind_of_record(kim, db):
    kim("add", "threat", "--id", "t", "--by", "kim", "--on", "2025-01-01", "--said", "x")
    before = dump(db)
    assert "--what cannot be changed on a threat" in kim("edit", "t", "--what", "x", expect=2).stderr
    assert "--outcome" in kim("edit", "kim", "--outcome", "partial", expect=2).stderr
    assert (
        "a response needs --outcome"
        in kim("add", "event", "t", "--kind", "response", "--on", "2025-01-02", "--what", "x", expect=2).stderr
    )
    assert dump(db) == before


def test_delete_asks_on_a_terminal_only_and_refuses_what_is_referred_to(kim, db):
    kim("add", "threat", "--id", "t", "--by", "kim", "--on", "2025-01-01", "--said", "x")
    kim("add", "event", "t", "--kind", "note", "--on", "2025-01-02", "--what", "n", "--source", "https://x.org")
    result = kim("delete", "kim", "--yes", expect=1)
    assert result.stderr == ("error: actor kim is still referred to; delete or edit these first\n  threat t\n")
    assert "no terminal to ask on" in kim("delete", "t", expect=2).stderr
    assert kim("delete", "t", "--yes").stderr == "this removes: threat t, event t#1\ndeleted threat t and 1 event(s)\n"
    assert dump(db)["threat"] == [] and dump(db)["event"] == [] and dump(db)["citation"] == []
    kim("delete", "kim", "--yes")
    assert [a["slug"] for a in kim.json("actors", "--json")] == ["korea-south"]


def test_history_groups_changes_per_run_newest_first(kim):
    kim("add", "threat", "--id", "t", "--by", "kim", "--on", "2025-01-01", "--said", "x")
    kim("edit", "t", "--deadline", "2025-02")
    runs = kim.json("history", "--json")
    assert [r["command"] for r in runs] == ["edit threat t", "add threat t", "add actor korea-south", "add actor kim"]
    assert runs[0]["changes"] == [
        {"table": "threat", "id": "t", "op": "update", "fields": {"deadline": [None, "2025-02"]}}
    ]
    text = kim("history", "-n", "1").stdout
    assert text.splitlines()[1] == "    ~ threat t: deadline: (none) -> 2025-02"


def test_history_names_the_actors_and_threats_a_change_refers_to(kim):
    kim("add", "threat", "--id", "t", "--by", "kim", "--against", "rok", "--on", "2025-01-01", "--said", "x")
    kim("edit", "kim", "--of", "rok")
    runs = kim.json("history", "--json")
    assert kim("history", "-n", "2").stdout.splitlines() == [
        f"#4  {runs[0]['at']}  {runs[0]['author']}  edit actor kim  (1 change)",
        "    ~ actor 1: of: (none) -> korea-south",
        f"#3  {runs[1]['at']}  {runs[1]['author']}  add threat t  (2 changes)",
        "    + threat t: issuer=kim, made_on=2025-01-01, statement=x, category=other",
        "    + threat_target 1: threat=t, actor=korea-south",
    ]
    assert kim.json("history", "--json")[0]["changes"][0]["fields"] == {"of_id": [None, 2]}  # JSON keeps row ids


def test_undo_reverts_a_run_whole_and_can_itself_be_undone(kim, db):
    before = dump(db)
    kim(
        "add",
        "threat",
        "--id",
        "t",
        "--by",
        "kim",
        "--against",
        "rok",
        "--on",
        "2025-01-01",
        "--said",
        "x",
        "--tag",
        "a",
        "--source",
        "https://x.org",
        "--quote",
        "q",
    )
    after = dump(db)
    result = kim("undo", "--yes")
    assert result.stderr.startswith("#3  ") and "add threat t  (5 changes)" in result.stderr
    assert dump(db) == before
    kim("undo", "--yes")  # undo the undo
    assert dump(db) == after
    assert "no terminal to ask on" in kim("undo", expect=2).stderr


def test_undo_of_a_delete_brings_back_every_row(kim, db):
    kim("add", "threat", "--id", "t", "--by", "kim", "--on", "2025-01-01", "--said", "x", "--source", "https://x.org")
    kim("add", "event", "t", "--kind", "crossed", "--on", "2025-01-02", "--what", "c", "--source", "https://y.org")
    before = dump(db)
    kim("delete", "t", "--yes")
    kim("undo", "--yes")
    assert dump(db) == before


def test_nothing_to_undo(empty_cli):
    # an empty database has recorded no change; a seeded one has its seed as the first run
    assert "nothing to undo" in empty_cli("undo", "--yes", expect=1).stderr


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(text=st.text(max_size=30))
def test_any_string_as_a_date_is_stored_at_a_precision_or_refused_with_exit_2(kim_copy, text):
    kim, db = kim_copy()
    result = kim.runner.invoke(
        __import__("redlines.cli", fromlist=["app"]).app,
        ["add", "threat", "--by", "kim", "--on", text, "--said", "x"],
        env={"REDLINES_DB": str(db), "REDLINES_TODAY": "2025-06-15"},
    )
    assert result.exit_code in (0, 2), result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 0:
        made = kim.json("show", result.stdout.strip(), "--json", today="2025-06-15")["made_on"]
        assert len(made) in (4, 7, 10)
    else:
        assert "cannot read the date" in result.stderr or "in the future" in result.stderr


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    said=st.text(min_size=1, max_size=200).filter(lambda s: s.strip() and "\x00" not in s),
    tags=st.lists(st.text(alphabet="abcxyz-", min_size=1, max_size=8), max_size=3),
    deadline=st.none() | st.sampled_from(["2025-07", "+10d", "2026"]),
)
def test_add_then_undo_leaves_the_data_set_exactly_as_before(kim_copy, said, tags, deadline):
    kim, db = kim_copy()
    before = dump(db)
    args = [
        "add",
        "threat",
        "--by",
        "kim",
        "--against",
        "rok",
        "--on",
        "2025-05-01",
        "--said",
        said,
        "--source",
        "https://example.org/s",
        "--quote",
        said,
    ]
    for t in tags:
        args += ["--tag", t]
    if deadline:
        args += ["--deadline", deadline]
    kim(*args)
    assert dump(db) != before
    kim("undo", "--yes")
    assert dump(db) == before
