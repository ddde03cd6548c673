"""The README's "Team mode" lines run, in order, as written, with the example server's URL
replaced by a database of the test server: a user's default file moved onto the server, roles
granted, reads and history there."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from test_readme import README, TEAM_SERVER, TODAY, redlines_commands, sh_lines

ROLES = ("analysts", "desk")  # the roles the README grants (the server's administrator makes them)


def team_commands() -> list[str]:
    return [c for line in sh_lines(README.read_text()) for c in redlines_commands(line) if TEAM_SERVER in c]


def test_the_team_mode_section_covers_the_server_roles_authors_and_db_copy():
    text = README.read_text()
    section = text[text.index("## Team mode") : text.index("## For developers")]
    for needed in ("REDLINES_DB=postgresql://", ".pgpass", "PG*", "grant-read", "grant-write", "REDLINES_AUTHOR",
                   "db copy", "read-only", "***"):  # fmt: skip
        assert needed in section, needed
    commands = team_commands()
    assert len(commands) >= 5
    assert commands[0].startswith("redlines db copy ")
    assert {verb for c in commands for verb in ("grant-read", "grant-write") if f"db {verb} " in c} == {
        "grant-read",
        "grant-write",
    }


def test_every_team_mode_line_runs_on_a_server(pg_server, pg_blank_url, installed, tmp_path):
    for role in ROLES:
        pg_server.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {role} LOGIN; END IF; END $$"
        )
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDLINES_", "PG"))}
    env.update(
        PATH=f"{Path(installed).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        REDLINES_TODAY=TODAY,
        NO_COLOR="1",
    )
    bash = shutil.which("bash")
    assert bash
    # the user's own file, with a record of their own in it, is what the first line moves over
    for setup in ("redlines list --limit 1", "redlines add actor kim --name 'Kim Jong Un' --kind person"):
        assert subprocess.run([bash, "-c", setup], cwd=work, env=env, capture_output=True).returncode == 0
    outputs = []
    for n, command in enumerate(team_commands(), 1):
        ran = command.replace(TEAM_SERVER, pg_blank_url)
        p = subprocess.run(
            [bash, "-o", "pipefail", "-c", ran],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 0, f"README team line {n} exited {p.returncode}: {command}\n{p.stderr}\n{p.stdout}"
        outputs.append(p)
    # the file's records and history are on the server now
    mine = subprocess.run(
        [installed, "--db", pg_blank_url, "history", "--json"], env=env, capture_output=True, text=True, check=True
    )
    assert any(re.match(r"add actor kim", run["command"]) for run in json.loads(mine.stdout))
    actors = subprocess.run(
        [installed, "--db", pg_blank_url, "actors", "--json"], env=env, capture_output=True, text=True, check=True
    )
    assert "kim" in {a["slug"] for a in json.loads(actors.stdout)}
