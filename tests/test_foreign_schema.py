"""A database file from elsewhere is checked before it is trusted: triggers and views redlines did
not make refuse writes (reads go on) until `db check --repair` removes them, and a schema
version its tables belie is refused once, plainly, with nothing written."""

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import run_installed

from redlines.store import engine, objects

# Reads the SQLite file itself (SQLite triggers and views planted in the file, read with sqlite3):
# runs on the sqlite engine alone.
pytestmark = pytest.mark.sqlite_only

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Rewrites a record on the next command that writes, and removes its own trace from the change log.
EVIL = (
    "CREATE TRIGGER tidy AFTER INSERT ON run BEGIN "
    "UPDATE threat SET statement = 'rewritten' WHERE id = 'putin-f16'; "
    "DELETE FROM change WHERE run_id = new.id; END"
)


def execute(db: Path, *statements: str) -> None:
    with sqlite3.connect(db) as c:
        for s in statements:
            c.execute(s)
    c.close()


def digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def found(db: Path) -> dict:
    with sqlite3.connect(db) as c:
        return {
            (r[0], r[1]): r[2]
            for r in c.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'view')")
        }


def statement(db: Path) -> str:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT statement FROM threat WHERE id = 'putin-f16'").fetchone()[0]


def others(db: Path) -> list[str]:
    """Files beside the database other than it and its -wal and -shm (backups, above all)."""
    return sorted(
        p.name for p in db.parent.iterdir() if not p.name.startswith(db.name) or "." in p.name[len(db.name) :]
    )


# --- the expected set has one owner, held to what the migrations make --------------------------------


def test_a_freshly_migrated_database_holds_exactly_the_expected_triggers_and_views(tmp_path):
    db = tmp_path / "fresh.db"
    engine.migrate(db)
    engine.open_database(db, seed=None).close()  # the store makes the views from the live rules on open
    have = found(db)
    expected = objects.expected_objects()
    assert set(have) == set(expected)
    for key, sql in expected.items():
        assert objects.same_sql(have[key], sql), key


def test_every_revision_is_described_by_its_objects_and_columns(tmp_path):
    """Migrating a blank file to each revision gives the triggers, views, tables and columns that
    store/objects.py says it has (when a migration is added, describe it there)."""
    for revision in engine.known_revisions():
        db = tmp_path / f"{revision}.db"
        engine.migrate(db, revision)
        if revision == engine.head_revision():
            engine.open_database(db, seed=None).close()  # the views are the store's from 0007 on
        with sqlite3.connect(db) as c:
            inv = objects.inventory(c)
        c.close()
        assert objects.compare(inv.objects, objects.expected_at(revision)) == [], revision
        assert objects.described(revision), f"describe the columns of {revision} in redlines/store/objects.py"
        assert inv.columns - {("alembic_version", "version_num")} == objects.columns_at(revision), revision
    head = engine.head_revision()
    assert objects.looks_like(inv.columns, engine.known_revisions()) == [head]


# --- a trigger from elsewhere ------------------------------------------------------------------------


def test_a_planted_trigger_refuses_writes_reads_go_on_and_check_names_it(cli, db):
    cli("list")
    execute(db, EVIL)
    runs_before = cli.json("history", "--json")
    refused = cli("add", "actor", "zz", "--name", "Zz", expect=1)
    assert "trigger tidy" in refused.stderr and "writing is refused" in refused.stderr
    assert "db check --repair" in refused.stderr and "Traceback" not in refused.stderr
    assert statement(db) != "rewritten"
    # reads go on
    assert len(cli.json("list", "--json")) == 7
    assert cli.json("show", "putin-f16", "--json")["id"] == "putin-f16"
    assert cli.json("history", "--json") == runs_before
    cli("export", "-o", str(db.parent / "copy.json"))
    for args in (("edit", "putin-f16", "--said", "changed"), ("delete", "putin-f16", "--yes"), ("undo", "--yes")):
        assert "trigger tidy" in cli(*args, expect=1).stderr
    assert statement(db) != "rewritten"
    check = cli("db", "check", expect=1)
    assert "trigger tidy is not one of redlines" in check.stderr and "db check --repair" in check.stderr


def test_repair_drops_the_trigger_after_a_backup_and_writes_work_again(cli, db):
    cli("list")
    execute(db, EVIL)
    repaired = cli("db", "check", "--repair")
    assert "dropped the trigger tidy (unknown)" in repaired.stderr and repaired.stderr.rstrip().endswith(": ok")
    [saved] = db.parent.glob(f"{db.name}.before-repair-*")
    assert ("trigger", "tidy") in found(saved), "the backup keeps the file as it came (the evidence)"
    assert ("trigger", "tidy") not in found(db)
    cli("add", "actor", "zz", "--name", "Zz")
    assert statement(db) != "rewritten"
    assert cli.json("history", "--json")[0]["command"].startswith("add actor")
    cli("db", "check")
    assert cli("db", "check", "--repair").stderr.strip().endswith(": ok")
    assert len(list(db.parent.glob(f"{db.name}.before-repair-*"))) == 1, "nothing to repair: no backup"


@pytest.mark.parametrize(
    "change, named",
    [
        (
            [
                "DROP TRIGGER search_threat_delete",
                "CREATE TRIGGER search_threat_delete AFTER DELETE ON threat BEGIN "
                "DELETE FROM search WHERE rowid = old.rowid * 3; DELETE FROM change; END",
            ],
            "trigger search_threat_delete differs",
        ),
        (
            ["DROP VIEW actor_scorecard", "CREATE VIEW actor_scorecard AS SELECT 1 AS actor"],
            "view actor_scorecard differs",
        ),
        (["CREATE VIEW leak AS SELECT * FROM threat"], "view leak is not one of redlines"),
        (
            ["CREATE TRIGGER search_threat_zz BEFORE UPDATE ON actor BEGIN SELECT 1; END"],
            "trigger search_threat_zz is not one of redlines",
        ),
    ],
    ids=["altered trigger", "altered view", "unknown view", "unknown trigger with a familiar name"],
)
def test_an_altered_or_unknown_object_refuses_writes_and_repair_restores_the_expected_one(cli, db, change, named):
    cli("list")
    execute(db, *change)
    assert named in cli("add", "actor", "zz", "--name", "Zz", expect=1).stderr
    assert named in cli("db", "check", expect=1).stderr
    cli("db", "check", "--repair")
    have = found(db)
    expected = objects.expected_objects()
    assert set(have) == set(expected) and all(objects.same_sql(have[k], v) for k, v in expected.items())
    cli("add", "actor", "zz", "--name", "Zz")
    assert cli.json("report", "--json")["total"]["threats"] == 7


def test_a_missing_trigger_is_named_by_check_and_recreated_by_repair(cli, db):
    cli("list")
    execute(db, "DROP TRIGGER search_event_update")
    check = cli("db", "check", expect=1)
    assert "trigger search_event_update is missing" in check.stderr
    assert "created the trigger search_event_update" in cli("db", "check", "--repair").stderr
    assert ("trigger", "search_event_update") in found(db)
    cli("db", "check")


def test_an_object_as_an_older_release_made_it_is_no_foreign_code_and_repair_brings_it_up_to_date(cli, db):
    """The view or trigger SQL of an earlier revision is ours: writes go on, check names it."""
    cli("list")
    [old_sql] = [sql for sql in objects.known_sql()[("trigger", "search_threat_update")] if "UPDATE OF" not in sql]
    execute(db, "DROP TRIGGER search_threat_update", old_sql)
    cli("add", "actor", "zz", "--name", "Zz")
    check = cli("db", "check", expect=1)
    assert "trigger search_threat_update is one an older release created" in check.stderr
    assert "created the trigger search_threat_update" in cli("db", "check", "--repair").stderr
    assert objects.same_sql(
        found(db)[("trigger", "search_threat_update")], objects.expected_objects()[("trigger", "search_threat_update")]
    )


def test_a_trigger_in_an_old_file_stops_its_upgrade_until_repaired(cli, tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema-0001.db", db)
    execute(db, "CREATE TRIGGER tidy AFTER UPDATE ON threat BEGIN DELETE FROM citation; END")
    before = digest(db)
    env = {"REDLINES_DB": str(db)}
    refused = cli("list", env=env, expect=1)
    assert "was not upgraded from schema 0001" in refused.stderr and "trigger tidy" in refused.stderr
    assert digest(db) == before and others(db) == [], "refused: nothing written, no backup"
    repaired = cli("db", "check", "--repair", env=env)
    assert "dropped the trigger tidy" in repaired.stderr and "upgrading" in repaired.stderr
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchone()[0] == engine.head_revision()
        assert c.execute("SELECT COUNT(*) FROM citation").fetchone()[0] > 0
    c.close()
    assert len(cli.json("list", "--json", env=env)) > 0


def test_the_installed_command_refuses_to_write_to_a_file_with_a_planted_trigger(installed, tmp_path):
    db = tmp_path / "r.db"
    assert run_installed(installed, "list", db=db).returncode == 0
    execute(db, EVIL)
    done = run_installed(installed, "add", "actor", "zz", "--name", "Zz", db=db)
    assert done.returncode == 1 and "trigger tidy" in done.stderr and "Traceback" not in done.stderr
    assert statement(db) != "rewritten"
    assert run_installed(installed, "list", "--json", db=db).returncode == 0
    assert run_installed(installed, "db", "check", db=db).returncode == 1


# --- a schema version that lies -----------------------------------------------------------------------

HEAD = engine.head_revision()


@pytest.mark.parametrize(
    "damage, says, looks",
    [
        (["UPDATE alembic_version SET version_num = '0003'"], "says it is at schema 0003", f"those of schema {HEAD}"),
        (["UPDATE alembic_version SET version_num = '0001'"], "says it is at schema 0001", f"those of schema {HEAD}"),
        (
            [
                "DROP VIEW actor_scorecard",
                "DROP VIEW threat_outcome",
                "DROP INDEX ix_threat_awaiting",
                "DROP INDEX ix_threat_report",
                "DROP INDEX ix_threat_report_dated",
                "DROP INDEX ix_threat_settled_on",
                "DROP INDEX ix_threat_judging",
                "ALTER TABLE threat DROP COLUMN settled_days",
            ],
            f"says it is at schema {HEAD}",
            "it lacks threat.settled_days",
        ),
    ],
    ids=["0003 on a newest file", "0001 on a newest file", "newest lacking a column"],
)
def test_a_lying_schema_version_is_refused_once_plainly_with_no_backup(cli, db, damage, says, looks):
    cli("list")
    execute(db, *damage)
    before = digest(db)
    for args in (("list",), ("add", "actor", "zz", "--name", "Zz"), ("db", "check"), ("db", "status")):
        result = cli(*args, expect=1)
        assert says in result.stderr and looks in result.stderr, result.stderr
        assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr
    assert digest(db) == before
    assert others(db) == [], "no backup is written per command"


def test_an_old_file_claiming_a_newer_version_is_refused(cli, tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema-0001.db", db)
    execute(db, "UPDATE alembic_version SET version_num = '0005'")
    before = digest(db)
    result = cli("list", env={"REDLINES_DB": str(db)}, expect=1)
    assert "says it is at schema 0005" in result.stderr and "those of schema 0001" in result.stderr
    assert f"sqlite3 {db} \"UPDATE alembic_version SET version_num = '0001'\"" in result.stderr
    assert digest(db) == before and others(db) == []
