"""A throwaway PostgreSQL server for the tests (a pytest plugin, loaded by conftest.py).

`pg_server` (session) is either the server named by `REDLINES_TEST_PG` (a URL to a database on
which the tests may create and drop databases) or a cluster of our own: initdb into a temporary
directory, pg_ctl start on 127.0.0.1 at a free port (as the `postgres` user when the tests run as
root), stopped and removed at the end of the session. Without server binaries (and no
REDLINES_TEST_PG) the PostgreSQL half of the suite is skipped, saying how to install them; under
REDLINES_REQUIRE_TOOLS=1 (CI) that is a failure instead.

Each test gets a database of its own, made in milliseconds as a copy (CREATE DATABASE ...
TEMPLATE) of a template built once per session with `redlines db init` (seeded or `--empty`), and
dropped after the test.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

INSTALL = "apt-get install postgresql"
# The one role of our own cluster that must give a password (over TCP); every other role is
# trusted from 127.0.0.1, as on a developer's machine.
PASSWORD_ROLE = "redlines_pw"


def server_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/*/bin
    (newest version first)."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0]), reverse=True
    )
    return Path(found[0]).parent if found else None


def missing(reason: str) -> None:
    """Skip (locally) or fail (CI: REDLINES_REQUIRE_TOOLS=1) for a server we cannot have; the
    same rule as conftest.need_tool."""
    if os.environ.get("REDLINES_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (REDLINES_REQUIRE_TOOLS=1: a missing tool is a failure)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url: str, dbname: str, *, user: str | None = None, password: str | None = None) -> str:
    """`url` pointed at another database (and, if given, as another user)."""
    parts = urlsplit(url)
    user = user if user is not None else parts.username
    password = password if password is not None else (parts.password if user == parts.username else None)
    auth = ""
    if user:
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "") + "@"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = auth + host + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc, path="/" + quote(dbname, safe="")).geturl()


class PgServer:
    """A server the tests may create databases and roles on."""

    def __init__(self, admin_url: str, *, owned: bool, password_role: bool):
        self.admin_url = admin_url
        self.owned = owned  # our own throwaway cluster (so pg_hba.conf is ours)
        self.password_role = password_role  # PASSWORD_ROLE must give its password
        self._names = itertools.count(1)
        self._templates: dict[str, str | BaseException] = {}
        parts = urlsplit(admin_url)
        self.host, self.port = parts.hostname or "localhost", parts.port or 5432

    def url(self, dbname: str, **kw) -> str:
        return with_database(self.admin_url, dbname, **kw)

    def execute(self, *statements: str, dbname: str | None = None) -> list:
        """Run statements as the administrator (autocommit); the rows of the last one."""
        import psycopg

        url = self.url(dbname) if dbname else self.admin_url
        with psycopg.connect(url, autocommit=True) as conn:
            rows = []
            for sql in statements:
                cur = conn.execute(sql)
                rows = cur.fetchall() if cur.description else []
            return rows

    def new_name(self, prefix: str = "t") -> str:
        return f"redlines_{prefix}_{os.getpid()}_{next(self._names)}"

    def template(self, kind: str, installed: str) -> str:
        """The name of a template database at the current schema: `seeded` (a first use) or
        `empty` (`db init --empty`). Built once, by the installed command in its own process, so
        no connection stays open on it (CREATE DATABASE ... TEMPLATE needs none)."""
        if kind not in self._templates:
            name = self.new_name(f"template_{kind}")
            try:
                self.execute(f'CREATE DATABASE "{name}"')
                # seeded: a true first use (a read on a database with no tables); empty: db init
                args = ["list", "--limit", "1"] if kind == "seeded" else ["db", "init", "--empty"]
                env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
                env.update(REDLINES_DB=self.url(name), REDLINES_TODAY="2025-08-12", NO_COLOR="1")
                p = subprocess.run([installed, *args], env=env, capture_output=True, text=True, timeout=300)
                if p.returncode != 0:
                    raise RuntimeError(f"redlines {' '.join(args)} on PostgreSQL exited {p.returncode}: {p.stderr}")
                self.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
                self._templates[kind] = name
            except BaseException as e:  # remembered: every test that needs it says the same
                self._templates[kind] = e
        made = self._templates[kind]
        if isinstance(made, BaseException):
            raise RuntimeError(f"the {kind} PostgreSQL template could not be built: {made}") from made
        return made

    def database(self, template: str | None = None, *, icu_locale: str | None = None) -> tuple[str, str]:
        """A new database (a copy of `template`, else with no tables at all): (name, url).
        `icu_locale` (say `en-US`) makes its text compare as that language does, as many
        servers' defaults do, instead of the C.UTF-8 of the test cluster."""
        name = self.new_name()
        source = f'TEMPLATE "{template}"' if template else "TEMPLATE template0"
        if icu_locale:
            source += f" LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}' LOCALE 'C.UTF-8'"
        self.execute(f'CREATE DATABASE "{name}" {source}')
        return name, self.url(name)

    def has_icu(self) -> bool:
        """PostgreSQL 15 or newer built with ICU: databases may take an ICU locale."""
        version = self.execute("SHOW server_version_num")[0][0]
        return int(version) >= 150000 and bool(
            self.execute("SELECT count(*) FROM pg_collation WHERE collprovider = 'i'")[0][0]
        )

    def recreate_if_blank(self, url: str, kind: str, installed: str) -> None:
        """Make the database at `url`, while it still has no tables, a copy of the `kind`
        template (what a first use, or `db init --empty`, makes of it)."""
        name = urlsplit(url).path.lstrip("/")
        tables = self.execute(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            dbname=name,
        )
        if tables[0][0] == 0:
            template = self.template(kind, installed)
            self.execute(f'DROP DATABASE "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def drop(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def cleanup(self) -> None:
        for made in self._templates.values():
            if isinstance(made, str):
                with contextlib.suppress(Exception):
                    self.execute(f'ALTER DATABASE "{made}" WITH IS_TEMPLATE false')
                self.drop(made)


class Cluster:
    """Our own throwaway cluster: initdb, pg_ctl start, pg_ctl stop."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        # REDLINES_PG_TMP: where clusters are made (.ci/run gives one, to stop what is left there)
        self.root = Path(tempfile.mkdtemp(prefix="redlines-pg-", dir=os.environ.get("REDLINES_PG_TMP") or None))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        # a superuser named as the login, as a developer's own server often is: so the author of
        # a run (REDLINES_AUTHOR, else the role, else the login) reads the same on both engines
        self.superuser = getpass.getuser()
        self.as_postgres = hasattr(os, "geteuid") and os.geteuid() == 0

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kw = {}
        if self.as_postgres:  # initdb and postgres refuse to run as root
            kw = {"user": "postgres", "group": "postgres", "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        p = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            **kw,
        )
        if check and p.returncode != 0:
            raise RuntimeError(f"{args[0]} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
        return p

    def start(self) -> str:
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self.run("initdb", "-D", str(self.data), "-U", self.superuser, "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n"
        )
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=200"
        )
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")
        return f"postgresql://{quote(self.superuser, safe='')}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _psycopg_or_missing() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing(f"needs psycopg: install it with `{sys.executable} -m pip install 'psycopg[binary]'`")


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL server of this session (see the module's docstring)."""
    _psycopg_or_missing()
    given = os.environ.get("REDLINES_TEST_PG")
    if given:
        server = PgServer(given, owned=False, password_role=False)
        yield server
        server.cleanup()
        return
    bindir = server_binaries()
    if bindir is None:
        missing(f"needs a PostgreSQL server: install it with `{INSTALL}` (or set REDLINES_TEST_PG=postgresql://...)")
    cluster = Cluster(bindir)
    try:
        url = cluster.start()
        deadline = time.monotonic() + 30
        server = PgServer(url, owned=True, password_role=True)
        while True:
            try:
                server.execute("SELECT 1")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_server, installed) -> str:
    """A fresh PostgreSQL database of this test's own, seeded as a first use seeds it."""
    name, url = pg_server.database(pg_server.template("seeded", installed))
    yield url
    pg_server.drop(name)


@pytest.fixture
def pg_empty_url(pg_server, installed) -> str:
    """A fresh PostgreSQL database at the current schema with no records (`db init --empty`)."""
    name, url = pg_server.database(pg_server.template("empty", installed))
    yield url
    pg_server.drop(name)


@pytest.fixture
def pg_blank_url(pg_server) -> str:
    """A fresh PostgreSQL database with no tables at all (what a first use meets)."""
    name, url = pg_server.database()
    yield url
    pg_server.drop(name)


def main(argv: list[str]) -> int:
    """`python tests/pg.py run -- COMMAND...`: start a throwaway cluster, run COMMAND with
    REDLINES_DB set to a new database on it (and REDLINES_TEST_PG to the server), stop it.
    For CI steps (`alembic check` on PostgreSQL) and benchmarks; the tests use the fixtures."""
    if len(argv) < 3 or argv[0] != "run" or argv[1] != "--":
        print("usage: python tests/pg.py run -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    bindir = server_binaries()
    if bindir is None:
        print(f"no PostgreSQL server binaries: install them with `{INSTALL}`", file=sys.stderr)
        return 1
    cluster = Cluster(bindir)
    try:
        admin = cluster.start()
        server = PgServer(admin, owned=True, password_role=True)
        name, url = server.database()
        env = {**os.environ, "REDLINES_DB": url, "REDLINES_TEST_PG": admin}
        return subprocess.run(argv[2:], env=env).returncode
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
