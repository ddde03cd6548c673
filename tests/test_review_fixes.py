"""What an independent review of this release found, each pinned: a server location is never
taken for a file (nor its password shown), a CSV round trip keeps multi-line and missing quotes, export and undo respect
--as-of, and an undo that later records depend on is refused plainly."""

import csv
import io
import json
import os


def test_a_postgresql_location_is_never_taken_for_a_file_and_its_password_never_shown(cli, tmp_path):
    url = "postgresql://u:s3cret-pw@127.0.0.1:1/team"  # port 1: no server listens there
    before = set(os.listdir(tmp_path))
    for args in (["--db", url, "list"], ["db", "status"]):
        result = cli(*args, expect=1, env={"REDLINES_DB": url})
        assert result.stderr.startswith("error: cannot connect to postgresql://u:***@127.0.0.1:1/team: ")
        assert "s3cret-pw" not in result.stdout + result.stderr
    shown = cli("--db", url, "db", "path")
    assert shown.stdout == "postgresql://u:***@127.0.0.1:1/team\n" and "s3cret-pw" not in shown.stderr
    assert set(os.listdir(tmp_path)) == before  # no local file was made from the URL
    assert not os.path.exists("postgresql:")


def test_a_csv_round_trip_keeps_multi_line_and_missing_quotes(cli, tmp_path):
    cli(
        "add", "threat", "--by", "putin", "--on", "2024", "--said", "multi", "--id", "ml",
        "--source", "https://a.example/one", "--quote", "",
        "--source", "https://a.example/two", "--quote", "line one\nline two",
        "--tag", "[bracketed]",
    )  # fmt: skip
    out = tmp_path / "all.csv"
    cli("export", "--format", "csv", "-o", str(out))
    row = next(r for r in csv.DictReader(io.StringIO(out.read_text())) if r["id"] == "ml")
    assert json.loads(row["quotes"]) == ["", "line one\nline two"]
    first = cli("import", str(out))
    assert "threat ml" not in first.stderr  # nothing of it changed
    again = cli("import", str(out))
    assert "threat ml" not in again.stderr and "threats: 0 added, 0 changed" in again.stderr
    shown = cli.json("show", "ml", "--json")
    assert [(s["url"], s["quote"]) for s in shown["sources"]] == [
        ("https://a.example/one", None),
        ("https://a.example/two", "line one\nline two"),
    ]
    assert shown["tags"] == ["[bracketed]"]


def test_export_hides_what_the_as_of_date_hides(cli):
    everything = cli.json("export", "--format", "json")
    then = cli.json("--as-of", "2023-06", "export", "--format", "json")
    assert len(then["threats"]) < len(everything["threats"])
    assert all(t["made_on"] <= "2023-06-30" for t in then["threats"])
    assert all(e["on"] <= "2023-06-30" for t in then["threats"] for e in t["events"])
    lines = cli("--as-of", "2023-06", "export", "--format", "jsonl").stdout.splitlines()
    assert sum(json.loads(x)["type"] == "threat" for x in lines) == len(then["threats"])


def test_undo_under_as_of_is_refused_and_writes_nothing(cli):
    cli("add", "threat", "--by", "putin", "--on", "2024-05-01", "--said", "later", "--id", "later")
    result = cli("--as-of", "2020", "undo", "--yes", expect=2)
    assert "without --as-of" in result.stderr
    assert cli.json("show", "later", "--json")["id"] == "later"


def test_an_undo_that_later_records_depend_on_is_refused_plainly(empty_cli):
    empty_cli("add", "actor", "xx", "--name", "XX")
    empty_cli("add", "threat", "--by", "xx", "--on", "2024", "--said", "t", "--id", "xt")
    runs = empty_cli.json("history", "--json")
    added = next(r["run"] for r in runs if r["command"].startswith("add actor"))
    result = empty_cli("undo", "--run", str(added), "--yes", expect=1)
    assert "cannot be undone" in result.stderr and "FOREIGN KEY" not in result.stderr
    assert [a["slug"] for a in empty_cli.json("actors", "--json")] == ["xx"]


def test_small_mends_from_the_review(cli):
    assert "a threat id is needed" in cli("show", "", expect=2).stderr
    assert cli("history", "--author", "nobody").stderr == "no runs by nobody\n"


def test_due_says_when_more_are_due_than_it_shows(cli):
    everything = cli.json("due", "--within", "1y", "--json", "--limit", "1000")
    assert len(everything) >= 3
    shown = cli("due", "--within", "1y", "--json", "--limit", "2")
    assert len(json.loads(shown.stdout)) == 2
    assert shown.stderr == "showing the first 2; more are due or waiting: --limit N for more\n"
    assert cli("due", "--within", "1y", "--json", "--limit", str(len(everything))).stderr == ""


def test_an_event_id_is_never_given_out_twice(empty_cli, tmp_path):
    cli = empty_cli
    cli("add", "actor", "a", "--name", "A")
    cli("add", "threat", "--by", "a", "--on", "2024", "--said", "t", "--id", "t")
    assert cli("add", "event", "t", "--kind", "note", "--on", "2025", "--what", "note A").stdout == "t#1\n"
    shared = tmp_path / "colleague.json"
    cli("export", "-o", str(shared))  # a colleague's copy holds t#1 = note A
    cli("delete", "t#1", "--yes")
    assert cli("add", "event", "t", "--kind", "note", "--on", "2025", "--what", "note B").stdout == "t#2\n"
    cli("undo", "--yes")  # the number of an undone event is not given out again either
    assert cli("add", "event", "t", "--kind", "note", "--on", "2025", "--what", "note B").stdout == "t#3\n"
    cli("import", str(shared))  # the colleague's t#1 comes back as itself; note B is left alone
    events = {e["id"]: e["what"] for e in cli.json("show", "t", "--json")["events"]}
    assert events == {"t#1": "note A", "t#3": "note B"}


def test_a_search_whose_syntax_cannot_be_read_says_what_it_searched_for(cli):
    result = cli("search", "NOT putin", "--json")
    assert result.stderr == 'the search syntax of \'NOT putin\' cannot be read; searched for the words "NOT" "putin"\n'
    assert json.loads(result.stdout)  # the words alone still find something
    assert cli("search", "nuclear doctrine", "--json").stderr == ""
