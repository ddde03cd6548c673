"""The HTML report, loaded in a real browser (headless Chromium from Debian's packages): what it
renders, that user text cannot run as script, and screenshots kept as test artifacts."""

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import need_tool

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


class Dom(HTMLParser):
    """What the browser's DOM holds, as far as the test needs it."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.title = ""
        self._in_title = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title" and not self.title  # the page's title, not an SVG one

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        self.text.append(data)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("html")
    db = root / "r.db"
    t = Tracker(db)
    t.import_document(
        {
            "actors": [{"slug": "mallory", "name": "Mallory", "kind": "person"}],
            "threats": [
                {
                    "id": "hostile",
                    "issuer": "mallory",
                    "made_on": "2025-01-01",
                    "statement": HOSTILE,
                    "sources": [
                        {"url": "javascript:document.title='pwned'", "quote": "</blockquote><script>alert(1)</script>"}
                    ],
                }
            ],
        },
        "test",
    )
    t.close()
    out = root / "report.html"
    from conftest import Cli

    Cli(db, "2025-08-12")("report", "--format", "html", "-o", str(out))
    return out


def test_the_page_is_self_contained(page):
    html = page.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.split("<h2>Threats</h2>")[0])
    assert "<script" not in html.lower().replace("&lt;script", "")
    assert "<link" not in html and "@import" not in html


def test_a_browser_renders_the_scorecard_timeline_and_dossiers(chromium, page, tmp_path):
    dom = Dom()
    dom.feed(browse(chromium, page, tmp_path, "--dump-dom"))
    assert dom.title == "Red lines: follow-through as of 2025-08-12"
    text = " ".join(dom.text)
    assert "Scorecard by actor" in text and "12% (1%–60%)" in text and "0% (0%–56%)" in text
    assert len([a for tag, a in dom.tags if tag == "article"]) == 8
    assert any(
        tag == "svg" and a.get("aria-label") == "timeline of threats, tests and responses" for tag, a in dom.tags
    )
    links = [a["href"] for tag, a in dom.tags if tag == "a" and "href" in a]
    assert (
        "https://www.forbes.com/sites/natashalindstaedt/2025/08/12/trump-and-putins-history-of-empty-threats-undermines-the-alaska-summit/"
        in links
    )
    assert "#putin-long-range-weapons" in links
    # the hostile statement is shown as text, and nothing of it ran
    assert HOSTILE in text
    assert not any(tag in ("script", "img") for tag, _ in dom.tags)
    assert not any(h.startswith("javascript:") for h in links)


def test_screenshots_on_a_desk_and_on_a_phone(chromium, page, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    for name, size in (("report-desktop.png", "1000,1600"), ("report-phone.png", "390,2400")):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        browse(chromium, page, tmp_path, f"--window-size={size}", f"--screenshot={shot}")
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
