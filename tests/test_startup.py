"""Start-up is a feature: what each path imports, checked in a fresh interpreter."""

import json
import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "rich", "pydantic", "dateutil.parser")

PROBE = """
import json, sys
sys.argv = ["redlines", *json.loads(sys.argv[1])]
from redlines.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded(*args: str, env: dict | None = None) -> set[str]:
    p = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, env=env, timeout=60
    )
    return set(json.loads(p.stderr.rsplit("MODULES ", 1)[1]))


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY}


def test_importing_the_cli_pulls_in_nothing_heavy():
    p = subprocess.run(
        [sys.executable, "-c", "import sys, json, redlines.cli; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(json.loads(p.stdout))
    assert heavy(modules) == set()
    assert "sqlite3" not in modules


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["list", "--help"], ["db", "--help"]])
def test_help_and_version_pull_in_nothing_heavy(args):
    assert heavy(loaded(*args)) == set()


def test_json_reads_need_neither_sqlalchemy_nor_rich(tmp_path):
    import os

    db = tmp_path / "s.db"
    env = {**os.environ, "REDLINES_DB": str(db), "REDLINES_TODAY": "2025-08-12"}
    subprocess.run([sys.executable, "-m", "redlines", "db", "init"], env=env, check=True, capture_output=True)
    for args in (["list", "--json"], ["report", "--json"], ["show", "putin-f16", "--json"], ["actors", "--json"]):
        assert heavy(loaded(*args, env=env)) == set(), args
    # the table form is for people, and Rich draws it
    assert "rich" in loaded("report", env=env)


def test_every_command_is_listed_with_its_own_help():
    """`redlines --help` lists commands without importing them; each line must be the command's own."""
    from typer import Context
    from typer.main import get_group

    from redlines.cli import COMMANDS, app

    root = get_group(app)
    ctx = Context(root)
    for name, (_, line) in COMMANDS.items():
        command = root.get_command(ctx, name)
        assert command is not None, name
        assert (command.help or "").startswith(line), f"{name}: {line!r} is not the start of {command.help!r}"
        assert command.help.strip(), f"{name} has no help"
        for sub in getattr(command, "commands", {}).values():
            assert (sub.help or "").strip(), f"{name} {sub.name} has no help"


def test_python_m_redlines_without_its_dependencies_says_what_to_install(tmp_path):
    """From a source checkout, with no site-packages (-S): a plain message and exit 1, no traceback."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    p = subprocess.run(
        [sys.executable, "-S", "-m", "redlines", "list"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(repo), "REDLINES_DB": str(tmp_path / "x.db")},
        timeout=60,
    )
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == (
        "redlines: the package 'typer' is not installed here; install redlines with its "
        "dependencies first (pip install -e . in the repository, or pip install .)\n"
    )


def test_version_loads_no_command_module_no_output_and_no_rules():
    """`--version` passes through the placing of global options, and no further: not the option
    declarations (which pull in the output formats and the rules), not csv or calendar."""
    modules = loaded("--version")
    ours = {m for m in modules if m.startswith("redlines.")}
    assert ours <= {"redlines.errors", "redlines.cli", "redlines.cli.completion", "redlines.cli.placement"}, ours
    assert not {"csv", "calendar"} & modules  # (json: the probe itself uses it)
