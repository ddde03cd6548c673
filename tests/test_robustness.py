"""Nothing lost, nobody in: concurrent writers, killed processes, read-only and foreign files,
consistent backups under load. Each test does the damage on purpose."""

import contextlib
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from conftest import run_installed

from redlines.service import Tracker
from redlines.store import engine

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _writer(db: str, worker: int, n: int, today: str, errors) -> None:
    """One process adding n threats, each with a crossing, through the library (two runs each)."""
    from datetime import date

    from redlines.service import Tracker

    t = Tracker(db, today=date.fromisoformat(today))
    try:
        for i in range(n):
            tid = t.add_threat(
                by="a",
                on="2025-01-01",
                said=f"worker {worker} threat {i}",
                against=["b"],
                tags=[f"w{worker}"],
                threat_id=f"w{worker}-{i}",
            )
            t.add_event(tid, kind="crossed", on="2025-01-02", what="crossed")
    except Exception as e:  # reported to the parent: any error at all fails the test
        errors.put(f"worker {worker}: {type(e).__name__}: {e}")
    finally:
        t.close()


def _reader(db: str, stop, seen, errors) -> None:
    """Reports over and over while the writers write: every threat must come whole."""
    from datetime import date

    from redlines.service import Tracker

    t = Tracker(db, today=date(2025, 6, 1))
    reports = 0
    try:
        while not stop.is_set():
            rows = t.list_threats()
            report = t.report()
            whole = all(r["targets"] == ["b"] and len(r["tags"]) == 1 for r in rows)
            if not whole or report["total"]["threats"] < len(rows):
                bad = [
                    (r["id"], r["targets"], r["tags"]) for r in rows if r["targets"] != ["b"] or len(r["tags"]) != 1
                ][:3]
                errors.put(
                    f"reader saw a half-written command: {len(rows)} threats, "
                    f"{report['total']['threats']} in the report; {bad}"
                )
            reports += 1
    except Exception as e:
        errors.put(f"reader: {type(e).__name__}: {e}")
    finally:
        seen.put(reports)
        t.close()


def test_four_writers_at_once_lose_nothing_and_a_reader_never_sees_half(tmp_path):
    db = tmp_path / "busy.db"
    t = Tracker(db)
    t.init(empty=True)
    t.import_document(
        {
            "actors": [{"slug": "a", "name": "A", "kind": "state"}, {"slug": "b", "name": "B", "kind": "state"}],
            "threats": [],
        },
        "setup",
    )
    t.close()
    ctx = multiprocessing.get_context("spawn")
    errors, seen, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    reader = ctx.Process(target=_reader, args=(str(db), stop, seen, errors))
    reader.start()
    writers = [ctx.Process(target=_writer, args=(str(db), w, 100, "2025-06-01", errors)) for w in range(4)]
    for p in writers:
        p.start()
    for p in writers:
        p.join(timeout=300)
    stop.set()
    reader.join(timeout=60)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    assert seen.get(timeout=5) > 0, "the reader ran while the writers wrote"
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 400
        assert c.execute("SELECT COUNT(*) FROM event").fetchone()[0] == 400
        assert c.execute("SELECT COUNT(*) FROM threat WHERE first_crossed = '2025-01-02'").fetchone()[0] == 400
    c.close()
    assert Tracker(db).check() == []


def _big_import_file(path: Path, n: int) -> None:
    with open(path, "w") as f:
        f.write(json.dumps({"type": "actor", "slug": "a", "name": "A", "kind": "state"}) + "\n")
        for i in range(n):
            f.write(
                json.dumps(
                    {
                        "type": "threat",
                        "id": f"t{i}",
                        "issuer": "a",
                        "made_on": "2024-01-01",
                        "statement": f"threat number {i} " * 5,
                        "events": [{"kind": "crossed", "on": "2024-02-01", "what": "crossed " * 5}],
                    }
                )
                + "\n"
            )


def _journal_mode(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db)) as c:
        return c.execute("PRAGMA journal_mode").fetchone()[0]


def _killed_import(installed: str, db: Path, data: Path) -> dict:
    """Start importing `data` into a new empty database `db` and kill it once its transaction has
    written pages into the file beside a journal (the one writer is the import, so that proves the
    transaction is open and unfinished); the hot journal is left. Returns the import's environment."""
    journal = Path(f"{db}-journal")
    assert run_installed(installed, "db", "init", "--empty", db=db).returncode == 0
    assert _journal_mode(db) == "wal" and not journal.exists()
    size = db.stat().st_size
    env = {**os.environ, "REDLINES_DB": str(db)}
    proc = subprocess.Popen(
        [installed, "import", str(data)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while (
        not (journal.exists() and db.stat().st_size > size + (1 << 20))
        and proc.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.002)
    assert proc.poll() is None, "the import ended before its transaction was seen writing: make the file larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert journal.exists()  # a hot journal: the next to open the file rolls the import back
    return env


def test_an_import_killed_part_way_leaves_all_or_nothing(installed, tmp_path):
    """An import into a database without threats writes its pages through a rollback journal
    (once, rather than into the WAL and again at the commit). The kill is sent only once its
    transaction has written pages into the file beside a journal (the one writer is the import,
    so that proves the transaction is open and unfinished): then nothing of it may be seen, and
    the next write puts the database back in WAL. The same import left alone lands whole."""
    db, data = tmp_path / "k.db", tmp_path / "big.jsonl"
    journal = Path(f"{db}-journal")
    _big_import_file(data, 60_000)
    env = _killed_import(installed, db, data)
    t = Tracker(db)
    assert t.check() == []
    assert t.conn.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 0
    assert t.conn.execute("SELECT COUNT(*) FROM run").fetchone()[0] == 0
    t.close()
    assert _journal_mode(db) == "delete"
    assert run_installed(installed, "add", "actor", "b", "--name", "B", db=db).returncode == 0
    assert _journal_mode(db) == "wal"  # put back by the next write
    whole = subprocess.run([installed, "import", str(data)], env=env, capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    assert _journal_mode(db) == "wal" and not journal.exists()
    t = Tracker(db)
    assert t.check() == []
    assert t.conn.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 60_000
    t.close()


def _read_only_for_a_reader(db: Path) -> tuple[list[str], dict]:
    """Make `db` and its folder read-only, and return how to run a command as a user who may
    read it but not write it (as root, that takes another user: `setpriv`), and its environment."""
    import shutil

    os.chmod(db, 0o444)
    os.chmod(db.parent, 0o555)
    prefix = []
    if os.geteuid() == 0:
        assert shutil.which("setpriv"), "setpriv (util-linux) runs the command as another user"
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    env.update({"REDLINES_DB": str(db), "REDLINES_TODAY": "2025-08-12", "HOME": str(db.parent)})
    return prefix, env


def test_a_reader_who_may_not_write_never_reads_a_killed_import_half_written(installed, tmp_path):
    """A user who may read the file but not write it cannot roll back the journal a killed bulk
    import left: the read is refused, saying who can mend it, rather than showing the import's
    pages half-written ("database disk image is malformed"); once a writer has opened the file,
    the same user reads it, without the import. (As root, the reader is another user.)"""
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="redlines-ro-"))
    try:
        db, data = shared / "k.db", tmp_path / "big.jsonl"
        _big_import_file(data, 60_000)
        _killed_import(installed, db, data)
        prefix, env = _read_only_for_a_reader(db)
        before = db.read_bytes()
        for args in (["list", "--json"], ["db", "status"]):
            read = subprocess.run([*prefix, installed, *args], env=env, capture_output=True, text=True)
            assert read.returncode == 1, read.stdout
            assert "holds a write that did not finish" in read.stderr, read.stderr
            assert "malformed" not in read.stderr and "Traceback" not in read.stderr
            assert read.stdout == ""
        assert db.read_bytes() == before
        os.chmod(shared, 0o755)
        os.chmod(db, 0o644)
        assert run_installed(installed, "list", "--json", db=db).stdout == "[]\n"  # rolled back by a writer
        os.chmod(db, 0o444)
        os.chmod(shared, 0o555)
        read = subprocess.run([*prefix, installed, "list", "--json"], env=env, capture_output=True, text=True)
        assert (read.returncode, read.stdout) == (0, "[]\n"), read.stderr
    finally:
        os.chmod(shared, 0o755)
        shutil.rmtree(shared, ignore_errors=True)


def test_an_import_beside_a_reader_keeps_the_wal_and_the_reader_its_view(installed, tmp_path):
    """With another connection open, a bulk import stays in WAL (its journal mode cannot change),
    and the reader goes on reading the state before it."""
    db, data = tmp_path / "r.db", tmp_path / "some.jsonl"
    _big_import_file(data, 3_000)
    assert run_installed(installed, "db", "init", "--empty", db=db).returncode == 0
    with contextlib.closing(sqlite3.connect(db)) as reader:
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 0
        done = run_installed(installed, "import", str(data), db=db)
        assert done.returncode == 0, done.stderr
        assert reader.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 0  # its snapshot
        reader.execute("COMMIT")
        assert reader.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 3_000
    assert _journal_mode(db) == "wal"


def test_a_killed_migration_leaves_the_old_file_and_the_backup_restores_it(installed, tmp_path):
    db = tmp_path / "old.db"
    # a first-schema database large enough that its upgrade takes a moment
    engine.migrate(db, "0001")
    c = sqlite3.connect(db)
    c.execute("INSERT INTO actor (id, slug, name, kind) VALUES (1, 'a', 'A', 'state')")
    c.executemany(
        "INSERT INTO threat (id, issuer_id, made_on, statement, category) VALUES (?, 1, '2024-01-01', ?, 'other')",
        [(f"t{i}", f"threat {i}") for i in range(150_000)],
    )
    c.executemany(
        "INSERT INTO event (id, threat_id, kind, occurred_on, what) VALUES (?, ?, 'crossed', '2024-02-01', 'x')",
        [(f"t{i}#1", f"t{i}") for i in range(150_000)],
    )
    c.commit()
    c.close()
    proc = subprocess.Popen(
        [installed, "list", "--limit", "1"],
        env={**os.environ, "REDLINES_DB": str(db)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("old.db.before-*")) and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # the backup is written; the migration runs now
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [backup] = tmp_path.glob("old.db.before-*")
    with sqlite3.connect(db) as c:  # SQLite rolled the killed migration back, or it had finished
        version = c.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 150_000
    c.close()
    assert version in ("0001", engine.head_revision())
    # the documented restore: copy the backup over the database
    subprocess.run(["cp", str(backup), str(db)], check=True)
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        assert c.execute("SELECT COUNT(*) FROM threat").fetchone()[0] == 150_000
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    c.close()


def test_a_read_only_database_answers_reads_and_refuses_writes_clearly(installed, tmp_path):
    """Run as a user who may read the file but not write it (as root, that takes another user)."""
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="redlines-ro-"))
    try:
        db = shared / "r.db"
        assert run_installed(installed, "db", "init", db=db).returncode == 0
        prefix, env = _read_only_for_a_reader(db)
        before = db.read_bytes()
        read = subprocess.run([*prefix, installed, "list", "--json"], env=env, capture_output=True, text=True)
        assert read.returncode == 0, read.stderr
        assert len(json.loads(read.stdout)) == 7
        write = subprocess.run(
            [*prefix, installed, "add", "actor", "x", "--name", "X"], env=env, capture_output=True, text=True
        )
        assert write.returncode == 1
        assert "read-only" in write.stderr and "Traceback" not in write.stderr, write.stderr
        assert db.read_bytes() == before
    finally:
        os.chmod(shared, 0o755)
        shutil.rmtree(shared, ignore_errors=True)


def test_a_file_in_a_missing_or_read_only_folder(cli, tmp_path):
    assert "cannot write" in cli("export", "-o", str(tmp_path / "no" / "such" / "x.json"), expect=1).stderr
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    result = cli("--db", str(a_file / "sub" / "r.db"), "list", expect=1)
    assert "cannot create the folder" in result.stderr and a_file.read_text() == "not a folder"


def _keep_writing(db: str, stop) -> None:
    from redlines.service import Tracker

    t = Tracker(db)
    i = 0
    while not stop.is_set():
        t.add_threat(by="putin", on="2025-01-01", said=f"threat {i}", threat_id=f"bg-{i}")
        i += 1
    t.close()


def test_backup_is_consistent_while_another_process_writes(tmp_path):
    db = tmp_path / "live.db"
    Tracker(db).close()
    Tracker(db).list_threats()
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    writer = ctx.Process(target=_keep_writing, args=(str(db), stop))
    writer.start()

    def wait_for_more_than(n: int) -> None:  # until the writer has committed past n threats
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.closing(sqlite3.connect(db, timeout=10)) as c:
                if c.execute("SELECT COUNT(*) FROM threat").fetchone()[0] > n:
                    return
            time.sleep(0.01)
        raise AssertionError("the writer did not commit")

    copies, seen = [], 7
    try:
        for n in range(3):
            wait_for_more_than(seen)
            copies.append(Tracker(db).backup(tmp_path / f"copy-{n}.db"))
            with contextlib.closing(sqlite3.connect(copies[-1])) as c:
                seen = c.execute("SELECT COUNT(*) FROM threat").fetchone()[0]
    finally:
        stop.set()
        writer.join(timeout=60)
    counts = []
    for copy in copies:
        t = Tracker(copy)
        assert t.check() == []
        counts.append(t.conn.execute("SELECT COUNT(*) FROM threat").fetchone()[0])
        runs = t.conn.execute("SELECT COUNT(*) FROM run").fetchone()[0]
        assert counts[-1] - 7 == runs - 1, "every threat in the copy came with its own run: no torn writes"
        t.close()
    assert counts == sorted(counts) and counts[-1] > counts[0] >= 7


def test_terminal_output_never_passes_control_characters(cli, db):
    evil = "ok\x1b]0;pwned\x07 \x1b[31mred\x1b[0m \u202eevil\r\x00"
    Tracker(db).import_document(
        {
            "actors": [{"slug": "e", "name": "E\x1b[2J", "kind": "state"}],
            "threats": [
                {
                    "id": "evil",
                    "issuer": "e",
                    "made_on": "2025-01-01",
                    "statement": evil.replace("\x00", ""),
                    "events": [{"kind": "note", "on": "2025-01-02", "what": evil.replace("\x00", "")}],
                }
            ],
        },
        "test",
    )
    for args in (
        ["list"],
        ["show", "evil"],
        ["timeline"],
        ["history", "-n", "1"],
        ["actors"],
        ["search", "ok"],
        ["due", "--within", "1y"],
        ["report"],
    ):
        out = cli(*args).stdout
        assert "\x1b" not in out and "\x07" not in out and "\r" not in out, args
