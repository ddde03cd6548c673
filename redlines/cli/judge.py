"""report: the follow-through scorecard."""

import sys
from typing import Annotated

import typer

from redlines.cli import command_app, settings
from redlines.cli.options import (
    MAX_LIMIT,
    Actors,
    Category,
    Explain,
    Grace,
    Output,
    Since,
    Until,
    formatted,
    gathered,
    page,
)
from redlines.domain.filters import Filters
from redlines.output.formats import FORMATS


@formatted(
    (*FORMATS, "html"),
    "Output format; html is one self-contained page: the scorecard, a chart of every threat, "
    "and the dossiers of the most recent.",
)
def report(
    ctx: typer.Context,
    actor: Actors = None,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            metavar="actor|state|category|year",
            help="Group by issuer, by the state or body it speaks for, by category or by year.",
        ),
    ] = "actor",
    category: Category = None,
    since: Since = None,
    until: Until = None,
    grace: Grace = None,
    explain: Explain = False,
    fmt: str = "table",  # --format, --json: see `formatted`
    output: Output = None,
    dossiers: Annotated[
        int | None,
        typer.Option(
            "--dossiers",
            metavar="N",
            min=0,
            max=10_000,
            help="With --format html: the dossiers of the N most recent threats (default 200).",
        ),
    ] = None,
) -> None:
    """The follow-through scorecard: outcomes per group, the rate and its 95% interval."""
    from redlines.output import views
    from redlines.output.formats import emit

    if dossiers is not None and fmt != "html":
        raise typer.BadParameter("only --format html prints dossiers", param_hint="--dossiers")
    tracker = settings(ctx).tracker()
    filters = Filters(actor or (), category=category, since=since, until=until)
    rep = tracker.report(filters, by=by, grace=grace, explain=explain)
    limit = {} if dossiers is None else {"limit": dossiers}
    page = (lambda: tracker.dossiers(filters, grace=grace, **limit)) if fmt == "html" else None
    emit(views.report(rep, page), fmt, output)


@formatted()
@gathered(page("latest entries"), into="page")
def timeline(
    ctx: typer.Context,
    actor: Actors = None,
    since: Annotated[str | None, typer.Option("--since", metavar="DATE", help="From DATE on.")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DATE", help="Up to DATE.")] = None,
    page: dict = None,  # --limit, --all: see `gathered`
    fmt: str = "table",  # --format, --json: see `formatted`
) -> None:
    """Threats and their events in date order: a chronology of the latest entries."""
    from redlines.output import views
    from redlines.output.formats import emit_listing

    tracker = settings(ctx).tracker()
    span = Filters(actor or (), since=since, until=until)
    emit_listing(
        views.timeline,
        fmt,
        **page,
        fetch=lambda n: tracker.timeline(span, limit=n),
        count=lambda: tracker.count_timeline(span),
        noun="entries",
    )


@formatted()
def due(
    ctx: typer.Context,
    within: Annotated[
        str,
        typer.Option(
            "--within", "-w", metavar="SPAN", help="How far ahead to look for deadlines: 30d, 2w, 3m, 1y or a date."
        ),
    ] = "30d",
    actor: Actors = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, max=MAX_LIMIT, help="At most N, oldest first.")] = 50,
    grace: Grace = None,
    fmt: str = "table",  # --format, --json: see `formatted`
) -> None:
    """Deadlines coming up, and deadlines passed or red lines crossed with no response, oldest first."""
    from redlines.output import views
    from redlines.output.formats import emit
    from redlines.output.messages import info

    tracker = settings(ctx).tracker()
    probe = limit + 1 if limit < MAX_LIMIT else limit  # one more than shown: are there more?
    rows = tracker.due(Filters(actor or ()), within=within, limit=probe, grace=grace)
    emit(views.due(rows[:limit], as_of=tracker.as_of.isoformat()), fmt)
    if len(rows) > limit:
        sys.stdout.flush()
        info(f"showing the first {limit:,}; more are due or waiting: --limit N for more")


app = command_app()
app.command("report")(report)
app.command("timeline")(timeline)
app.command("due")(due)
