"""add, edit, delete, history, undo: recording and correcting the record."""

from collections.abc import Callable
from typing import Annotated

import typer

from redlines.cli import RedlinesGroup, command_app, completion, settings
from redlines.cli.options import formatted, gathered, page
from redlines.domain.checks import ACTOR_KINDS, choice
from redlines.domain.outcomes import CATEGORIES, EVENT_KINDS, RESPONSE_OUTCOMES
from redlines.errors import BadInput, RedlinesError
from redlines.schema import spoken

add_app = typer.Typer(
    cls=RedlinesGroup, no_args_is_help=True, rich_markup_mode=None, help="Record a new actor, threat or event."
)

Text = str | None
Many = list[str] | None
# The options of add and edit, declared once.
By = Annotated[
    Text,
    typer.Option(
        "--by", metavar="ACTOR", help="Who made the threat (slug, name or alias).", autocompletion=completion.actors
    ),
]
On = Annotated[Text, typer.Option("--on", metavar="DATE", help="When it was made or happened (not in the future).")]
Said = Annotated[Text, typer.Option("--said", metavar="TEXT", help="The threat, as stated.")]
Against = Annotated[
    Many,
    typer.Option("--against", metavar="ACTOR", help="Whom it targets; repeatable.", autocompletion=completion.actors),
]
If = Annotated[Text, typer.Option("--if", metavar="TRIGGER", help="What would trigger it (the red line).")]
Then = Annotated[Text, typer.Option("--then", metavar="CONSEQUENCE", help="What was threatened.")]
CategoryOpt = Annotated[
    Text, typer.Option("--category", "-c", metavar="|".join(CATEGORIES), help="What kind of threat it is.")
]


def _after_on(flag: str, what: str, example: str):
    """A date option that may lie in the future, whose relative forms count from --on."""
    return Annotated[
        Text,
        typer.Option(flag, metavar="DATE", help=f"{what}; relative forms ({example}, in 2 weeks) count from --on."),
    ]


Deadline = _after_on("--deadline", "The deadline set with it (may be future)", "+30d")
Source = Annotated[Many, typer.Option("--source", metavar="URL", help="A source; repeatable.")]
Quote = Annotated[
    Many,
    typer.Option("--quote", metavar="TEXT", help="A verbatim quote from the --source in the same place; repeatable."),
]
Tag = Annotated[Many, typer.Option("--tag", metavar="TAG", help="A tag; repeatable.")]
Cameo = Annotated[Text, typer.Option("--cameo", metavar="CODE", help="A CAMEO event code, to join with event data.")]
EventKind = Annotated[Text, typer.Option("--kind", "-k", metavar="|".join(EVENT_KINDS), help="What happened.")]
Kind = Annotated[
    Text,
    typer.Option(  # edit: of an event, or of an actor
        "--kind", "-k", metavar="KIND", help=f"Event: {spoken(EVENT_KINDS)}. Actor: {spoken(ACTOR_KINDS)}."
    ),
]
What = Annotated[Text, typer.Option("--what", metavar="TEXT", help="What happened.")]
OutcomeOpt = Annotated[
    Text,
    typer.Option("--outcome", metavar="|".join(RESPONSE_OUTCOMES), help="For a response: what it amounts to."),
]
Due = _after_on("--due", "For a deadline event: the new deadline", "+10d")
Name = Annotated[Text, typer.Option("--name", metavar="NAME", help="The actor's name.")]
Of = Annotated[
    Text,
    typer.Option(
        "--of", metavar="ACTOR", help="The state or body the actor speaks for.", autocompletion=completion.actors
    ),
]
Alias = Annotated[Many, typer.Option("--alias", metavar="NAME", help="Another name it goes by; repeatable.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
# The options of a threat, of an event and of an actor, as `add` and `edit` take them.
THREAT = {
    "by": By,
    "on": On,
    "said": Said,
    "against": Against,
    "trigger": If,
    "consequence": Then,
    "category": CategoryOpt,
    "deadline": Deadline,
    "source": Source,
    "quote": Quote,
    "tag": Tag,
    "cameo": Cameo,
}
EVENT = {"what": What, "outcome": OutcomeOpt, "due": Due}
ACTOR = {"name": Name, "of": Of, "alias": Alias}
# The library's names of the fields whose options are named for one item.
FIELD_OF = {"source": "sources", "quote": "quotes", "tag": "tags", "alias": "aliases"}


def _fields(given: dict, lists: list[str] | None = None) -> dict:
    """The options given, under the library's names; the lists named in `lists` empty if not given."""
    out = {FIELD_OF.get(k, k): v for k, v in given.items()}
    for k in lists or []:
        out[FIELD_OF.get(k, k)] = given[k] or []
    return out


def _needed(what: str) -> Callable[[str], None]:
    def check(answer: str) -> None:
        if not answer.strip():
            raise BadInput(f"{what} is needed")

    return check


def _ask(label: str, check: Callable[[str], object], default: str | None = None) -> str:
    """Ask until the answer passes `check` (a service call that raises on bad input)."""
    from redlines.output.messages import error

    while True:
        answer = typer.prompt(label, default=default, err=True)
        try:
            check(answer)
            return answer
        except RedlinesError as e:
            error(e)


def _optional(label: str) -> str | None:
    """Ask for something that may be left out: Enter alone gives None."""
    return typer.prompt(label, default="", show_default=False, err=True).strip() or None


@add_app.command("actor")
def add_actor(
    ctx: typer.Context,
    slug: Annotated[
        str, typer.Argument(metavar="SLUG", help="1-64 lowercase letters, digits and -, e.g. kim-jong-un.")
    ],
    name: Name = None,
    kind: Annotated[
        str, typer.Option("--kind", "-k", metavar="|".join(ACTOR_KINDS), help="What kind of actor it is.")
    ] = "person",
    of: Of = None,
    alias: Alias = None,
) -> None:
    """Add an actor; prints its slug."""
    tracker = settings(ctx).tracker()
    if name is None:
        if not settings(ctx).interactive():
            raise BadInput("missing --name (or run on a terminal to be asked)")
        name = _ask("Name", _needed("a name"))
    typer.echo(tracker.add_actor(slug, name=name, kind=kind, of=of, aliases=alias or []))


@add_app.command("threat")
@gathered(THREAT)
def add_threat(
    ctx: typer.Context,
    given: dict,
    threat_id: Annotated[Text, typer.Option("--id", metavar="ID", help="Choose the id (letters, digits, -).")] = None,
) -> None:
    """Record a threat; prints its new id. On a terminal, asks for what is missing."""
    s = settings(ctx)
    tracker = s.tracker()
    t = dict(given)
    missing = [f"--{o}" for o in ("by", "on", "said") if t[o] is None]
    if missing and not s.interactive():
        raise BadInput(f"missing {', '.join(missing)} (or run on a terminal to be asked)")
    if t["by"] is None:
        t["by"] = _ask("Made by (actor)", tracker.resolve_actor)
    if t["on"] is None:
        t["on"] = _ask("Made on (date)", lambda d: tracker.read_date(d, "date", past=True), default="today")
    if t["said"] is None:
        t["said"] = _ask("Statement", _needed("a statement"))
        if t["category"] is None:
            t["category"] = _ask(
                f"Category ({', '.join(CATEGORIES)})", lambda c: choice("category", c, CATEGORIES), default="other"
            )
    if missing and not t["source"]:  # asked for the rest: ask for the source too, which Enter skips
        url = _optional("Source URL (Enter skips)")
        if url:
            t["source"] = [url]
            t["quote"] = [q] if (q := _optional("Quote from it, verbatim (Enter skips)")) else t["quote"]
    typer.echo(tracker.add_threat(**_fields(t, ["against", "source", "quote", "tag"]), threat_id=threat_id))


@add_app.command("event")
@gathered({"kind": EventKind, "on": On, **EVENT, "source": Source, "quote": Quote, "cameo": Cameo})
def add_event(
    ctx: typer.Context,
    threat_id: Annotated[
        str,
        typer.Argument(metavar="THREAT_ID", help="The threat it happened to.", autocompletion=completion.threats),
    ],
    given: dict,
) -> None:
    """Record something that happened to a threat; prints the event's id."""
    missing = [f"--{o}" for o in ("kind", "on", "what") if given[o] is None]
    if missing:
        raise BadInput(f"missing {', '.join(missing)}")
    typer.echo(settings(ctx).tracker().add_event(threat_id, **_fields(given, ["source", "quote"])))


@gathered({**THREAT, "kind": Kind, **EVENT, **ACTOR})
def edit(
    ctx: typer.Context,
    record_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="A threat id, an event id (THREAT#N) or an actor.", autocompletion=completion.records
        ),
    ],
    given: dict,
) -> None:
    """Change a threat, event or actor. "" clears an optional field; --against, --tag and --alias
    replace their lists; --source adds a source."""
    from redlines.output.messages import info

    rec, changed = settings(ctx).tracker().edit(record_id, **_fields(given))
    info(f"changed {rec.label} ({changed} row{'s' * (changed != 1)})" if changed else f"{rec.label}: nothing changed")


def _confirm(ctx: typer.Context, question: str, yes: bool) -> None:
    """Go on only with --yes, or with a yes from a person at a terminal."""
    if yes:
        return
    if not settings(ctx).interactive():
        raise BadInput("this would ask for confirmation, and there is no terminal to ask on", ["add --yes to go ahead"])
    if not typer.confirm(question, default=False, err=True):
        raise RedlinesError("cancelled; nothing was changed")


def delete(
    ctx: typer.Context,
    record_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="A threat id, an event id (THREAT#N) or an actor.", autocompletion=completion.records
        ),
    ],
    yes: Yes = False,
) -> None:
    """Remove a threat (with its events), an event or an actor (asks first on a terminal)."""
    from redlines.output.messages import info

    tracker = settings(ctx).tracker()
    rec, doomed = tracker.describe_delete(record_id)
    info("this removes: " + ", ".join(doomed))
    _confirm(ctx, f"Delete {rec.label}?", yes)
    tracker.delete(record_id)
    info(f"deleted {rec.label}" + (f" and {len(doomed) - 1} event(s)" if len(doomed) > 1 else ""))


@formatted()
@gathered(page("newest runs"), into="page")
def history(
    ctx: typer.Context,
    page: dict = None,  # --limit, --all: see `gathered`
    author: Annotated[
        str | None, typer.Option("--author", metavar="NAME", help="Only the runs this author made.")
    ] = None,
    fmt: str = "table",  # --format, --json: see `formatted`
) -> None:
    """Every change, grouped per command run, with its author, newest first."""
    from redlines.output import views
    from redlines.output.formats import emit_listing

    tracker = settings(ctx).tracker()
    slugs = tracker.actor_slugs()
    emit_listing(
        lambda runs: views.history(runs, slugs, author),
        fmt,
        **page,
        fetch=lambda limit: tracker.history_stream(limit, author),
        count=lambda: tracker.count_runs(author),
        noun="runs",
    )


def undo(
    ctx: typer.Context,
    run_id: Annotated[
        int | None,
        typer.Option("--run", metavar="N", min=1, help="Take back run N (any author's; see `redlines history`)."),
    ] = None,
    yes: Yes = False,
) -> None:
    """Take back your own last run, whole (undo again to redo it); --run N a given one.

    Your runs are those recorded under REDLINES_AUTHOR, else your login name. An undo is refused,
    naming the run, when a later run changed the same records."""
    from redlines.output import views
    from redlines.output.messages import info

    tracker = settings(ctx).tracker()
    target = tracker.run_to_undo(run_id)
    info(views.run_summary(target, tracker.actor_slugs()))
    _confirm(ctx, "Undo it?", yes)
    tracker.undo(expected_run=target["run"], run_id=run_id)
    info(f"undone: #{target['run']} {target['command']}")


app = command_app()
app.add_typer(add_app, name="add")
app.command("edit")(edit)
app.command("delete")(delete)
app.command("history")(history)
app.command("undo")(undo)
