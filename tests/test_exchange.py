"""export and import: lossless round trips, idempotence, all-or-nothing; search kept in step;
the SQL views agree with the CLI."""

import json

from conftest import raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_record import dump

from redlines.service import Tracker


def export(cli, *args) -> dict:
    doc = cli.json("export", *args)
    doc.pop("exported_at")
    return doc


def test_export_is_stable_and_holds_everything(cli):
    first, second = cli("export").stdout, cli("export").stdout
    assert first.split("\n", 1)[1] == second.split("\n", 1)[1]  # only exported_at differs
    doc = json.loads(first)
    assert list(doc) == ["schema_version", "exported_at", "actors", "sources", "threats"]
    assert [a["slug"] for a in doc["actors"]][:3] == ["nato", "north-korea", "putin"]
    july = {t["id"]: t for t in doc["threats"]}["trump-sanctions-july"]
    assert [e["id"] for e in july["events"]] == [f"trump-sanctions-july#{n}" for n in (1, 2, 3, 4)]
    # a record a line: the header line, then per list its opening, its records and its closing
    assert len(first.splitlines()) == 1 + (1 + 10 + 1) + (1 + 1 + 1) + (1 + 7 + 1) + 1


def test_json_and_jsonl_round_trips_lose_nothing(cli, tmp_path):
    for fmt in ("json", "jsonl"):
        path = tmp_path / f"out.{fmt}"
        cli("export", "--format", fmt, "-o", str(path))
        other = type(cli)(tmp_path / f"copy-{fmt}.db", cli.today)
        other("db", "init", "--empty")
        assert "threats: 7 added, 0 changed, 0 unchanged" in other("import", str(path)).stderr
        assert export(other) == export(cli)
        before = dump(other.db)
        assert "threats: 0 added, 0 changed, 7 unchanged" in other("import", str(path)).stderr
        assert dump(other.db) == before


def test_csv_round_trip_keeps_threat_fields_and_leaves_events_alone(cli, tmp_path):
    path = tmp_path / "threats.csv"
    cli("export", "--format", "csv", "-o", str(path))
    text = path.read_text()
    assert text.startswith(
        "id,issuer,targets,made_on,statement,trigger,consequence,category,cameo,deadline,"
        "deadline_in_force,outcome,tested_on,tags,sources,quotes\n"
    )
    before = dump(cli.db)
    assert "threats: 0 added, 0 changed, 7 unchanged" in cli("import", str(path)).stderr
    assert dump(cli.db) == before
    # a spreadsheet user edits a deadline and adds a threat
    lines = text.splitlines(keepends=True)
    edited = "".join(lines).replace("trump-sanctions-march,trump,", "trump-sanctions-march,trump,", 1)
    edited = edited.replace(",2025-03,2025-03,not_followed_through", ",2025-04,2025-03,not_followed_through", 1)
    edited += "trump-tariffs-2,trump,russia,2025-08-01,=SUM(A1) new tariffs,,,economic,,,,pending,,,,\n"
    (tmp_path / "edited.csv").write_text(edited)
    result = cli("import", str(tmp_path / "edited.csv"))
    assert "threats: 1 added, 1 changed, 6 unchanged" in result.stderr
    t = cli.json("show", "trump-sanctions-march", "--json")
    assert t["deadline"] == "2025-04" and len(t["sources"]) == 1
    assert cli.json("show", "trump-tariffs-2", "--json")["statement"] == "=SUM(A1) new tariffs"


def test_csv_neutralises_spreadsheet_formulas(empty_cli, db):
    Tracker(db).import_document(
        {
            "actors": [{"slug": "a", "name": "A", "kind": "state"}],
            "threats": [
                {
                    "id": "f",
                    "issuer": "a",
                    "made_on": "2025-01-01",
                    "statement": '=HYPERLINK("http://evil")',
                    "trigger": "+1",
                    "consequence": "@cmd",
                    "tags": ["-x"],
                }
            ],
        },
        "test",
    )
    row = empty_cli("export", "--format", "csv").stdout.splitlines()[1]
    assert row == """f,a,,2025-01-01,"'=HYPERLINK(""http://evil"")",'+1,'@cmd,other,,,,pending,,'-x,,"""


def test_dry_run_counts_and_writes_nothing(cli, tmp_path):
    path = tmp_path / "e.json"
    cli("export", "-o", str(path))
    doc = json.loads(path.read_text())
    doc["threats"][0]["statement"] += " (edited)"
    doc["threats"].append({"id": "new-one", "issuer": "putin", "made_on": "2025-01-01", "statement": "new"})
    path.write_text(json.dumps(doc))
    before = dump(cli.db)
    result = cli("import", str(path), "--dry-run")
    assert "threats: 1 to add, 1 to change, 6 unchanged" in result.stderr
    assert "dry run: nothing was written" in result.stderr
    assert dump(cli.db) == before


def test_a_bad_import_writes_nothing_and_says_where(cli, tmp_path):
    text = cli("export").stdout
    before = dump(cli.db)
    truncated = cli("import", "-", input=text[: len(text) // 2], expect=2)
    assert "not valid JSON" in truncated.stderr and "nothing was written" in truncated.stderr
    doc = json.loads(text)
    doc["threats"][2]["made_on"] = "2025-13"
    doc["threats"][4]["issuer"] = "nobody"
    doc["threats"][5]["events"] = [{"kind": "response", "on": "2025-01-01", "what": "x"}]
    bad = cli("import", "-", input=json.dumps(doc), expect=2)
    assert bad.stderr.splitlines() == [
        "error: the data set has 3 problem(s); nothing was written",
        "  threats[2].made_on: '2025-13' is not an ISO date such as 2025-01-05, 2025-01 or 2025",
        "  threats[4].issuer: 'nobody' is not an actor in the data set",
        "  threats[5].events[0].outcome: a response needs an outcome: followed_through, partial, not_followed_through",
    ]
    assert "line 2: a record needs a type" in cli("import", "-", input='{"type": "meta"}\n[1]\n', expect=2).stderr
    assert "cannot read" in cli("import", str(tmp_path / "missing.json"), expect=2).stderr
    assert dump(cli.db) == before


def test_a_refused_event_date_beside_good_ones_is_a_problem_not_a_traceback(cli):
    """A new threat whose events mix accepted and refused dates, in either order, in each
    format that carries events: the list of problems, exit 2, nothing written."""
    doc = json.loads(cli("export").stdout)
    before = dump(cli.db)
    good = {"kind": "crossed", "on": "2025-03-01", "what": "crossed"}
    for bad_at, events in ((1, [good, {**good, "on": "2025-13-45"}]), (0, [{**good, "on": "2025-02-30"}, good])):
        new = {"id": "mixed", "issuer": "putin", "made_on": "2025-01-01", "statement": "s", "events": events}
        whole = {**doc, "threats": [*doc["threats"], new]}
        line = json.dumps({"type": "threat", **new})
        for text, where in ((json.dumps(whole), f"threats[{len(doc['threats'])}]"), (line, "line 1")):
            for dry in ((), ("--dry-run",)):
                result = cli("import", "-", *dry, input=text, expect=2)
                assert result.stderr.splitlines() == [
                    "error: the data set has 1 problem(s); nothing was written",
                    f"  {where}.events[{bad_at}].on: {events[bad_at]['on']!r} is not an ISO date such as"
                    " 2025-01-05, 2025-01 or 2025",
                ]
    assert dump(cli.db) == before


def test_import_is_recorded_and_undone_whole(empty_cli, cli, tmp_path):
    source = type(cli)(tmp_path / "src.db", cli.today)
    text = source("export").stdout
    empty_cli("import", "-", input=text)
    assert empty_cli.json("history", "--json")[0]["command"] == "import (stdin)"
    assert len(empty_cli.json("list", "--json")) == 7
    empty_cli("undo", "--yes")
    assert empty_cli.json("list", "--json") == []
    assert empty_cli.json("search", "nuclear", "--json") == []


def test_search_is_kept_in_step_with_every_write(empty_cli):
    cli = empty_cli
    cli("add", "actor", "kim", "--name", "Kim")
    cli(
        "add",
        "threat",
        "--id",
        "k",
        "--by",
        "kim",
        "--on",
        "2025-01-01",
        "--said",
        "Artillery at dawn",
        "--source",
        "https://x.org",
        "--quote",
        "a sea of fire",
    )
    assert [r["id"] for r in cli.json("search", "artillery", "--json")] == ["k"]
    assert [r["id"] for r in cli.json("search", "sea of fire", "--json")] == ["k"]
    cli("edit", "k", "--said", "Missiles at noon")
    assert cli.json("search", "artillery", "--json") == []
    cli("add", "event", "k", "--kind", "note", "--on", "2025-01-02", "--what", "satellite images")
    hit = cli.json("search", "satellite", "--json")[0]
    assert hit["matches"] == [{"in": "event", "event": "k#1", "snippet": "[satellite] images"}]
    assert cli.json("--as-of", "2025-01-01", "search", "satellite", "--json") == []
    cli("undo", "--yes")  # the event goes, and with it its words
    assert cli.json("search", "satellite", "--json") == []
    cli("undo", "--yes")  # undoing the undo brings them back
    assert [r["id"] for r in cli.json("search", "satellite", "--json")] == ["k"]
    cli("delete", "k", "--yes")
    assert cli.json("search", "artillery OR fire", "--json") == []


def test_search_reads_fts_syntax_and_falls_back_to_plain_words(cli):
    assert [r["id"] for r in cli.json("search", "nucl*", "--json")][:2] == [
        "putin-nuclear-doctrine",
        "putin-all-means-necessary",
    ]
    assert [r["id"] for r in cli.json("search", '"all means necessary"', "--json")] == ["putin-all-means-necessary"]
    for broken in ('"unbalanced oreshnik', "AND OR NOT", "oreshnik)", "col:umn", "*"):
        result = cli("search", broken, "--json")
        assert result.exit_code == 0
    assert [r["id"] for r in cli.json("search", "oreshnik)", "--json")] == ["putin-long-range-weapons"]


def test_the_sql_views_agree_with_the_cli(cli, db):
    import datetime

    # The views judge as of SQLite's date('now'), which is the UTC date, not the local one.
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    rows = cli.json("list", "--json", today=today)
    with raw(db) as c:
        view = {r[0]: r[1:] for r in c.execute("SELECT id, outcome, tested_on, deadline FROM threat_outcome")}
        card = {
            r[0]: r[1:] for r in c.execute("SELECT actor, threats, tested, follow_through_rate FROM actor_scorecard")
        }
    assert view == {r["id"]: (r["outcome"], r["tested_on"], r["deadline"]) for r in rows}
    rep = {r["key"]: r for r in cli.json("report", "--json", today=today)["rows"]}
    assert card == {k: (r["threats"], r["tested"], r["follow_through_rate"]) for k, r in rep.items()}


names = st.text(alphabet="abcdefghij", min_size=1, max_size=6)
texts = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s and "\x00" not in s)
isodates = st.sampled_from(["2023", "2024-02", "2024-02-29", "2025-01-31", "2025-06"])


@st.composite
def datasets(draw):
    slugs = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    actors = [
        {"slug": s, "name": s.upper(), "kind": draw(st.sampled_from(["person", "state"])), "of": None, "aliases": []}
        for s in slugs
    ]
    threats = []
    for n in range(draw(st.integers(0, 5))):
        events = [
            {
                "kind": k,
                "on": draw(isodates),
                "what": draw(texts),
                "outcome": "partial" if k == "response" else None,
                "due": "2026" if k == "deadline" else None,
                "sources": [{"url": "https://s.org/" + draw(names), "quote": draw(texts)}],
            }
            for k in draw(st.lists(st.sampled_from(["crossed", "response", "deadline", "note"]), max_size=3))
        ]
        threats.append(
            {
                "id": f"t{n}",
                "issuer": draw(st.sampled_from(slugs)),
                "targets": draw(st.lists(st.sampled_from(slugs), max_size=2, unique=True)),
                "made_on": draw(isodates),
                "statement": draw(texts),
                "trigger": draw(st.none() | texts),
                "category": draw(st.sampled_from(["military", "other"])),
                "tags": [],
                "events": events,
                "sources": [],
                "deadline": draw(st.none() | isodates),
            }
        )
    return {"actors": actors, "threats": threats}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=datasets(), fmt=st.sampled_from(["json", "jsonl"]))
def test_generated_data_sets_round_trip(tmp_path_factory, data, fmt):
    from conftest import Cli

    root = tmp_path_factory.mktemp("rt")
    a, b = Cli(root / "a.db", "2025-08-12"), Cli(root / "b.db", "2025-08-12")
    a("db", "init", "--empty")
    b("db", "init", "--empty")
    Tracker(a.db).import_document(data, "generated")
    b("import", "-", input=a("export", "--format", fmt).stdout)
    assert export(b) == export(a)
