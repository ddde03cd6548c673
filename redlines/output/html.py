"""The HTML report: one self-contained page (no scripts, no network, no external assets) with the
scorecard, a timeline chart in inline SVG, and every threat's dossier with its sources linked.
Every piece of user text is escaped; only http(s) links become links."""

from __future__ import annotations

from datetime import date
from html import escape

from redlines.domain.dates import FuzzyDate

COLOURS = {
    "followed_through": "#b2182b",
    "partial": "#ef8a62",
    "not_followed_through": "#4393c3",
    "complied": "#1b7837",
    "withdrawn": "#762a83",
    "pending": "#999999",
}
LABELS = {
    "followed_through": "followed through",
    "partial": "partial",
    "not_followed_through": "not followed through",
    "complied": "complied",
    "withdrawn": "withdrawn",
    "pending": "pending",
}

CSS = """
:root { --ink: #1a1a1a; --muted: #666; --rule: #ddd; font-family: Georgia, 'Times New Roman', serif; }
body { margin: 0 auto; max-width: 60rem; padding: 1rem; color: var(--ink); line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid var(--rule); }
.muted, figcaption, .meta { color: var(--muted); font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .4rem; border-bottom: 1px solid var(--rule); text-align: right; }
th:first-child, td:first-child { text-align: left; }
.scroll { overflow-x: auto; }
svg { max-width: 100%; height: auto; }
svg.timeline { min-width: 36rem; }  /* on a phone it scrolls sideways rather than shrink unreadably */
article { border-bottom: 1px solid var(--rule); padding: .6rem 0; break-inside: avoid; }
article h3 { font-size: 1.05rem; margin: .2rem 0; }
.outcome { font-weight: bold; }
dl.meta { display: grid; grid-template-columns: 5.5rem 1fr; gap: 0 .5rem; margin: .3rem 0; }
dl.meta dt { font-style: italic; } dl.meta dd { margin: 0; }
ol.events { padding-left: 1.2rem; } blockquote { margin: .2rem 0 .2rem 1rem; font-style: italic; }
a { color: #2166ac; overflow-wrap: anywhere; }
.legend span { margin-right: 1rem; white-space: nowrap; }
@media (max-width: 40rem) { body { padding: .5rem; } th.optional, td.optional { display: none; } }
@media print { body { max-width: none; } a { color: inherit; }
  a[href]::after { content: " <" attr(href) ">"; font-size: .8em; } }
"""


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _link(url: str) -> str:
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{_e(url)}">{_e(url)}</a>'
    return _e(url)


def _rate_svg(row: dict, min_tested: int) -> str:
    if row["follow_through_rate"] is None or row["tested"] < min_tested:
        return '<span class="muted">too few tested</span>' if row["tested"] else '<span class="muted">untested</span>'
    w = 120
    x, lo, hi = (round(v * w, 1) for v in (row["follow_through_rate"], row["rate_low"], row["rate_high"]))
    return (
        f'<svg width="{w + 2}" height="14" viewBox="0 0 {w + 2} 14" role="img" '
        f'aria-label="rate {row["follow_through_rate"]:.0%}, '
        f'95% interval {row["rate_low"]:.0%} to {row["rate_high"]:.0%}">'
        f'<rect x="1" y="3" width="{w}" height="8" fill="#eee"/>'
        f'<rect x="1" y="3" width="{x}" height="8" fill="#b2182b"/>'
        f'<line x1="{lo + 1}" x2="{hi + 1}" y1="7" y2="7" stroke="#1a1a1a" stroke-width="1.5"/>'
        f'<line x1="{lo + 1}" x2="{lo + 1}" y1="3" y2="11" stroke="#1a1a1a"/>'
        f'<line x1="{hi + 1}" x2="{hi + 1}" y1="3" y2="11" stroke="#1a1a1a"/></svg>'
    )


def _scorecard(rep: dict) -> str:
    head = (
        "<tr><th>actor</th><th class=optional>threats</th><th>tested</th><th class=optional>followed through</th>"
        "<th class=optional>partial</th><th class=optional>not followed through</th>"
        "<th class=optional>complied</th><th class=optional>withdrawn</th>"
        "<th class=optional>pending</th><th>rate (95% interval)</th><th></th></tr>"
    )
    body = []
    for r in [*rep["rows"], rep["total"]]:
        rate = (
            ""
            if r["follow_through_rate"] is None
            else f"{r['follow_through_rate']:.0%} ({r['rate_low']:.0%}&ndash;{r['rate_high']:.0%})"
        )
        body.append(
            f'<tr><td title="{_e(r["label"])}">{_e(r["key"])}</td><td class=optional>{r["threats"]}</td>'
            f"<td>{r['tested']}</td><td class=optional>{r['followed_through']}</td>"
            f"<td class=optional>{r['partial']}</td><td class=optional>{r['not_followed_through']}</td>"
            f"<td class=optional>{r['complied']}</td><td class=optional>{r['withdrawn']}</td>"
            f"<td class=optional>{r['pending']}</td><td>{rate}</td><td>{_rate_svg(r, rep['min_tested'])}</td></tr>"
        )
    return f'<div class="scroll"><table>{head}{"".join(body)}</table></div>'


def _timeline_svg(threats: list[dict], as_of: date) -> str:
    """One lane per issuer: a dot where a threat was made, a diamond where it was tested, a square
    where it was answered, coloured by its outcome."""
    if not threats:
        return '<p class="muted">No threats to chart.</p>'
    starts = [FuzzyDate.from_iso(t["made_on"]).start() for t in threats]
    first = min(starts)
    span = max((as_of - first).days, 1)
    lanes = sorted({t["issuer"] for t in threats})
    left, width, lane_h = 110, 640, 28
    height = 30 + lane_h * len(lanes)

    def x(iso: str) -> float:
        return round(left + width * (FuzzyDate.from_iso(iso).start() - first).days / span, 1)

    parts = [
        f'<svg class="timeline" viewBox="0 0 {left + width + 20} {height}" '
        f'width="{left + width + 20}" height="{height}" '
        f'role="img" aria-label="timeline of threats, tests and responses" font-family="sans-serif" font-size="11">'
    ]
    for year in range(first.year + 1, as_of.year + 1):
        xy = x(f"{year}")
        parts.append(
            f'<line x1="{xy}" x2="{xy}" y1="10" y2="{height - 5}" stroke="#ddd"/>'
            f'<text x="{xy + 2}" y="10">{year}</text>'
        )
    for i, lane in enumerate(lanes):
        y = 25 + i * lane_h + lane_h / 2
        parts.append(
            f'<text x="4" y="{y + 4}">{_e(lane)}</text>'
            f'<line x1="{left}" x2="{left + width}" y1="{y}" y2="{y}" stroke="#ccc"/>'
        )
        for t in (t for t in threats if t["issuer"] == lane):
            colour = COLOURS[t["outcome"]]
            title = f"<title>{_e(t['id'])}: {_e(LABELS[t['outcome']])}</title>"
            parts.append(
                f'<a href="#{_e(t["id"])}"><circle cx="{x(t["made_on"])}" cy="{y}" r="4" '
                f'fill="{colour}">{title}</circle></a>'
            )
            if t["tested_on"]:
                tx = x(t["tested_on"])
                parts.append(
                    f'<line x1="{x(t["made_on"])}" x2="{tx}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="2"/>'
                    f'<path d="M{tx} {y - 6} L{tx + 6} {y} L{tx} {y + 6} L{tx - 6} {y} Z" '
                    f'fill="{colour}">{title}</path>'
                )
            for ev in t.get("events", []):
                if ev["kind"] == "response":
                    parts.append(
                        f'<rect x="{x(ev["on"]) - 4}" y="{y - 4}" width="8" height="8" fill="{colour}" '
                        f'stroke="#1a1a1a">{title}</rect>'
                    )
    parts.append("</svg>")
    legend = "".join(
        f'<span><svg width="10" height="10"><rect width="10" height="10" fill="{c}"/></svg> {_e(LABELS[o])}</span>'
        for o, c in COLOURS.items()
    )
    return (
        f'<figure><div class="scroll">{"".join(parts)}</div><figcaption class="legend">{legend}<br>'
        f"dot: threat made; diamond: tested (crossed, or its deadline passed); square: response</figcaption></figure>"
    )


def _dossier(t: dict) -> str:
    facts = [
        ("by", f"{_e(t['issuer_name'])} ({_e(t['issuer'])})"),
        ("against", _e(", ".join(t["targets"]))),
        ("made on", _e(t["made_on"])),
        ("category", _e(t["category"])),
        ("if", _e(t["trigger"])),
        ("then", _e(t["consequence"])),
        ("deadline", _e(t["deadline"])),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts if v)
    events = "".join(
        f"<li><b>{_e(e['on'])}</b> {_e(e['kind'])}: {_e(e['what'])}"
        + (f" &rarr; {_e(LABELS[e['outcome']])}" if e["outcome"] else "")
        + _sources(e["sources"])
        + "</li>"
        for e in t.get("events", [])
    )
    colour = COLOURS[t["outcome"]]
    return (
        f'<article id="{_e(t["id"])}"><h3>{_e(t["statement"])}</h3>'
        f'<p class="meta"><code>{_e(t["id"])}</code> &middot; <span class="outcome" style="color:{colour}">'
        f"{_e(LABELS[t['outcome']])}</span>"
        + (f" (tested {_e(t['tested_on'])})" if t["tested_on"] else "")
        + f'</p><dl class="meta">{dl}</dl>'
        + (f'<ol class="events">{events}</ol>' if events else "")
        + _sources(t["sources"])
        + "</article>"
    )


def _sources(sources: list[dict]) -> str:
    if not sources:
        return ""
    items = "".join(
        (f"<blockquote>{_e(s['quote'])}</blockquote>" if s.get("quote") else "") + _link(s["url"]) for s in sources
    )
    return f'<div class="sources">{items}</div>'


def render(rep: dict, threats: list[dict]) -> str:
    as_of = date.fromisoformat(rep["as_of"])
    dossiers = "".join(_dossier(t) for t in threats)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Red lines: follow-through as of {_e(rep["as_of"])}</title>
<style>{CSS}</style></head>
<body>
<h1>Red lines: who follows through?</h1>
<p class="muted">As of {_e(rep["as_of"])}; grace period {rep["grace_days"]} days; {len(threats)} threats.
Rate = (followed through + partial / 2) / tested, with its 95% Wilson score interval.</p>
<h2>Scorecard by {_e(rep["by"])}</h2>
{_scorecard(rep)}
<h2>Timeline</h2>
{_timeline_svg(threats, as_of)}
<h2>Threats</h2>
{dossiers}
<p class="muted">Made with redlines.</p>
</body></html>
"""
