"""Shell completion: the scripts for bash, zsh and fish, their installation, and what the
installed `redlines` offers through the completion protocol, read from the database in use."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_installed

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "rich", "pydantic")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, installed) -> Path:
    db = tmp_path_factory.mktemp("completion") / "c.db"
    assert run_installed(installed, "db", "init", db=db).returncode == 0
    return db


def complete(installed: str, line: str, *, db: Path | None, protocol: str = "bash_complete", **env) -> list[str]:
    """What bash would be offered for the last word of `line` (an empty last word when it ends
    in a space), asking the installed command as the shell does."""
    words = line.split(" ")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("REDLINES_", "_REDLINES", "COMP_"))}
    environ.update(
        _REDLINES_COMPLETE=protocol,
        COMP_WORDS=line,
        COMP_CWORD=str(len(words) - 1),
        REDLINES_TODAY="2025-08-12",
        **({"REDLINES_DB": str(db)} if db else {}),
        **env,
    )
    p = subprocess.run([installed], capture_output=True, text=True, env=environ, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    return [line for line in p.stdout.splitlines() if line]  # (nothing to offer prints an empty line)


def test_a_partial_threat_id_completes_to_the_ids_it_starts(installed, seeded):
    assert complete(installed, "redlines show putin-l", db=seeded) == ["putin-long-range-weapons"]
    offered = complete(installed, "redlines show putin-", db=seeded)
    assert "putin-long-range-weapons" in offered and "putin-f16" in offered
    assert all(o.startswith("putin-") for o in offered)
    # the same for add event, edit and delete; typer's order of the instruction works too
    assert complete(installed, "redlines add event putin-l", db=seeded) == ["putin-long-range-weapons"]
    assert complete(installed, "redlines edit putin-l", db=seeded, protocol="complete_bash") == [
        "putin-long-range-weapons"
    ]
    assert complete(installed, "redlines delete putin-f1", db=seeded) == ["putin-f16"]
    assert complete(installed, "redlines show nobody-", db=seeded) == []


def test_a_partial_slug_completes_for_every_actor_option(installed, seeded):
    assert complete(installed, "redlines list --actor pu", db=seeded) == ["putin"]
    assert complete(installed, "redlines report --actor tr", db=seeded) == ["trump"]
    assert complete(installed, "redlines list --target u", db=seeded) == ["ukraine", "united-kingdom", "united-states"]
    assert complete(installed, "redlines add threat --by ze", db=seeded) == ["zelensky"]
    assert complete(installed, "redlines add threat --by putin --against n", db=seeded) == ["nato", "north-korea"]
    assert complete(installed, "redlines add actor kim --of north", db=seeded) == ["north-korea"]


def test_event_ids_complete_after_a_hash(installed, seeded):
    assert complete(installed, "redlines delete putin-f16#", db=seeded) == ["putin-f16#1", "putin-f16#2"]


def test_commands_and_options_complete(installed, seeded):
    assert complete(installed, "redlines li", db=seeded) == ["list"]
    assert complete(installed, "redlines d", db=seeded) == ["delete", "due", "db"]
    assert complete(installed, "redlines list --ac", db=seeded) == ["--actor"]
    assert complete(installed, "redlines db st", db=seeded) == ["status"]


def test_completion_reads_the_database_the_line_names(installed, seeded, tmp_path):
    other = tmp_path / "other.db"
    run_installed(installed, "db", "init", "--empty", db=other)
    run_installed(installed, "add", "actor", "putney", "--name", "Putney", db=other)
    # --db before or after the command, or REDLINES_DB: the file it names, not the default
    assert complete(installed, f"redlines --db {other} list --actor pu", db=seeded) == ["putney"]
    assert complete(installed, f"redlines list --db {other} --actor pu", db=seeded) == ["putney"]
    assert complete(installed, "redlines list --actor pu", db=other) == ["putney"]
    # the default file of this HOME, when nothing names one
    home = tmp_path / "home"
    default = home / ".local" / "share" / "redlines" / "redlines.db"
    default.parent.mkdir(parents=True)
    shutil.copy(other, default)
    assert complete(installed, "redlines list --actor p", db=None, HOME=str(home), XDG_DATA_HOME="") == ["putney"]


def test_completion_never_creates_a_database(installed, tmp_path):
    missing = tmp_path / "missing.db"
    assert complete(installed, "redlines show p", db=missing) == []
    assert not missing.exists()


def test_records_hidden_by_as_of_are_not_offered(installed, seeded):
    everything = complete(installed, "redlines show ", db=seeded)
    earlier = complete(installed, "redlines --as-of 2023 show ", db=seeded)
    assert 0 < len(earlier) < len(everything)
    listed = json.loads(run_installed(installed, "--as-of", "2023", "list", "--json", db=seeded).stdout)
    assert sorted(earlier) == sorted(t["id"] for t in listed)


PROBE = """
import json, sys
sys.argv = ["redlines"]
from redlines.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    "protocol, extra",
    [
        ("bash_complete", {"COMP_WORDS": "redlines show putin-l", "COMP_CWORD": "2"}),
        ("complete_zsh", {"_TYPER_COMPLETE_ARGS": "redlines list --actor pu"}),
        ("complete_fish", {"_TYPER_COMPLETE_ARGS": "redlines li", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}),
    ],
)
def test_completing_imports_nothing_heavy(seeded, protocol, extra):
    env = {**os.environ, "REDLINES_DB": str(seeded), "_REDLINES_COMPLETE": protocol, **extra}
    p = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60)
    assert p.stdout.strip()  # it did complete something
    modules = set(json.loads(p.stderr.rsplit("MODULES ", 1)[1]))
    assert {m for m in modules if m.split(".")[0] in HEAVY} == set()
    assert "sqlite3" in modules or protocol == "complete_fish"  # values come from the file, through sqlite3


def test_zsh_and_fish_answers_carry_the_names(installed, seeded):
    zsh = complete(installed, "", db=seeded, protocol="complete_zsh", _TYPER_COMPLETE_ARGS="redlines list --actor tr")
    assert zsh == ['_arguments \'*: :(("trump":"Donald Trump"))\'']
    fish = complete(
        installed,
        "",
        db=seeded,
        protocol="complete_fish",
        _TYPER_COMPLETE_ARGS="redlines show putin-l",
        _TYPER_COMPLETE_FISH_ACTION="get-args",
    )
    assert len(fish) == 1 and fish[0].startswith("putin-long-range-weapons\t")


@pytest.mark.parametrize(
    "shell, lines",
    [
        ("bash", ["_REDLINES_COMPLETE=complete_bash $1 ) )", "complete -o default -F _redlines_completion redlines"]),
        (
            "zsh",
            ["#compdef redlines", "_REDLINES_COMPLETE=complete_zsh redlines)", "compdef _redlines_completion redlines"],
        ),
        ("fish", ["complete --command redlines --no-files", "_REDLINES_COMPLETE=complete_fish"]),
    ],
)
def test_show_completion_prints_the_script_for_each_shell(installed, tmp_path, shell, lines):
    p = run_installed(installed, "--show-completion", shell, db=tmp_path / "none.db")
    assert (p.returncode, p.stderr) == (0, "")
    for line in lines:
        assert line in p.stdout
    assert not (tmp_path / "none.db").exists()  # printing a script opens no database


def test_show_completion_names_the_shell_or_finds_it(installed, tmp_path):
    # no shell named: the shell running redlines (bash here), else $SHELL
    p = subprocess.run(["bash", "-c", f"{installed} --show-completion"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "complete -o default -F _redlines_completion redlines" in p.stdout
    bad = run_installed(installed, "--show-completion", "powershell", db=tmp_path / "x.db")
    assert bad.returncode == 2
    assert "cannot complete for 'powershell'; name one of bash, zsh or fish" in bad.stderr


def test_the_bash_script_completes_in_a_real_bash(installed, seeded):
    """Source the printed script in bash and call its function as bash would on TAB."""
    script = run_installed(installed, "--show-completion", "bash", db=seeded).stdout
    program = (
        f"{script}\n"
        "COMP_WORDS=(redlines show putin-l); COMP_CWORD=2\n"
        "_redlines_completion redlines\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {
        **os.environ,
        "REDLINES_DB": str(seeded),
        "PATH": f"{Path(installed).parent}{os.pathsep}{os.environ['PATH']}",
    }
    p = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, env=env, timeout=60)
    assert p.stdout.split() == ["putin-long-range-weapons"], p.stderr


@pytest.mark.parametrize(
    "shell, where",
    [
        ("bash", ".bash_completions/redlines.sh"),
        ("zsh", ".zfunc/_redlines"),
        ("fish", ".config/fish/completions/redlines.fish"),
    ],
)
def test_install_completion_writes_the_script_where_the_shell_reads_it(installed, tmp_path, shell, where):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home)}
    first = run_installed(installed, "--install-completion", shell, db=tmp_path / "x.db", extra_env=env)
    assert first.returncode == 0, first.stderr
    assert f"{shell} completion installed in {home / where}" in first.stderr
    shown = run_installed(installed, "--show-completion", shell, db=tmp_path / "x.db").stdout
    assert (home / where).read_text().strip() == shown.strip()
    again = run_installed(installed, "--install-completion", shell, db=tmp_path / "x.db", extra_env=env)
    assert again.returncode == 0
    if shell == "bash":  # the line that loads it is added once
        assert (home / ".bashrc").read_text().count(f"source '{home / where}'") == 1
    if shell == "zsh":
        assert (home / ".zshrc").read_text().count("fpath+=~/.zfunc") == 1
