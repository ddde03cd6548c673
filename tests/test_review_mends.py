"""Findings of the independent review, mended: an import whose process is killed leaves no
reading process behind and says what happened; an event id written two ways is a repeat; the
number of an event id is read in one place."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_installed

BENCH = Path(__file__).resolve().parent.parent / "bench" / "generate.py"
linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")


# --- helpers: processes as /proc shows them -------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    """Running or asleep: not gone, and not a zombie that only waits for its parent to collect it."""
    s = _stat(pid)
    return s is not None and s[0] not in ("Z", "X")


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            s = _stat(int(entry))
            if s is not None and s[1] == pid and s[0] not in ("Z", "X"):
                out.append(int(entry))
    return out


def _wait_for(what, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.01)
    return what()


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A data set of JSON lines well over the 4 MiB from which a reading process of its own reads it."""
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    with open(path, "w") as f:
        subprocess.run([sys.executable, str(BENCH), "10000", "3"], stdout=f, check=True)
    assert path.stat().st_size > 8 << 20
    return path


def _env(db: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    return {**env, "REDLINES_DB": str(db), "REDLINES_TODAY": "2025-08-12"}


def _threats_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM threat").fetchone()[0]


def _start_import(command: list[str], big: Path, db: Path, stderr=subprocess.DEVNULL) -> tuple[subprocess.Popen, int]:
    """The import started, once its reading process is there: (the import, the reader's pid)."""
    proc = subprocess.Popen([*command, "import", str(big)], env=_env(db), stdout=subprocess.DEVNULL, stderr=stderr)
    readers = _wait_for(lambda: _children(proc.pid), 60)
    if not readers:
        proc.kill()
        proc.wait()
        pytest.fail("the import of a large file started no reading process")
    return proc, readers[0]


# --- 1. killing an import leaves no reading process -------------------------------------------------

# How the reader learns that its parent is gone: the system tells it (Linux), or, where it cannot,
# its next send fails. The second is run by switching the first off in the killed process.
WITHOUT_THE_SYSTEMS_HELP = (
    "import sys; from redlines import reading; reading._end_with = lambda parent: None; "
    "from redlines.cli import main; sys.argv[0] = 'redlines'; main()"
)


@linux_only
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "kill-TERM"])
@pytest.mark.parametrize("how", ["system", "next-send"])
def test_killing_an_import_leaves_no_reading_process_and_an_intact_database(installed, tmp_path, big, sig, how):
    db = tmp_path / "r.db"
    assert run_installed(installed, "db", "init", db=db).returncode == 0
    before = _threats_in(db)
    command = [installed] if how == "system" else [sys.executable, "-c", WITHOUT_THE_SYSTEMS_HELP]
    proc, reader = _start_import(command, big, db)
    time.sleep(0.3)  # into the import: the reader reading, or waiting for the writer to take a batch
    os.kill(proc.pid, sig)
    assert proc.wait(30) == -sig
    gone = _wait_for(lambda: not _alive(reader), 10)
    if not gone:
        os.kill(reader, signal.SIGKILL)  # not left behind by the test either
    assert gone, f"the reading process {reader} outlived the killed import"
    check = run_installed(installed, "db", "check", db=db)
    assert check.returncode == 0, check.stderr
    assert _threats_in(db) == before  # nothing of the killed import was written


# --- 2. a reading process that dies is not the input's fault ---------------------------------------


@linux_only
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "kill-TERM"])
def test_a_reading_process_killed_mid_import_is_a_failure_that_writes_nothing(installed, tmp_path, big, sig):
    db = tmp_path / "r.db"
    assert run_installed(installed, "db", "init", db=db).returncode == 0
    before = _threats_in(db)
    proc, reader = _start_import([installed], big, db, stderr=subprocess.PIPE)
    os.kill(reader, sig)
    _, err = proc.communicate(timeout=60)
    err = err.decode()
    assert proc.returncode == 1, err
    assert err == "error: the process reading big.jsonl ended early; nothing was written\n  run the import again\n"
    assert _threats_in(db) == before
    check = run_installed(installed, "db", "check", db=db)
    assert check.returncode == 0, check.stderr
    assert not _children(proc.pid)


# A batch that cannot go to the parent, whatever the reason: the reading process's sending thread
# ends the process, where a thread that died would leave both processes waiting on each other.
UNSENDABLE = (
    "import sys; from multiprocessing import connection; "
    "connection.Connection.send_bytes = lambda self, *a: (_ for _ in ()).throw(ValueError('cannot go')); "
    "from redlines.cli import main; sys.argv[0] = 'redlines'; main()"
)


@linux_only
def test_a_batch_that_cannot_be_sent_ends_the_import_with_an_error_not_a_hang(installed, tmp_path, big):
    db = tmp_path / "r.db"
    assert run_installed(installed, "db", "init", db=db).returncode == 0
    before = _threats_in(db)
    # (not `_start_import`: the reading process may end before it could be seen)
    proc = subprocess.Popen(
        [sys.executable, "-c", UNSENDABLE, "import", str(big)],
        env=_env(db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the import hung when its reading process could not send a batch")
    assert proc.returncode == 1, err
    assert err.decode().splitlines() == [
        "error: the process reading big.jsonl ended early; nothing was written",
        "  run the import again",
    ]
    assert _threats_in(db) == before


# --- 3. one event id written two ways appears twice -------------------------------------------------


def _threat(tid: str, *event_ids: str) -> dict:
    return {
        "id": tid,
        "issuer": "putin",
        "made_on": "2024-05-01",
        "statement": f"Statement of {tid}",
        "events": [{"id": e, "kind": "note", "on": "2024-06-01", "what": f"note {j}"} for j, e in enumerate(event_ids)],
    }


SPELLINGS = [
    (("dup-threat#7", "dup-threat#07"), "'dup-threat#07' appears twice (as 'dup-threat#7')"),
    (("dup-threat#07", "dup-threat#7"), "'dup-threat#7' appears twice"),
    (("dup-threat#2", "dup-threat#3", "dup-threat#0003"), "'dup-threat#0003' appears twice (as 'dup-threat#3')"),
    (("dup-threat#007", "dup-threat#07"), "'dup-threat#07' appears twice (as 'dup-threat#7')"),
]


@pytest.mark.parametrize(("ids", "said"), SPELLINGS)
def test_an_event_id_written_two_ways_in_a_json_document_appears_twice(cli, tmp_path, ids, said):
    doc = {"threats": [_threat("dup-threat", *ids)]}
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(doc))
    before = cli.json("list", "--json")
    result = cli("import", str(path), expect=2)
    assert f"threats[0].events[{len(ids) - 1}].id: {said}" in result.stderr
    assert "UNIQUE" not in result.stderr
    assert cli.json("list", "--json") == before


@pytest.mark.parametrize(("ids", "said"), SPELLINGS)
def test_an_event_id_written_two_ways_in_json_lines_appears_twice_on_its_line(cli, tmp_path, ids, said):
    lines = [_threat("fine", "fine#1"), _threat("dup-threat", *ids)]
    path = tmp_path / "dup.jsonl"
    path.write_text("".join(json.dumps({"type": "threat", **t}) + "\n" for t in lines))
    before = cli.json("list", "--json")
    result = cli("import", str(path), expect=2)
    assert result.stderr.startswith("error: the data set has 1 problem(s); nothing was written\n")
    assert f"line 2.events[{len(ids) - 1}].id: {said}" in result.stderr
    assert cli.json("list", "--json") == before


def test_an_event_id_written_two_ways_for_a_stored_threat_appears_twice(cli, tmp_path):
    """A threat already stored gets the repeat refused too (not merged into one event, not a clash)."""
    path = tmp_path / "first.jsonl"
    path.write_text(json.dumps({"type": "threat", **_threat("dup-threat", "dup-threat#1")}) + "\n")
    cli("import", str(path))
    path.write_text(json.dumps({"type": "threat", **_threat("dup-threat", "dup-threat#1", "dup-threat#01")}) + "\n")
    result = cli("import", str(path), expect=2)
    assert "line 1.events[1].id: 'dup-threat#01' appears twice (as 'dup-threat#1')" in result.stderr
    assert [e["id"] for e in cli.json("show", "dup-threat", "--json")["events"]] == ["dup-threat#1"]


def test_the_same_number_under_two_spellings_in_two_threats_is_no_repeat(cli, tmp_path):
    """A number is a repeat only within its threat: `a#07` and `b#7` are different events."""
    path = tmp_path / "two.jsonl"
    threats = [_threat("a-one", "a-one#07"), _threat("b-two", "b-two#7")]
    path.write_text("".join(json.dumps({"type": "threat", **t}) + "\n" for t in threats))
    cli("import", str(path))
    assert [e["id"] for e in cli.json("show", "a-one", "--json")["events"]] == ["a-one#7"]
    assert [e["id"] for e in cli.json("show", "b-two", "--json")["events"]] == ["b-two#7"]


def test_a_threat_id_written_two_ways_in_csv_appears_twice(cli, tmp_path):
    """CSV has no events: its ids are threat ids, whose normal form drops the spaces around them."""
    path = tmp_path / "dup.csv"
    path.write_text('id,issuer,made_on,statement\ncsv-one,putin,2024-05-01,One\n" csv-one ",putin,2024-05-02,Again\n')
    before = cli.json("list", "--json")
    result = cli("import", str(path), expect=2)
    assert "threats[1].id: 'csv-one' appears twice" in result.stderr
    assert cli.json("list", "--json") == before


def test_an_event_id_written_two_ways_is_refused_by_either_reading_path():
    """The one-pass check gives way to the full one, and the full one names the repeat."""
    from redlines.domain import document

    record = _threat("dup-threat", "dup-threat#7", "dup-threat#07")
    assert document._fast_threat(json.loads(json.dumps(record)), "line 1", None) is None
    p = document.Problems()
    document.check_threat(p, "line 1", record)
    assert p.items == ["line 1.events[1].id: 'dup-threat#07' appears twice (as 'dup-threat#7')"]


# --- 4. the number of an event id, read in one place ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [("t#3", 3), ("t#03", 3), ("a-b-c#000120", 120), ("t#", 0), ("t#x", 0), ("#3", 0), ("t#1234567", 0), ("t", 0)],
)
def test_the_number_of_an_event_id(text, number):
    from redlines.domain.checks import event_id, event_number

    assert event_number(text) == number
    if number:
        assert event_id(text.split("#")[0], text.split("#")[1]) == f"{text.split('#')[0]}#{number}"


def test_an_event_added_after_a_deleted_one_takes_the_next_number_never_the_deleted_one(cli, tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"type": "threat", **_threat("nums", "nums#05", "nums#2")}) + "\n")
    cli("import", str(path))
    cli("delete", "nums#5", "--yes")
    cli("add", "event", "nums", "--kind", "note", "--on", "2024-07-01", "--what", "later")
    assert [e["id"] for e in cli.json("show", "nums", "--json")["events"]] == ["nums#2", "nums#6"]
