"""Options that several commands share, declared once."""

from typing import Annotated

import typer

from redlines.cli import completion
from redlines.domain.outcomes import CATEGORIES, DEFAULT_GRACE_DAYS
from redlines.output.formats import FORMATS

MAX_LIMIT = 1_000_000_000  # larger numbers than SQLite's integers can hold are refused as usage errors
Format = Annotated[
    str, typer.Option("--format", "-f", metavar="|".join(FORMATS), help=f"Output format: {', '.join(FORMATS)}.")
]
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
Output = Annotated[str | None, typer.Option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")]


def output_format(fmt: str, json_: bool, allowed: tuple[str, ...] = FORMATS) -> str:
    """The format asked for, `--json` winning; an unknown one is bad usage (exit 2)."""
    if json_:
        return "json"
    if fmt not in allowed:
        raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(allowed)}", param_hint="--format")
    return fmt


# --- global options, before or after the command name ------------------------------------------

# The global options, and whether each takes a value. Each may stand before or after the command
# name: it is given to the command when the command declares it (--json, --grace, --yes), else to
# `redlines` itself (--db, --as-of, --no-input).
GLOBAL_OPTIONS = {"--db": True, "--as-of": True, "--grace": True, "--no-input": False, "--yes": False, "--json": False}


def _options(command) -> dict[str, object]:
    """A command's option names, each with its Click option."""
    from typer.core import TyperOption  # Typer 0.26+ carries its own, trimmed Click (pinned below 0.29)

    return {name: p for p in command.params if isinstance(p, TyperOption) for name in (*p.opts, *p.secondary_opts)}


def _takes_value(option) -> bool:
    """Whether a Click option consumes the token after it as its value."""
    return not (option.is_flag or option.count)


def place_global_options(root, ctx, args: list[str]) -> list[str]:
    """The command line with every global option moved to the command that declares it.

    `redlines list --db X --json` becomes `redlines --db X list --json`, and
    `redlines --yes undo` becomes `redlines undo --yes`. Option values are never mistaken for
    options (`--said --json` is a statement), and nothing after `--` moves. A global option that
    neither the command nor `redlines` declares is bad usage (exit 2)."""
    from typer._click.exceptions import UsageError
    from typer.core import TyperGroup

    args = list(args)
    moved: list[list[str]] = []  # each global option found, with its value
    regions: list[tuple[object, list[str]]] = []  # (command, the tokens that stay with it)
    command, kept, i = root, [], 0
    options = _options(command)
    while i < len(args):
        token = args[i]
        following = args[i + 1] if i + 1 < len(args) else None
        if token == "--":
            kept.extend(args[i:])
            break
        name, eq, value = token.partition("=")
        if token.startswith("--") and name in GLOBAL_OPTIONS:
            if eq or not GLOBAL_OPTIONS[name]:
                moved.append([token])
                i += 1
            elif following is not None:
                moved.append([token, following])
                i += 2
            elif not ctx.resilient_parsing:
                raise UsageError(f"Option '{name}' requires an argument.", ctx)
            else:
                i += 1
            continue
        if token.startswith("-") and token != "-":
            kept.append(token)
            i += 1
            if token.startswith("--"):
                option = options.get(name)
                if option is not None and not eq and _takes_value(option) and following is not None:
                    kept.append(following)
                    i += 1
            else:  # short options, possibly several flags together (-ay) or with a value (-n5)
                for n, char in enumerate(token[1:], 1):
                    option = options.get(f"-{char}")
                    if option is not None and _takes_value(option):
                        if n == len(token) - 1 and following is not None:
                            kept.append(following)
                            i += 1
                        break
            continue
        kept.append(token)
        i += 1
        if isinstance(command, TyperGroup):  # the name of the subcommand: what follows is its own
            sub = command.get_command(ctx, token)
            if sub is None:
                return args  # an unknown command: Click says so, with suggestions
            regions.append((command, kept))
            command, kept = sub, []
            options = _options(command)
    regions.append((command, kept))
    if not moved:
        return args
    leaf, root_options = regions[-1][0], _options(root)
    to_root, to_leaf = [], []
    for option in moved:
        name = option[0].partition("=")[0]
        if leaf is not root and name in _options(leaf):
            to_leaf.extend(option)
        elif name in root_options:
            to_root.extend(option)
        elif not ctx.resilient_parsing:  # (completing a command line: never fail)
            path = " ".join([ctx.info_name or "redlines", *(c.name for c, _ in regions[1:])])
            raise UsageError(f"{name} means nothing to `{path}`", ctx)
    regions[0][1][:0] = to_root
    regions[-1][1][:0] = to_leaf
    return [token for _, tokens in regions for token in tokens]


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
