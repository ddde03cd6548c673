"""list, show, actors: reading the record."""

from typing import Annotated

import typer

from redlines.cli import command_app, completion, settings
from redlines.cli.options import (
    Actors,
    Category,
    Explain,
    Grace,
    Since,
    Until,
    formatted,
    gathered,
    page,
)
from redlines.domain.filters import Filters
from redlines.domain.outcomes import OUTCOMES


@formatted()
@gathered(page("newest threats"), into="page")
def list_threats(
    ctx: typer.Context,
    actor: Actors = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", "-t", metavar="ACTOR", help="Only threats against this actor.", autocompletion=completion.actors
        ),
    ] = None,
    category: Category = None,
    outcome: Annotated[
        str | None,
        typer.Option(
            "--outcome",
            metavar="|".join(OUTCOMES),
            help="Only threats with this outcome.",
        ),
    ] = None,
    since: Since = None,
    until: Until = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search", "-s", metavar="TEXT", help="Only threats whose statement, trigger or consequence holds TEXT."
        ),
    ] = None,
    page: dict = None,  # --limit, --all: see `gathered`
    grace: Grace = None,
    fmt: str = "table",  # --format, --json: see `formatted`
) -> None:
    """Threats, newest first, with the outcome each has as of today (or --as-of)."""
    from redlines.output import views
    from redlines.output.formats import emit_listing

    tracker = settings(ctx).tracker()
    filters = Filters(actor or (), target, category, outcome, since, until, search)
    emit_listing(
        lambda rows: views.threats(rows, as_of=tracker.as_of.isoformat()),
        fmt,
        **page,
        fetch=lambda n: tracker.threats_stream(filters, limit=n, grace=grace),
        count=lambda: tracker.count_threats(filters, grace=grace),
        noun="threats",
    )


@formatted()
def show(
    ctx: typer.Context,
    threat_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="A threat id or any unique start of one; or an event id (THREAT#N), shown in its threat.",
            autocompletion=completion.threats,
        ),
    ],
    grace: Grace = None,
    explain: Explain = False,
    fmt: str = "table",  # --format, --json: see `formatted`
) -> None:
    """One threat: its statement, trigger, consequence, deadline, timeline of events and sources."""
    from redlines.output import views
    from redlines.output.formats import emit

    emit(views.threat(settings(ctx).tracker().threat(threat_id, grace=grace, explain=explain)), fmt)


@formatted()
def actors(ctx: typer.Context, fmt: str = "table") -> None:  # --format, --json: see `formatted`
    """Actors with their aliases, the state or body they speak for, and their counts."""
    from redlines.output import views
    from redlines.output.formats import emit

    emit(views.actors(settings(ctx).tracker().actors()), fmt)


@formatted()
@gathered(page("best threats"), into="page")
def search(
    ctx: typer.Context,
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help='Words to find (FTS5 syntax works too: "red line", nucl*, a OR b).')
    ],
    page: dict = None,  # --limit, --all: see `gathered`
    grace: Grace = None,
    fmt: str = "table",  # --format, --json: see `formatted`
) -> None:
    """Full-text search over statements, triggers, consequences, events and quotes, best first."""
    from redlines.output import views
    from redlines.output.formats import emit_listing
    from redlines.output.messages import info

    tracker = settings(ctx).tracker()
    words = tracker.search_as_words(text)
    if words is not None:
        info(f"the search syntax of {text!r} cannot be read; searched for the words {words or '(none)'}")
    emit_listing(
        lambda rows: views.search(rows, query=text),
        fmt,
        **page,
        fetch=lambda n: tracker.search(text, limit=n, grace=grace),
        count=lambda: tracker.count_search(text),
        noun="matching threats",
    )


app = command_app()
app.command("list")(list_threats)
app.command("show")(show)
app.command("actors")(actors)
app.command("search")(search)
