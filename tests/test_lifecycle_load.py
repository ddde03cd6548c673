"""The database's lifecycle when others are at it too, and when the disk is full: `db init
--force` while other programs hold or write the file, an empty location, and a full disk on
creation, on open, on a write, on an import and on `-o`."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import run_installed

# Reads the SQLite file itself (the SQLite file under load: WAL, other programs holding the file, a full disk):
# runs on the sqlite engine alone.
pytestmark = pytest.mark.sqlite_only

# --- db init --force under load ------------------------------------------------------------------


def counts(path: Path) -> dict:
    with sqlite3.connect(path) as c:
        return {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("actor", "threat", "run")}


def hold(db: Path, script: str) -> subprocess.Popen:
    """Another program with the database open: runs `script` with `c` connected, prints `ready`,
    then waits until its stdin closes."""
    code = textwrap.dedent(
        f"""
        import sqlite3, sys
        c = sqlite3.connect({str(db)!r}, isolation_level=None)
        {script}
        print("ready", flush=True)
        sys.stdin.read()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def backups(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f"{db.name}.replaced-*"))


@pytest.mark.parametrize(
    "script",
    [
        "c.execute('BEGIN IMMEDIATE'); c.execute(\"INSERT INTO run (at, command) VALUES ('x', 'held')\")",
        "c.execute('PRAGMA wal_autocheckpoint = 0'); c.execute(\"INSERT INTO run (at, command) VALUES ('x', 'held')\")",
        "c.execute('SELECT COUNT(*) FROM threat').fetchone()",
    ],
    ids=["writing", "uncheckpointed WAL", "reading"],
)
def test_init_force_refuses_while_another_program_holds_the_file(cli, db, script):
    cli("list")
    before = counts(db)
    other = hold(db, script)
    try:
        started = time.monotonic()
        result = cli("db", "init", "--force", "--empty", expect=1)
        assert time.monotonic() - started < 30
    finally:
        other.communicate("", timeout=30)
    assert "in use" in result.stderr and "not replaced" in result.stderr and "Traceback" not in result.stderr
    assert backups(db) == [], "a refused init writes nothing, not even a backup"
    after = counts(db)
    assert after["threat"] == before["threat"] == 7
    cli("db", "check")


def test_init_force_keeps_writes_left_in_an_uncheckpointed_wal_and_the_new_file_is_whole(cli, db):
    """A writer that died before checkpointing left its commits in the -wal only."""
    cli("list")
    code = textwrap.dedent(
        f"""
        import os, sqlite3
        c = sqlite3.connect({str(db)!r}, isolation_level=None)
        c.execute("PRAGMA wal_autocheckpoint = 0")
        c.execute("INSERT INTO run (at, command) VALUES ('x', 'only in the wal')")
        os._exit(0)  # no close, no checkpoint
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    assert Path(f"{db}-wal").stat().st_size > 0
    cli("db", "init", "--force", "--empty")
    [saved] = backups(db)
    with sqlite3.connect(saved) as c:
        assert c.execute("SELECT COUNT(*) FROM run WHERE command = 'only in the wal'").fetchone()[0] == 1
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT COUNT(*) FROM run WHERE command = 'only in the wal'").fetchone()[0] == 0
    assert counts(db)["threat"] == 0
    assert cli.json("list", "--json") == []
    cli("db", "check")


def test_init_force_loses_no_acknowledged_write_of_a_concurrent_writer(installed, tmp_path):
    """A writer adds actors one command at a time while the file is replaced: every actor it was
    told was added is in the backup or in the new file (added after the replacement)."""
    db = tmp_path / "r.db"
    assert run_installed(installed, "db", "init", "--empty", db=db).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    env.update({"REDLINES_DB": str(db), "REDLINES_TODAY": "2025-08-12"})
    loop = f"for i in $(seq 1 40); do {installed} add actor w$i --name W$i >/dev/null 2>&1 && echo w$i; done"
    writer = subprocess.Popen(["sh", "-c", loop], stdout=subprocess.PIPE, text=True, env=env)
    time.sleep(1.0)
    replaced = None
    for _ in range(20):
        done = run_installed(installed, "db", "init", "--force", "--empty", db=db)
        if done.returncode == 0:
            replaced = done
            break
        assert "in use" in done.stderr, done.stderr
        time.sleep(0.2)
    acknowledged = set(writer.communicate(timeout=240)[0].split())
    assert replaced is not None, "db init --force never found the file free between two commands"
    [saved] = backups(db)
    kept = set()
    for path in (saved, db):
        with sqlite3.connect(path) as c:
            kept |= {r[0] for r in c.execute("SELECT slug FROM actor")}
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert acknowledged, "the writer added nothing"
    assert acknowledged <= kept, f"lost: {sorted(acknowledged - kept)}"
    assert run_installed(installed, "db", "check", db=db).returncode == 0


# --- an empty location ----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["--db", "REDLINES_DB", "--db spaces"])
def test_an_empty_location_is_bad_usage_and_the_default_database_is_not_touched(cli, tmp_path, how):
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    if how == "REDLINES_DB":
        result = cli("list", env={**env, "REDLINES_DB": ""}, expect=2)
    else:
        result = cli("--db", "" if how == "--db" else "   ", "list", env=env, expect=2)
    assert "database location is empty" in result.stderr and result.stdout == ""
    assert not (tmp_path / "xdg").exists() and not (tmp_path / "home").exists()


def test_an_empty_location_is_refused_by_the_installed_command_too(installed, tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    for args in (("list",), ("--db", "", "list"), ("db", "init")):
        done = run_installed(installed, *args, db=Path(""), extra_env={**env, "REDLINES_DB": ""})
        assert done.returncode == 2 and "database location is empty" in done.stderr, (args, done.stderr)
    assert not (tmp_path / "xdg").exists()


# --- a full disk ----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 600 KiB tmpfs, unmounted afterwards. Needs root and `mount`: skipped with the reason
    otherwise, a failure under REDLINES_REQUIRE_TOOLS=1 (CI runs as root)."""
    reason = None
    mount = shutil.which("mount")
    point = tmp_path / "small"
    point.mkdir()
    if os.geteuid() != 0:
        reason = "needs root to mount a small tmpfs (run as root, as CI does)"
    elif not mount:
        reason = "needs mount: install it with `apt-get install mount`"
    else:
        done = subprocess.run([mount, "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(point)], capture_output=True)
        if done.returncode != 0:
            reason = f"mount refused a tmpfs here: {done.stderr.decode().strip()}"
    if reason:
        if os.environ.get("REDLINES_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{reason} (REDLINES_REQUIRE_TOOLS=1: a skipped check is a failure)")
        pytest.skip(reason)
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system of `folder`, leaving about `leave` bytes."""
    ballast = folder / f"ballast-{len(list(folder.glob('ballast-*')))}"
    st = os.statvfs(folder)
    size = max(0, st.f_bavail * st.f_frsize - leave)
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        chunk = b"\0" * 4096
        while size > 0 or leave == 0:
            os.write(fd, chunk[: max(1, min(len(chunk), size))] if leave else chunk)
            size -= len(chunk)
    except OSError:
        pass  # full
    finally:
        os.close(fd)
    return ballast


def assert_said_full(result) -> None:
    assert "full" in result.stderr, result.stderr
    for wrong in ("Traceback", "not a redlines database", "cannot rollback", "disk I/O error"):
        assert wrong not in result.stderr, result.stderr


def test_a_database_cannot_be_created_on_a_full_disk_and_says_so(cli, small_disk):
    fill(small_disk)
    db = small_disk / "r.db"
    result = cli("list", env={"REDLINES_DB": str(db)}, expect=1)
    assert_said_full(result)
    assert not db.exists() and not [p for p in small_disk.iterdir() if not p.name.startswith("ballast")]


def test_a_database_on_a_full_disk_says_full_on_open_and_on_write(cli, small_disk):
    db = small_disk / "r.db"
    env = {"REDLINES_DB": str(db)}
    cli("db", "init", env=env)
    fill(small_disk)
    for args in (("list",), ("add", "actor", "zz", "--name", "Zz"), ("db", "init", "--force", "--empty")):
        assert_said_full(cli(*args, env=env, expect=1))
    for ballast in small_disk.glob("ballast-*"):
        ballast.unlink()
    assert len(cli.json("list", "--json", env=env)) == 7
    assert "zz" not in {a["slug"] for a in cli.json("actors", "--json", env=env)}
    cli("db", "check", env=env)


def test_an_import_on_a_nearly_full_disk_says_full_and_writes_nothing(cli, small_disk, tmp_path):
    db = small_disk / "r.db"
    env = {"REDLINES_DB": str(db)}
    cli("db", "init", env=env)
    lines = cli("export", "--format", "jsonl", env=env).stdout.splitlines()
    threat = next(json.loads(x) for x in lines if json.loads(x)["type"] == "threat")
    big = [x for x in lines if json.loads(x)["type"] != "threat"]
    for i in range(2000):
        big.append(json.dumps({**threat, "id": f"bulk-{i}", "statement": f"bulk {i} " + "words " * 40, "events": []}))
    source = tmp_path / "big.jsonl"
    source.write_text("\n".join(big) + "\n")
    fill(small_disk, leave=150_000)
    assert_said_full(cli("import", str(source), env=env, expect=1))
    for ballast in small_disk.glob("ballast-*"):
        ballast.unlink()
    assert len(cli.json("list", "--json", env=env)) == 7
    cli("db", "check", env=env)


def test_o_on_a_full_disk_says_full_and_leaves_the_old_file_and_no_temporary_one(cli, small_disk):
    cli("list")
    target = small_disk / "out.json"
    target.write_text("old")
    fill(small_disk)
    result = cli("export", "-o", str(target), expect=1)
    assert "disk is full" in result.stderr and "Traceback" not in result.stderr
    assert target.read_text() == "old"
    assert sorted(p.name for p in small_disk.iterdir() if not p.name.startswith("ballast")) == ["out.json"]
