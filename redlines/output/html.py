"""The HTML report: one self-contained page (no scripts, no network, no external assets) that reads
like a newsroom page: a verdict per actor in the scorecard, a chart of every threat counted per
issuer and period (a few kilobytes however many threats), and the dossiers of the most recent
threats with their sources cited by publisher, title and date.

Every piece of user text is escaped, stripped of bidi controls and zero-width characters, and
isolated (`<bdi>`, or `dir="auto"` on a block of its own), so that no text can run as script or
reorder the page around it; only http(s) links become links. Any stored date renders, even one
that is not a date."""

from __future__ import annotations

import shlex
from html import escape
from urllib.parse import urlsplit

from redlines.domain import outcomes
from redlines.domain.dates import FuzzyDate

# Outcomes in the order a reader weighs them, each with its badge colours (background, text),
# chosen for a contrast of at least 4.5:1.
BADGES = {
    "followed_through": ("#b2182b", "#ffffff"),
    "partial": ("#f4a582", "#1a1a1a"),
    "not_followed_through": ("#2166ac", "#ffffff"),
    "complied": ("#1b7837", "#ffffff"),
    "withdrawn": ("#762a83", "#ffffff"),
    "pending": ("#d9d9d9", "#1a1a1a"),
}
LABELS = {
    "followed_through": "followed through",
    "partial": "partly followed through",
    "not_followed_through": "not followed through",
    "complied": "target complied",
    "withdrawn": "withdrawn",
    "pending": "pending",
}
KINDS = {
    "crossed": "red line crossed",
    "deadline": "deadline set",
    "response": "response",
    "complied": "target complied",
    "withdrawn": "withdrawn",
    "restated": "restated",
    "note": "note",
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Characters that could reorder the page around a piece of text (bidi embeddings, overrides,
# isolates and marks), hide in it (zero-width characters), or are not allowed in HTML (controls
# other than tab and newline): removed from all user text.
HIDDEN = dict.fromkeys(
    [
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x200E,
        0x200F,
        0x061C,
        *range(0x200B, 0x200E),
        0x2060,
        0xFEFF,
        *(c for c in range(0x20) if c not in (0x09, 0x0A)),
        *range(0x7F, 0xA0),
    ]
)

CSS = (
    """
:root { --ink: #1a1a1a; --muted: #5f5f5f; --rule: #ddd; --sans: system-ui, 'Helvetica Neue', Arial, sans-serif;
  font-family: Georgia, 'Times New Roman', serif; }
body { margin: 0 auto; max-width: 60rem; padding: 1rem; color: var(--ink); line-height: 1.45; }
header { border-bottom: 3px double var(--ink); margin-bottom: 1rem; }
.kicker { font: bold .8rem/1.4 var(--sans); text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
  margin: .2rem 0; }
h1 { font-size: 2rem; line-height: 1.15; margin: .2rem 0 .4rem; }
.dek { font-size: 1.15rem; margin: .3rem 0 .6rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid var(--rule); margin-top: 1.8rem; }
.muted, figcaption, .meta { color: var(--muted); font-size: .9rem; }
.meta, figcaption, table, .badge, .note { font-family: var(--sans); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: .92rem; }
th, td { padding: .35rem .4rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { font-size: .8rem; color: var(--muted); font-weight: normal; text-transform: uppercase; letter-spacing: .04em; }
td.num, th.num { text-align: right; } td.num { white-space: nowrap; }
td.name { font-weight: bold; }
table.scorecard { table-layout: fixed; } col.c-name { width: 11rem; } col.c-num { width: 5.5rem; }
col.c-rate { width: 9.5rem; } col.c-bar { width: 8.5rem; }
details.more summary { cursor: pointer; font: .9rem var(--sans); color: #2166ac; margin: .5rem 0; }
tr.total td { border-top: 2px solid var(--ink); font-weight: bold; }
.scroll { overflow-x: auto; }
figure.chart { margin: .5rem 0; }
.chart-row { display: flex; align-items: flex-start; }
.chart-row svg.lanes { flex: none; }
/* the markers scroll sideways on a narrow screen, from the newest, rather than shrink unreadably */
.plot { overflow-x: auto; direction: rtl; } .plot svg { direction: ltr; display: block; }
.badge { display: inline-block; padding: 0 .5em; border-radius: .75em; font-size: .78rem; font-weight: bold;
  line-height: 1.55; white-space: nowrap; vertical-align: baseline; }
"""
    + "".join(f".o-{o} {{ background: {bg}; color: {fg}; }}\n" for o, (bg, fg) in BADGES.items())
    + """
article { border-bottom: 1px solid var(--rule); padding: .8rem 0; break-inside: avoid; }
article h3 { font-size: 1.15rem; line-height: 1.3; margin: .25rem 0; }
article .byline { margin: .2rem 0; font-style: italic; }
dl.facts { display: grid; grid-template-columns: 6rem 1fr; gap: .1rem .6rem; margin: .4rem 0; }
dl.facts dt { font: .8rem/1.7 var(--sans); color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
dl.facts dd { margin: 0; }
ol.events { padding-left: 1.2rem; margin: .4rem 0; } ol.events li { margin: .2rem 0; }
.kind { font: bold .85rem var(--sans); }
blockquote { margin: .3rem 0 .1rem 1rem; padding-left: .6rem; border-left: 3px solid var(--rule); font-style: italic; }
.cite { margin: 0 0 .3rem 1rem; font-size: .9rem; }
a { color: #2166ac; overflow-wrap: anywhere; }
.legend .badge { margin: 0 .3rem .2rem 0; }
.note { background: #f6f6f6; border-left: 4px solid var(--muted); padding: .5rem .8rem; font-size: .92rem; }
code { font-size: .9em; overflow-wrap: anywhere; }
@media (max-width: 40rem) { body { padding: .6rem; } h1 { font-size: 1.6rem; } .optional { display: none; }
  /* a scorecard row becomes a card: the name and the rate on a line, the verdict below */
  table.scorecard, table.scorecard tbody { display: block; } table.scorecard thead { display: none; }
  table.scorecard tr { display: grid; grid-template-columns: 1fr auto; border-bottom: 1px solid var(--rule);
    padding: .25rem 0; }
  table.scorecard tr.total { border-top: 2px solid var(--ink); }
  table.scorecard td { border: 0; padding: .05rem .3rem; }
  table.scorecard td.name { grid-area: 1 / 1; } table.scorecard td.rate { grid-area: 1 / 2; }
  table.scorecard td.verdict { grid-area: 2 / 1 / 3 / 3; }
  table.scorecard td.rate:not(:empty)::before { content: "rate "; color: var(--muted); font-weight: normal; }
  dl.facts { grid-template-columns: 4.5rem 1fr; } }
@media print { body { max-width: none; } a { color: inherit; }
  a[href^="http"]::after { content: " <" attr(href) ">"; font-size: .8em; } }
"""
)


# --- text, dates and links ---------------------------------------------------------------------


def clean(value) -> str:
    """User text without the characters that could reorder or hide (see HIDDEN), and without
    lone surrogates (which no UTF-8 file can hold)."""
    text = "" if value is None else str(value)
    text = text.translate(HIDDEN)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _e(value) -> str:
    """User text, cleaned and escaped for an element or an attribute."""
    return escape(clean(value), quote=True)


def _t(value) -> str:
    """User text inline among ours: cleaned, escaped and isolated."""
    return f"<bdi>{_e(value)}</bdi>"


def _n(n: int) -> str:
    return f"{n:,}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{_n(n)} {one if n == 1 else (many or one + 's')}"


def date_text(iso) -> str:
    """A stored date as a reader says it (12 Aug 2025, Aug 2025, 2025); text that is no date, as
    it was stored."""
    try:
        d = FuzzyDate.from_iso(iso)
    except (ValueError, AttributeError, TypeError):
        return clean(iso)
    if d.day:
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    if d.month:
        return f"{MONTHS[d.month - 1]} {d.year}"
    return f"{d.year}"


def _date(iso) -> str:
    """A stored date in a <time> element, or the text as stored, isolated."""
    if not iso:
        return ""
    try:
        d = FuzzyDate.from_iso(iso)
    except (ValueError, AttributeError, TypeError):
        return _t(iso)
    return f'<time datetime="{d.iso()}">{date_text(iso)}</time>'


def _long_date(iso: str) -> str:
    try:
        d = FuzzyDate.from_iso(iso)
    except (ValueError, AttributeError, TypeError):
        return _e(iso)
    return f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}" if d.day else date_text(iso)


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def domain(url: str) -> str | None:
    """The site a web address points to, without `www.`; None if it is not one."""
    if not _is_web(url):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.")


def badge(outcome: str | None) -> str:
    if outcome not in BADGES:
        return _t(outcome) if outcome else ""
    return f'<span class="badge o-{outcome}">{LABELS[outcome]}</span>'


def cite(s: dict) -> str:
    """A source as a newsroom cites it: publisher, title (linked) and date; the site's domain
    stands in for a missing publisher, and is the link when there is no title either."""
    url = s["url"] or ""
    site = domain(url)
    publisher, title = s.get("publisher"), s.get("title")
    parts = []
    if _is_web(url) and site:
        href = f'<a href="{_e(url)}" rel="noreferrer">'
        if title:
            parts += [_t(publisher or site), f"{href}&ldquo;{_t(title)}&rdquo;</a>"]
        else:
            parts.append(f"{href}{_t(publisher or site)}</a>")
    else:  # not a web address: shown as text, never a link
        parts += [_t(p) for p in (publisher, title) if p]
        parts.append(f"<code>{_t(url)}</code>")
    if s.get("published_on"):
        parts.append(_date(s["published_on"]))
    return ", ".join(parts)


def _sources(sources: list[dict]) -> str:
    if not sources:
        return ""
    items = "".join(
        (f'<blockquote dir="auto">{_e(s["quote"])}</blockquote>' if s.get("quote") else "")
        + f'<p class="cite">&mdash; {cite(s)}</p>'
        for s in sources
    )
    return f'<div class="sources">{items}</div>'


# --- the scorecard -----------------------------------------------------------------------------


def verdict(r: dict) -> str:
    """A group's record in one short line: "3 of 4 not followed through", "2 of 3 followed
    through, 1 in part", "none of 5 tested yet"."""
    tested, nft, ft, partial = r["tested"], r["not_followed_through"], r["followed_through"], r["partial"]
    if not tested:
        return f"none of {_n(r['threats'])} tested yet" if r["threats"] != 1 else "not tested yet"
    if nft >= ft + partial:
        return f"{_n(nft)} of {_n(tested)} not followed through"
    return f"{_n(ft)} of {_n(tested)} followed through" + (f", {_n(partial)} in part" if partial else "")


def summary(r: dict) -> str:
    """The whole record in a sentence or two, for the top of the page."""
    tested = r["tested"]
    counts = [
        (r["not_followed_through"], "not followed through"),
        (r["followed_through"], "followed through"),
        (r["partial"], "in part"),
    ]
    first = (
        f"Of the {_n(tested)} tested: " + ", ".join(f"{_n(n)} {what}" for n, what in counts if n)
        if tested
        else "None has been tested yet"
    )
    rest = [
        f"{_n(r['pending'])} {'is' if r['pending'] == 1 else 'are'} pending" if r["pending"] else "",
        f"the target complied in {_n(r['complied'])}" if r["complied"] else "",
        f"{_n(r['withdrawn'])} {'was' if r['withdrawn'] == 1 else 'were'} withdrawn" if r["withdrawn"] else "",
    ]
    rest = [x for x in rest if x]
    return first + "." + (f" {'; '.join(rest).capitalize()}." if rest else "")


def _rate(r: dict) -> str:
    if r["follow_through_rate"] is None:
        return ""
    return f"{r['follow_through_rate']:.0%} ({r['rate_low']:.0%}&ndash;{r['rate_high']:.0%})"


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


SCORECARD_ROWS = 20  # the busiest groups; the others follow, folded


def _scorecard(rep: dict) -> str:
    head = (
        "<colgroup><col class=c-name><col class=c-verdict><col class='c-num optional'><col class='c-num optional'>"
        "<col class=c-rate><col class='c-bar optional'></colgroup>"
        f"<thead><tr><th>{_e(rep['by'])}</th><th>verdict</th><th class='num optional'>threats</th>"
        "<th class='num optional'>pending</th><th class=num>rate (95% interval)</th><th class=optional></th>"
        "</tr></thead>"
    )

    def row(r: dict, total: bool = False) -> str:
        return (
            f"<tr{' class=total' if total else ''}>"
            f'<td class="name" title="{_e(r["key"])}">{_t(r["label"])}</td>'
            f"<td class=verdict>{verdict(r)}</td><td class='num optional'>{_n(r['threats'])}</td>"
            f"<td class='num optional'>{_n(r['pending'])}</td>"
            f"<td class='num rate'>{_rate(r)}</td><td class=optional>{_rate_svg(r, rep['min_tested'])}</td></tr>"
        )

    rows = rep["rows"]
    first = "".join(row(r) for r in rows[:SCORECARD_ROWS]) + row(rep["total"], total=True)
    html = f'<div class="scroll"><table class="scorecard">{head}<tbody>{first}</tbody></table></div>'
    if len(rows) > SCORECARD_ROWS:
        rest = "".join(row(r) for r in rows[SCORECARD_ROWS:])
        html += (
            f'<details class="more"><summary>The other {_n(len(rows) - SCORECARD_ROWS)} '
            f"{'groups' if rep['by'] != 'actor' else 'actors'}, by number of threats</summary>"
            f'<div class="scroll"><table class="scorecard">{head}<tbody>{rest}</tbody></table></div></details>'
        )
    return html


# --- the timeline ------------------------------------------------------------------------------

ORDER = tuple(BADGES)  # the order of the segments of a marker, left to right
LABEL_W, LANE_H, TOP = 180, 34, 24  # the column of lane labels; a lane's height; room for the axis
PLOT_W, MIN_PITCH, MAX_PITCH = 720, 30, 60  # a marker's column is wide enough for its label ("1.2k")


def period_label(month_index: int, months: int) -> str:
    """The name of the period of `months` months starting at the month index (year * 12 + month - 1)."""
    year, month = divmod(month_index, 12)
    if months == 1:
        return f"{MONTHS[month]} {year}"
    if months == 3:
        return f"Q{month // 3 + 1} {year}"
    if months == 6:
        return f"H{month // 6 + 1} {year}"
    if months == 12:
        return f"{year}"
    return f"{year}\u2013{str(year + months // 12 - 1)[-2:]}"


def _period_name(months: int) -> str:
    return {1: "month", 3: "quarter", 6: "half-year", 12: "year"}.get(months, f"{months // 12} years")


def _short(text: str, n: int) -> str:
    text = clean(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def _breakdown(cell: dict) -> str:
    return ", ".join(f"{_n(cell[o])} {LABELS[o]}" for o in ORDER if cell.get(o))


def count_label(n: int) -> str:
    """A count in at most four characters: 7, 512, 1.2k, 12k, 120k, 1.2M."""
    for size, unit in ((1_000_000, "M"), (1000, "k")):
        if n >= size:
            v = n / size
            return f"{v:.1f}{unit}" if v < 9.95 else f"{v:.0f}{unit}"
    return str(n)


def _timeline(chart: dict, dossiers: list[dict], as_of: str) -> str:
    """Two pictures side by side: the lane labels, and the markers, which scroll sideways on a
    narrow screen (starting from the newest) rather than shrink unreadably."""
    if not chart["lanes"]:
        return '<p class="muted">No threats to chart.</p>'
    months, origin, periods = chart["months"], chart["origin"], chart["periods"]
    earlier = 1 if chart["earlier"] else 0
    columns = periods + earlier
    pitch = max(MIN_PITCH, min(MAX_PITCH, PLOT_W // columns))
    width = pitch * columns + 4
    lanes = list(chart["lanes"])
    if chart["others"]:
        o = chart["others"]
        lanes.append({**o, "name": f"{_n(o['actors'])} other {'actor' if o['actors'] == 1 else 'actors'}"})
    height = TOP + LANE_H * len(lanes) + 2
    # A marker holding one threat links to its dossier, when the page has it.
    single: dict[tuple, str] = {}
    for t in dossiers:
        single.setdefault((t["issuer"], _period_of(t["made_on"], origin, months)), t["id"])

    def col_x(period: int) -> int:
        return pitch * (period + earlier)

    font = 'font-family="system-ui, Arial, sans-serif" font-size="12"'
    labels = [
        f'<svg class="lanes" width="{LABEL_W}" height="{height}" viewBox="0 0 {LABEL_W} {height}" {font} '
        f'aria-hidden="true">'
    ]
    plot = [
        f'<svg class="timeline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {font} role="img" '
        f'aria-label="threats made per {_period_name(months)} by the busiest issuers, coloured by outcome">'
    ]
    # the axis: a label every few columns, so that no two labels meet
    every = _label_step(months, -(-64 // pitch) * months)
    if earlier:
        plot.append(f'<text class="axis" x="{pitch / 2:.0f}" y="13" text-anchor="middle" fill="#5f5f5f">earlier</text>')
    for p in (p for p in range(periods) if (origin + p * months) % every == 0):
        x = col_x(p)
        plot.append(
            f'<line x1="{x}" x2="{x}" y1="17" y2="{height}" stroke="#e4e4e4"/>'
            f'<text class="axis" x="{x + 2}" y="13" fill="#5f5f5f">{period_label(origin + p * months, months)}</text>'
        )
    for i, lane in enumerate(lanes):
        y = TOP + i * LANE_H
        name = clean(lane["name"])
        labels.append(
            f'<g class="lane"><title>{escape(name)}: {_plural(lane["threats"], "threat")}</title>'
            f'<text x="0" y="{y + 21}" font-weight="bold">{escape(_short(name, 19))}</text>'
            f'<text x="{LABEL_W - 6}" y="{y + 21}" text-anchor="end" fill="#5f5f5f">'
            f"{count_label(lane['threats'])}</text>"
            f'<line x1="0" x2="{LABEL_W}" y1="{y + LANE_H}" y2="{y + LANE_H}" stroke="#eee"/></g>'
        )
        plot.append(f'<line x1="0" x2="{width}" y1="{y + LANE_H}" y2="{y + LANE_H}" stroke="#eee"/>')
        for period, cell in sorted(lane["cells"].items()):
            plot.append(_marker(lane, period, cell, col_x(period) + 3, y, pitch - 6, months, origin, single))
    labels.append("</svg>")
    plot.append("</svg>")
    legend = "".join(badge(o) for o in ORDER)
    threats = sum(lane["threats"] for lane in lanes)
    notes = [
        f"Each marker counts the threats an issuer made in a {_period_name(months)}; its bar is split by their "
        f"outcome as of {_long_date(as_of)}. A marker of one threat links to its dossier when it is below.",
        f"The {_n(len(chart['lanes']))} busiest issuers come first; the other {_n(chart['others']['actors'])} "
        "together in the last row."
        if chart["others"]
        else "The busiest issuers come first.",
    ]
    if earlier:
        n = sum(chart["earlier"].values())
        notes.append(
            f"{_plural(n, 'threat')} made before {_start_year(origin, months)} "
            f"{'is' if n == 1 else 'are'} counted under &ldquo;earlier&rdquo;."
        )
    return (
        f'<figure class="chart"><div class="chart-row">{"".join(labels)}'
        f'<div class="plot">{"".join(plot)}</div></div>'
        f'<figcaption><span class="legend">{legend}</span><br>'
        f"{' '.join(notes)} {_plural(threats, 'threat')} in all.</figcaption></figure>"
    )


def _label_step(months: int, least: int) -> int:
    """Months between two labels of the axis: at least `least`, a whole number of periods, and
    a whole part of a year or a whole number of years, so that labels fall on the same months
    of each year (Q1, Q3; Jan, Apr, Jul, Oct; 2000, 2005)."""
    step = least
    while not (step % months == 0 and (12 % step == 0 or step % 12 == 0)):
        step += 1
    return step


def _start_year(origin: int, months: int) -> str:
    year, month = divmod(origin, 12)
    return f"{MONTHS[month]} {year}" if month else f"{year}"


def _period_of(iso: str, origin: int, months: int) -> int | None:
    try:
        d = FuzzyDate.from_iso(iso)
    except (ValueError, AttributeError, TypeError):
        return None
    m = d.year * 12 + (d.month or 1) - 1
    return -1 if m < origin else (m - origin) // months


def _marker(lane, period, cell, x, y, w, months, origin, single) -> str:
    """A count above a bar split by outcome, in a column of its own, so that no two meet."""
    n = sum(cell.values())
    when = f"before {_start_year(origin, months)}" if period < 0 else period_label(origin + period * months, months)
    title = f"<title>{_e(lane['name'])}, {when}: {_plural(n, 'threat')} ({_breakdown(cell)})</title>"
    bar, left = [], float(x)
    for o in ORDER:
        if cell.get(o):
            seg = w * cell[o] / n
            bar.append(
                f'<rect class="o-{o}" x="{left:.1f}" y="{y + 18}" width="{seg:.1f}" height="11" fill="{BADGES[o][0]}"/>'
            )
            left += seg
    body = (
        f'<text class="count" x="{x + w / 2:.1f}" y="{y + 14}" text-anchor="middle">{count_label(n)}</text>'
        f'{"".join(bar)}<rect x="{x}" y="{y + 18}" width="{w}" height="11" fill="none" stroke="#8a8a8a" '
        f'stroke-width=".6"/>'
    )
    target = single.get((lane.get("slug"), period)) if n == 1 and lane.get("slug") else None
    if target:
        return f'<a href="#{_e(target)}"><g class="marker">{title}{body}</g></a>'
    return f'<g class="marker">{title}{body}</g>'


# --- the dossiers ------------------------------------------------------------------------------


def _dossier(t: dict) -> str:
    against = ", ".join(_t(n) for n in t.get("target_names") or t["targets"])
    facts = [
        ("if", _e(t["trigger"]) if t["trigger"] else ""),
        ("then", _e(t["consequence"]) if t["consequence"] else ""),
        ("deadline", _date(t["deadline"])),
        ("tested", _date(t["tested_on"])),
        ("restated", _plural(t["restated"], "time") if t.get("restated") else ""),
        ("tags", ", ".join(_t(tag) for tag in t["tags"])),
    ]
    dl = "".join(f"<dt>{k}</dt><dd{' dir=auto' if k in ('if', 'then') else ''}>{v}</dd>" for k, v in facts if v)
    events = "".join(
        f"<li>{_date(e['on'])} <span class=kind>{KINDS.get(e['kind'], _e(e['kind']))}</span>"
        + (f" {badge(e['outcome'])}" if e["outcome"] else "")
        + (f" (due {_date(e['due'])})" if e.get("due") else "")
        + (f': <span dir="auto">{_e(e["what"])}</span>' if e["what"] else "")
        + _sources(e["sources"])
        + "</li>"
        for e in t.get("events", [])
    )
    return (
        f'<article id="{_e(t["id"])}">'
        f'<p class="kicker">{badge(t["outcome"])} {_date(t["made_on"])} &middot; {_e(t["category"])}</p>'
        f'<h3 dir="auto">{_e(t["statement"])}</h3>'
        f'<p class="byline">By {_t(t["issuer_name"])}{f", against {against}" if against else ""}</p>'
        + (f'<dl class="facts">{dl}</dl>' if dl else "")
        + (f'<ol class="events">{events}</ol>' if events else "")
        + _sources(t["sources"])
        + f'<p class="meta">id <code>{_t(t["id"])}</code></p></article>'
    )


def list_command(filters: dict, until: str | None) -> str:
    """The command that lists the threats of this report made on or before `until`."""
    args = ["redlines"]
    if filters.get("as_of"):
        args += ["--as-of", filters["as_of"]]
    args.append("list")
    for a in filters.get("actors") or ():
        args += ["--actor", a]
    for option in ("category", "since"):
        if filters.get(option):
            args += [f"--{option}", filters[option]]
    if until or filters.get("until"):
        args += ["--until", until or filters["until"]]
    if filters.get("grace") not in (None, outcomes.DEFAULT_GRACE_DAYS):  # read now: it has one place
        args += ["--grace", str(filters["grace"])]
    return " ".join(shlex.quote(clean(a)) for a in args)


def _left_out(page: dict) -> str:
    shown, total = len(page["threats"]), page["total"]
    if shown >= total:
        return ""
    if not shown:
        return (
            f'<p class="note">No dossiers are printed here. <code>{_e(list_command(page["filters"], None))}</code> '
            f"lists the {_plural(total, 'threat')}; <code>redlines show ID</code> gives one whole.</p>"
        )
    oldest = page["threats"][-1]["made_on"]
    sentences = (
        f"The {_plural(shown, 'most recent threat')} of {_n(total)} are printed here; the other "
        f"{_n(total - shown)}, made on or before {_date(oldest)}, are left out.",
        f"<code>{_e(list_command(page['filters'], oldest))}</code> lists them (after those of that date shown here),",
        "and <code>redlines show ID</code> gives any one whole.",
    )
    return f'<p class="note">{" ".join(sentences)}</p>'


# --- the page ----------------------------------------------------------------------------------


def render(rep: dict, page: dict) -> str:
    """The page for a report (`Tracker.report`) and what `Tracker.dossiers` gives for it."""
    total = rep["total"]
    chart = page["chart"]
    issuers = len(chart["lanes"]) + (chart["others"]["actors"] if chart["others"] else 0)
    threats = page["threats"]
    heading = "The most recent threats" if len(threats) < page["total"] else "The threats"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Red lines: follow-through as of {_e(rep["as_of"])}</title>
<style>{CSS}</style></head>
<body>
<header>
<p class="kicker">Red-line tracker &middot; as of {_long_date(rep["as_of"])}</p>
<h1>Red lines: who follows through?</h1>
<p class="dek">{_plural(total["threats"], "threat")} by {_plural(issuers, "actor")}. {summary(total)}</p>
<p class="meta">A threat is tested once its red line is crossed, its deadline passes or a response is recorded;
a crossed line unanswered after {rep["grace_days"]} days counts as not followed through.
Rate = (followed through + partial / 2) / tested, with its 95% Wilson score interval.</p>
</header>
<h2>Scorecard by {_e(rep["by"])}</h2>
{_scorecard(rep)}
<h2>Timeline</h2>
{_timeline(chart, threats, rep["as_of"])}
<h2 id="dossiers">{heading}</h2>
{_left_out(page)}
{"".join(_dossier(t) for t in threats)}
<p class="muted">Made with redlines.</p>
</body></html>
"""
