"""Shared fixtures: a real SQLite file per test, the CLI through CliRunner, and the installed
`redlines` command for end-to-end runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redlines.cli import app

ARTICLE = Path(__file__).resolve().parent / "fixtures" / "article.txt"  # the seed article, kept here
ARTICLE_URL = (
    "https://www.forbes.com/sites/natashalindstaedt/2025/08/12/"
    "trump-and-putins-history-of-empty-threats-undermines-the-alaska-summit/"
)


class Cli:
    """Runs `redlines` in-process against one database file, with a fixed today."""

    def __init__(self, db: Path, today: str):
        self.db = db
        self.today = today
        self.runner = CliRunner()

    def __call__(
        self, *args: str, today: str | None = None, input: str | None = None, expect: int = 0, env: dict | None = None
    ):
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


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "redlines.db"


@pytest.fixture
def cli(db: Path) -> Cli:
    """The CLI on a fresh database (seeded on first use), today being 2025-08-12."""
    return Cli(db, "2025-08-12")


@pytest.fixture
def empty_cli(cli: Cli) -> Cli:
    cli("db", "init", "--empty")
    return cli


@pytest.fixture(scope="session")
def installed() -> str:
    """The real `redlines` entry point installed on PATH (the end-to-end tests need it)."""
    beside = Path(sys.executable).parent / "redlines"  # the virtual environment running the tests
    path = str(beside) if beside.exists() else shutil.which("redlines")
    assert path, "the end-to-end tests need `redlines` installed: pip install -e '.[test]'"
    return path


def run_installed(
    exe: str, *args: str, db: Path, today: str = "2025-08-12", stdin: str | None = None, extra_env: dict | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    env.update({"REDLINES_DB": str(db), "REDLINES_TODAY": today, **(extra_env or {})})
    return subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)
