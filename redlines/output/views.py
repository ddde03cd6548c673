"""How each kind of result is shown: its JSON document, its rows and columns, and for the
threat dossier a layout of its own. Presentation only; the data comes from the service."""

from __future__ import annotations

from redlines.output.formats import Column, View, safe_text

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


def threats(rows: list[dict], *, as_of: str) -> View:
    return View(
        document=rows,
        rows=rows,
        columns=[
            Column("id", "id", style="bold"),
            Column("made", "made_on"),
            Column("by", "issuer"),
            Column("against", "targets", width=24),
            Column("category", "category"),
            Column("statement", "statement", width=60),
            Column("deadline", "deadline"),
            Column("outcome", "outcome"),
        ],
        render=lambda con: _threat_lines(con, rows, as_of),
    )


def _threat_lines(con, rows: list[dict], as_of: str) -> None:
    """A threat a paragraph: a heading line, then its statement, readable at any width."""
    import textwrap

    from rich.text import Text

    if not rows:
        from redlines.output.messages import info

        info(f"no threats match, as of {as_of}")
        return
    for t in rows:
        against = f" -> {safe_text(t['targets'])}" if t["targets"] else ""
        deadline = f"  deadline {t['deadline']}" if t["deadline"] else ""
        con.print(
            Text.assemble(
                (safe_text(t["id"]), "bold"),
                f"  {t['made_on']}  ",
                f"{safe_text(t['issuer'])}{against}  {t['category']}  ",
                (OUTCOME_LABEL[t["outcome"]], OUTCOME_STYLE[t["outcome"]]),
                deadline,
            ),
            soft_wrap=True,
        )
        con.print(
            Text(
                textwrap.fill(
                    safe_text(t["statement"]), width=max(40, con.width), initial_indent="    ", subsequent_indent="    "
                )
            )
        )
    con.print(Text(f"{len(rows)} threat{'s' * (len(rows) != 1)}, as of {as_of}", style="dim"))


def actors(rows: list[dict]) -> View:
    return View(
        document=rows,
        rows=rows,
        columns=[
            Column("slug", "slug", style="bold", no_wrap=True),
            Column("name", "name"),
            Column("kind", "kind"),
            Column("of", "of", no_wrap=True),
            Column("aliases", "aliases", width=40),
            Column("threats", "threats"),
            Column("targeted", "targeted"),
        ],
        empty="no actors yet: add one with `redlines add actor`",
    )


def threat(t: dict) -> View:
    return View(document=t, rows=[t], columns=threats([t], as_of="").columns, render=lambda con: _dossier(con, t))


def _wrap(con, text: str, indent: int, first: str = "", style: str = "", hang: int = 0) -> None:
    """Print text wrapped to the console: the first line after `first` (padded to `indent`),
    the others indented by `indent + hang`."""
    import textwrap

    from rich.text import Text

    body = textwrap.fill(
        safe_text(text),
        width=max(40, con.width),
        initial_indent=first.ljust(indent),
        subsequent_indent=" " * (indent + hang),
        break_on_hyphens=False,
        break_long_words=False,
    )
    con.print(Text(body, style=style), soft_wrap=True)


def _dossier(con, t: dict) -> None:
    from rich.text import Text

    def line(label: str, value) -> None:
        if value not in (None, "", []):
            _wrap(con, safe_text(value), 12, label)

    con.print(Text(safe_text(t["id"]), style="bold underline"))
    _wrap(con, t["statement"], 0)
    con.print()
    line("issuer", f"{t['issuer_name']} ({t['issuer']})")
    line("against", t["targets"])
    line("made on", t["made_on"])
    line("category", t["category"] + (f"  (CAMEO {t['cameo']})" if t["cameo"] else ""))
    line("if", t["trigger"])
    line("then", t["consequence"])
    line("deadline", t["deadline"])
    line("tags", t["tags"])
    line("restated", t["restated"] or None)
    con.print(
        Text.assemble(
            f"{'outcome':<12}",
            (OUTCOME_LABEL[t["outcome"]], OUTCOME_STYLE[t["outcome"]]),
            f"  (tested {t['tested_on']})" if t["tested_on"] else "  (not yet tested)",
        )
    )
    if "explanation" in t:
        x = t["explanation"]
        line("why", f"{x['rule']}: {x['why']}")
        line("decided by", x["decided_by"])
        line("deadline by", x["deadline_set_by"] and f"{x['deadline_set_by']} ({x['deadline']})")
    events = t.get("events", [])
    if events:
        con.print()
        con.print(Text("timeline", style="bold"))
        for e in events:
            extra = (f" (due {e['due']})" if e["due"] else "") + (
                f" -> {OUTCOME_LABEL[e['outcome']]}" if e["outcome"] else ""
            )
            mark = "> " if e.get("id") == t.get("event") else "  "  # `show THREAT#N`: the event asked for
            _wrap(con, f"{e['kind']}: {safe_text(e['what'])}{extra}", 14, f"{mark}{e['on']}")
            for s in e["sources"]:
                _source(con, s, 14)
    if t["sources"]:
        con.print()
        con.print(Text("sources", style="bold"))
        for s in t["sources"]:
            _source(con, s, 2)


def _source(con, s: dict, indent: int) -> None:
    from rich.text import Text

    if s.get("quote"):
        _wrap(con, f'"{s["quote"]}"', indent, style="italic", hang=1)
    con.print(Text(" " * indent + safe_text(s["url"]), style="dim"), soft_wrap=True)


def _rate(r: dict, min_tested: int = 1) -> str:
    if r["follow_through_rate"] is None:
        return "untested"
    if r["tested"] < min_tested:
        return f"too few ({r['tested']})"
    low, high = round(r["rate_low"] * 100), round(r["rate_high"] * 100)
    return f"{r['follow_through_rate']:.0%} ({low}-{high})"


def _bar(r: dict, min_tested: int, width: int = 10) -> str:
    if r["follow_through_rate"] is None or r["tested"] < min_tested:
        return ""
    filled = round(r["follow_through_rate"] * width)
    return "█" * filled + "░" * (width - filled)


def report(rep: dict, dossiers=None) -> View:
    least = rep["min_tested"]
    columns = [
        Column(rep["by"], "key", style="bold"),
        Column("threats", "threats"),
        Column("tested", "tested"),
        Column("yes", "followed_through"),
        Column("partly", "partial"),
        Column("no", "not_followed_through"),
        Column("complied", "complied"),
        Column("dropped", "withdrawn"),
        Column("pending", "pending"),
        Column("rate", "rate", get=lambda r: _rate(r, least)),
        Column("", "bar", get=lambda r: _bar(r, least)),
    ]
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
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"Follow-through by {rep['by']}, as of {rep['as_of']} (grace {rep['grace_days']} days)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
        padding=(0, 1, 0, 0),
        show_edge=False,
    )
    if con.width < 92:  # the bars need room; the rates and intervals say it all in 80 columns
        columns = [c for c in columns if c.key != "bar"]
    for c in columns:
        table.add_column(c.header, style=c.style, no_wrap=True, justify="left" if c.key in ("key", "rate") else "right")
    for i, r in enumerate(rows):
        table.add_row(*(safe_text(c.value(r)) for c in columns), end_section=i == len(rows) - 2)
    con.print(table)
    con.print(
        "yes, partly, no: followed through fully, partly, not at all; dropped: withdrawn.\n"
        f"rate = (yes + partly/2) / tested (95% Wilson interval); too few: < {rep['min_tested']} tested.",
        style="dim",
    )
    for r in rep["rows"]:
        if "threats_judged" in r:
            _wrap(
                con,
                "; ".join(f"{t['id']} {OUTCOME_LABEL[t['outcome']]} ({t['rule']})" for t in r["threats_judged"]),
                2,
                f"{r['key']}: ",
            )


def _short(value, limit: int = 50) -> str:
    text = "(none)" if value is None else safe_text(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def change_lines(run: dict, slugs: dict[int, str] | None = None) -> list[str]:
    """A run's changes for people: + added, ~ changed (from -> to), - removed; the actors a
    row refers to named by their slugs."""
    slugs = slugs or {}
    lines = []
    for c in run["changes"]:
        label = f"{c['table']} {safe_text(c['id'])}"
        if c["op"] == "update":
            shown = [
                (before, after)
                for k, (b, a) in c["fields"].items()
                if (before := _field(c["table"], k, b, slugs)) and (after := _field(c["table"], k, a, slugs))
            ]
            fields = "; ".join(f"{name}: {_short(b)} -> {_short(a)}" for (name, b), (_, a) in shown)
            lines.append(f"~ {label}: {fields}")
        else:
            side = 1 if c["op"] == "insert" else 0
            shown = [
                f
                for k, v in c["fields"].items()
                if v[side] is not None and (f := _field(c["table"], k, v[side], slugs))
            ]
            fields = ", ".join(f"{name}={_short(value, 40)}" for name, value in shown)
            lines.append(f"{'+' if c['op'] == 'insert' else '-'} {label}" + (f": {fields}" if fields else ""))
    return lines


def run_summary(run: dict, slugs: dict[int, str] | None = None) -> str:
    n = len(run["changes"])
    head = f"#{run['run']}  {run['at']}  {safe_text(run['command'])}  ({n} change{'s' * (n != 1)})"
    return "\n".join([head, *(f"    {line}" for line in change_lines(run, slugs))])


def history(runs: list[dict], slugs: dict[int, str] | None = None) -> View:
    rows = [
        {"run": r["run"], "at": r["at"], "command": r["command"], "undoes": r["undoes"], "changes": len(r["changes"])}
        for r in runs
    ]

    def render(con) -> None:
        from rich.text import Text

        if not runs:
            from redlines.output.messages import info

            info("no changes recorded yet")
        for r in runs:
            con.print(Text(run_summary(r, slugs)), soft_wrap=True)

    return View(
        document=runs,
        rows=rows,
        columns=[Column("run", "run"), Column("at", "at"), Column("command", "command"), Column("changes", "changes")],
        render=render,
    )


def timeline(rows: list[dict]) -> View:
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
        columns=[
            Column("on", "on"),
            Column("kind", "kind"),
            Column("threat", "threat"),
            Column("issuer", "issuer"),
            Column("what", "what", width=60),
            Column("outcome", "outcome"),
            Column("due", "due"),
        ],
        render=render,
    )


def due(rows: list[dict], *, as_of: str) -> View:
    def when(r: dict) -> str:
        if r["status"] == "deadline ahead":
            return f"deadline {r['on']}, in {-r['days']} day{'s' * (r['days'] != -1)}"
        what = "deadline passed" if r["status"] == "deadline passed" else "crossed"
        return f"{what} {r['on']}, {r['days']} day{'s' * (r['days'] != 1)} ago, no response recorded"

    def render(con) -> None:
        from rich.text import Text

        if not rows:
            from redlines.output.messages import info

            info(f"nothing due or waiting for a response, as of {as_of}")
        for r in rows:
            con.print(
                Text.assemble(
                    (safe_text(r["id"]), "bold"),
                    f"  {safe_text(r['issuer'])}  ",
                    (when(r), OUTCOME_STYLE.get(r["outcome"], "")),
                ),
                soft_wrap=True,
            )
            _wrap(con, r["statement"], 4)

    return View(
        document=rows,
        rows=rows,
        columns=[
            Column("id", "id"),
            Column("issuer", "issuer"),
            Column("status", "status"),
            Column("on", "on"),
            Column("days", "days"),
            Column("outcome", "outcome"),
            Column("statement", "statement", width=60),
        ],
        render=render,
    )


def search(rows: list[dict], *, query: str) -> View:
    """Matches in context; the matched words are bracketed (in bold on a terminal)."""
    from redlines.store.search import CLOSE, OPEN

    def plain(snippet: str) -> str:
        return safe_text(snippet.replace(OPEN, "[").replace(CLOSE, "]"))

    document = [
        {**r, "matches": [{**m, "snippet": m["snippet"].replace(OPEN, "[").replace(CLOSE, "]")} for m in r["matches"]]}
        for r in rows
    ]

    def render(con) -> None:
        from rich.text import Text

        if not rows:
            from redlines.output.messages import info

            info(f"nothing matches {query!r}")
        for r in rows:
            con.print(
                Text.assemble(
                    (safe_text(r["id"]), "bold"),
                    f"  {r['made_on']}  {safe_text(r['issuer'])}  ",
                    (OUTCOME_LABEL[r["outcome"]], OUTCOME_STYLE[r["outcome"]]),
                ),
                soft_wrap=True,
            )
            for m in r["matches"]:
                text = Text(f"    {m['in']}: ")
                for i, part in enumerate(m["snippet"].replace(CLOSE, OPEN).split(OPEN)):
                    text.append(safe_text(part), style="bold reverse" if i % 2 else "")
                con.print(text)

    return View(
        document=document,
        rows=[{**r, "matches": "; ".join(plain(m["snippet"]) for m in r["matches"])} for r in rows],
        columns=[
            Column("id", "id"),
            Column("made", "made_on"),
            Column("by", "issuer"),
            Column("outcome", "outcome"),
            Column("matches", "matches", width=70),
        ],
        render=render,
    )
