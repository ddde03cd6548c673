"""One schema history for both engines: the same Alembic migrations build a PostgreSQL database,
`alembic check` finds the models and the migrations in step there too, and the migrations go down
and up again with the data intact."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import run_installed

ROOT = Path(__file__).resolve().parents[1]  # alembic.ini


def alembic(url: str, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "alembic"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    env["REDLINES_DB"] = url
    return subprocess.run(
        [str(exe) if exe.exists() else "alembic", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_alembic_builds_a_postgresql_database_and_check_finds_no_drift(pg_blank_url, installed):
    up = alembic(pg_blank_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    check = alembic(pg_blank_url, "check")
    assert check.returncode == 0, check.stderr + check.stdout
    status = run_installed(installed, "db", "status", db=pg_blank_url)
    assert status.returncode == 0, status.stderr


def test_the_migrations_go_down_and_up_again_on_postgresql_with_the_data_intact(pg_url, installed):
    before = run_installed(installed, "list", "--json", db=pg_url)
    assert before.returncode == 0, before.stderr
    down = alembic(pg_url, "downgrade", "0001")
    assert down.returncode == 0, down.stderr
    up = alembic(pg_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    after = run_installed(installed, "list", "--json", db=pg_url)
    assert (after.returncode, after.stdout) == (0, before.stdout), after.stderr
    check = run_installed(installed, "db", "check", db=pg_url)
    assert check.returncode == 0, check.stderr + check.stdout
