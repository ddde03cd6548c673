"""Listings (list, timeline, search, history) show a page as a table and say how many more there
are; json, jsonl, csv and md give every row, written as they come; a closed pipe is exit 0."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_installed

from redlines.output.formats import Column, View, emit, write_array
from redlines.service import Tracker

N = 120  # threats, each with one event: 240 timeline entries


@pytest.fixture
def many(empty_cli, db):
    t = Tracker(db)
    t.import_document(
        {
            "actors": [{"slug": "kim", "name": "Kim", "kind": "person"}],
            "threats": [
                {
                    "id": f"p{n:03}",
                    "issuer": "kim",
                    "made_on": f"2024-{1 + n // 28:02}-{1 + n % 28:02}",
                    "statement": f"Threat number {n}: sanctions if the test goes ahead",
                    "events": [{"kind": "note", "on": f"2025-{1 + n // 28:02}-{1 + n % 28:02}", "what": f"note {n}"}],
                }
                for n in range(N)
            ],
        },
        "import many",
    )
    for n in range(59):  # 60 runs of changes in all, with the import
        t.import_document({"actors": [{"slug": f"a{n}", "name": f"A {n}", "kind": "state"}]}, f"add a{n}")
    t.close()
    return empty_cli


def heads(out: str) -> list[str]:
    """The ids heading each threat of the table form."""
    return [line.split()[0] for line in out.splitlines() if line.startswith("p")]


HINT = "; --limit N or --all for more\n"


def test_list_table_shows_a_page_of_50_and_says_how_many_more(many):
    r = many("list")
    assert heads(r.stdout) == [f"p{n:03}" for n in range(N - 1, N - 51, -1)]  # the 50 newest
    assert r.stdout.endswith("50 threats, as of 2025-08-12\n")
    assert r.stderr == f"showing 50 of {N} threats" + HINT


def test_list_limit_means_exactly_n_and_all_means_every_one(many):
    r = many("list", "--limit", "7")
    assert heads(r.stdout) == [f"p{n:03}" for n in range(N - 1, N - 8, -1)]
    assert r.stderr == f"showing 7 of {N} threats" + HINT
    r = many("list", "-n", "200")
    assert len(heads(r.stdout)) == N and r.stderr == ""
    r = many("list", "--all")
    assert len(heads(r.stdout)) == N and r.stderr == ""
    r = many("list", "--actor", "kim", "--search", "number 11")  # 11, 110-119: fewer than a page
    assert len(heads(r.stdout)) == 11 and r.stderr == ""
    r = many("list", "--limit", "5", "--all", expect=2)
    assert r.stdout == "" and "--limit and --all" in r.stderr


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "md"])
def test_data_forms_give_every_row_unless_limited(many, fmt):
    def rows(*args: str) -> list[str]:
        r = many("list", "--format", fmt, *args)
        assert r.stderr == ""
        if fmt == "json":
            return [t["id"] for t in json.loads(r.stdout)]
        if fmt == "jsonl":
            return [json.loads(line)["id"] for line in r.stdout.splitlines()]
        lines = r.stdout.splitlines()[1 if fmt == "csv" else 2 :]
        return [line.strip("| ").split(",")[0].split(" |")[0] for line in lines]

    assert rows() == [f"p{n:03}" for n in range(N - 1, -1, -1)]
    assert rows("--limit", "7") == [f"p{n:03}" for n in range(N - 1, N - 8, -1)]
    assert rows("--all") == rows()


def test_timeline_pages_its_latest_entries_in_date_order(many):
    entries = many.json("timeline", "--json")
    assert len(entries) == 2 * N
    assert [e["on"] for e in entries] == sorted(e["on"] for e in entries)
    r = many("timeline")
    lines = r.stdout.splitlines()
    assert len(lines) == 50 and r.stderr == f"showing 50 of {2 * N} entries" + HINT
    assert lines[-1].startswith(entries[-1]["on"]) and lines[0].startswith(entries[-50]["on"])
    assert many.json("timeline", "--limit", "3", "--json") == entries[-3:]
    assert many("timeline", "--all").stdout.count("\n") == 2 * N


def test_search_pages_and_gives_every_match_to_a_pipe(many):
    r = many("search", "sanctions")
    assert len(heads(r.stdout)) == 50 and r.stderr == f"showing 50 of {N} matching threats" + HINT
    assert len(many.json("search", "sanctions", "--json")) == N
    assert len(many("search", "sanctions", "--format", "jsonl").stdout.splitlines()) == N
    assert len(many.json("search", "sanctions", "--limit", "7", "--json")) == 7
    assert len(heads(many("search", "sanctions", "--all").stdout)) == N
    r = many("search", "number 11 OR number 12")  # fewer than a page: no hint
    assert sorted(heads(r.stdout)) == ["p011", "p012"] and r.stderr == ""


def test_history_pages_runs(many):
    runs = many.json("history", "--json")
    assert [r["run"] for r in runs] == list(range(60, 0, -1))
    r = many("history")
    shown = [line.split()[0] for line in r.stdout.splitlines() if line.startswith("#")]
    assert shown == [f"#{n}" for n in range(60, 10, -1)]
    assert r.stderr == "showing 50 of 60 runs" + HINT
    assert [x["run"] for x in many.json("history", "-n", "2", "--json")] == [60, 59]
    assert len(many("history", "--format", "csv").stdout.splitlines()) == 61
    # The import's run (121 changes) shows its first 20 in the table, and says how many more.
    assert len(runs[-1]["changes"]) == 121
    last = many("history", "--all").stdout.split("#1  ")[1].splitlines()
    assert len(last) == 22 and last[-1] == "    and 101 more changes (--json lists them all)"


def test_a_refused_listing_writes_nothing(many):
    for args in (["list", "--actor", "nobody"], ["timeline", "--actor", "nobody"], ["list", "--since", "soon"]):
        for fmt in ("json", "jsonl", "csv", "table"):
            r = many(*args, "--format", fmt, expect=1 if "nobody" in args else 2)
            assert r.stdout == "", (args, fmt)


# --- written as they come --------------------------------------------------------------------


@pytest.mark.parametrize("value", [[], [1], [{"a": [1, {"b": "x\ny"}], "é": None}, "two", [3, []], {}]])
def test_a_streamed_array_is_the_same_text_as_json_dumps(value):
    out = io.StringIO()
    write_array(iter(value), out)
    assert out.getvalue() == json.dumps(value, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "md"])
def test_each_row_is_written_before_the_next_is_read(fmt, monkeypatch):
    events: list[tuple[str, object]] = []

    def rows():
        for n in range(3):
            events.append(("read", n))
            yield {"id": f"t{n}", "n": n}

    class Out(io.StringIO):
        def write(self, text):
            events.append(("write", text))
            return super().write(text)

    monkeypatch.setattr(sys, "stdout", Out())
    it = rows()
    emit(View(document=it, rows=it, columns=[Column("id", "id"), Column("n", "n")]), fmt)
    reads = [events.index(("read", n)) for n in range(3)]
    for k in range(2):  # row k is written after it is read and before row k+1 is read
        assert any(kind == "write" and f"t{k}" in text for kind, text in events[reads[k] : reads[k + 1]]), (fmt, k)


def test_the_service_streams_threats_in_batches(db):
    t = Tracker(db)
    t.init(empty=True)
    t.import_document(
        {
            "actors": [{"slug": "kim", "name": "Kim", "kind": "person"}],
            "threats": [
                {"id": f"s{n:04}", "issuer": "kim", "made_on": "2024-01-01", "statement": "x"} for n in range(1201)
            ],
        },
        "import",
    )
    stream = t.threats_stream()
    assert not isinstance(stream, list)
    assert next(stream)["id"] == "s0000"
    assert sum(1 for _ in stream) == 1200
    assert t.count_threats() == 1201 and t.count_threats(search="nothing like it") == 0
    with pytest.raises(Exception, match="no actor"):
        t.threats_stream(actors=["nobody"])  # refused when asked, before anything is read
    t.close()


# --- a closed pipe ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def big_db(tmp_path_factory, installed):
    """2,000 generated threats (bench/generate.py), more than a pipe holds in any form."""
    folder = tmp_path_factory.mktemp("big")
    data = folder / "t.jsonl"
    data.write_text(
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "2000"], capture_output=True, text=True, check=True
        ).stdout
    )
    db = folder / "big.db"
    assert run_installed(installed, "db", "init", "--empty", db=db).returncode == 0
    p = run_installed(installed, "import", str(data), db=db)
    assert p.returncode == 0, p.stderr
    return db


def first_line_then_close(exe: str, db: Path, *args: str) -> tuple[int, str, str]:
    """Run `redlines ARGS | head -1`: read one line, close the pipe, wait."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    env.update({"REDLINES_DB": str(db), "REDLINES_TODAY": "2025-08-12"})
    p = subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    line = p.stdout.readline().decode()
    p.stdout.close()
    err = p.stderr.read().decode()
    return p.wait(timeout=60), line, err


PIPED = [
    ["list"],
    ["list", "--all"],
    ["list", "--json"],
    ["list", "--format", "jsonl"],
    ["list", "--format", "csv"],
    ["list", "--format", "md"],
    ["timeline", "--all"],
    ["timeline", "--json"],
    ["search", "sanctions", "--all"],
    ["search", "sanctions", "--format", "jsonl"],
    ["history", "--json"],
    ["history", "--all"],
    ["actors"],
    ["export", "--format", "jsonl"],
]


@pytest.mark.parametrize("args", PIPED, ids=" ".join)
def test_a_closed_pipe_ends_the_command_with_exit_0(installed, big_db, args):
    code, line, err = first_line_then_close(installed, big_db, *args)
    assert line.strip()
    assert code == 0, err
    for bad in ("Traceback", "Broken pipe", "BrokenPipeError", "Exception ignored"):
        assert bad not in err


def test_list_into_head_on_the_seeded_database(installed, tmp_path):
    db = tmp_path / "seeded.db"
    assert run_installed(installed, "list", db=db).returncode == 0  # first use seeds it
    for args in ("list", "list --all", "list --json", "timeline", "history --json", "report"):
        p = subprocess.run(
            ["bash", "-c", f'"$0" {args} | head -1; exit "${{PIPESTATUS[0]}}"', installed],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"], "REDLINES_DB": str(db), "REDLINES_TODAY": "2025-08-12"},
        )
        assert p.returncode == 0, (args, p.stderr)
        assert len(p.stdout.splitlines()) == 1 and p.stderr == "", args
