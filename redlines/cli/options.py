"""Options that several commands share, declared once."""

from typing import Annotated

import typer

from redlines.cli import completion
from redlines.domain.outcomes import CATEGORIES, DEFAULT_GRACE_DAYS
from redlines.output.formats import FORMATS

MAX_LIMIT = 1_000_000_000  # larger numbers than SQLite's integers can hold are refused as usage errors


def format_option(formats: tuple[str, ...] = FORMATS, help: str | None = None):
    """--format, one of `formats`."""
    help = help or f"Output format: {', '.join(formats)}."
    return Annotated[str, typer.Option("--format", "-f", metavar="|".join(formats), help=help)]


Format = format_option()
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document (same as --format json).")]
Grace = Annotated[
    int | None,
    typer.Option(
        "--grace",
        metavar="DAYS",
        min=0,
        max=36_500,
        help="Days a crossed red line may go unanswered before it counts as not followed through "
        f"(default: the rules' grace period, {DEFAULT_GRACE_DAYS}).",
        show_default=False,
    ),
]
Explain = Annotated[bool, typer.Option("--explain", help="Show which rule and which events decided each outcome.")]
Actors = Annotated[
    list[str] | None,
    typer.Option(
        "--actor",
        "-a",
        metavar="ACTOR",
        help="Only threats issued by this actor (slug, name or alias); repeatable.",
        autocompletion=completion.actors,
    ),
]
Category = Annotated[
    str | None,
    typer.Option("--category", "-c", metavar="|".join(CATEGORIES), help="Only threats of this category."),
]
Since = Annotated[str | None, typer.Option("--since", metavar="DATE", help="Only threats made on or after DATE.")]
Until = Annotated[
    str | None,
    typer.Option(
        "--until", metavar="DATE", help="Only threats made on or before DATE (a month or year counts to its end)."
    ),
]


All = Annotated[
    bool, typer.Option("--all", help="Every row, not a page of 50 (json, jsonl, csv and md give every row anyway).")
]


def page(what: str) -> dict:
    """The options of a listing, for `gathered`: --limit N (the N `what`) and --all."""
    limit = typer.Option("--limit", "-n", min=0, max=MAX_LIMIT, help=f"The N {what} (a table shows 50 by default).")
    return {"limit": Annotated[int | None, limit], "all_": All}


Output = Annotated[str | None, typer.Option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")]


def output_format(fmt: str, json_: bool, allowed: tuple[str, ...] = FORMATS) -> str:
    """The format asked for, `--json` winning; an unknown one is bad usage (exit 2)."""
    if json_:
        return "json"
    if fmt not in allowed:
        raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(allowed)}", param_hint="--format")
    return fmt


# The option that sets each field the library names in its errors (`statement needs some text`
# is `--said needs some text` on the command line).
OPTION_OF = {
    "statement": "--said",
    "trigger": "--if",
    "consequence": "--then",
    "made_on": "--on",
    "on": "--on",
    "issuer": "--by",
    "by": "--by",
    "targets": "--against",
    "tags": "--tag",
    "aliases": "--alias",
    "sources": "--source",
    "quotes": "--quote",
    **{f: f"--{f}" for f in ("what", "name", "kind", "of", "category", "deadline", "due", "outcome", "cameo")},
    **{f: f"--{f}" for f in ("since", "until", "within", "grace", "dossiers")},
}


def gathered(options: dict, into: str = "given", then=None):
    """A command that takes `options` (name: the `Annotated` option, None when not given; or
    (option, default)) where its parameter `into` stands, and receives their values there as one
    dict (or what `then` makes of it): commands that share options declare them once."""
    import functools
    import inspect

    declared = {n: o if isinstance(o, tuple) else (o, None) for n, o in options.items()}

    def wrap(command):
        sig = inspect.signature(command)
        params = []
        for p in sig.parameters.values():
            if p.name == into:
                params += [inspect.Parameter(n, p.kind, default=d, annotation=t) for n, (t, d) in declared.items()]
            else:
                params.append(p)

        @functools.wraps(command)
        def gathering(*args, **kwargs):
            given = {n: kwargs.pop(n) for n in declared}
            return command(*args, **{into: then(given) if then else given}, **kwargs)

        gathering.__signature__ = sig.replace(parameters=params)
        gathering.__annotations__ = {p.name: p.annotation for p in params}
        return gathering

    return wrap


def formatted(allowed: tuple[str, ...] = FORMATS, help: str | None = None, default: str = "table"):
    """A command that takes --format (one of `allowed`) and --json where its parameter `fmt`
    stands, and receives there the format they choose (`output_format`)."""
    return gathered(
        {"fmt": (format_option(allowed, help), default), "json_": (Json, False)},
        into="fmt",
        then=lambda given: output_format(given["fmt"], given["json_"], allowed),
    )
