"""Shared fixtures: a database per test, the CLI through CliRunner, and the installed `redlines`
command for end-to-end runs.

One fixture, two parameters: every test that asks for `db`, `cli` or `empty_cli` runs twice, on a
SQLite file (`[sqlite]`) and on a PostgreSQL database (`[postgresql]`, a throwaway server: see
tests/pg.py). A test that by nature reads the SQLite file itself (sqlite3 on the file, its size,
WAL, file permissions, backups of the file) is marked `@pytest.mark.sqlite_only` and runs once.
PostgreSQL parameters known to fail are listed in PG_XFAIL below, each with its reason, as strict
xfails: the list can only shrink (a test that starts passing fails until it is taken off)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pg import pg_blank_url, pg_empty_url, pg_server, pg_url  # noqa: F401  (fixtures, see tests/pg.py)
from typer.testing import CliRunner

from redlines.cli import app

ENGINES = ("sqlite", "postgresql")

# PostgreSQL parameters that fail today, with the reason: "file.py::test_name[params]", or
# "file.py::test_name" for all its parameters, or "file.py" for a whole file. Strict: a test on
# this list that passes is a failure, so that the list shrinks.
PG_XFAIL: dict[str, str] = {
    "test_cli_read.py::test_an_ambiguous_actor_lists_the_candidates": (
        "redlines writes the ids of actors itself, so the column's sequence stays at 1: a row another tool"
        " adds underneath (INSERT without an id) collides with pk_actor"
    ),
}

ARTICLE = Path(__file__).resolve().parent / "fixtures" / "article.txt"  # the seed article, kept here
ARTICLE_URL = (
    "https://www.forbes.com/sites/natashalindstaedt/2025/08/12/"
    "trump-and-putins-history-of-empty-threats-undermines-the-alaska-summit/"
)


class Cli:
    """Runs `redlines` in-process against one database (a file, or a PostgreSQL URL), with a
    fixed today."""

    def __init__(self, db: Path | str, today: str, *, first_use=None):
        self.db = db
        self.today = today
        self.runner = CliRunner()
        self.first_use = first_use  # PostgreSQL: makes a still blank database what a first use makes

    def __call__(
        self, *args: str, today: str | None = None, input: str | None = None, expect: int = 0, env: dict | None = None
    ):
        if self.first_use is not None:
            first_use, self.first_use = self.first_use, None
            first_use(args)
        result = self.runner.invoke(
            app,
            list(args),
            input=input,
            catch_exceptions=False,
            env={
                "REDLINES_DB": str(self.db),
                "REDLINES_TODAY": today or self.today,
                "NO_COLOR": "1",
                "COLUMNS": "100",
                "REDLINES_AS_OF": None,
                **(env or {}),
            },
        )
        assert result.exit_code == expect, (
            f"redlines {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    def json(self, *args: str, **kw):
        return json.loads(self(*args, **kw).stdout)


@pytest.fixture(scope="session", autouse=True)
def working_directory_untouched():
    """No test may leave a file where pytest was started (the repository): hostile text given
    to -o, --db or backup once wrote files there, and they were committed by mistake."""
    cwd = Path.cwd()
    before = set(os.listdir(cwd))
    yield
    left = sorted(set(os.listdir(cwd)) - before - {".pytest_cache", ".hypothesis", "__pycache__"})
    assert not left, f"tests left {len(left)} files in {cwd}: {left[:5]!r}"


@contextlib.contextmanager
def raw(db: Path | str):
    """A plain connection to a test's database, on either engine, for what a test must look at (or
    plant) underneath redlines; committed and closed at the end of the block. Write portable SQL
    (no `?`/`%s` parameters: literals), or ask `engine` which one it is."""
    if isinstance(db, Path):
        conn = sqlite3.connect(db)
    else:
        import psycopg

        conn = psycopg.connect(db)
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def table_names(conn) -> list[str]:
    """The tables of a connection from `raw`, on either engine."""
    if isinstance(conn, sqlite3.Connection):
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    else:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        sql += " AND table_type = 'BASE TABLE' ORDER BY table_name"
    return [r[0] for r in conn.execute(sql)]


def need_tool(*names: str, install: str) -> str:
    """The path of the first of `names` on PATH. Without it, the test is skipped with a reason
    that says how to install it; under REDLINES_REQUIRE_TOOLS=1 (set by .ci/run) it fails instead,
    so that CI never passes by skipping."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    reason = f"needs {names[0]}: install it with `{install}`"
    if os.environ.get("REDLINES_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (REDLINES_REQUIRE_TOOLS=1: a missing tool is a failure)")
    pytest.skip(reason)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only: reads the SQLite file itself; runs on the sqlite engine alone (see conftest.py)"
    )


def pytest_generate_tests(metafunc):
    """Every test that uses the `engine` fixture (through `db`, `cli`, `empty_cli`...) runs on
    both engines, unless marked sqlite_only."""
    if "engine" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("engine", ENGINES[:1] if only else ENGINES, indirect=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        params = getattr(item, "callspec", None)
        engine = params.params.get("engine") if params is not None else None
        if engine != "postgresql" and (engine is not None or "pg_server" not in getattr(item, "fixturenames", ())):
            continue  # neither a [postgresql] parameter nor a test of the PostgreSQL server itself
        file = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
        name = getattr(item, "originalname", item.name)
        reason = PG_XFAIL.get(f"{file}::{item.name}") or PG_XFAIL.get(f"{file}::{name}") or PG_XFAIL.get(file)
        if reason:
            item.add_marker(pytest.mark.xfail(reason=f"PostgreSQL: {reason}", strict=True))


@pytest.fixture
def engine(request) -> str:
    """`sqlite` or `postgresql`: the engine this run of the test is on."""
    return request.param


@pytest.fixture
def db(engine: str, tmp_path: Path, request) -> Path | str:
    """Where this test's database is: on SQLite a file that does not exist yet, on PostgreSQL a
    database of its own with no tables yet (what a first use meets in both cases)."""
    if engine == "sqlite":
        return tmp_path / "redlines.db"
    return request.getfixturevalue("pg_blank_url")


@pytest.fixture
def cli(db: Path | str, engine: str, request) -> Cli:
    """The CLI on a fresh database (seeded on first use), today being 2025-08-12."""
    if engine == "sqlite":
        return Cli(db, "2025-08-12")
    server, installed = request.getfixturevalue("pg_server"), request.getfixturevalue("installed")

    def first_use(args: tuple[str, ...]) -> None:
        """A first use seeds the database (the template was made by a real first use); a `db
        init` is left to do its own work, on the blank database, as on SQLite."""
        if tuple(args[:2]) != ("db", "init"):
            server.recreate_if_blank(db, "seeded", installed)

    return Cli(db, "2025-08-12", first_use=first_use)


@pytest.fixture
def empty_cli(cli: Cli, engine: str, request) -> Cli:
    if engine == "sqlite":
        cli("db", "init", "--empty")
    else:  # the same as `db init --empty` (which made the template), in milliseconds
        cli.first_use = None
        request.getfixturevalue("pg_server").recreate_if_blank(cli.db, "empty", request.getfixturevalue("installed"))
    return cli


@pytest.fixture(scope="session")
def installed() -> str:
    """The real `redlines` entry point installed on PATH (the end-to-end tests need it)."""
    beside = Path(sys.executable).parent / "redlines"  # the virtual environment running the tests
    path = str(beside) if beside.exists() else shutil.which("redlines")
    assert path, "the end-to-end tests need `redlines` installed: pip install -e '.[test]'"
    return path


def run_installed(
    exe: str,
    *args: str,
    db: Path | str,
    today: str = "2025-08-12",
    stdin: str | None = None,
    extra_env: dict | None = None,
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    env.update({"REDLINES_DB": str(db), "REDLINES_TODAY": today, **(extra_env or {})})
    return subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)
