"""The database file: created and seeded on first use, reopened as it is, upgraded or refused."""

import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from redlines.errors import DatabaseProblem
from redlines.service import Tracker
from redlines.store import engine

# Reads the SQLite file itself (a SQLite file's life: created, upgraded from older files, backed up, refused):
# runs on the sqlite engine alone.
pytestmark = pytest.mark.sqlite_only

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA_TABLES = (
    "actor",
    "alias",
    "source",
    "threat",
    "threat_target",
    "threat_tag",
    "event",
    "citation",
    "run",
    "change",
)


def counts(path):
    with sqlite3.connect(path) as c:
        return {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("actor", "threat", "event")}


def test_a_new_file_is_created_at_the_current_schema_and_seeded(cli, db):
    assert not db.exists()
    assert len(cli.json("list", "--json")) == 7
    assert counts(db) == {"actor": 10, "threat": 7, "event": 13}
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchone()[0] == engine.head_revision()
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not list(db.parent.glob(".*.new")), "no half-made file is left behind"


def test_a_missing_folder_is_created(tmp_path):
    path = tmp_path / "a" / "b" / "r.db"
    assert Tracker(path).list_threats()
    assert path.exists()


def test_an_existing_file_is_opened_as_it_is_not_seeded_again(cli, db):
    cli("db", "init", "--empty")
    assert cli.json("list", "--json") == []
    assert counts(db) == {"actor": 0, "threat": 0, "event": 0}


def test_db_path_names_the_file_without_creating_it(cli, db):
    assert cli("db", "path").stdout.strip() == str(db)
    assert not db.exists()


def test_db_path_defaults_to_the_user_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert engine.default_path() == tmp_path / "xdg" / "redlines" / "redlines.db"


def test_db_init_refuses_an_existing_file_unless_forced(cli, db):
    cli("list")
    result = cli("db", "init", expect=1)
    assert "exists already" in result.stderr and "--force" in result.stderr
    cli("db", "init", "--empty", "--force")
    assert counts(db)["threat"] == 0
    backups = list(db.parent.glob("redlines.db.replaced-*"))
    assert len(backups) == 1 and counts(backups[0])["threat"] == 7


def test_a_database_from_a_newer_release_is_refused_and_left_untouched(cli, db):
    cli("list")
    with sqlite3.connect(db) as c:
        c.execute("UPDATE alembic_version SET version_num = '9999'")
    c.close()
    before = db.read_bytes()
    result = cli("list", expect=1)
    assert "newer release" in result.stderr and "9999" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == before
    assert not list(db.parent.glob("redlines.db.before-*")), "no backup: nothing was to be done"


def test_a_file_that_is_not_a_database_is_refused_and_not_overwritten(cli, db):
    db.write_text("my notes, not a database\n" * 100)
    before = db.read_bytes()
    result = cli("list", expect=1)
    assert "not a redlines database" in result.stderr
    cli("db", "init", "--force", expect=1)
    assert db.read_bytes() == before


def test_a_sqlite_file_of_another_program_is_refused(cli, db):
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE notes (x)")
    c.close()
    assert "not one of redlines" in cli("list", expect=1).stderr


def test_a_database_of_the_first_schema_upgrades_with_every_record_intact(tmp_path, cli):
    """tests/fixtures/schema-0001.db was written by the first migration and filled with data."""
    old = tmp_path / "redlines.db"  # the path the `cli` fixture uses
    shutil.copy(FIXTURES / "schema-0001.db", old)
    with sqlite3.connect(old) as c:
        columns = {t: [r[1] for r in c.execute(f"PRAGMA table_info({t})")] for t in DATA_TABLES}
        before = {t: sorted(map(tuple, c.execute(f"SELECT {', '.join(columns[t])} FROM {t}"))) for t in DATA_TABLES}
    c.close()
    result = cli("list", "--json")
    assert "upgrading" in result.stderr and "backup at" in result.stderr
    with sqlite3.connect(old) as c:
        after = {t: sorted(map(tuple, c.execute(f"SELECT {', '.join(columns[t])} FROM {t}"))) for t in DATA_TABLES}
        assert c.execute("SELECT version_num FROM alembic_version").fetchone()[0] == engine.head_revision()
    c.close()
    assert after == before
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert len(rows) == 8 and rows["kim-drills"]["outcome"] == "not_followed_through"
    # what the new schema added works on the old records: search finds them
    assert [r["id"] for r in cli.json("search", "drills", "--json")] == ["kim-drills"]
    [backup] = tmp_path.glob("redlines.db.before-*")
    with sqlite3.connect(backup) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    c.close()
    # a second open has nothing to do
    assert cli("list").stderr == ""


def test_db_check_status_and_backup(cli, db, tmp_path):
    assert "ok" in cli("db", "check").stderr
    status = cli.json("db", "status", "--json")
    assert (status["threats"], status["schema_version"], status["journal_mode"]) == (7, engine.head_revision(), "wal")
    copy = tmp_path / "copy.db"
    assert cli("db", "backup", str(copy)).stdout.strip() == str(copy)
    assert counts(copy) == counts(db)
    assert "exists already" in cli("db", "backup", str(copy), expect=1).stderr


def test_db_check_reports_broken_references(cli, db):
    cli("list")
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA foreign_keys = OFF")
        c.execute("UPDATE threat SET issuer_id = 999 WHERE id = 'putin-f16'")
    c.close()
    result = cli("db", "check", expect=1)
    assert "threat row" in result.stderr and "actor" in result.stderr


def test_the_head_revision_is_alembics_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from redlines.resources import migrations_dir

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    assert ScriptDirectory.from_config(cfg).get_current_head() == engine.head_revision()


def test_models_and_migrations_do_not_drift(tmp_path):
    """`alembic check`: autogenerate finds nothing to add on a database built by the migrations."""
    from alembic import command
    from alembic.config import Config

    from redlines.resources import migrations_dir

    path = tmp_path / "check.db"
    engine.create(path, seed=None)
    cfg = Config(stdout=sys.stdout)
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    command.check(cfg)  # raises if the models and the migrations differ


def test_tracker_is_usable_from_python(tmp_path):
    t = Tracker(tmp_path / "py.db", as_of="2025-08-12")
    assert {r["key"] for r in t.report()["rows"]} == {"putin", "trump"}
    with pytest.raises(DatabaseProblem):
        Tracker(tmp_path).list_threats()  # a folder is not a database file


def test_a_path_may_hold_any_character(tmp_path):
    """Alembic is handed the path itself, never a URL or a config value built from it."""
    odd = tmp_path / "100% sure? #1" / "r%(x)s?#.db"
    t = Tracker(odd)
    assert len(t.list_threats()) == 7
    assert t.status()["schema_version"] == engine.head_revision()


def test_every_migration_downgrades_and_upgrades_again_with_the_data_intact(cli, db):
    """Down to the first schema and back up, on the seeded database: views read `threat`, so a
    downgrade must not copy that table (SQLite would refuse); the caches are rebuilt on the way up."""
    from alembic import command
    from alembic.config import Config

    from redlines.resources import migrations_dir

    before = cli("list", "--json").stdout
    cfg = Config(stdout=sys.stderr)
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["sqlite_path"] = str(db)
    command.downgrade(cfg, "0001")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        assert conn.execute("SELECT COUNT(*) FROM threat").fetchone() == (7,)
    command.upgrade(cfg, "head")
    assert cli("list", "--json").stdout == before
    assert cli("db", "check").stderr.endswith("redlines.db: ok\n")
