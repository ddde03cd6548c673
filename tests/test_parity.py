"""The same answers on both engines: every read command gives the same output on SQLite and on
PostgreSQL for the same data, on the seeded data set and on a generated one of 10,000 threats
(bench/generate.py, the same file imported into both). Search may rank differently, so for
search the SET of threats found is compared; history is compared without its times."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli

GENERATED = 10_000
BENCH = Path(__file__).resolve().parents[1] / "bench" / "generate.py"
AS_OF = ["2025-08-12", "2025-03", "2024", "2022-02-24"]
GROUPINGS = ["actor", "state", "category", "year"]


class Pair:
    """One data set on both engines; each call runs on both and returns both results."""

    def __init__(self, sqlite: Cli, postgresql: Cli):
        self.sqlite, self.postgresql = sqlite, postgresql

    def __call__(self, *args: str, **kw) -> tuple[str, str]:
        a, b = self.sqlite(*args, **kw), self.postgresql(*args, **kw)
        at = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")  # when a run was made (undo shows it)
        assert at.sub("AT", a.stderr) == at.sub("AT", b.stderr), f"redlines {' '.join(args)}: stderr differs"
        return a.stdout, b.stdout

    def same(self, *args: str, **kw) -> str:
        a, b = self(*args, **kw)
        assert a == b, f"redlines {' '.join(args)} differs between SQLite and PostgreSQL" + first_difference(a, b)
        return a

    def json(self, *args: str, **kw):
        a, b = self(*args, **kw)
        return json.loads(a), json.loads(b)


def first_difference(a: str, b: str) -> str:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), 1):
        if x != y:
            return f"\nline {n}:\n  sqlite:     {x[:300]}\n  postgresql: {y[:300]}"
    return f"\n{len(a.splitlines())} lines on sqlite, {len(b.splitlines())} on postgresql"


def without(obj, *keys: str):
    """`obj` with `keys` removed wherever they occur (times that differ by nature)."""
    if isinstance(obj, dict):
        return {k: without(v, *keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [without(v, *keys) for v in obj]
    return obj


@pytest.fixture(scope="module", params=["C", "en-US"], ids=["collation-C", "collation-en-US"])
def seeded(request, pg_server, installed, tmp_path_factory):
    """The seeded data set on both engines, each made by a first use; on PostgreSQL in a database
    that compares text as C does (byte order, as SQLite), and in one that compares it as English
    does (ICU en-US: many servers' default is a language's order, not C's)."""
    sqlite = Cli(tmp_path_factory.mktemp("parity") / "seeded.db", "2025-08-12")
    sqlite("list", "--limit", "1")
    if request.param == "C":
        name, url = pg_server.database(pg_server.template("seeded", installed))
    else:
        if not pg_server.has_icu():
            pytest.skip("this server takes no ICU locales (PostgreSQL 15+ built with ICU): the en-US case needs one")
        name, url = pg_server.database(icu_locale=request.param)
    pg = Cli(url, "2025-08-12")
    pg("list", "--limit", "1")  # a first use: migrated and seeded
    yield Pair(sqlite, pg)
    pg_server.drop(name)


@pytest.fixture(scope="module")
def generated(pg_server, installed, tmp_path_factory):
    """10,000 generated threats, one file imported into an empty database on each engine."""
    work = tmp_path_factory.mktemp("parity-generated")
    data = work / "threats.jsonl"
    with open(data, "w") as f:
        subprocess.run([sys.executable, str(BENCH), str(GENERATED)], stdout=f, check=True)
    sqlite = Cli(work / "generated.db", "2025-08-12")
    sqlite("db", "init", "--empty")
    name, url = pg_server.database(pg_server.template("empty", installed))
    pair = Pair(sqlite, Cli(url, "2025-08-12"))
    a, b = pair("import", str(data))
    assert a == b
    yield pair
    pg_server.drop(name)


def read_commands(ids: list[str], words: list[str]) -> list[list[str]]:
    commands = [
        ["list", "--json"],
        ["list"],
        ["list", "--format", "csv"],
        ["list", "--category", "nuclear", "--json"],
        ["list", "--since", "2024", "--until", "2025-06", "--json"],
        ["list", "--outcome", "not_followed_through", "--json"],
        ["actors", "--json"],
        ["actors"],
        ["due", "--json"],
        ["due", "--within", "1y", "--json"],
        ["due"],
        ["timeline", "--json"],
        ["timeline", "--all"],
        ["report", "--format", "md"],
        ["report"],
    ]
    for by in GROUPINGS:
        commands.append(["report", "--by", by, "--json"])
        for as_of in AS_OF:
            commands.append(["--as-of", as_of, "report", "--by", by, "--json"])
    for as_of in AS_OF:
        commands += [["--as-of", as_of, "list", "--json"], ["--as-of", as_of, "due", "--json"]]
    commands += [["report", "--grace", "7", "--json"], ["list", "--grace", "90", "--json"]]
    commands += [["show", i, "--json"] for i in ids] + [["show", i] for i in ids[:5]]
    commands += [["list", "--search", w, "--json"] for w in words[:3]]
    return commands


def search_queries(words: list[str]) -> list[str]:
    a, b, c = words[:3]
    return [a, f"{a} {b}", f'"{a} {b}"', f"{a[:4]}*", f"{a} OR {b}", f"{a} AND {b}", f"{a} NOT {b}",
            f"({a} OR {b}) NOT {c}", f"{a[:3]}* NOT {c}", c.upper()]  # fmt: skip


def check_reads(pair: Pair, ids: list[str], words: list[str]) -> None:
    for args in read_commands(ids, words):
        pair.same(*args)
    for q in search_queries(words):
        a, b = pair.json("search", q, "--json")
        assert {r["id"] for r in a} == {r["id"] for r in b}, f"search {q!r} finds other threats"
        assert len(a) == len(b)


def check_history_and_exports(pair: Pair) -> None:
    a, b = pair.json("history", "--json")
    assert without(a, "at") == without(b, "at")
    a, b = pair.json("export", "--format", "json")
    assert without(a, "exported_at") == without(b, "exported_at")
    a, b = pair("export", "--format", "jsonl")
    assert [without(json.loads(line), "exported_at") for line in a.splitlines()] == [
        without(json.loads(line), "exported_at") for line in b.splitlines()
    ]
    pair.same("export", "--format", "csv")


def test_every_read_command_answers_the_same_on_the_seeded_data(seeded):
    ids = [t["id"] for t in json.loads(seeded.same("list", "--json"))]
    assert len(ids) == 7  # the article's threats
    check_reads(seeded, ids, ["nuclear", "weapons", "sanctions"])


def test_history_and_exports_are_the_same_on_the_seeded_data(seeded):
    check_history_and_exports(seeded)


def test_writes_leave_both_engines_answering_the_same(seeded):
    """The same commands, on both: the answers stay the same after adds, edits and an undo."""
    for args in (
        ["add", "actor", "kim", "--name", "Kim Jong Un", "--kind", "person", "--of", "north-korea"],
        ["add", "threat", "--id", "kim-fire", "--by", "kim", "--against", "ukraine", "--on", "2025-05-01",
         "--said", "Drills will be met with fire", "--deadline", "+30d", "--category", "military",
         "--source", "https://example.org/k", "--quote", "met with fire", "--tag", "drills"],
        ["add", "event", "kim-fire", "--kind", "crossed", "--on", "2025-06-01", "--what", "drills began"],
        ["add", "event", "kim-fire", "--kind", "response", "--on", "2025-06-03", "--outcome", "partial",
         "--what", "shelling"],
        ["edit", "kim-fire", "--deadline", "2025-07"],
        ["edit", "putin-f16", "--said", "corrected wording"],
        ["undo", "--yes"],
        ["delete", "kim-fire#1", "--yes"],
    ):  # fmt: skip
        seeded.same(*args, env={"REDLINES_AUTHOR": "parity"})
    check_reads(seeded, ["kim-fire", "putin-f16"], ["fire", "drills", "nuclear"])
    check_history_and_exports(seeded)


def test_every_read_command_answers_the_same_on_a_generated_data_set(generated):
    threats = json.loads(generated.same("list", "--json"))
    assert len(threats) == GENERATED
    ids = [t["id"] for t in threats[:: GENERATED // 25]]  # 25 threats across the whole range
    check_reads(generated, ids, ["sanctions", "missiles", "nuclear"])
    # rare words: few matches, where a difference of one would show
    for q in ("karovo0", "velania1*", "dorgrad2 OR misista3"):
        a, b = generated.json("search", q, "--json")
        assert {r["id"] for r in a} == {r["id"] for r in b}, q


def test_history_and_exports_are_the_same_on_a_generated_data_set(generated):
    check_history_and_exports(generated)
