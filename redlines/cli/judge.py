"""report: the follow-through scorecard."""

from __future__ import annotations

from typing import Annotated

import typer

from redlines.cli import settings
from redlines.cli.options import Actors, Category, Format, Grace, Json, Since, Until, output_format
from redlines.domain.outcomes import DEFAULT_GRACE_DAYS


def report(
    ctx: typer.Context,
    actor: Actors = None,
    by: Annotated[str, typer.Option(
        "--by", metavar="actor|state|category|year",
        help="Group by issuer, by the state or body it speaks for, by category or by year.")] = "actor",
    category: Category = None,
    since: Since = None,
    until: Until = None,
    grace: Grace = DEFAULT_GRACE_DAYS,
    fmt: Format = "table",
    json_: Json = False,
) -> None:
    """The follow-through scorecard: outcomes per group, the rate and its 95% interval."""
    from redlines.output import views
    from redlines.output.formats import emit

    fmt = output_format(fmt, json_)
    rep = settings(ctx).tracker().report(by=by, actors=actor or [], category=category,
                                         since=since, until=until, grace=grace)
    emit(views.report(rep), fmt)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
