"""The HTML report, loaded in a real browser (headless Chromium from Debian's packages): what a reader
sees in the DOM Chromium renders (names, verdicts, badges, labelled timeline markers that do not
overlap, sources cited by publisher, title and date), that user text can neither run as script nor
reorder the page, and screenshots at 1200 and 390 px kept as test artifacts."""

from __future__ import annotations

import re
import sqlite3
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ARTICLE_URL, Cli, need_tool

from redlines.service import Tracker

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\"> & [bold]"
# Bidi embeddings, overrides, isolates and marks, and zero-width characters: none may reach the page.
INVISIBLE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff"
# ... each of them in a statement, between letters
BIDI_STATEMENT = "Before \u202eevil\u202c after \u2067مرحبا\u2069 " + "".join(c + "x" for c in INVISIBLE)
LABELS = {
    "followed_through": "followed through",
    "partial": "partly followed through",
    "not_followed_through": "not followed through",
    "complied": "target complied",
    "withdrawn": "withdrawn",
    "pending": "pending",
}
VOID = {"meta", "br", "col", "img", "input", "link", "hr", "area", "base", "source", "wbr", "embed"}


@pytest.fixture(scope="module")
def chromium():
    return need_tool("chromium", "chromium-browser", install="apt-get install chromium")


def browse(chromium: str, page: Path, tmp: Path, *args: str) -> str:
    p = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def all(self, tag: str | None = None, cls: str | None = None):
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and (cls is None or cls in c.attrs.get("class", "").split()):
                    yield c
                yield from c.all(tag, cls)

    def one(self, tag: str | None = None, cls: str | None = None) -> Node:
        found = list(self.all(tag, cls))
        assert len(found) == 1, f"{len(found)} <{tag} class={cls}> found"
        return found[0]

    def isolated(self) -> bool:
        """Is this element, or one around it, a <bdi> or marked dir="auto"?"""
        node = self
        while node is not None:
            if node.tag == "bdi" or node.attrs.get("dir") == "auto":
                return True
            node = node.parent
        return False


class Dom(HTMLParser):
    """The tree of the DOM the browser dumped."""

    def __init__(self, html: str):
        super().__init__()
        self.root = self.at = Node("#document", {}, None)
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_endtag(self, tag):
        node = self.at
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.at = node.parent

    def handle_data(self, data):
        self.at.children.append(data)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """The seed data set, and a few threats of our own: hostile text, text with bidi controls
    and zero-width characters, a threat dated year 202, sources with and without title and
    publisher."""
    db = tmp_path_factory.mktemp("html") / "r.db"
    t = Tracker(db)
    t.import_document(
        {
            "actors": [
                {"slug": "mallory", "name": "Mallory", "kind": "person"},
                {"slug": "rtl", "name": "Bidi Actor", "kind": "state"},
            ],
            "sources": [
                {"url": "https://apnews.example/talks", "title": "Talks collapse", "published_on": "2025-03"},
                {"url": "https://www.news.example/x/1"},
            ],
            "threats": [
                {
                    "id": "hostile",
                    "issuer": "mallory",
                    "made_on": "2025-01-01",
                    "statement": HOSTILE,
                    "sources": [
                        {"url": "javascript:document.title='pwned'", "quote": "</blockquote><script>alert(1)</script>"}
                    ],
                },
                {
                    "id": "bare-source",
                    "issuer": "mallory",
                    "made_on": "2025-02-03",
                    "statement": "Mallory threatened a blockade.",
                    "sources": [{"url": "https://www.news.example/x/1", "quote": "a blockade"}],
                },
                {
                    "id": "titled-source",
                    "issuer": "mallory",
                    "made_on": "2025-03",
                    "statement": "Mallory threatened to leave the talks.",
                    "sources": [{"url": "https://apnews.example/talks"}],
                },
                {"id": "ancient", "issuer": "mallory", "made_on": "0202", "statement": "A threat of the year 202."},
                {
                    "id": "bidi",
                    "issuer": "rtl",
                    "targets": ["mallory"],
                    "made_on": "2025-04-01",
                    "statement": "placeholder",
                    "events": [{"kind": "note", "on": "2025-04-02", "what": "placeholder"}],
                },
            ],
        },
        "test",
    )
    t.close()
    # Stored text as an older release or another tool may have left it, past today's checks.
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE threat SET statement = ? WHERE id = 'bidi'",
            (BIDI_STATEMENT,),
        )
        conn.execute("UPDATE event SET what = ? WHERE threat_id = 'bidi'", ("note \u202e reversed",))
        conn.execute("UPDATE actor SET name = ? WHERE slug = 'rtl'", ("\u202eBidi\u202c Actor\u200b",))
    return db


@pytest.fixture(scope="module")
def page(db) -> Path:
    out = db.parent / "report.html"
    Cli(db, "2025-08-12")("report", "--format", "html", "-o", str(out))
    return out


@pytest.fixture(scope="module")
def dom(chromium, page, tmp_path_factory) -> Node:
    return Dom(browse(chromium, page, tmp_path_factory.mktemp("browser"), "--dump-dom")).root


@pytest.fixture(scope="module")
def outcomes(db) -> dict[str, str]:
    return {t["id"]: t["outcome"] for t in Cli(db, "2025-08-12").json("list", "--json")}


def test_the_page_is_self_contained(page):
    html = page.read_text()
    # the only links out are the sources cited in the dossiers
    outside_citations = re.sub(r'<p class="cite">.*?</p>', "", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", outside_citations)
    assert "<script" not in html.lower().replace("&lt;script", "")
    assert "<link" not in html and "@import" not in html
    assert "default-src 'none'" in html


def test_the_top_of_the_page_says_who_follows_through(dom):
    assert dom.one("head").one("title").text == "Red lines: follow-through as of 2025-08-12"
    assert dom.one("h1").text == "Red lines: who follows through?"
    assert dom.one("header").one("p", "kicker").text == "Red-line tracker · as of 12 August 2025"
    assert dom.one("p", "dek").text == (
        "12 threats by 4 actors. Of the 7 tested: 6 not followed through, 1 in part. 5 are pending."
    )


def test_the_scorecard_names_actors_with_a_one_line_verdict(dom):
    body = [[td.text for td in tr.all("td")][:5] for tr in dom.one("table", "scorecard").one("tbody").all("tr")]
    assert body == [
        ["Mallory", "none of 4 tested yet", "4", "4", ""],
        ["Vladimir Putin", "3 of 4 not followed through", "4", "0", "12% (1%–60%)"],
        ["Donald Trump", "3 of 3 not followed through", "3", "0", "0% (0%–56%)"],
        ["Bidi Actor", "not tested yet", "1", "1", ""],
        ["All", "6 of 7 not followed through", "12", "5", "7% (1%–44%)"],
    ]
    # the slug is there for whoever hovers, not as the name
    assert [td.attrs["title"] for td in dom.all("td", "name")] == ["mallory", "putin", "trump", "rtl", "total"]


def test_each_dossier_carries_a_badge_of_its_outcome(dom, outcomes):
    articles = list(dom.all("article"))
    # the most recent first (year 202 last)
    assert [a.attrs["id"] for a in articles] == [
        "trump-sanctions-july",
        "bidi",
        "titled-source",
        "trump-sanctions-march",
        "bare-source",
        "hostile",
        "trump-sanctions-january",
        "putin-nuclear-doctrine",
        "putin-long-range-weapons",
        "putin-f16",
        "putin-all-means-necessary",
        "ancient",
    ]
    for a in articles:
        badge = a.one("p", "kicker").one("span", "badge")
        outcome = outcomes[a.attrs["id"]]
        assert badge.attrs["class"] == f"badge o-{outcome}" and badge.text == LABELS[outcome]
    # events with an outcome carry its badge too
    responses = [li for li in dom.all("li") if "response" in li.text and list(li.all("span", "badge"))]
    assert responses and all(li.one("span", "badge").text in LABELS.values() for li in responses)


def test_dossiers_name_the_issuer_and_targets(dom):
    by = {a.attrs["id"]: a.one("p", "byline").text for a in dom.all("article")}
    assert by["putin-long-range-weapons"] == "By Vladimir Putin, against United States, United Kingdom"
    assert by["trump-sanctions-july"] == "By Donald Trump, against Vladimir Putin, Russia"
    assert by["bidi"] == "By Bidi Actor, against Mallory"
    assert by["hostile"] == "By Mallory"


def test_the_timeline_labels_its_lanes_and_markers_and_none_overlap(dom):
    chart = dom.one("figure", "chart")
    lanes = [next(g.all("text")).text for g in chart.one("svg", "lanes").all("g", "lane")]
    assert lanes == ["Mallory", "Vladimir Putin", "Donald Trump", "Bidi Actor"]
    plot = chart.one("svg", "timeline")
    markers = list(plot.all("g", "marker"))
    # every marker says how many threats it holds, and they add up to all threats charted
    counts = [int(m.one("text", "count").text) for m in markers]
    assert all(n >= 1 for n in counts) and sum(counts) == 12
    # markers stand in columns of their own: no two in a lane overlap
    boxes: dict[str, list[tuple[float, float]]] = {}
    for m in markers:
        outline = [r for r in m.all("rect") if r.attrs.get("fill") == "none"][0]
        x, w = float(outline.attrs["x"]), float(outline.attrs["width"])
        boxes.setdefault(outline.attrs["y"], []).append((x, x + w))
    assert len(boxes) == 4
    for spans in boxes.values():
        spans.sort()
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False)), spans
    # the axis labels keep apart too (at most 7 px a character at 12 px)
    axis = [(float(t.attrs["x"]), t.text) for t in plot.all("text", "axis")]
    assert len(axis) >= 3
    assert all(x1 + 7 * len(s1) < x2 for (x1, s1), (x2, _) in zip(axis, axis[1:], strict=False)), axis
    # each marker's tooltip names the lane, the period and the outcomes
    titles = [m.one("title").text for m in markers]
    assert "Donald Trump, H1 2025: 2 threats (2 not followed through)" in titles
    # the threat of the year 202 is counted, under "earlier"
    assert axis[0][1] == "earlier"
    assert "1 threat made before Jul 2018 is counted under “earlier”." in chart.one("figcaption").text
    # a marker of one threat links to its dossier
    targets = {a.attrs["href"] for a in plot.all("a")}
    ids = {a.attrs["id"] for a in dom.all("article")}
    assert targets and {t.removeprefix("#") for t in targets} <= ids


def test_sources_are_cited_by_publisher_title_and_date(dom):
    cites = {a.attrs["id"]: [c.text for c in a.all("p", "cite")] for a in dom.all("article")}
    title = "Trump And Putin’s History Of Empty Threats Undermines The Alaska Summit"
    assert cites["putin-nuclear-doctrine"][0] == f"— Forbes, “{title}”, 12 Aug 2025"
    assert cites["titled-source"] == ["— apnews.example, “Talks collapse”, Mar 2025"]
    assert cites["bare-source"] == ["— news.example"]
    links = {a.attrs["href"]: a.text for a in dom.all("a") if a.attrs.get("href", "").startswith("http")}
    assert links[ARTICLE_URL] == f"“{title}”"
    assert links["https://www.news.example/x/1"] == "news.example"
    assert all(href != text for href, text in links.items())  # no address repeated as its own link text


def test_hostile_text_is_shown_and_nothing_of_it_runs(dom):
    assert dom.one("head").one("title").text == "Red lines: follow-through as of 2025-08-12"
    hostile = [a for a in dom.all("article") if a.attrs["id"] == "hostile"][0]
    assert hostile.one("h3").text == HOSTILE
    assert not list(dom.all("script")) and not list(dom.all("img"))
    assert not [a for a in dom.all("a") if a.attrs.get("href", "").lower().startswith("javascript:")]
    assert hostile.one("p", "cite").one("code").text == "javascript:document.title='pwned'"  # as text, no link


def test_bidi_controls_and_zero_width_characters_never_reach_the_page(dom, page):
    everything = page.read_text()
    assert not [c for c in INVISIBLE if c in everything]
    bidi = [a for a in dom.all("article") if a.attrs["id"] == "bidi"][0]
    assert bidi.one("h3").text == "Before evil after مرحبا " + "x" * len(INVISIBLE)
    # every piece of user text stands isolated, so it cannot reorder what is around it
    assert bidi.one("h3").attrs["dir"] == "auto"
    assert [b.text for b in bidi.one("p", "byline").all("bdi")] == ["Bidi Actor", "Mallory"]
    for node in [*dom.all("td", "name"), *dom.all("blockquote"), *dom.all("h3")]:
        assert node.isolated() or list(node.all("bdi")), node.text
    for li in dom.all("li"):
        assert any(s.attrs.get("dir") == "auto" for s in li.all("span")), li.text


def test_a_threat_of_the_year_202_renders_with_its_date(dom):
    ancient = [a for a in dom.all("article") if a.attrs["id"] == "ancient"][0]
    when = ancient.one("p", "kicker").one("time")
    assert when.attrs["datetime"] == "0202" and when.text == "202"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_screenshots_on_a_desk_and_on_a_phone(chromium, page, tmp_path):
    """Kept in tests/artifacts for a person to look at (what the DOM tests cannot see: colour, layout)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for name, size in (("report-desktop.png", (1200, 1600)), ("report-phone.png", (390, 2400))):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        browse(chromium, page, tmp_path, f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}")
        assert png_size(shot) == size
        assert shot.stat().st_size > 20_000  # a page, not a blank screen
