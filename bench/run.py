"""Run every goal of the speed issue side by side with its peer, and print medians and ratios.

    python bench/run.py                 # 10k, 100k and 1M threats (the 1M import takes minutes)
    python bench/run.py --sizes 10000   # a quicker look
    python bench/run.py --smoke         # tiny, for CI: checks that the benchmark still runs
    python bench/run.py --only import --sizes 100000   # the import goal alone (see bench/README.md)
    python bench/run.py --pg local      # also PostgreSQL against SQLite (a throwaway cluster)
    python bench/run.py --pg postgresql://me@host/db   # ... on a server (bench makes a database there)

Peers: `sqlite-utils` (PyPI), Taskwarrior `task` (Debian), the `sqlite3` CLI. Times are
whole-process medians from hyperfine; ratios are taken within one run of this script, on the
same machine, so that its noise cancels out. Nothing here passes or fails a build.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = "2025-08-12"
GROUPINGS = ("state", "category", "year")  # report --by, besides the actor report (the default)


def sh(args: list[str], env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(args, env=env, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}... exited {p.returncode}: {p.stderr[-2000:]}")
    return p


def hyperfine(commands: dict[str, str], env: dict, runs: int) -> dict[str, float]:
    """Median seconds of each shell command."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = ["hyperfine", "-N", "--warmup", "1", "--runs", str(runs), "--export-json", out.name]
        for name, cmd in commands.items():
            args += ["-n", name, cmd]
        sh(args, env=env)
        with open(out.name) as f:
            results = json.load(f)["results"]
    return {r["command"]: r["median"] for r in results}


def timed(args: list[str], env: dict) -> tuple[float, float]:
    """(seconds, peak MiB) of one process, from GNU time."""
    return timed_cpu(args, env)[:2]


def timed_cpu(args: list[str], env: dict) -> tuple[float, float, float]:
    """(seconds, peak MiB, CPU seconds) of one process and the children it waited for, from GNU
    time: on a loaded machine the CPU time is the steadier figure."""
    p = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", *args], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-2000:])
    seconds, kib, user, system = p.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024, float(user) + float(system)


class Bench:
    def __init__(self, work: Path, redlines: str, runs: int):
        self.work, self.redlines, self.runs = work, redlines, runs
        self.rows: list[tuple[str, str, str, str]] = []

    def env(self, db: Path) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REDLINES_")}
        return {**env, "REDLINES_DB": str(db), "REDLINES_TODAY": TODAY, "NO_COLOR": "1"}

    def data(self, n: int) -> Path:
        path = self.work / f"threats-{n}.jsonl"
        if not path.exists():
            with open(path, "w") as f:
                subprocess.run([sys.executable, str(HERE / "generate.py"), str(n)], stdout=f, check=True)
        return path

    def database(self, n: int) -> Path:
        db = self.work / f"redlines-{n}.db"
        if not db.exists():
            env = self.env(db)
            sh([self.redlines, "db", "init", "--empty"], env=env)
            seconds, mib, cpu = timed_cpu([self.redlines, "import", str(self.data(n))], env)
            with open(self.data(n)) as f:
                lines = sum(1 for _ in f)
            rows = self.db_rows(db)
            self.imported = {"n": n, "seconds": seconds, "mib": mib, "cpu": cpu, "lines": lines, "rows": rows}
        return db

    @staticmethod
    def db_rows(db: Path) -> int:
        import sqlite3

        with sqlite3.connect(db) as c:
            tables = [
                r[0]
                for r in c.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'search_%' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            return sum(c.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables)

    def seeded(self) -> Path:
        db = self.work / "seeded.db"
        if not db.exists():
            sh([self.redlines, "db", "init"], env=self.env(db))
        return db

    def add(self, goal: str, what: str, value: str, verdict: str) -> None:
        self.rows.append((goal, what, value, verdict))

    def startup(self, small: int) -> None:
        r = self.redlines
        su = shutil.which("sqlite-utils")
        cmds = {"redlines --version": f"{r} --version", "redlines --help": f"{r} --help"}
        if su:
            cmds["sqlite-utils --version"] = f"{su} --version"
        t = hyperfine(cmds, self.env(self.seeded()), self.runs)
        for name in ("redlines --version", "redlines --help"):
            if su:
                ratio = t[name] / t["sqlite-utils --version"]
                self.add(
                    "1",
                    f"{name} / sqlite-utils --version",
                    f"{t[name] * 1000:.0f} / {t['sqlite-utils --version'] * 1000:.0f} ms = {ratio:.2f}",
                    _ok(ratio <= 1),
                )
        db = self.database(small)
        cmds = {"json": f"{r} list --limit 20 --json", "table": f"{r} list --limit 20"}
        task = self.taskwarrior(small)
        if task:
            cmds["task"] = task
        t = hyperfine(
            cmds,
            {**self.env(db), "TASKDATA": str(self.work / f"task-{small}"), "TASKRC": str(self.work / "taskrc")},
            self.runs,
        )
        if task:
            for form, goal in (("json", 0.5), ("table", 0.8)):
                ratio = t[form] / t["task"]
                self.add(
                    "1",
                    f"list --limit 20 ({form}) / task limit:20 list, {small:,}",
                    f"{t[form] * 1000:.0f} / {t['task'] * 1000:.0f} ms = {ratio:.2f}",
                    _ok(ratio <= goal, goal),
                )

    def taskwarrior(self, n: int) -> str | None:
        task = shutil.which("task")
        if not task:
            return None
        data = self.work / f"task-{n}"
        rc = self.work / "taskrc"
        rc.write_text(f"data.location={data}\nconfirmation=off\nverbose=nothing\nhooks=off\n")
        env = {**os.environ, "TASKRC": str(rc), "TASKDATA": str(data)}
        if not data.exists():
            data.mkdir()
            tasks = [
                {
                    "uuid": f"00000000-0000-4000-8000-{i:012d}",
                    "description": f"threat {i} sanctions strike",
                    "status": "pending",
                    "entry": "20250101T000000Z",
                    "project": f"p{i % 50}",
                }
                for i in range(n)
            ]
            subprocess.run(
                [task, "import", "-"], input=json.dumps(tasks), env=env, check=True, capture_output=True, text=True
            )
        return f"{task} limit:20 list"

    def scaling(self, big: int) -> None:
        import sqlite3

        r, seeded, db = self.redlines, self.seeded(), self.database(big)
        with sqlite3.connect(db) as c:  # the busiest issuer of the large set
            busiest = c.execute(
                "SELECT a.slug FROM threat t JOIN actor a ON a.id = t.issuer_id "
                "GROUP BY a.slug ORDER BY COUNT(*) DESC LIMIT 1"
            ).fetchone()[0]
        commands = {
            "2 list --actor --limit 50 --json": (f"{r} list --actor {{actor}} --limit 50 --json", 1.2),
            "3 report --json": (f"{r} report --json", 4),
            "3 --as-of report --json": (f"{r} --as-of 2015-06-30 report --json", 15),
            **{f"3 report --by {by} --json": (f"{r} report --by {by} --json", 4) for by in GROUPINGS},
            **{
                f"3 --as-of report --by {by} --json": (f"{r} --as-of 2015-06-30 report --by {by} --json", 15)
                for by in GROUPINGS
            },
            # The first page, as `list` above, and every row, for the record (JSON writes every row
            # unless --limit is given: at 1M, 3M timeline rows, which no seeded time can match).
            "5 timeline --json --limit 50": (f"{r} timeline --json --limit 50", 2),
            "5 timeline --json (every row)": (f"{r} timeline --json", None),
            "5 due --json": (f"{r} due --json", 2),
            "5 search --json --limit 50": (f"{r} search zanir1599 --json --limit 50", 2),
            "5 search --json (every row)": (f"{r} search zanir1599 --json", None),
        }
        small = hyperfine({k: c.format(actor="putin") for k, (c, _) in commands.items()}, self.env(seeded), self.runs)
        large = hyperfine({k: c.format(actor=busiest) for k, (c, _) in commands.items()}, self.env(db), self.runs)
        for name, (_, goal) in commands.items():
            ratio = large[name] / small[name]
            self.add(
                name[0],
                f"{name[2:]}: {big:,} / seeded",
                f"{large[name] * 1000:.0f} / {small[name] * 1000:.0f} ms = {ratio:.1f}",
                _ok(ratio <= goal, goal) if goal is not None else "(for the record: no goal)",
            )

    def importing(self, n: int) -> None:
        self.database(n)
        imp = getattr(self, "imported", None)
        if imp is None or imp["n"] != n:
            self.add("4", f"import {n:,}", "database existed already; not measured", "")
            return
        su = shutil.which("sqlite-utils")
        line_rate = imp["lines"] / imp["seconds"]
        row_rate = imp["rows"] / imp["seconds"]
        self.add(
            "4",
            f"import {n:,} as JSON lines: time, peak memory",
            f"{imp['seconds']:.1f} s, {imp['mib']:.0f} MiB",
            _ok(imp["mib"] < 150, "150 MiB"),
        )
        if su:
            target = self.work / f"su-{n}.db"
            target.unlink(missing_ok=True)
            seconds, mib, cpu = timed_cpu(
                [su, "insert", str(target), "records", str(self.data(n)), "--nl", "--alter"], dict(os.environ)
            )
            su_rate = imp["lines"] / seconds
            self.add(
                "4",
                f"lines/s: redlines / sqlite-utils insert --nl ({seconds:.1f} s), {n:,}",
                f"{line_rate:,.0f} / {su_rate:,.0f} = {line_rate / su_rate:.2f}",
                _ok(line_rate / su_rate >= 1, 1),
            )
            self.add(
                "4",
                f"CPU seconds: sqlite-utils / redlines (both processes), {n:,}",
                f"{cpu:.1f} / {imp['cpu']:.1f} = {cpu / imp['cpu']:.2f}",
                "",
            )
            self.add(
                "4",
                "rows written/s: redlines / sqlite-utils",
                f"{row_rate:,.0f} / {su_rate:,.0f} = {row_rate / su_rate:.2f}",
                _ok(row_rate / su_rate >= 3, 3),
            )
        db = self.database(n)
        for fmt in ("jsonl", "json", "csv"):
            out = self.work / f"export-{n}.{fmt}"
            seconds, mib = timed([self.redlines, "export", "--format", fmt, "-o", str(out)], self.env(db))
            self.add(
                "4",
                f"export {n:,} as {fmt}: time, peak memory",
                f"{seconds:.1f} s, {mib:.0f} MiB",
                _ok(mib < 150, "150 MiB"),
            )
        size, exported = db.stat().st_size, (self.work / f"export-{n}.jsonl").stat().st_size
        self.add(
            "4",
            f"database / its JSON-lines export, {n:,}",
            f"{size / 2**20:.0f} / {exported / 2**20:.0f} MiB = {size / exported:.2f}",
            _ok(size / exported <= 1.5, 1.5),
        )

    def postgresql(self, n: int, server: str) -> None:
        """`list --limit 20`, `report`, `--as-of report`, `search` and `import` on PostgreSQL
        against the same on SQLite, for the same data set, in this one run. `server` is a URL
        to a database on which a new database may be created (and is dropped afterwards)."""
        sys.path.insert(0, str(HERE.parent / "tests"))
        from pg import PgServer

        pg = PgServer(server, owned=False, password_role=False)
        name, url = pg.database()
        try:
            sh([self.redlines, "db", "init", "--empty"], env=self.env(url))
            pg_seconds, pg_mib = timed([self.redlines, "import", str(self.data(n))], self.env(url))
            fresh = self.work / f"pg-compare-{n}.db"  # the same import on SQLite, timed alike
            fresh.unlink(missing_ok=True)
            sh([self.redlines, "db", "init", "--empty"], env=self.env(fresh))
            sq_seconds, sq_mib = timed([self.redlines, "import", str(self.data(n))], self.env(fresh))
            self.add(
                "pg",
                f"import {n:,}: postgresql / sqlite (peak {pg_mib:.0f} / {sq_mib:.0f} MiB)",
                f"{pg_seconds:.1f} / {sq_seconds:.1f} s = {pg_seconds / sq_seconds:.2f}",
                "",
            )
            su = shutil.which("sqlite-utils")
            if su:  # each engine's import against its peer, as lines/s, in this one run
                target = self.work / f"su-pg-{n}.db"
                target.unlink(missing_ok=True)
                su_seconds, _ = timed(
                    [su, "insert", str(target), "records", str(self.data(n)), "--nl", "--alter"], dict(os.environ)
                )
                with open(self.data(n)) as f:
                    lines = sum(1 for _ in f)
                su_rate = lines / su_seconds
                for engine, seconds in (("postgresql", pg_seconds), ("sqlite", sq_seconds)):
                    rate = lines / seconds
                    self.add(
                        "pg",
                        f"import {n:,} lines/s: redlines on {engine} / sqlite-utils insert --nl ({su_seconds:.1f} s)",
                        f"{rate:,.0f} / {su_rate:,.0f} = {rate / su_rate:.2f}",
                        _ok(rate / su_rate >= 1, 1),
                    )
            r = self.redlines
            commands = {
                "list --limit 20": f"{r} list --limit 20",
                "list --limit 20 --json": f"{r} list --limit 20 --json",
                "report --json": f"{r} report --json",
                "report --as-of --json": f"{r} --as-of 2015-06-30 report --json",
                "search --json": f"{r} search zanir1599 --json",
                "search (common word) --json": f"{r} search sanctions --limit 20 --json",
            }
            on_pg = hyperfine(commands, self.env(url), self.runs)
            on_sqlite = hyperfine(commands, self.env(fresh), self.runs)
            for what in commands:
                ratio = on_pg[what] / on_sqlite[what]
                self.add(
                    "pg",
                    f"{what}: postgresql / sqlite, {n:,}",
                    f"{on_pg[what] * 1000:.0f} / {on_sqlite[what] * 1000:.0f} ms = {ratio:.2f}",
                    "",
                )
        finally:
            pg.drop(name)

    def table(self) -> str:
        head = ("goal", "measure", "median (or value) and ratio", "verdict")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(4)]
        lines = [
            " | ".join(c.ljust(w) for c, w in zip(head, widths, strict=False)),
            "-|-".join("-" * w for w in widths),
        ]
        lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) for r in self.rows]
        return "\n".join(lines)


def _ok(met: bool, goal=None) -> str:
    return ("met" if met else "missed") + (f" (goal {goal})" if goal is not None else "")


@contextlib.contextmanager
def postgresql_server(pg: str):
    """The server URL to measure on: as given, or a throwaway cluster for `local`."""
    if pg != "local":
        yield pg
        return
    sys.path.insert(0, str(HERE.parent / "tests"))
    from pg import Cluster, server_binaries

    bindir = server_binaries()
    if bindir is None:
        raise SystemExit("bench: --pg local needs PostgreSQL's server binaries (apt-get install postgresql)")
    cluster = Cluster(bindir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="comma-separated threat counts: the first is the small set, the last the large",
    )
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes and few runs, to check it runs")
    ap.add_argument("--work", help="keep data sets and databases here between runs")
    ap.add_argument("--redlines", default=shutil.which("redlines") or "redlines")
    ap.add_argument(
        "--only",
        choices=("import", "startup", "scaling", "postgresql"),
        help="measure one goal alone (import: lines/s against sqlite-utils, peak memory, exports, size)",
    )
    ap.add_argument(
        "--pg",
        metavar="URL",
        help="also measure on PostgreSQL against SQLite: a URL to a database on which bench may create one,"
        " or `local` for a throwaway cluster (tests/pg.py; needs Debian's postgresql)",
    )
    args = ap.parse_args()
    if args.only == "postgresql" and not args.pg:
        print("bench: --only postgresql needs --pg URL (or --pg local)", file=sys.stderr)
        return 2
    if not shutil.which("hyperfine") and args.only != "import":
        print("bench: hyperfine is needed (Debian package hyperfine)", file=sys.stderr)
        return 2
    sizes = [200, 1000] if args.smoke else [int(s) for s in args.sizes.split(",")]
    runs = 2 if args.smoke else args.runs
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="redlines-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    b = Bench(work, args.redlines, runs)
    if args.only in (None, "import"):
        for n in sizes[1:] or sizes:  # every size but the small set (start-up), in this one run
            b.importing(n)
    if args.only in (None, "startup"):
        b.startup(sizes[0])
    if args.only in (None, "scaling"):
        b.scaling(sizes[-1])
    if args.pg and args.only in (None, "postgresql"):
        with postgresql_server(args.pg) as server:
            for n in sizes[1:] or sizes:  # the same sizes as the import goal
                b.postgresql(n, server)
    print(b.table())
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
