"""db path|init|status|upgrade|check|backup|copy|grant-read|grant-write: the database itself."""

from typing import Annotated

import typer

from redlines.cli import RedlinesGroup, command_app, settings
from redlines.cli.options import Output, formatted

group = typer.Typer(
    cls=RedlinesGroup,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="The database file: where it is, create, inspect, check, upgrade, back up, copy.",
)


@group.command("path")
def path(ctx: typer.Context) -> None:
    """Print the database file in use (it is not created)."""
    typer.echo(settings(ctx).tracker().path)


@group.command("init")
def init(
    ctx: typer.Context,
    empty: Annotated[bool, typer.Option("--empty", help="Leave it without records (no seed data).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file (a backup is kept).")] = False,
) -> None:
    """Create the database, seeded with the bundled data set unless --empty."""
    from redlines.output.messages import info

    tracker = settings(ctx).tracker()
    replaced = tracker.init(empty=empty, force=force)
    if replaced:
        info(f"the old database was backed up to {replaced}")
    info(f"created {tracker.path}" + (" (empty)" if empty else " with the bundled data set"))


@group.command("status")
@formatted()
def status(ctx: typer.Context, fmt: str = "table") -> None:  # --format, --json: see `formatted`
    """What the database holds and which schema it is at."""
    from redlines.output.formats import Column, View, emit

    st = settings(ctx).tracker().status()
    rows = [{"field": k, "value": v if not isinstance(v, dict) else f"{v['at']} {v['command']}"} for k, v in st.items()]
    emit(View(document=st, rows=rows, columns=[Column("field", "field"), Column("value", "value")]), fmt)


@group.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Bring the database to this release's schema (a backup is written first). Opening it does
    this too; this command only makes it explicit."""
    from redlines.output.messages import info

    st = settings(ctx).tracker().status()
    info(f"{st['path']} is at schema {st['schema_version']}, the newest this release knows")


@group.command("check")
def check(
    ctx: typer.Context,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Drop triggers and views that redlines did not make, recreate its own, and build the search index "
            "anew if it does not match the records (a backup is written first).",
        ),
    ] = False,
) -> None:
    """Check the file's integrity, its references, its search index, and its triggers and views;
    exit 1 if anything is wrong."""
    from redlines.errors import DatabaseProblem
    from redlines.output.messages import info

    tracker = settings(ctx).tracker()
    problems = tracker.check(repair=repair)
    done, saved = tracker.repaired
    if saved:
        info(f"backup at {saved}")
    for line in done:
        info(line)
    if problems:
        hints = problems[:20]
        if tracker.repairable:
            hints.append(
                f"`redlines --db {tracker.path} db check --repair` puts the triggers, views and search index right"
            )
        raise DatabaseProblem(f"{tracker.path} has {len(problems)} problem(s)", hints)
    info(f"{tracker.path}: ok")


@group.command("backup")
def backup(
    ctx: typer.Context,
    to: Annotated[str | None, typer.Argument(metavar="[FILE]", help="Where to write the copy.")] = None,
    output: Output = None,
) -> None:
    """Write a consistent copy of the database (safe while others write); print its path."""
    if to is not None and output is not None:
        raise typer.BadParameter("give the file once: as FILE or as -o FILE", param_hint="-o")
    typer.echo(settings(ctx).tracker().backup(output if output is not None else to))


@group.command("copy")
def copy(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="The database to copy from.")],
    target: Annotated[str, typer.Argument(metavar="TO", help="Where to copy it: a new or empty database.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a TO that holds a data set (a backup is kept).")
    ] = False,
) -> None:
    """Copy a whole data set, history and authors included, from FROM to TO, row by row."""
    from redlines.output.messages import info
    from redlines.transfer import copy as copy_data

    src, dst, counts, saved = copy_data(source, target, force=force)
    if saved:
        info(f"the old {dst} was backed up to {saved}")
    info(
        f"copied {src} to {dst}: {counts.get('threat', 0)} threats, {counts.get('event', 0)} events, "
        f"{counts.get('actor', 0)} actors, {counts.get('source', 0)} sources, {counts.get('run', 0)} runs of history"
    )


Role = Annotated[str, typer.Argument(metavar="ROLE", help="The database role (PostgreSQL only).")]


@group.command("grant-read")
def grant_read(ctx: typer.Context, role: Role) -> None:
    """Let ROLE read everything (a PostgreSQL server; a SQLite file is governed by its permissions)."""
    from redlines.output.messages import info
    from redlines.transfer import grant

    info(grant(settings(ctx).db, role, write=False))


@group.command("grant-write")
def grant_write(ctx: typer.Context, role: Role) -> None:
    """Let ROLE read and write (a PostgreSQL server; a SQLite file is governed by its permissions)."""
    from redlines.output.messages import info
    from redlines.transfer import grant

    info(grant(settings(ctx).db, role, write=True))


app = command_app()
app.add_typer(group, name="db")
