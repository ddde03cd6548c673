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
        except UnicodeEncodeError as e:
            # Text that is not Unicode (half a surrogate pair: a byte of an argument that was not
            # UTF-8) reached a query or a write the checks of text do not see; the run is rolled back.
            from redlines.domain.checks import not_a_character

            bad = not_a_character(e.object)
            if bad is None:
                raise
            from redlines.output.messages import error

            error(BadInput(f"the text given holds {bad}, which is not a character (was it UTF-8 text?)"))
            raise typer.Exit(2) from None
        except OSError as e:
            # A file the user named cannot be used (too long a name, no permission, a full disk).
            import errno

            from redlines.errors import RedlinesError as Problem
            from redlines.output.messages import error

            name = f" {e.filename!r}"[:120] if e.filename else ""
            why = (
                "the disk is full; nothing was written" if e.errno in (errno.ENOSPC, errno.EDQUOT) else e.strerror or e
            )
            error(Problem(f"cannot use the file{name}: {why}"))
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

    def resolve_command(self, ctx, args):
        """As Click does, and an unknown command name suggests the nearest ones (exit 2)."""
        from typer._click.exceptions import UsageError  # Typer 0.26+ carries its own Click

        name = args[0] if args else ""
        if (
            not ctx.resilient_parsing
            and name
            and not name.startswith("-")
            and self.get_command(ctx, name) is None
            and (ctx.token_normalize_func is None or self.get_command(ctx, ctx.token_normalize_func(name)) is None)
        ):
            import difflib

            near = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.5)
            hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
            raise UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)


def _database_problem(e: Exception, ctx) -> RedlinesError:
    """SQLite's own error, said plainly: the command wrote nothing (its transaction rolled back)."""
    from redlines.store.engine import problem

    settings = ctx.obj if isinstance(ctx.obj, Settings) else None
    tracker = settings._tracker if settings else None
    refusal = getattr(getattr(tracker, "_conn", None), "refusal", None)
    if refusal is not None and ("readonly" in str(e) or "read-only" in str(e)):
        return refusal  # writes are refused: the file holds triggers or views redlines did not make
    return problem(e, tracker.path if tracker else "the database")


class LazyGroup(RedlinesGroup):
    """The root command: each command's module is imported only when that command runs, so
    that `--help`, `--version` and every command pay for their own imports alone. Global options
    may stand before or after the command name (see `redlines.cli.placement.place_global_options`)."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        loaded = self.__dict__.setdefault("_loaded", {})
        if name not in loaded:
            import importlib

            module = importlib.import_module(f"redlines.cli.{COMMANDS[name][0]}")
            loaded[name] = _placeholders(typer.main.get_group(module.app).get_command(ctx, name))
        return loaded[name]

    def parse_args(self, ctx, args):
        from redlines.cli.completion import with_shell_values
        from redlines.cli.placement import place_global_options

        return super().parse_args(ctx, place_global_options(self, ctx, with_shell_values(args, COMMANDS)))

    def shell_complete(self, ctx, incomplete):
        """Command names from the table below (no command module is imported), then options."""
        from typer._click.shell_completion import CompletionItem

        names = [CompletionItem(n, help=h) for n, (_, h) in COMMANDS.items() if n.startswith(incomplete)]
        return names + super(TyperGroup, self).shell_complete(ctx, incomplete)

    def _main_shell_completion(self, ctx_args, prog_name, complete_var=None):
        from redlines.cli.completion import complete

        complete(self, ctx_args, prog_name, complete_var)

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


def _placeholders(command):
    """One style of help for every command. A value an option or argument takes without a metavar
    of its own reads N for a number and its name in capitals otherwise (choices are written a|b|c
    where they are declared); and each command says which of the global options it takes too."""
    for param in getattr(command, "params", []):
        if param.metavar is None and not getattr(param, "is_flag", False):
            is_number = getattr(param.type, "name", "") in ("int", "int range", "integer", "integer range")
            param.metavar = "N" if is_number else (param.name or "value").upper()
    subs = getattr(command, "commands", {})
    for sub in subs.values():
        _placeholders(sub)
    if not subs and not command.epilog:
        command.epilog = "The global options --db PATH, --as-of DATE and --no-input may stand here too."
    return command


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
    "history": ("record", "Every change, grouped per command run, with its author, newest first."),
    "undo": ("record", "Take back your own last run, whole (undo again to redo it); --run N a given one."),
    "report": ("judge", "The follow-through scorecard: outcomes per group, the rate and its 95% interval."),
    "timeline": ("judge", "Threats and their events in date order: a chronology of the latest entries."),
    "due": ("judge", "Deadlines coming up, and deadlines passed or red lines crossed with no response, oldest first."),
    "export": ("exchange", "The whole data set, in a stable order, to rebuild it elsewhere with `import`."),
    "import": (
        "exchange",
        "Load a data set, merging by id: all of it lands, or none. Importing twice changes nothing.",
    ),
    "schema": ("exchange", "Print the JSON Schema of an output."),
    "db": ("db", "The database file: where it is, create, inspect, check, upgrade, back up, copy."),
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
            db = self.db
            if db is None and os.environ.get("REDLINES_DB") == "":
                db = ""  # an empty location is bad usage, not the default database
            self._tracker = Tracker(db, today=today, as_of=self.as_of)
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
    "and whether they were carried out.\n\n"
    "The global options --db, --as-of and --no-input, and --json, --grace and --yes on the commands "
    "that take them, may stand before or after the command name.",
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


def _completion(action: str, help: str):
    """--install-completion or --show-completion: done at once, for the shell named."""

    def callback(ctx: typer.Context, value: str | None) -> None:
        from redlines.cli import completion

        getattr(completion, action)(ctx, value)

    option = typer.Option(
        f"--{action}-completion",
        metavar="[bash|zsh|fish]",
        callback=callback,
        is_eager=True,
        expose_value=False,
        help=help,
    )
    return Annotated[str | None, option]


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
    install_completion: _completion(
        "install", "Install shell completion for the shell named, else the one running redlines."
    ) = None,
    show_completion: _completion("show", "Print the shell completion script, to install it by hand.") = None,
) -> None:
    ctx.obj = Settings(db=db, as_of=as_of, no_input=no_input)


def settings(ctx: typer.Context) -> Settings:
    return ctx.find_root().obj


def main() -> None:
    try:
        app()
    finally:
        # What is still buffered goes out now: a reader that went away (`| head`) is not an error
        # of ours, and must not turn a finished command into "Exception ignored" and exit 120.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
