"""Team mode on a real PostgreSQL server: many writers at once, two people on the same field, a
read-only role, and a password that never shows. Every command is the installed `redlines`, in
its own process, as colleagues on their own machines run it."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from conftest import run_installed
from pg import PASSWORD_ROLE, free_port

WRITERS = 8
THREATS_EACH = 3


def run_as(installed: str, url: str, *args: str, author: str | None = None, stdin: str | None = None):
    extra = {"REDLINES_AUTHOR": author} if author else {}
    return run_installed(installed, *args, db=url, extra_env=extra, stdin=stdin)


def writer(installed: str, url: str, n: int) -> list[tuple[list[str], subprocess.CompletedProcess]]:
    """One colleague's session: adds threats, an event on each, edits each, then adds one more
    and takes it back with undo. Returns every command with what it did."""
    me = f"writer{n}"
    done = []

    def run(*args: str) -> None:
        done.append((list(args), run_as(installed, url, *args, author=me)))

    for k in range(THREATS_EACH):
        tid = f"w{n}-{k}"
        run("add", "threat", "--id", tid, "--by", "putin", "--on", "2025-01-01", "--said", f"said by {me}")
        run("add", "event", tid, "--kind", "note", "--on", "2025-01-02", "--what", f"note by {me}")
        run("edit", tid, "--said", f"edited by {me}")
    run("add", "threat", "--id", f"w{n}-undone", "--by", "trump", "--on", "2025-01-01", "--said", "taken back")
    run("undo", "--yes")
    return done


def test_eight_writers_at_once_lose_nothing_and_show_no_error(pg_url, installed):
    with ThreadPoolExecutor(WRITERS) as pool:
        sessions = list(pool.map(lambda n: writer(installed, pg_url, n), range(WRITERS)))
    for session in sessions:
        for args, p in session:
            assert p.returncode == 0, f"redlines {' '.join(args)} exited {p.returncode}: {p.stderr}"
            assert "error" not in p.stderr.lower() and "Traceback" not in p.stderr, (args, p.stderr)
    # every acknowledged write is there, as its writer left it
    threats = {t["id"]: t for t in json.loads(run_as(installed, pg_url, "list", "--json").stdout)}
    for n in range(WRITERS):
        assert f"w{n}-undone" not in threats  # undo took back the writer's own last run, no one else's
        for k in range(THREATS_EACH):
            shown = json.loads(run_as(installed, pg_url, "show", f"w{n}-{k}", "--json").stdout)
            assert shown["statement"] == f"edited by writer{n}"
            assert [(e["kind"], e["what"]) for e in shown["events"]] == [("note", f"note by writer{n}")]
    assert len([t for t in threats if t.startswith("w")]) == WRITERS * THREATS_EACH
    # and the change log holds each writer's runs under its name, the undone one marked undone
    history = json.loads(run_as(installed, pg_url, "history", "--json").stdout)
    for n in range(WRITERS):
        mine = [h for h in history if h["author"] == f"writer{n}"]
        assert len(mine) == 3 * THREATS_EACH + 2
        undo = [h for h in mine if h["undoes"] is not None]
        assert len(undo) == 1
        [undone] = [h for h in mine if h["run"] == undo[0]["undoes"]]
        assert undone["command"] == f"add threat w{n}-undone"
    # the database is consistent afterwards
    check = run_as(installed, pg_url, "db", "check")
    assert check.returncode == 0, check.stderr + check.stdout


def test_two_people_on_the_same_field_the_later_run_wins_and_history_shows_both(pg_url, installed):
    assert run_as(installed, pg_url, "edit", "putin-f16", "--said", "alice's wording", author="alice").returncode == 0
    assert run_as(installed, pg_url, "edit", "putin-f16", "--said", "bob's wording", author="bob").returncode == 0
    assert json.loads(run_as(installed, pg_url, "show", "putin-f16", "--json").stdout)["statement"] == "bob's wording"
    history = json.loads(run_as(installed, pg_url, "history", "--json", "--limit", "2").stdout)
    assert [(h["author"], h["command"]) for h in history] == [
        ("bob", "edit threat putin-f16"),
        ("alice", "edit threat putin-f16"),
    ]
    [bob_change], [alice_change] = history[0]["changes"], history[1]["changes"]
    assert alice_change["fields"]["statement"][1] == "alice's wording"
    assert bob_change["fields"]["statement"] == ["alice's wording", "bob's wording"]


def test_two_people_at_the_same_moment_the_run_recorded_later_wins(pg_url, installed):
    """Started together: whichever run the server commits last is both the stored value and the
    newer run in history, and neither run is lost."""

    def edit(who: str, attempt: int):
        return run_as(installed, pg_url, "edit", "trump-sanctions-july", "--said", f"{who} {attempt}", author=who)

    for attempt in range(3):
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(edit, ("carol", "dave"), (attempt, attempt)))
        assert [p.returncode for p in results] == [0, 0], [p.stderr for p in results]
        history = json.loads(run_as(installed, pg_url, "history", "--json", "--limit", "2").stdout)
        assert {h["author"] for h in history} == {"carol", "dave"}
        later = history[0]
        stored = json.loads(run_as(installed, pg_url, "show", "trump-sanctions-july", "--json").stdout)["statement"]
        assert stored == f"{later['author']} {attempt}"
        assert later["changes"][0]["fields"]["statement"] == [
            history[1]["changes"][0]["fields"]["statement"][1],
            stored,
        ]


# --- roles ----------------------------------------------------------------------------------------


@pytest.fixture
def roles(pg_server, pg_url, installed):
    """A read-only role and a read-write role on this test's database, granted by redlines."""
    suffix = pg_url.rsplit("_", 1)[-1]
    reader, writer_ = f"redlines_reader_{os.getpid()}_{suffix}", f"redlines_writer_{os.getpid()}_{suffix}"
    pg_server.execute(f'CREATE ROLE "{reader}" LOGIN', f'CREATE ROLE "{writer_}" LOGIN')
    try:
        for verb, role in (("grant-read", reader), ("grant-write", writer_)):
            p = run_as(installed, pg_url, "db", verb, role)
            assert p.returncode == 0, p.stderr
        yield reader, writer_
    finally:
        dbname = pg_url.rsplit("/", 1)[-1]
        pg_server.drop(dbname)  # the roles own nothing once their grants go with the database
        pg_server.execute(f'DROP ROLE IF EXISTS "{reader}"', f'DROP ROLE IF EXISTS "{writer_}"')


READS = [
    ["list", "--json"],
    ["show", "putin-long", "--json"],
    ["actors", "--json"],
    ["report", "--json"],
    ["report", "--by", "state", "--json"],
    ["due", "--json"],
    ["timeline", "--json"],
    ["search", "nuclear", "--json"],
    ["history", "--json"],
    ["export"],
    ["db", "status", "--json"],
]


def test_a_read_only_role_reads_everything_and_is_refused_writes(pg_server, pg_url, installed, roles):
    reader, _ = roles
    as_reader = pg_server.url(pg_url.rsplit("/", 1)[-1], user=reader)
    for args in READS:
        mine, owner = run_as(installed, as_reader, *args), run_as(installed, pg_url, *args)
        assert mine.returncode == 0, f"{args}: {mine.stderr}"
        if args != ["export"] and args[:2] != ["db", "status"]:
            assert mine.stdout == owner.stdout, args
    export = json.loads(run_as(installed, as_reader, "export").stdout)
    assert len(export["threats"]) == len(json.loads(run_as(installed, pg_url, "list", "--json").stdout))
    before = run_as(installed, pg_url, "export").stdout
    writes = [
        ["add", "actor", "kim", "--name", "Kim Jong Un"],
        ["add", "threat", "--by", "putin", "--on", "2025-01-01", "--said", "x"],
        ["add", "event", "putin-f16", "--kind", "note", "--on", "2025-01-01", "--what", "x"],
        ["edit", "putin-f16", "--said", "x"],
        ["delete", "putin-f16", "--yes"],
        ["undo", "--run", "1", "--yes"],  # the reader made no run: take back the seeding one
        ["import", "-"],
    ]
    changed = json.loads(before)  # an import that would change something (an unchanged one writes nothing)
    changed["threats"][0]["statement"] = "changed by the reader"
    for args in writes:
        p = run_as(installed, as_reader, *args, stdin=json.dumps(changed) if args == ["import", "-"] else None)
        assert p.returncode == 1, f"{args} exited {p.returncode}: {p.stderr}"
        assert p.stdout == ""
        # (delete first says what it would remove) one error line, saying read-only
        errors = [line for line in p.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "read-only" in errors[0], (args, p.stderr)
        assert "Traceback" not in p.stderr
    after = run_as(installed, pg_url, "export").stdout
    assert json.loads(after) | {"exported_at": None} == json.loads(before) | {"exported_at": None}


def test_a_write_role_writes_and_is_the_author_of_its_runs(pg_server, pg_url, installed, roles):
    _, writer_ = roles
    as_writer = pg_server.url(pg_url.rsplit("/", 1)[-1], user=writer_)
    p = run_installed(installed, "add", "actor", "kim", "--name", "Kim Jong Un", db=as_writer)
    assert p.returncode == 0, p.stderr
    # no REDLINES_AUTHOR: the author is the database role, not the login name
    [run] = json.loads(run_installed(installed, "history", "--json", "--limit", "1", db=as_writer).stdout)
    assert (run["author"], run["command"]) == (writer_, "add actor kim")
    assert run_installed(installed, "undo", "--yes", db=as_writer).returncode == 0
    assert "kim" not in {a["slug"] for a in json.loads(run_as(installed, pg_url, "actors", "--json").stdout)}


# --- secrets --------------------------------------------------------------------------------------

SECRET = "Sw0rdf1sh:p@ss/w%rd"  # characters that a URL must encode, so both forms are looked for


@pytest.fixture
def password_url(pg_server, pg_url, installed):
    """This test's database, reached as a role that must give its password."""
    if not pg_server.password_role:
        pytest.skip("REDLINES_TEST_PG names a server whose pg_hba.conf is not ours: passwords may not be asked for")
    escaped = SECRET.replace("'", "''")
    pg_server.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{PASSWORD_ROLE}') THEN "
        f"CREATE ROLE {PASSWORD_ROLE} LOGIN; END IF; END $$",
        f"ALTER ROLE {PASSWORD_ROLE} PASSWORD '{escaped}'",
    )
    assert run_as(installed, pg_url, "db", "grant-write", PASSWORD_ROLE).returncode == 0
    yield pg_server.url(pg_url.rsplit("/", 1)[-1], user=PASSWORD_ROLE, password=SECRET)
    pg_server.drop(pg_url.rsplit("/", 1)[-1])
    pg_server.execute(f"DROP ROLE IF EXISTS {PASSWORD_ROLE}")


def no_secret(*texts: str) -> None:
    for text in texts:
        for form in (SECRET, quote(SECRET, safe=""), "Sw0rdf1sh"):
            assert form not in text, f"the password shows in: {text[:2000]}"


def test_the_password_is_never_shown_when_it_works(password_url, installed, tmp_path):
    assert SECRET not in password_url and quote(SECRET, safe="") in password_url
    outputs = []
    for args in (
        ["db", "path"],
        ["list", "--json"],
        ["add", "actor", "kim", "--name", "Kim Jong Un"],
        ["history", "--limit", "1"],
        ["history", "--json", "--limit", "1"],
        ["db", "status"],
        ["db", "status", "--json"],
        ["db", "check"],
        ["export"],
        ["add", "actor", "kim", "--name", "Kim again"],  # refused: the slug is taken
        ["--db", password_url, "list", "--limit", "1"],
        ["db", "backup", str(tmp_path / "backup.sql")],  # PostgreSQL: pg_dump, or a pointer to it
    ):
        p = run_as(installed, password_url, *args)
        outputs.append(p)
        no_secret(p.stdout, p.stderr)
        assert "Traceback" not in p.stderr
    assert outputs[0].returncode == 0
    assert "***" in outputs[0].stdout and PASSWORD_ROLE in outputs[0].stdout
    assert outputs[1].returncode == 0 and outputs[2].returncode == 0 and outputs[9].returncode == 1
    [run] = json.loads(outputs[4].stdout)
    assert run["author"] == PASSWORD_ROLE  # the role, and nothing of the URL it came through


def failing_urls(pg_server, password_url) -> dict[str, str]:
    dbname = password_url.rsplit("/", 1)[-1]
    wrong = pg_server.url(dbname, user=PASSWORD_ROLE, password=SECRET + "-wrong")
    unreachable = f"postgresql://{PASSWORD_ROLE}:{quote(SECRET, safe='')}@127.0.0.1:{free_port()}/{dbname}"
    missing = pg_server.url(f"{dbname}_missing", user=PASSWORD_ROLE, password=SECRET)
    return {"wrong password": wrong, "unreachable server": unreachable, "missing database": missing}


@pytest.mark.parametrize("case", ["wrong password", "unreachable server", "missing database"])
@pytest.mark.parametrize(
    "args", [["list"], ["list", "--json"], ["add", "actor", "kim", "--name", "Kim"], ["db", "status", "--json"]]
)
def test_a_failing_connection_is_exit_1_one_clear_line_and_never_the_password(
    pg_server, password_url, installed, case, args
):
    url = failing_urls(pg_server, password_url)[case]
    p = run_as(installed, url, *args)
    no_secret(p.stdout, p.stderr)
    assert p.returncode == 1, p.stderr
    assert p.stdout == ""
    # one clear line, then at most a suggestion (indented), as every failure says it
    lines = p.stderr.splitlines()
    assert p.stderr.startswith("error: ") and len(lines) <= 2, p.stderr
    assert all(line.startswith("  ") for line in lines[1:]), p.stderr
    # the server it tried is named, as `db path` names it
    assert "***" in p.stderr or "127.0.0.1" in p.stderr, p.stderr
    # and `db path` itself answers without connecting, redacted
    path = run_as(installed, url, "db", "path")
    no_secret(path.stdout, path.stderr)
    assert path.returncode == 0 and "***" in path.stdout


def test_nothing_of_a_failing_connection_reaches_history(pg_server, password_url, installed, pg_url):
    for url in failing_urls(pg_server, password_url).values():
        run_as(installed, url, "add", "actor", "kim", "--name", "Kim")
    history = run_as(installed, pg_url, "history", "--json").stdout
    no_secret(history)
    assert "kim" not in {a["slug"] for a in json.loads(run_as(installed, pg_url, "actors", "--json").stdout)}


def test_a_write_role_loads_a_file_into_a_database_without_threats(pg_server, pg_url, installed, roles, tmp_path):
    """Into a database without threats a load sets aside indexes and keys, which only the tables'
    owner may drop: a role given write access loads the file all the same, without setting them
    aside, and the database checks whole."""
    _, writer_ = roles
    pg_server.execute("DELETE FROM threat", dbname=pg_url.rsplit("/", 1)[-1])
    as_writer = pg_server.url(pg_url.rsplit("/", 1)[-1], user=writer_)
    data = tmp_path / "in.jsonl"
    lines = [{"type": "actor", "slug": "kim", "name": "Kim"}] + [
        {"type": "threat", "id": f"k{n}", "issuer": "kim", "made_on": "2025-01-01", "statement": f"launch {n}",
         "events": [{"kind": "crossed", "on": "2025-02-01", "what": "crossed"}]}
        for n in range(50)
    ]  # fmt: skip
    data.write_text("".join(json.dumps(x) + "\n" for x in lines))
    p = run_installed(installed, "import", str(data), db=as_writer)
    assert p.returncode == 0, p.stderr
    assert len(json.loads(run_installed(installed, "list", "--json", db=as_writer).stdout)) == 50
    assert run_as(installed, pg_url, "db", "check").returncode == 0
    assert [t["id"] for t in json.loads(run_installed(installed, "search", "launch", "--json", db=as_writer).stdout)]
