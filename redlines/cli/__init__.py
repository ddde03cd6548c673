"""The `redlines` command: the Typer app, its global options, and the one place errors are shown.

Each command group lives in its own module and only parses, calls `redlines.service.Tracker`
and hands the result to `redlines.output`. Nothing heavy is imported here: `--help` and
`--version` cost typer alone, and the database layer loads when a command first needs it.
"""

import os
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from redlines import __version__
from redlines.errors import BadInput, RedlinesError


class RedlinesGroup(TyperGroup):
    """Shows a RedlinesError as one clear message on stderr and exits with its status."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RedlinesError as e:
            from redlines.cli.options import OPTION_OF
            from redlines.output.messages import error

            e.named(OPTION_OF)
            error(e)
            raise typer.Exit(int(e.status)) from None
        except BrokenPipeError:
            # The reader of our stdout went away (`redlines list | head`): not an error of ours.
            # Point stdout at devnull so that the flush at exit does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except OSError as e:
            # A file the user named cannot be used (too long a name, no permission, a full disk).
            from redlines.errors import RedlinesError as Problem
            from redlines.output.messages import error

            name = f" {e.filename!r}"[:120] if e.filename else ""
            error(Problem(f"cannot use the file{name}: {e.strerror or e}"))
            raise typer.Exit(1) from None
        except Exception as e:
            import sqlite3

            if not isinstance(e, sqlite3.Error):
                raise
            from redlines.output.messages import error

            error(_database_problem(e, ctx))
            raise typer.Exit(1) from None
        finally:
            settings = ctx.obj
            if isinstance(settings, Settings):
                settings.close()

    def list_commands(self, ctx):
        return list(self.commands)  # in the order they were added, not alphabetical


def _database_problem(e: Exception, ctx) -> RedlinesError:
    """SQLite's own error, said plainly: the command wrote nothing (its transaction rolled back)."""
    from redlines.errors import DatabaseProblem

    settings = ctx.obj if isinstance(ctx.obj, Settings) else None
    where = settings.tracker().path if settings and settings._tracker else "the database"
    text = str(e)
    if "readonly" in text or "read-only" in text:
        return DatabaseProblem(f"{where} is read-only: reading works, writing needs write access; nothing was written")
    if "locked" in text or "busy" in text:
        return DatabaseProblem(f"{where} stayed busy with another writer; nothing was written", ["try again"])
    return DatabaseProblem(f"{where}: {text}; nothing was written")


class LazyGroup(RedlinesGroup):
    """The root command: each command's module is imported only when that command runs, so
    that `--help`, `--version` and every command pay for their own imports alone."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        import importlib

        module = importlib.import_module(f"redlines.cli.{COMMANDS[name][0]}")
        return typer.main.get_group(module.app).get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


# Every command: the module that holds it, and the line `redlines --help` shows for it (a test
# holds these to the commands' own help).
COMMANDS = {
    "list": ("read", "Threats, newest first, with the outcome each has as of today (or --as-of)."),
    "show": ("read", "One threat: its statement, trigger, consequence, deadline, timeline of events and sources."),
    "actors": ("read", "Actors with their aliases, the state or body they speak for, and their counts."),
    "search": ("read", "Full-text search over statements, triggers, consequences, events and quotes, best first."),
    "add": ("record", "Record a new actor, threat or event."),
    "edit": ("record", "Change a threat, event or actor."),
    "delete": ("record", "Remove a threat (with its events), an event or an actor (asks first on a terminal)."),
    "history": ("record", "Every change, grouped per command run, newest first."),
    "undo": ("record", "Revert the last command run that changed anything, whole; undo again to redo it."),
    "report": ("judge", "The follow-through scorecard: outcomes per group, the rate and its 95% interval."),
    "timeline": ("judge", "Threats and their events in date order: a chronology of the latest entries."),
    "due": ("judge", "Deadlines coming up, and deadlines passed or red lines crossed with no response, oldest first."),
    "export": ("exchange", "The whole data set, in a stable order, to rebuild it elsewhere with `import`."),
    "import": (
        "exchange",
        "Load a data set, merging by id: all of it lands, or none. Importing twice changes nothing.",
    ),
    "schema": ("exchange", "Print the JSON Schema of an output."),
    "db": ("db", "The database file: where it is, create, inspect, check, upgrade, back up."),
}


def command_app() -> typer.Typer:
    """The Typer app a command module puts its commands on."""
    return typer.Typer(rich_markup_mode=None, add_completion=False, pretty_exceptions_enable=False)


class Settings:
    """The global options, and the tracker they select (opened on first use)."""

    def __init__(self, db: str | None, as_of: str | None, no_input: bool = False):
        self.db, self.as_of, self.no_input = db, as_of, no_input
        self._tracker = None

    def interactive(self) -> bool:
        """May we ask the user questions? Only on a terminal, and never with --no-input."""
        return not self.no_input and sys.stdin.isatty()

    def tracker(self):
        if self._tracker is None:
            from redlines.domain.dates import parse
            from redlines.service import Tracker

            today_text = os.environ.get("REDLINES_TODAY")
            today = None
            if today_text:
                try:
                    today = parse(today_text, _system_today()).end()
                except BadInput as e:
                    raise BadInput(f"REDLINES_TODAY: {e.message}", e.hints) from None
            self._tracker = Tracker(self.db or None, today=today, as_of=self.as_of)
        return self._tracker

    def close(self) -> None:
        if self._tracker is not None:
            self._tracker.close()


def _system_today():
    from datetime import date

    return date.today()


app = typer.Typer(
    name="redlines",
    cls=LazyGroup,
    help="Track political threats (red lines, ultimatums, deadlines), the events that test them, "
    "and whether they were carried out.",
    rich_markup_mode=None,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"redlines {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="REDLINES_DB",
            metavar="PATH",
            help="The database file [env: REDLINES_DB; default: the user's data directory].",
            show_envvar=False,
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            envvar="REDLINES_AS_OF",
            metavar="DATE",
            help="See the record as it was known on DATE: later records are hidden, deadlines and "
            "grace periods are judged against DATE [env: REDLINES_AS_OF].",
            show_envvar=False,
        ),
    ] = None,
    no_input: Annotated[
        bool,
        typer.Option(
            "--no-input",
            envvar="REDLINES_NO_INPUT",
            help="Never ask questions: fail instead when something is missing [env: REDLINES_NO_INPUT].",
            show_envvar=False,
        ),
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    ctx.obj = Settings(db=db, as_of=as_of, no_input=no_input)


def settings(ctx: typer.Context) -> Settings:
    return ctx.find_root().obj


def main() -> None:
    app()
