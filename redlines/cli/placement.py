"""Where the global options may stand: before or after the command name.

Its own small module (typer alone), because every invocation, `--version` included, passes
through it: the option declarations in `cli/options.py` pull in the output formats and the
rules, which only a command needs."""

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
