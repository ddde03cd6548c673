"""How each kind of result is shown: its JSON document, its rows and columns, and for the
threat dossier a layout of its own. Presentation only; the data comes from the service."""

from __future__ import annotations

from collections.abc import Iterable

from redlines.output.formats import Column, View, print_lines, safe_text

OUTCOME_STYLE = {
    "followed_through": "bold red",
    "partial": "yellow",
    "not_followed_through": "cyan",
    "complied": "green",
    "withdrawn": "magenta",
    "pending": "dim",
}
OUTCOME_LABEL = {
    "followed_through": "followed through",
    "partial": "partial",
    "not_followed_through": "not followed through",
    "complied": "complied",
    "withdrawn": "withdrawn",
    "pending": "pending",
}


def _columns(spec: str, bold: str | None = None) -> list[Column]:
    """Plain columns, a word each: `header=key:kind`, the header left out where it is the key and
    the kind where it is text; a closing `>` right-justifies. `bold`: the key shown in bold."""
    out = []
    for word in spec.split():
        named, _, kind = word.rstrip(">").partition(":")
        header, _, key = named.rpartition("=")
        justify = "right" if word.endswith(">") else "left"
        style = "bold" if key == bold else None
        out.append(Column(header or key, key, kind=kind or "text", style=style, justify=justify))
    return out


def threats(rows: Iterable[dict], *, as_of: str) -> View:
    """Threats; `rows` may be an iterator (JSON lines and CSV are written as they come). The
    table form is a paragraph per threat, and needs a list."""
    return View(
        document=rows,
        rows=rows,
        columns=_columns(
            "id:id made=made_on:id by=issuer:name against=targets:name category:id statement deadline:id outcome:id",
            bold="id",
        ),
        render=lambda con: _threat_lines(con, rows, as_of),
    )


def _heading(con, parts: list[tuple[str, str]]) -> None:
    """A record's heading line (id, date, names, outcome), wrapped between its parts to the console."""
    from redlines.output.layout import flow

    print_lines(con, flow([(safe_text(text), style) for text, style in parts], con.width))


def _threat_lines(con, rows: list[dict], as_of: str) -> None:
    """A threat a paragraph: a heading, then its statement, readable at any width."""
    if not rows:
        from redlines.output.messages import info

        info(f"no threats match, as of {as_of}")
        return
    for t in rows:
        against = f" -> {safe_text(t['targets'])}" if t["targets"] else ""
        _heading(
            con,
            [
                (t["id"], "bold"),
                (t["made_on"], ""),
                (f"{t['issuer']}{against}", ""),
                (t["category"], ""),
                (OUTCOME_LABEL[t["outcome"]], OUTCOME_STYLE[t["outcome"]]),
                (f"deadline {t['deadline']}" if t["deadline"] else "", ""),
                (f"restated {t['restated']}x" if t.get("restated") else "", ""),
            ],
        )
        _wrap(con, t["statement"], 4)
    print_lines(con, [[(f"{len(rows)} threat{'s' * (len(rows) != 1)}, as of {as_of}", "dim")]])


def actors(rows: list[dict]) -> View:
    return View(
        document=rows,
        rows=rows,
        columns=_columns("slug:id name:name kind:id of:id aliases threats:number> targeted:number>", bold="slug"),
        empty="no actors yet: add one with `redlines add actor`",
    )


def threat(t: dict) -> View:
    return View(document=t, rows=[t], columns=threats([t], as_of="").columns, render=lambda con: _dossier(con, t))


def _wrap(con, text: str, indent: int, first: str = "", style: str = "", hang: int = 0) -> None:
    """Print text wrapped between words to the console's width: the first line after `first`
    (padded to `indent`), the others indented by `indent + hang`."""
    from redlines.output.layout import wrap

    lines = wrap(safe_text(text), con.width, first.ljust(indent), " " * (indent + hang))
    print_lines(con, [[(line, style)] for line in lines])


def _dossier(con, t: dict) -> None:
    def line(label: str, value) -> None:
        if value not in (None, "", []):
            _wrap(con, safe_text(value), 12, label)

    _wrap(con, t["id"], 0, style="bold underline")
    _wrap(con, t["statement"], 0)
    print_lines(con, [[]])
    line("issuer", f"{t['issuer_name']} ({t['issuer']})")
    line("against", t["targets"])
    line("made on", t["made_on"])
    line("category", t["category"] + (f"  (CAMEO {t['cameo']})" if t["cameo"] else ""))
    line("if", t["trigger"])
    line("then", t["consequence"])
    line("deadline", t["deadline"])
    line("tags", t["tags"])
    line("restated", t["restated"] or None)
    print_lines(
        con,
        [
            [
                (f"{'outcome':<12}", ""),
                (OUTCOME_LABEL[t["outcome"]], OUTCOME_STYLE[t["outcome"]]),
                (f"  (tested {t['tested_on']})" if t["tested_on"] else "  (not yet tested)", ""),
            ]
        ],
    )
    if "explanation" in t:
        x = t["explanation"]
        line("why", f"{x['rule']}: {x['why']}")
        line("decided by", x["decided_by"])
        line("deadline by", x["deadline_set_by"] and f"{x['deadline_set_by']} ({x['deadline']})")
    events = t.get("events", [])
    if events:
        print_lines(con, [[], [("timeline", "bold")]])
        for e in events:
            extra = (f" (due {e['due']})" if e["due"] else "") + (
                f" -> {OUTCOME_LABEL[e['outcome']]}" if e["outcome"] else ""
            )
            mark = "> " if e.get("id") == t.get("event") else "  "  # `show THREAT#N`: the event asked for
            _wrap(con, f"{e['kind']}: {safe_text(e['what'])}{extra}", 14, f"{mark}{e['on']}")
            for s in e["sources"]:
                _source(con, s, 14)
    if t["sources"]:
        print_lines(con, [[], [("sources", "bold")]])
        for s in t["sources"]:
            _source(con, s, 2)


def _source(con, s: dict, indent: int) -> None:
    if s.get("quote"):
        _wrap(con, f'"{s["quote"]}"', indent, style="italic", hang=1)
    _wrap(con, s["url"], indent, style="dim")


def _rate(r: dict, min_tested: int = 1) -> str:
    if r["follow_through_rate"] is None:
        return "untested"
    if r["tested"] < min_tested:
        return f"too few ({r['tested']})"
    low, high = round(r["rate_low"] * 100), round(r["rate_high"] * 100)
    return f"{r['follow_through_rate']:.0%} ({low}-{high})"


def _days(r: dict) -> str:
    days = r["median_days_to_response"]
    return "" if days is None else f"{days:g}"


def _bar(r: dict, min_tested: int, width: int = 10) -> str:
    if r["follow_through_rate"] is None or r["tested"] < min_tested:
        return ""
    filled = round(r["follow_through_rate"] * width)
    return "█" * filled + "░" * (width - filled)


def report(rep: dict, dossiers=None) -> View:
    least = rep["min_tested"]

    def count(header: str, key: str) -> Column:
        return Column(header, key, kind="number", justify="right")

    columns = [
        Column(rep["by"], "key", kind="name", style="bold"),
        count("threats", "threats"),
        count("tested", "tested"),
        count("yes", "followed_through"),
        count("partly", "partial"),
        count("no", "not_followed_through"),
        count("complied", "complied"),
        count("dropped", "withdrawn"),
        count("pending", "pending"),
        Column("rate", "rate", kind="number", get=lambda r: _rate(r, least)),
        # Optional: where the width is short, the bars go first, then the days.
        Column("days", "median_days_to_response", kind="number", drop=1, justify="right", get=_days),
        Column("", "bar", kind="number", drop=2, get=lambda r: _bar(r, least)),
    ]
    if all(r["median_days_to_response"] is None for r in [*rep["rows"], rep["total"]]):
        columns = [c for c in columns if c.header != "days"]  # no response yet: nothing to show
    return View(
        document=rep,
        rows=rep["rows"],
        columns=columns,
        render=lambda con: _report_table(con, rep, rep["rows"] + [rep["total"]], columns),
        html=(lambda: _html_page(rep, dossiers())) if dossiers else None,
    )


def _html_page(rep: dict, threats: list[dict]) -> str:
    from redlines.output.html import render

    return render(rep, threats)


def _report_table(con, rep: dict, rows: list[dict], columns: list[Column]) -> None:
    from redlines.output.formats import table_lines

    _wrap(con, f"Follow-through by {rep['by']}, as of {rep['as_of']} (grace {rep['grace_days']} days)", 0)
    table = table_lines(columns, rows, con.width, total_from=len(rows) - 1)
    print_lines(con, table)
    heads = ["".join(text for text, _ in line).split() for line in table[:2]]  # the headers (a record: its labels)
    days = any("days" in words or "days:" in words for words in heads)
    _wrap(con, "yes, partly, no: followed through fully, partly, not at all; dropped: withdrawn.", 0, style="dim")
    _wrap(
        con,
        f"rate = (yes + partly/2) / tested (95% Wilson interval); too few: < {rep['min_tested']} tested."
        + ("\ndays: the median number of days from a test to the first response." if days else ""),
        0,
        style="dim",
    )
    for r in rep["rows"]:
        if "threats_judged" in r:
            _wrap(
                con,
                "; ".join(f"{t['id']} {OUTCOME_LABEL[t['outcome']]} ({t['rule']})" for t in r["threats_judged"]),
                2,
                f"{safe_text(r['key'])}: ",
            )


# Logged fields that hold prose: a change line shows their start (the JSON has them whole).
# Every other value (names, slugs, ids, dates, numbers) is shown in full.
_PROSE = frozenset({"statement", "trigger", "consequence", "what", "quote", "title"})


def _short(value, name: str = "", limit: int = 60) -> str:
    text = "(none)" if value is None else safe_text(value).replace("\n", " ")
    if name not in _PROSE or len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut) + "…"


# The references a change line names, and how: actors by slug, threats and events by id. Other
# row ids (sources) say nothing to a reader, and an event's threat is in the event's own id.
_ACTOR_REFS = ("issuer_id", "actor_id", "of_id")
_SHOWN_REFS = {"threat_id": "threat", "event_id": "event", **{k: k[:-3] for k in _ACTOR_REFS}}


def _field(table: str, key: str, value, slugs: dict[int, str]) -> tuple[str, object] | None:
    """A logged field as a change line shows it, or None to leave it out."""
    if not key.endswith("_id"):
        return key, value
    if key not in _SHOWN_REFS or (table == "event" and key == "threat_id"):
        return None
    return _SHOWN_REFS[key], slugs.get(value, value) if key in _ACTOR_REFS else value


def change_lines(logged: dict, slugs: dict[int, str] | None = None) -> list[str]:
    """A run's changes for people: + added, ~ changed (from -> to), - removed; the actors a
    row refers to named by their slugs."""
    slugs = slugs or {}
    lines = []
    for c in logged["changes"]:
        label = f"{c['table']} {safe_text(c['id'])}"
        if c["op"] == "update":
            shown = [
                (before, after)
                for k, (b, a) in c["fields"].items()
                if (before := _field(c["table"], k, b, slugs)) and (after := _field(c["table"], k, a, slugs))
            ]
            fields = "; ".join(f"{name}: {_short(b, name)} -> {_short(a, name)}" for (name, b), (_, a) in shown)
            lines.append(f"~ {label}: {fields}")
        else:
            side = 1 if c["op"] == "insert" else 0
            shown = [
                f
                for k, v in c["fields"].items()
                if v[side] is not None and (f := _field(c["table"], k, v[side], slugs))
            ]
            fields = ", ".join(f"{name}={_short(value, name, 40)}" for name, value in shown)
            lines.append(f"{'+' if c['op'] == 'insert' else '-'} {label}" + (f": {fields}" if fields else ""))
    return lines


def _run_head(logged: dict) -> list[tuple[str, str]]:
    n = len(logged["changes"])
    return [
        (f"#{logged['run']}", "bold"),
        (logged["at"], ""),
        (logged.get("author") or "(author unknown)", "cyan"),
        (logged["command"], ""),
        (f"({n} change{'s' * (n != 1)})", ""),
    ]


RUN_CHANGES = 20  # changes a run shows in the table (an import may hold thousands); JSON has them all


def run_summary(logged: dict, slugs: dict[int, str] | None = None) -> str:
    """A run and its first RUN_CHANGES changes, as `undo` shows it before asking."""
    head = "  ".join(safe_text(text) for text, _ in _run_head(logged))
    shown = {**logged, "changes": logged["changes"][:RUN_CHANGES]}
    lines = [head, *(f"    {line}" for line in change_lines(shown, slugs))]
    more = len(logged["changes"]) - RUN_CHANGES
    if more > 0:
        lines.append(f"    and {more:,} more change{'s' * (more != 1)} (`redlines history --json` lists them all)")
    return "\n".join(lines)


def history(runs: Iterable[dict], slugs: dict[int, str] | None = None, author: str | None = None) -> View:
    """Runs, newest first; `runs` may be an iterator (written as they come, but for the table)."""

    def render(con) -> None:
        from redlines.output.layout import flow, wrap

        if not runs:
            from redlines.output.messages import info

            info(f"no runs by {author}" if author is not None else "no changes recorded yet")
        for r in runs:
            lines = flow(_run_head(r), con.width, indent=4)
            shown = {**r, "changes": r["changes"][:RUN_CHANGES]}
            for change in change_lines(shown, slugs):
                lines += [[(line, "")] for line in wrap(change, con.width, "    ", "      ")]
            if len(r["changes"]) > RUN_CHANGES:
                more = len(r["changes"]) - RUN_CHANGES
                lines += [[(f"    and {more:,} more change{'s' * (more != 1)} (--json lists them all)", "dim")]]
            print_lines(con, lines)

    return View(
        document=runs,
        rows=(
            {**{k: r[k] for k in ("run", "at", "author", "command", "undoes")}, "changes": len(r["changes"])}
            for r in runs
        ),
        columns=_columns("run:number at:id author command changes:number"),
        render=render,
    )


def timeline(rows: Iterable[dict]) -> View:
    def render(con) -> None:
        if not rows:
            from redlines.output.messages import info

            info("nothing on the timeline")
        for r in rows:
            extra = (f" (due {r['due']})" if r["due"] else "") + (
                f" -> {OUTCOME_LABEL[r['outcome']]}" if r["outcome"] else ""
            )
            _wrap(con, f"{r['threat']}: {safe_text(r['what'])}{extra}", 22, f"{r['on']:<10}  {r['kind']:<9}")

    return View(
        document=rows,
        rows=rows,
        columns=_columns("on:id kind:id threat:id issuer:name what outcome:id due:id"),
        render=render,
    )


def due(rows: list[dict], *, as_of: str) -> View:
    def when(r: dict) -> str:
        if r["status"] == "deadline ahead":
            return f"deadline {r['on']}, in {-r['days']} day{'s' * (r['days'] != -1)}"
        what = "deadline passed" if r["status"] == "deadline passed" else "crossed"
        return f"{what} {r['on']}, {r['days']} day{'s' * (r['days'] != 1)} ago, no response recorded"

    def render(con) -> None:
        if not rows:
            from redlines.output.messages import info

            info(f"nothing due or waiting for a response, as of {as_of}")
        for r in rows:
            _heading(con, [(r["id"], "bold"), (r["issuer"], ""), (when(r), OUTCOME_STYLE.get(r["outcome"], ""))])
            _wrap(con, r["statement"], 4)

    return View(
        document=rows,
        rows=rows,
        columns=_columns("id:id issuer:name status:id on:id days:number outcome:id statement"),
        render=render,
    )


def _passage(con, parts: list[str], first: str) -> None:
    """A passage wrapped to the console, the matched parts (odd `parts`) bracketed, and in bold
    on a terminal."""
    from redlines.output.layout import wrap

    text, marked = "", []  # marked: for each character of text, is it in a match?
    for n, part in enumerate(parts):
        piece = f"[{safe_text(part)}]" if n % 2 else safe_text(part)
        text += piece
        marked += [bool(n % 2)] * len(piece)
    lines = wrap(text, con.width, first, " " * 6)
    at, out = 0, []
    for k, line in enumerate(lines):
        start = len(first) if k == 0 else 6
        segs = [(line[:start], "")]
        for ch in line[start:]:
            while at < len(text) and text[at] != ch:  # skip the spaces wrapping took away
                at += 1
            style = "bold" if at < len(text) and marked[at] else ""
            if segs[-1][1] == style:
                segs[-1] = (segs[-1][0] + ch, style)
            else:
                segs.append((ch, style))
            at += 1
        out.append(segs)
    print_lines(con, out)


def search(rows: list[dict], *, query: str) -> View:
    """Matches in context; the matched words are bracketed."""
    from redlines.domain.snippets import CLOSE, OPEN

    def marked(snippet: str) -> str:
        return snippet.replace(OPEN, "[").replace(CLOSE, "]")

    def render(con) -> None:
        if not rows:
            from redlines.output.messages import info

            info(f"nothing matches {query!r}")
        for r in rows:
            _heading(
                con,
                [
                    (r["id"], "bold"),
                    (r["made_on"], ""),
                    (r["issuer"], ""),
                    (OUTCOME_LABEL[r["outcome"]], OUTCOME_STYLE[r["outcome"]]),
                ],
            )
            for m in r["matches"]:
                _passage(con, m["snippet"].replace(CLOSE, OPEN).split(OPEN), f"    {m['in']}: ")

    return View(
        document=({**r, "matches": [{**m, "snippet": marked(m["snippet"])} for m in r["matches"]]} for r in rows),
        rows=({**r, "matches": "; ".join(safe_text(marked(m["snippet"])) for m in r["matches"])} for r in rows),
        columns=_columns("id:id made=made_on:id by=issuer:name outcome:id matches"),
        render=render,
    )
