"""The PostgreSQL store: the same answers as SQLite, writes that land whole, search that finds the
same threats, copies across engines, roles, and a password that never shows.

The server tests run on the session's server (tests/pg.py: `REDLINES_TEST_PG`, else a throwaway
cluster; each test gets a database of its own). The translation of the store's SQL and of the
search syntax is tested without a server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import Cli, run_installed

# --- without a server -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sqlite", "postgresql"),
    [
        ("SELECT id FROM threat WHERE id = ?", "SELECT id FROM threat WHERE id = %s"),
        ("SELECT 1 WHERE a = :as_of AND b = :as_of", "SELECT 1 WHERE a = %(as_of)s AND b = %(as_of)s"),
        ("SELECT '%' || printf('%012d', 1)", "SELECT '%%' || printf('%%012d', 1)"),
        ("SELECT ':x', '?'", "SELECT ':x', '?'"),  # placeholders inside strings are text
        ("SELECT * FROM threat t INDEXED BY ix_a WHERE 1", "SELECT * FROM threat t  WHERE 1"),
        ("SELECT max(a, b), max(c), min(d, e, f)", "SELECT greatest(a, b), max(c), least(d, e, f)"),
        (
            "SELECT t.a IS NOT s.a, t.b IS s.b, t.c IS NOT NULL",
            "SELECT t.a IS DISTINCT FROM s.a, t.b IS NOT DISTINCT FROM s.b, t.c IS NOT NULL",
        ),  # noqa: E501
        ("SELECT date(x, '+1 month'), char(1), instr(a, b)", "SELECT rl_date(x, '+1 month'), chr(1), strpos(a, b)"),
        ("SELECT group_concat(n, ' ')", "SELECT string_agg(CAST(n AS TEXT), ' ')"),
        ("SELECT * FROM (SELECT 1) WHERE 1", "SELECT * FROM (SELECT 1) AS _q1 WHERE 1"),
        ("SELECT * FROM (SELECT 1) s", "SELECT * FROM (SELECT 1) s"),
        ("SELECT a FROM t LIMIT ?", "SELECT a FROM t LIMIT NULLIF(%s, -1)"),
        ("SELECT occurred_on AS 'on' FROM event", 'SELECT occurred_on AS "on" FROM event'),
        (
            "SELECT 1 WHERE (:since IS NULL OR x > :since)",
            "SELECT 1 WHERE (CAST(%(since)s AS TEXT) IS NULL OR x > %(since)s)",
        ),  # noqa: E501
        ("INSERT OR IGNORE INTO seen VALUES (?)", "INSERT   INTO seen VALUES (%s) ON CONFLICT DO NOTHING"),
        # Rows numbered as SQLite numbers them (the largest plus one), and `lastrowid` through RETURNING.
        (
            "INSERT INTO run (at, command) VALUES (?, ?)",
            "INSERT INTO run (id, at, command) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM run), %s, %s)"
            " RETURNING id",
        ),
        (
            "INSERT INTO event (id, what) VALUES (?, ?)",
            "INSERT INTO event (rowid, id, what) VALUES ((SELECT COALESCE(MAX(rowid), 0) + 1 FROM event), %s, %s)",
        ),
    ],
)
def test_the_store_s_sql_is_translated_for_postgresql(sqlite, postgresql):
    from redlines.store.postgres import translate

    assert translate(sqlite).sql == postgresql


@pytest.mark.parametrize(
    ("query", "tsquery"),
    [
        ("nuclear", "'nuclear'"),
        ("Nuclear weapons", "('nuclear' & 'weapons')"),
        ('"red line"', "('red' <-> 'line')"),
        ("sanc*", "'sanc':*"),
        ('"red li"*', "('red' <-> 'li':*)"),
        ("putin AND nuclear", "('putin' & 'nuclear')"),
        ("putin OR trump nuclear", "('putin' | ('trump' & 'nuclear'))"),
        ("putin NOT nuclear", "('putin' & ! 'nuclear')"),
        ("(putin OR trump) AND nuclear", "(('putin' | 'trump') & 'nuclear')"),
        ("putin NOT nuclear weapons", "('putin' & ! ('nuclear' & 'weapons'))"),  # side by side binds tightest
        ("putin NOT nuclear AND trump", "(('putin' & ! 'nuclear') & 'trump')"),
        ("red + line", "('red' <-> 'line')"),
        ("(putin OR trump) nuclear", None),  # FTS5 sets no group beside a phrase
        ("Russia’s", "('russia' <-> 's')"),  # a bareword with a character FTS5 cuts at
        ("f-16", None),  # FTS5 cannot read these: the words alone are searched, as on SQLite
        ("NOT putin", None),
        ("putin AND", None),
        ("col:putin", None),
        ("(putin", None),
    ],
)
def test_the_search_syntax_becomes_a_tsquery(query, tsquery):
    from redlines.store.pgsearch import Unreadable, to_tsquery, usable

    if tsquery is None:
        with pytest.raises(Unreadable):
            to_tsquery(query)
        assert usable(query) == " ".join(f'"{w}"' for w in re.findall(r"\w+", query))
    else:
        assert to_tsquery(query) == tsquery
        assert usable(query) == query


def test_a_server_location_shows_no_password():
    from redlines.store.engine import location

    loc = location("postgresql://ana:s3cr3t@db.example:5433/team?sslmode=require&password=s3cr3t")
    assert str(loc) == "postgresql://ana:***@db.example:5433/team?sslmode=require&password=***"
    assert "s3cr3t" not in repr(loc) and loc.dbname == "team"


def test_the_sqlite_path_never_imports_psycopg(tmp_path):
    db = tmp_path / "s.db"
    code = (
        "import sys\n"
        "from redlines.cli import main\n"
        f"sys.argv = ['redlines', '--db', {str(db)!r}, 'list', '--json']\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "print('PSYCOPG', 'psycopg' in sys.modules, file=sys.stderr)\n"
    )
    env = {**os.environ, "REDLINES_TODAY": "2025-08-12"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert json.loads(done.stdout)  # the seeded threats
    assert "PSYCOPG False" in done.stderr


# --- against a server -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server(pg_server) -> str:
    """The session's server (tests/pg.py: REDLINES_TEST_PG, else a throwaway cluster), as a URL."""
    return pg_server.admin_url


def _admin(server: str):
    import psycopg

    return psycopg.connect(server, autocommit=True)


def _with_database(server: str, name: str) -> str:
    parts = urlsplit(server)
    return parts._replace(path=f"/{name}").geturl()


@pytest.fixture
def pg_url(pg_server: str):
    """A new, empty database on the server (the C collation: byte order, as SQLite compares
    text), dropped afterwards."""
    name = f"rl_{uuid.uuid4().hex[:12]}"
    with _admin(pg_server) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'")
    yield _with_database(pg_server, name)
    with _admin(pg_server) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def both(tmp_path: Path, pg_url: str) -> tuple[Cli, Cli]:
    return Cli(tmp_path / "same.db", "2025-09-01"), Cli(pg_url, "2025-09-01")


READS = [
    ["list"],
    ["list", "--json"],
    ["list", "--format", "csv"],
    ["list", "--format", "md"],
    ["list", "--actor", "putin", "--format", "jsonl"],
    ["list", "--outcome", "pending", "--json"],
    ["list", "--category", "economic", "--since", "2024", "--json"],
    ["list", "--search", "nuclear", "--json"],
    ["show", "putin-f16"],
    ["show", "trump-sanctions-july", "--json"],
    ["actors"],
    ["actors", "--json"],
    ["report"],
    ["report", "--json"],
    *[["report", "--by", by, "--json"] for by in ("actor", "state", "category", "year")],
    ["report", "--format", "html"],
    ["--as-of", "2025-08-12", "report", "--json"],
    ["--as-of", "2024", "report", "--by", "state", "--json"],
    ["--as-of", "2025-07", "list", "--json"],
    ["--as-of", "2023", "timeline", "--json"],
    ["--grace", "5", "report", "--json"],
    ["due"],
    ["due", "--json"],
    ["due", "--within", "200d", "--json"],
    ["--as-of", "2025-08-01", "due", "--json"],
    ["timeline"],
    ["timeline", "--json"],
    ["timeline", "--actor", "trump", "--json"],
    ["export", "--format", "jsonl"],
    ["export", "--format", "csv"],
]


def _same(out: str) -> str:
    """Output without the moments that differ between two runs (export and history times)."""
    out = re.sub(r'"exported_at": "[^"]*"', '"exported_at": ""', out)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "AT", out)


def _assert_same_reads(lite: Cli, pg: Cli, reads=READS) -> None:
    for args in reads:
        a, b = lite(*args), pg(*args)
        assert _same(b.stdout) == _same(a.stdout), f"redlines {' '.join(args)} differs on PostgreSQL"
        assert b.stderr == a.stderr, f"redlines {' '.join(args)}: stderr differs"


def test_the_seeded_database_reads_the_same_as_sqlite(both):
    lite, pg = both
    _assert_same_reads(lite, pg)
    assert _same(pg("export").stdout) == _same(lite("export").stdout)
    # The seed's run is the database role's on PostgreSQL, the login name's on SQLite.
    with _admin(pg.db) as conn:
        role = conn.execute("SELECT current_user").fetchone()[0]
    history = pg.json("history", "--json")
    assert [r["author"] for r in history] == [role]
    by_login = lite.json("history", "--json")
    assert [{**r, "author": role, "at": ""} for r in by_login] == [{**r, "at": ""} for r in history]


SEARCHES = [
    "nuclear",
    "Nuclear weapons",
    '"red line"',
    "sanc*",
    "putin AND nuclear",
    "putin OR sanctions",
    "putin NOT nuclear",
    "(trump OR putin) AND deadline",
    "(trump OR putin) deadline",
    "putin NOT nuclear weapons",
    "f-16",  # not in the syntax: its words alone, on both, with the same message
    "NOT putin",
    "nothingmatchesthis",
]


@pytest.mark.parametrize("query", SEARCHES)
def test_search_finds_the_same_threats(both, query):
    lite, pg = both
    a, b = lite("search", query, "--json"), pg("search", query, "--json")
    assert {t["id"] for t in json.loads(b.stdout)} == {t["id"] for t in json.loads(a.stdout)}
    assert b.stderr == a.stderr
    assert pg("list", "--search", query, "--json").stdout == lite("list", "--search", query, "--json").stdout


def _writes(cli: Cli, tmp: Path) -> None:
    env = {"REDLINES_AUTHOR": "ana"}
    cli("add", "actor", "medvedev", "--name", "Dmitry Medvedev", "--of", "russia", "--alias", "Medvedev", env=env)
    cli(
        "add", "threat", "--by", "medvedev", "--on", "2025-08-01", "--said", "Medvedev warned of a nuclear war",
        "--against", "united-states", "--category", "nuclear", "--deadline", "2025-12", "--id", "med1",
        "--source", "https://example.com/a", "--quote", "a nuclear war", "--tag", "nuclear", env=env,
    )  # fmt: skip
    cli("edit", "med1", "--category", "military", env=env)
    cli("add", "event", "med1", "--kind", "crossed", "--on", "2025-08-20", "--what", "Ships sailed", env=env)
    ben = {"REDLINES_AUTHOR": "ben"}
    partial = ["--kind", "response", "--outcome", "partial", "--on", "2025-08-25", "--what", "Drills"]
    cli("add", "event", "med1", *partial, env=env)
    cli("add", "event", "med1", "--kind", "note", "--on", "2025-08-25", "--what", "Ben's note", env=ben)
    cli("edit", "med1", "--category", "other", env=ben)
    cli("undo", "--yes", env=env)  # ana's own last run (the event), not ben's later ones
    cli("add", "event", "med1", "--kind", "response", "--outcome", "followed_through", "--on", "2025-08-26",
        "--what", "A strike", env=env)  # fmt: skip
    cli("edit", "med1#4", "--what", "A missile strike", env=env)  # #2 was undone: its number is not given again
    cli("delete", "med1#1", "--yes", env=env)
    out = tmp / ("server" if "://" in str(cli.db) else "file") / "all.json"
    out.parent.mkdir()
    cli("export", "-o", str(out), env=env)
    cli("delete", "med1", "--yes", env=env)
    cli("import", str(out), env=env)
    cli("import", str(out), env=env)  # twice: nothing changes


def test_writes_leave_the_same_data_and_history_as_on_sqlite(both, tmp_path):
    lite, pg = both
    _writes(lite, tmp_path)
    _writes(pg, tmp_path)
    _assert_same_reads(
        lite, pg, [["export"], ["history", "--json"], ["timeline", "--json"], ["show", "med1", "--json"]]
    )
    assert pg("search", "missile", "--json").stdout.count('"id": "med1"') == 1  # the edited text is searched
    assert json.loads(pg("search", "Ships", "--json").stdout) == []  # the deleted event is gone from the index


def test_a_failed_write_writes_nothing(both):
    _, pg = both
    before = pg("export").stdout
    refused = pg("add", "threat", "--by", "nobody-known", "--on", "2025-01-01", "--said", "x", expect=1)
    assert "Traceback" not in refused.stderr
    pg("add", "threat", "--by", "putin", "--on", "2025-01-01", "--said", "x", "--id", "dup")
    pg("add", "threat", "--by", "putin", "--on", "2025-01-01", "--said", "y", "--id", "dup", expect=1)
    pg("delete", "dup", "--yes")
    assert _same(pg("export").stdout) == _same(before)


def test_db_copy_moves_a_data_set_between_engines_losslessly(tmp_path, pg_url, pg_server):
    lite = Cli(tmp_path / "a.db", "2025-09-01")
    _writes(lite, tmp_path)
    back = tmp_path / "back.db"
    copied = lite("db", "copy", str(lite.db), pg_url)
    assert "copied" in copied.stderr
    lite("db", "copy", pg_url, str(back))
    again = Cli(back, "2025-09-01")
    pg = Cli(pg_url, "2025-09-01")
    for args in (["export"], ["history", "--json"], ["timeline", "--json"], ["report", "--json"]):
        assert _same(pg(*args).stdout) == _same(lite(*args).stdout) == _same(again(*args).stdout), args
    refused = lite("db", "copy", str(lite.db), pg_url, expect=1)  # it holds a data set now
    assert "holds a data set already" in refused.stderr
    # and from one server database into another
    name = f"rl_{uuid.uuid4().hex[:12]}"
    with _admin(pg_server) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'")
    try:
        other = _with_database(pg_server, name)
        lite("db", "copy", pg_url, other)
        assert _same(Cli(other, "2025-09-01")("history", "--json").stdout) == _same(lite("history", "--json").stdout)
    finally:
        with _admin(pg_server) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_db_commands_on_a_server(pg_url):
    pg = Cli(pg_url, "2025-09-01")
    created = pg("db", "init", "--empty")
    assert created.stderr.startswith("created ")
    assert pg("list", "--json").stdout == "[]\n"
    refused = pg("db", "init", expect=1).stderr
    assert "holds tables already" in refused and "db backup FILE" in refused
    pg("db", "init", "--force")
    status = pg.json("db", "status", "--json")
    head = sorted(p.name[:4] for p in Path("migrations/versions").glob("0*.py"))[-1]
    assert status["schema_version"] == status["schema_head"] == head and status["threats"] == 7
    assert pg("db", "check").stderr.endswith(": ok\n")
    assert pg("db", "check", "--repair").stderr.endswith(": ok\n")
    assert "newest this release knows" in pg("db", "upgrade").stderr
    refused = pg("db", "backup", expect=2)
    assert "pg_dump" in refused.stderr


def test_a_database_holding_other_tables_is_refused_untouched(pg_url):
    with _admin(pg_url) as conn:
        conn.execute("CREATE TABLE invoices (id int PRIMARY KEY, total numeric)")
    for args in (["list"], ["add", "actor", "zz", "--name", "Zz"], ["db", "status"]):
        refused = Cli(pg_url, "2025-09-01")(*args, expect=1)
        assert "is a PostgreSQL database, but not one of redlines" in refused.stderr
        assert "Traceback" not in refused.stderr
    with _admin(pg_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"invoices"}


def test_db_backup_runs_pg_dump(pg_url, tmp_path):
    import shutil

    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("pg_dump is not on PATH (Debian: apt-get install postgresql-client)")
    parts = urlsplit(pg_url)
    secret = "pw-Kq3Zr8"  # the server may ignore it (trust); it must not reach pg_dump's command line
    url = parts._replace(netloc=f"{parts.username or 'postgres'}:{secret}@{parts.hostname}:{parts.port}").geturl()
    pg = Cli(url, "2025-09-01")
    pg("list", "--limit", "1")
    dump = tmp_path / "team.dump"
    done = pg("db", "backup", str(dump))
    assert done.stdout == f"{dump}\n" and secret not in done.stdout + done.stderr
    listed = subprocess.run(["pg_restore", "-l", str(dump)], capture_output=True, text=True, check=True).stdout
    assert "TABLE public threat " in listed and "TABLE DATA public threat " in listed
    again = pg("db", "backup", str(dump), expect=1)
    assert "exists already" in again.stderr


def _role(pg_server: str, pg_url: str) -> str:
    role = f"rl_reader_{uuid.uuid4().hex[:8]}"
    with _admin(pg_server) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
    return role


def test_a_read_only_role_reads_everything_and_is_refused_writes(pg_url, pg_server):
    owner = Cli(pg_url, "2025-09-01")
    owner("list", "--limit", "1")  # made and seeded
    role = _role(pg_server, pg_url)
    try:
        assert role in owner("db", "grant-read", role).stderr
        parts = urlsplit(pg_url)
        as_reader = Cli(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}").geturl(), "2025-09-01")
        _assert_same_reads(owner, as_reader, [["list", "--json"], ["report", "--json"], ["history", "--json"]])
        before = owner("export").stdout
        for args in (
            ["add", "actor", "zz", "--name", "Zz"],
            ["edit", "putin-f16", "--category", "other"],
            ["delete", "putin-f16", "--yes"],
        ):
            refused = as_reader(*args, expect=1)
            assert "read-only" in refused.stderr and "Traceback" not in refused.stderr
        assert _same(owner("export").stdout) == _same(before)
        # grant-write: the role writes, and history names it
        owner("db", "grant-write", role)
        as_reader("add", "actor", "zz", "--name", "Zz", env={"REDLINES_AUTHOR": None})
        assert as_reader.json("history", "--json", "--limit", "1")[0]["author"] == role
    finally:
        with _admin(pg_url) as admin:
            admin.execute(f"DROP OWNED BY {role} CASCADE")
        with _admin(pg_server) as admin:
            admin.execute(f"DROP ROLE {role}")


def test_a_failing_connection_is_one_line_and_never_shows_the_password(pg_url):
    parts = urlsplit(pg_url)
    secret = "pw-Zq9xK2"
    urls = [
        parts._replace(netloc=f"{parts.username or 'postgres'}:{secret}@127.0.0.1:1").geturl(),  # nothing listens
        parts._replace(
            netloc=f"{parts.username or 'postgres'}:{secret}@{parts.hostname}:{parts.port}", path="/rl_missing_db"
        ).geturl(),
    ]
    for url in urls:
        for args in (["list"], ["db", "status"], ["add", "actor", "zz", "--name", "Zz"], ["db", "copy", url, "x.db"]):
            result = Cli(url, "2025-09-01")(*args, expect=1)
            assert result.stderr.startswith("error: cannot connect to postgresql://")
            assert ":***@" in result.stderr and secret not in result.stdout + result.stderr
            assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 2
        shown = Cli(url, "2025-09-01")("db", "path")
        assert ":***@" in shown.stdout and secret not in shown.stdout
    assert "does not exist" in Cli(urls[1], "2025-09-01")("list", expect=1).stderr


def test_eight_writers_at_once_lose_nothing(pg_url, installed, tmp_path):
    Cli(pg_url, "2025-09-01")("list", "--limit", "1")  # made and seeded first
    script = (
        "for i in 1 2 3 4 5; do "
        f'"{installed}" add threat --by putin --on 2025-01-01 --said "w$W n$i" --id "w$W-$i" || exit 1; '
        f'"{installed}" edit "w$W-$i" --category military || exit 1; '
        f'"{installed}" add event "w$W-$i" --kind note --on 2025-02-01 --what "note $i" || exit 1; '
        "done"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
    env.update({"REDLINES_DB": pg_url, "REDLINES_TODAY": "2025-09-01"})
    procs = [
        subprocess.Popen(
            ["bash", "-c", script],
            env={**env, "W": str(w), "REDLINES_AUTHOR": f"writer{w}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for w in range(8)
    ]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    said = [ln for _, err in results for ln in err.splitlines()]
    assert all(re.fullmatch(r"changed threat w\d-\d \(1 row\)", ln) for ln in said), said  # no error, no retry
    assert len(said) == 8 * 5
    threats = json.loads(run_installed(installed, "list", "--json", db=pg_url, today="2025-09-01").stdout)
    mine = {t["id"]: t for t in threats if t["id"].startswith("w")}
    assert set(mine) == {f"w{w}-{i}" for w in range(8) for i in range(1, 6)}
    assert all(t["category"] == "military" for t in mine.values())
    runs = json.loads(run_installed(installed, "history", "--json", db=pg_url, today="2025-09-01").stdout)
    assert sum(r["author"].startswith("writer") for r in runs) == 8 * 5 * 3
    assert len({r["run"] for r in runs}) == len(runs)


def test_a_database_with_a_language_s_collation_still_sorts_as_sqlite(tmp_path, pg_server):
    """Text columns compare byte by byte (migration 0011), whatever the database's collation: names,
    ids and the rule SQL's keys sort as on SQLite."""
    import psycopg

    name = f"rl_{uuid.uuid4().hex[:12]}"
    with _admin(pg_server) as admin:
        try:
            admin.execute(
                f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        except psycopg.Error as e:
            pytest.skip(f"this server cannot make a database with an ICU collation ({e})")
    try:
        url = _with_database(pg_server, name)
        with _admin(url) as conn:
            assert conn.execute("SELECT 'b' < 'B' AND 'x-y' < 'xa'").fetchone()[0]  # not byte order
        lite, pg = Cli(tmp_path / "s.db", "2025-09-01"), Cli(url, "2025-09-01")
        for cli in (lite, pg):  # ids whose order differs between byte order and a language's
            for tid in ("Bravo", "alpha", "Alpha-2"):
                cli("add", "threat", "--by", "putin", "--on", "2025-08-30", "--said", f"threat {tid}", "--id", tid)
        _assert_same_reads(lite, pg, [["actors", "--json"], ["list", "--json"], ["report", "--json"], ["export"]])
    finally:
        with _admin(pg_server) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("ctype", ["C.UTF-8", "C"])
def test_search_of_words_in_any_alphabet_finds_what_sqlite_finds(tmp_path, pg_server, ctype):
    """Words are cut and lowercased in every alphabet, as FTS5 does, even in a database whose
    LC_CTYPE knows ASCII alone (0011 then lowercases under a collation that knows them all)."""
    name = f"rl_{uuid.uuid4().hex[:12]}"
    with _admin(pg_server) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE '{ctype}'")
    try:
        lite, pg = Cli(tmp_path / "s.db", "2025-09-01"), Cli(_with_database(pg_server, name), "2025-09-01")
        said = "Зеленський warned Erdoğan’s envoy: «ÉCOLE» and café-bars closed"
        for cli in (lite, pg):
            cli("add", "threat", "--by", "zelensky", "--on", "2025-01-01", "--said", said, "--id", "z1")
        queries = (
            "зеленський",
            "ЗЕЛЕНСЬКИЙ",
            "Erdoğan",
            "erdogan",
            "erdoğan’s",
            "ecole",
            "cafe",
            "bars",
            "envoy ÉCOLE",
        )  # noqa: E501
        for query in queries:
            found = [{t["id"] for t in cli.json("search", query, "--json")} for cli in (lite, pg)]
            assert found[0] == found[1] == {"z1"}, query
    finally:
        with _admin(pg_server) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_session_runs_in_utc_without_jit_compilation(pg_url):
    """JIT compiling the store's large queries cost more than it saved (2.6 s of the 9.7 s that
    settling 100,000 imported threats took), so each session turns it off, whatever the server's
    setting; and each runs in UTC."""
    from redlines.store import postgres
    from redlines.store.server import Server

    conn = postgres.connect(Server(pg_url))
    try:
        assert conn.raw_execute("SELECT current_setting('jit'), current_setting('TimeZone')").fetchone() == (
            "off",
            "UTC",
        )
    finally:
        conn.close()


def test_date_arithmetic_gives_what_sqlite_gives_from_year_1_to_9999(pg_url):
    """SQLite's date() and julianday(), which the store's SQL uses, on PostgreSQL: the same
    answer for every day, with every modifier as the store uses it (days added to any day,
    months and years to the first of a month): a day past 9999 is NULL, and a day before year 1
    is written as SQLite writes it (year 0), so that it compares the same. (Left out, as the
    store never asks for them and SQLite reads them in ways of its own: text that is not a day,
    the never-settling '9999-99-99' among them, a month added to the 31st, and a day past 9999
    between two modifiers.)"""
    import sqlite3

    from redlines.store import postgres
    from redlines.store.server import Server

    Cli(pg_url, "2025-09-01")("db", "init", "--empty")
    days = ["2024-02-29", "2025-01-31", "2025-02-28", "2025-12-31", "9999-12-31", "0001-01-01", "0001-01-31",
            "2024-02-01", "2025-01-01", "9999-12-01", "0001-02-01"]  # fmt: skip
    by_days = [(), ("+1 day",), ("-31 days",), ("-366 days",), ("+400 days",), ("-1 day",)]
    by_months = [("+1 month",), ("+1 year",), ("+1 month", "-1 day"), ("+1 year", "-1 day")]
    lite = sqlite3.connect(":memory:")
    conn = postgres.connect(Server(pg_url))
    try:
        for sql, given in [
            *((f"SELECT date(?{', ?' * len(mods)})", [(d, *mods) for d in days]) for mods in by_days),
            *(
                (
                    f"SELECT date(?{', ?' * len(mods)})",
                    [(d, *mods) for d in days if d.endswith("-01") and (len(mods) == 1 or d != "9999-12-01")],
                )
                for mods in by_months
            ),
            ("SELECT julianday(?)", [(d,) for d in days]),
        ]:
            answers = [(lite.execute(sql, args).fetchone()[0], conn.execute(sql, args).fetchone()[0]) for args in given]
            assert [pg for _, pg in answers] == [lite for lite, _ in answers], (sql, given)
    finally:
        conn.close()
