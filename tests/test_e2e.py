"""The installed `redlines` command, run as a user runs it: real process, stdout, stderr, exit codes."""

import json
import shlex
import subprocess
import sys

from conftest import need_tool, run_installed

from redlines.service import Tracker


def test_first_run_seeds_and_lists_putin(installed, tmp_path):
    db = tmp_path / "new.db"
    p = run_installed(installed, "list", "--actor", "putin", db=db)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert "putin-long-range-weapons" in p.stdout and "4 threats, as of 2025-08-12" in p.stdout


def test_the_article_as_of_publication(installed, tmp_path):
    p = run_installed(
        installed,
        "--as-of",
        "2025-08-12",
        "list",
        "--actor",
        "trump",
        "--json",
        db=tmp_path / "a.db",
        today="2026-11-24",
    )
    rows = json.loads(p.stdout)
    assert [r["outcome"] for r in rows] == ["not_followed_through"] * 3
    assert {r["deadline"] for r in rows} == {"2025-01", "2025-03", "2025-08-08"}


def test_exit_codes_and_messages(installed, tmp_path):
    db = tmp_path / "b.db"
    ok = run_installed(installed, "show", "putin-f16", db=db)
    assert ok.returncode == 0 and "muted response" in ok.stdout
    missing = run_installed(installed, "list", "--actor", "putn", db=db)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == "error: no actor is called 'putn'\n  did you mean: putin (Vladimir Putin)?\n"
    bad = run_installed(installed, "list", "--since", "31 Febtember", db=db)
    assert bad.returncode == 2 and "'31 Febtember'" in bad.stderr and "Traceback" not in bad.stderr
    usage = run_installed(installed, "list", "--no-such-option", db=db)
    assert usage.returncode == 2 and "No such option" in usage.stderr


def test_report_json_through_a_real_jq_pipe(installed, tmp_path):
    need_tool("jq", install="apt-get install jq")
    db = tmp_path / "c.db"
    env_db = shlex.quote(str(db))
    cmd = (
        f"REDLINES_DB={env_db} REDLINES_TODAY=2025-08-12 {shlex.quote(installed)} report --json"
        " | jq -r '.rows[] | \"\\(.key) \\(.tested) \\(.follow_through_rate)\"'"
    )
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "putin 4 0.125\ntrump 3 0\n"


def test_python_dash_m_and_version(tmp_path):
    p = subprocess.run([sys.executable, "-m", "redlines", "--version"], capture_output=True, text=True)
    assert (p.returncode, p.stdout) == (0, "redlines 0.1.0\n")


def test_a_closed_pipe_is_not_an_error(installed, tmp_path):
    db = tmp_path / "d.db"
    Tracker(db).import_document(
        {
            "actors": [{"slug": "a", "name": "A", "kind": "state"}],
            "threats": [
                {"id": f"t{n}", "issuer": "a", "made_on": "2025-01-01", "statement": "x" * 1000} for n in range(400)
            ],
        },
        "test",
    )
    cmd = (
        f"set -o pipefail; REDLINES_DB={shlex.quote(str(db))} {shlex.quote(installed)} list --format jsonl | head -c 10"
    )
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (0, '{"id": "tr', "")  # trump-sanctions-july, newest
