"""The HTML report at scale and at the edges, without a browser: dossiers for the most recent
threats only, with the command that lists the others; a chart that counts every threat once, in
memory that does not grow with the number of threats; any stored date and any text rendered."""

from __future__ import annotations

import re
import shlex
import sqlite3
import subprocess
import sys
import tracemalloc
from collections import Counter
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from conftest import Cli

from redlines.output import html
from redlines.service import CHART_LANES, Tracker

BENCH = Path(__file__).resolve().parent.parent / "bench" / "generate.py"
TODAY = "2025-08-12"


def generated(tmp: Path, n: int) -> Path:
    """A database of `n` threats made by bench/generate.py (1,000 actors, dates 2000-2025)."""
    data = tmp / f"{n}.jsonl"
    with open(data, "w") as f:
        subprocess.run([sys.executable, str(BENCH), str(n)], stdout=f, check=True)
    db = tmp / f"{n}.db"
    cli = Cli(db, TODAY)
    cli("db", "init", "--empty")
    cli("import", str(data))
    return db


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    return generated(tmp_path_factory.mktemp("many"), 2000)


@pytest.fixture(scope="module")
def more(tmp_path_factory) -> Path:
    return generated(tmp_path_factory.mktemp("more"), 6000)


def report(db: Path) -> str:
    out = db.parent / "report.html"
    Cli(db, TODAY)("report", "--format", "html", "-o", str(out))
    return out.read_text()


def articles(page: str) -> list[str]:
    return re.findall(r'<article id="([^"]+)">', page)


def note(page: str) -> str:
    """The note on dossiers left out, as a reader reads it."""
    return unescape(re.sub(r"<[^>]+>", "", re.search(r'<p class="note">(.*?)</p>', page).group(1)))


@pytest.mark.parametrize(
    "glob, local, as_of",
    [
        ([], [], None),
        (["--as-of", "2016-06"], [], "2016-06-30"),
        (["--as-of", "2020"], ["--actor", "Leader 652", "--category", "military", "--since", "2005"], "2020-12-31"),
    ],
)
def test_dossiers_only_for_the_most_recent_and_a_command_that_lists_the_others(many, glob, local, as_of):
    cli = Cli(many, TODAY)
    listed = cli.json(*glob, "list", *local, "--json")
    out = many.parent / "some.html"
    cli(*glob, "report", *local, "--format", "html", "--dossiers", "25", "-o", str(out))
    page = out.read_text()
    shown = articles(page)
    # the 25 most recent, newest first, as `list` orders them
    assert shown == [t["id"] for t in listed[:25]]
    total, left = len(listed), listed[25:]
    assert total > 25
    oldest = listed[24]["made_on"]
    command = shlex.join(["redlines", *(["--as-of", as_of] if as_of else []), "list", *local, "--until", oldest])
    assert note(page) == (
        f"The 25 most recent threats of {total:,} are printed here; the other {total - 25:,}, made on or before "
        f"{html.date_text(oldest)}, are left out. {command} lists them (after those of that date shown here), "
        f"and redlines show ID gives any one whole."
    )
    # the command does what the note says: every threat left out, and besides them only the last
    # shown, those of the same date (a month or a year counts to its end)
    got = [t["id"] for t in cli.json(*shlex.split(command)[1:], "--json")]
    assert set(got) >= {t["id"] for t in left}
    extra = set(got) - {t["id"] for t in left}
    assert extra <= set(shown) and all(t["made_on"].startswith(oldest) for t in listed if t["id"] in extra)


def test_the_default_prints_200_dossiers(many):
    page = report(many)
    assert len(articles(page)) == 200
    assert note(page).startswith("The 200 most recent threats of 2,000 are printed here; the other 1,800,")


def test_no_dossiers_at_all(many):
    out = many.parent / "none.html"
    Cli(many, TODAY)("report", "--format", "html", "--dossiers", "0", "-o", str(out))
    page = out.read_text()
    assert articles(page) == []
    assert note(page) == (
        "No dossiers are printed here. redlines list lists the 2,000 threats; redlines show ID gives one whole."
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dossiers", "5"], "--dossiers"),  # the table has no dossiers
        (["--dossiers", "5", "--json"], "--dossiers"),
        (["--format", "html", "--dossiers", "-1"], "--dossiers"),
        (["--format", "html", "--dossiers", "10001"], "--dossiers"),
        (["--format", "html", "--dossiers", "many"], "--dossiers"),
    ],
)
def test_a_wrong_dossiers_option_is_bad_usage_and_writes_nothing(many, args, message):
    out = many.parent / "refused.html"
    result = Cli(many, TODAY)("report", *args, "-o", str(out), expect=2)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def expected_chart(threats: list[dict], chart: dict) -> dict:
    """The chart's cells computed from `list --json`: the oracle."""
    per_issuer = Counter(t["issuer"] for t in threats)
    busiest = [s for s, _ in sorted(per_issuer.items(), key=lambda kv: (-kv[1], kv[0]))[:CHART_LANES]]
    cells: Counter = Counter()
    for t in threats:
        y, m = int(t["made_on"][:4]), int(t["made_on"][5:7] or 1)
        month = y * 12 + m - 1
        period = -1 if month < chart["origin"] else (month - chart["origin"]) // chart["months"]
        cells[(t["issuer"] if t["issuer"] in busiest else None, period, t["outcome"])] += 1
    return {"busiest": busiest, "cells": cells}


@pytest.mark.parametrize(
    "as_of, filters",
    [
        (None, {}),
        ("2016-06", {}),  # judged from the events known then
        (None, {"grace": 0}),  # no cached verdicts for another grace period
        (None, {"category": "nuclear", "since": "2010"}),
        ("2012", {"actors": "the two busiest"}),
    ],
)
def test_the_chart_counts_every_threat_once_in_its_lane_period_and_outcome(many, as_of, filters):
    t = Tracker(many, today=date(2025, 8, 12), as_of=as_of)
    try:
        if filters.get("actors"):
            busiest = Counter(x["issuer"] for x in t.list_threats()).most_common(2)
            filters = {"actors": [slug for slug, _ in busiest]}
        chart = t.dossiers(**filters)["chart"]
        threats = t.list_threats(**filters)
    finally:
        t.close()
    want = expected_chart(threats, chart)
    assert [lane["slug"] for lane in chart["lanes"]] == want["busiest"]
    got: Counter = Counter()
    for lane in [*chart["lanes"], chart["others"] or {"cells": {}}]:
        for period, cell in lane["cells"].items():
            assert -1 <= period < chart["periods"]
            for outcome, n in cell.items():
                got[(lane.get("slug"), period, outcome)] += n
    assert got == want["cells"]
    assert sum(got.values()) == len(threats)
    assert chart["periods"] <= 24


def build_page(db: Path) -> tuple[str, int]:
    """The page, and the most memory Python held while building it."""
    t = Tracker(db, today=date(2025, 8, 12))
    try:
        assert t.conn  # opened (and its modules imported) before measuring
        tracemalloc.start()
        page = html.render(t.report(), t.dossiers())
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        t.close()
    return page, peak


def test_the_page_and_the_memory_to_build_it_do_not_grow_with_the_threats(many, more):
    small, small_peak = build_page(many)
    large, large_peak = build_page(more)
    # three times the threats: the same 200 dossiers, a chart of bounded size, and a scorecard
    # that grows only with the actors
    assert len(articles(small)) == len(articles(large)) == 200
    for page in (small, large):
        assert len(re.findall(r'<g class="marker">', page)) <= (CHART_LANES + 1) * 25
    chart = lambda page: page[page.index('<figure class="chart">') : page.index("</figure>")]  # noqa: E731
    assert len(chart(large)) < 1.5 * len(chart(small))
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


def test_an_empty_database_makes_a_page(empty_cli, tmp_path):
    out = tmp_path / "empty.html"
    empty_cli("report", "--format", "html", "-o", str(out))
    page = out.read_text()
    assert '<p class="dek">0 threats by 0 actors. None has been tested yet.</p>' in page
    assert "No threats to chart." in page and articles(page) == []


@pytest.mark.sqlite_only  # dates planted with sqlite3 past the checks
def test_any_stored_date_renders(empty_cli, tmp_path):
    """Dates as a damaged or hand-edited database may hold them (the schema checks only their
    length): shown as stored, never a traceback."""
    doc = tmp_path / "d.json"
    doc.write_text(
        '{"actors": [{"slug": "a", "name": "A", "kind": "person"}],'
        ' "sources": [{"url": "https://example.org/s", "title": "T", "publisher": "P", "published_on": "2025"}],'
        ' "threats": ['
        '  {"id": "y202", "issuer": "a", "made_on": "0202", "statement": "old",'
        '   "events": [{"kind": "deadline", "on": "0203", "due": "0204", "what": "set"}]},'
        '  {"id": "y0", "issuer": "a", "made_on": "2001", "statement": "zero",'
        '   "sources": [{"url": "https://example.org/s"}]},'
        '  {"id": "feb30", "issuer": "a", "made_on": "2002", "statement": "leap",'
        '   "events": [{"kind": "note", "on": "2003", "what": "n"}]}]}'
    )
    empty_cli("import", str(doc))
    with sqlite3.connect(empty_cli.db) as conn:
        conn.execute("UPDATE threat SET made_on = '0000' WHERE id = 'y0'")
        conn.execute("UPDATE threat SET made_on = '2025-02-30' WHERE id = 'feb30'")
        conn.execute("UPDATE event SET occurred_on = '!!!!' WHERE threat_id = 'feb30'")
        conn.execute("UPDATE source SET published_on = '2025-99' WHERE url = 'https://example.org/s'")
    out = tmp_path / "dates.html"
    empty_cli("report", "--format", "html", "-o", str(out))
    page = out.read_text()
    assert articles(page) == ["feb30", "y202", "y0"]
    assert '<time datetime="0202">202</time>' in page and '<time datetime="0204">204</time>' in page
    assert "<bdi>0000</bdi>" in page and "<bdi>2025-02-30</bdi>" in page and "<bdi>!!!!</bdi>" in page
    assert "<bdi>2025-99</bdi>" in page
    # and the timeline counts all three
    assert "3 threats in all." in page


def src(url: str, title: str | None = None, publisher: str | None = None, published_on: str | None = None) -> dict:
    return {"url": url, "title": title, "publisher": publisher, "published_on": published_on}


FORBES = '<a href="https://www.forbes.com/x" rel="noreferrer">&ldquo;<bdi>Empty threats</bdi>&rdquo;</a>'


@pytest.mark.parametrize(
    "source, shown",
    [
        (
            src("https://www.forbes.com/x", "Empty threats", "Forbes", "2025-08-12"),
            f'<bdi>Forbes</bdi>, {FORBES}, <time datetime="2025-08-12">12 Aug 2025</time>',
        ),
        # no publisher: the site's domain stands in
        (src("https://www.forbes.com/x", "Empty threats"), f"<bdi>forbes.com</bdi>, {FORBES}"),
        # no title: the publisher is the link
        (
            src("http://news.example:8080/a?b=1&c=2", None, "Wire", "2024-03"),
            '<a href="http://news.example:8080/a?b=1&amp;c=2" rel="noreferrer"><bdi>Wire</bdi></a>, '
            '<time datetime="2024-03">Mar 2024</time>',
        ),
        # neither: the domain is
        (
            src("https://NEWS.example/", published_on="2024"),
            '<a href="https://NEWS.example/" rel="noreferrer"><bdi>news.example</bdi></a>, '
            '<time datetime="2024">2024</time>',
        ),
        # not a web address: text, never a link
        (src("javascript:alert(1)", "t"), "<bdi>t</bdi>, <code><bdi>javascript:alert(1)</bdi></code>"),
        (src("https://[::1"), "<code><bdi>https://[::1</bdi></code>"),
    ],
)
def test_a_source_is_cited_by_publisher_title_and_date(source, shown):
    assert html.cite(source) == shown


@pytest.mark.parametrize(
    "threats, tested, no, yes, partly, line",
    [
        (6, 4, 3, 0, 1, "3 of 4 not followed through"),
        (3, 3, 1, 1, 1, "1 of 3 followed through, 1 in part"),
        (2, 2, 0, 2, 0, "2 of 2 followed through"),
        (5, 0, 0, 0, 0, "none of 5 tested yet"),
        (1, 0, 0, 0, 0, "not tested yet"),
        (20000, 12345, 9999, 1000, 1346, "9,999 of 12,345 not followed through"),
    ],
)
def test_a_verdict_in_one_line(threats, tested, no, yes, partly, line):
    counts = {"threats": threats, "tested": tested, "not_followed_through": no, "followed_through": yes}
    assert html.verdict({**counts, "partial": partly}) == line


@pytest.mark.parametrize(
    "stored, shown",
    [
        ("2025-08-12", "12 Aug 2025"),
        ("2025-01", "Jan 2025"),
        ("2025", "2025"),
        ("0202", "202"),
        ("2025-02-30", "2025-02-30"),
        ("soon", "soon"),
        (None, ""),
    ],
)
def test_dates_as_a_reader_says_them(stored, shown):
    assert html.date_text(stored) == shown


def test_text_loses_what_could_reorder_or_hide_and_keeps_the_rest():
    assert html.clean("a\u202eb\u2066c\u2069d\u200be\ufeff\u061cf\u200e\u200fg\u2060h\u200c\u200di") == "abcdefghi"
    assert html.clean("tab\tnew\nline\x07bell\x85") == "tab\tnew\nlinebell"
    assert html.clean("مرحبا שלום 日本 café 🙂") == "مرحبا שלום 日本 café 🙂"
    assert html.clean("lone \udc80 surrogate") == "lone ? surrogate"
