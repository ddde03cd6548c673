"""The README's commands are run, in order, as written: every `redlines ...` line of its ```sh
blocks, through a real shell, off a terminal, on a fresh default database in a fresh directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import need_tool

README = Path(__file__).resolve().parents[1] / "README.md"
TODAY = "2025-08-12"  # the seed article's date: the tour's "yesterday" and "today" are around it
# The team-mode lines name this server; tests/test_readme_team.py runs them on the test server.
TEAM_SERVER = "postgresql://alice@db.example.org/redlines"


def sh_lines(text: str) -> list[str]:
    """The command lines of the ```sh blocks, backslash continuations joined."""
    lines: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        pending = ""
        for raw in block.splitlines():
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1]
                continue
            line = (pending + raw).strip()
            pending = ""
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def redlines_commands(line: str) -> list[str]:
    """The `redlines` commands of a line: the line itself, or in a chain such as
    `python3 -m venv .venv && ... && .venv/bin/redlines report` the parts that run redlines
    (the venv's redlines is the one on PATH here)."""
    if line.startswith("redlines "):
        return [line]
    parts = [p.strip() for p in line.split("&&")]
    return [p.removeprefix(".venv/bin/") for p in parts if re.match(r"(\.venv/bin/)?redlines( |$)", p)]


def test_the_parser_finds_the_lines_as_a_shell_would():
    text = "x\n```sh\nredlines a \\\n    --b c   # note\n\n# only a comment\nls\n```\n```python\nredlines no\n```\n"
    assert sh_lines(text) == ["redlines a     --b c   # note", "ls"]
    assert redlines_commands("python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/redlines report") == [
        "redlines report"
    ]
    assert redlines_commands(".venv/bin/python -m pytest") == []


def test_every_redlines_line_of_the_readme_runs(installed, tmp_path):
    commands = [c for line in sh_lines(README.read_text()) for c in redlines_commands(line) if TEAM_SERVER not in c]
    assert commands[0] == "redlines report"  # "Two commands": the first one's job
    assert len(commands) >= 20  # the tour is all there
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    env.update(
        PATH=f"{Path(installed).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        REDLINES_TODAY=TODAY,
        NO_COLOR="1",
    )
    bash = shutil.which("bash")
    assert bash, "this test runs the README through bash"
    needs_jq = []
    for n, command in enumerate(commands, 1):
        if re.search(r"\|\s*jq\b", command) and not shutil.which("jq"):
            needs_jq.append(command)
            continue
        p = subprocess.run(
            [bash, "-o", "pipefail", "-c", command],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if p.returncode != 0:
            pytest.fail(
                f"README line {n} exited {p.returncode}: {command}\n"
                f"stderr: {p.stderr.strip()[-1500:]}\nstdout: {p.stdout.strip()[:500]}"
            )
    # the tour wrote where it was run, and used the default database of this fresh HOME
    assert (home / ".local" / "share" / "redlines" / "redlines.db").is_file()
    for written in re.findall(r"-o (\S+)", " ".join(commands)):
        assert (work / written).is_file(), f"the README's -o {written} was not written in the working directory"
    if needs_jq:  # every other line passed; these could not be run here
        need_tool("jq", install="apt-get install jq")
