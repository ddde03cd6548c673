"""`-o FILE`: written whole through a temporary file of its own, never over the database in use,
devices and FIFOs written as they are, `/dev/stdout` to stdout, and a word on stderr about what
was written."""

import hashlib
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import run_installed

OUTPUTS = [  # every command that writes -o, with what makes it write something
    ("export",),
    ("export", "--format", "csv"),
    ("report", "--format", "html"),
    ("report", "--json"),
]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


@pytest.mark.parametrize("args", OUTPUTS, ids=" ".join)
def test_o_writes_what_stdout_would_and_says_what_it_wrote(cli, tmp_path, args):
    cli("list")
    out = tmp_path / "out" / "result.txt"
    out.parent.mkdir()
    result = cli(*args, "-o", str(out))
    assert result.stdout == ""
    size = out.stat().st_size
    assert size > 0
    assert result.stderr == f"wrote {out} ({size:,} bytes)\n"
    if args[0] == "export" or args[-1] == "--json":  # the same bytes as on stdout (less the timestamp)
        again = cli(*args).stdout
        assert len(again.encode()) == size
    assert leftovers(out.parent) == []


def test_o_keeps_the_mode_of_the_file_it_replaces_and_gives_a_new_one_the_umasks(cli, tmp_path):
    cli("list")
    kept = tmp_path / "private.json"
    kept.write_text("old")
    kept.chmod(0o600)
    cli("export", "-o", str(kept))
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and kept.read_text() != "old"
    old = os.umask(0o027)
    try:
        cli("export", "-o", str(tmp_path / "new.json"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640


def test_a_symlink_planted_at_the_old_temporary_name_is_not_followed(cli, tmp_path):
    """The temporary name was `.NAME.PID.tmp`: anyone could plant a link there to a file of yours."""
    cli("list")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    for pid in {os.getpid(), os.getppid()}:
        (tmp_path / f".out.json.{pid}.tmp").symlink_to(victim)
    cli("export", "-o", str(tmp_path / "out.json"))
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "out.json").read_text().startswith('{"schema_version"')
    assert leftovers(tmp_path) == sorted(n for n in os.listdir(tmp_path) if (tmp_path / n).is_symlink())


def test_o_through_a_symlink_writes_the_file_it_points_to_and_keeps_the_link(cli, tmp_path):
    cli("list")
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    cli("export", "-o", str(link))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith('{"schema_version"')


def test_o_dev_null_stays_a_device(cli):
    cli("list")
    before = os.stat("/dev/null")
    result = cli("export", "-o", "/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert result.stdout == "" and result.stderr.startswith("wrote /dev/null (")


def test_o_a_fifo_is_written_directly(cli, tmp_path):
    cli("list")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = {}

    def read():
        with open(fifo, encoding="utf-8") as f:
            got["text"] = f.read()

    reader = threading.Thread(target=read)
    reader.start()
    result = cli("export", "-o", str(fifo))
    reader.join(10)
    assert got["text"].startswith('{"schema_version"')
    assert result.stderr == f"wrote {fifo} ({len(got['text'].encode()):,} bytes)\n"
    assert stat.S_ISFIFO(fifo.stat().st_mode), "the FIFO was not replaced by a file"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "-"])
def test_o_dev_stdout_writes_to_stdout(cli, name):
    cli("list")
    result = cli("export", "-o", name)
    assert result.stdout.startswith('{"schema_version"') and result.stdout.rstrip().endswith("}")
    assert "wrote" not in result.stderr


def test_o_dev_stdout_of_the_installed_command_reaches_its_stdout(installed, tmp_path):
    db = tmp_path / "r.db"
    assert run_installed(installed, "list", db=db).returncode == 0
    piped = run_installed(installed, "export", "-o", "/dev/stdout", db=db)
    assert piped.returncode == 0 and piped.stdout.startswith('{"schema_version"')
    # stdout redirected to a file, and -o naming that same file: the output lands there once
    target = tmp_path / "same.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    env.update({"REDLINES_DB": str(db), "REDLINES_TODAY": "2025-08-12"})
    for name in ("/dev/stdout", str(target)):
        with open(target, "w") as out:
            done = subprocess.run([installed, "export", "-o", name], stdout=out, env=env, timeout=60)
        assert done.returncode == 0
        text = target.read_text()
        assert text.startswith('{"schema_version"') and text.count('"schema_version"') == 1


@pytest.mark.sqlite_only  # the file, its -wal and -shm, links to it
@pytest.mark.parametrize("args", [("export",), ("report", "--format", "html"), ("report", "--json")], ids=" ".join)
@pytest.mark.parametrize("which", ["db", "db-wal", "db-shm", "hard link", "symlink", "dot path"])
def test_the_database_in_use_is_refused_as_a_target(cli, db, tmp_path, args, which):
    cli("list")
    (tmp_path / "hard.db").hardlink_to(db)
    (tmp_path / "soft.db").symlink_to(db)
    target = {
        "db": str(db),
        "db-wal": f"{db}-wal",
        "db-shm": f"{db}-shm",
        "hard link": str(tmp_path / "hard.db"),
        "symlink": str(tmp_path / "soft.db"),
        "dot path": str(tmp_path / "." / db.name),
    }[which]
    before = digest(db)
    result = cli(*args, "-o", target, expect=1)
    assert "is the database in use" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert digest(db) == before
    assert len(cli.json("list", "--json")) == 7
    assert leftovers(tmp_path) == []


@pytest.mark.sqlite_only  # a database file named as -o
def test_a_new_database_named_as_the_output_is_refused_too(cli, tmp_path):
    """The database is created by the very command that names it with -o."""
    db = tmp_path / "fresh.db"
    result = cli("export", "-o", str(db), env={"REDLINES_DB": str(db)}, expect=1)
    assert "is the database in use" in result.stderr
    assert len(cli.json("list", "--json", env={"REDLINES_DB": str(db)})) == 7


def test_the_installed_command_refuses_its_database_as_output(installed, tmp_path):
    db = tmp_path / "r.db"
    assert run_installed(installed, "list", db=db).returncode == 0
    before = digest(db)
    done = run_installed(installed, "export", "-o", str(db), db=db)
    assert done.returncode == 1 and "is the database in use" in done.stderr and "Traceback" not in done.stderr
    assert digest(db) == before
    assert run_installed(installed, "db", "check", db=db).returncode == 0


def test_a_bad_format_writes_nothing_to_the_output(cli, tmp_path):
    cli("list")
    target = tmp_path / "out.html"
    target.write_text("old")
    cli("export", "--format", "xml", "-o", str(target), expect=2)
    assert target.read_text() == "old" and leftovers(tmp_path) == []
