"""Shell completion for bash, zsh and fish: `--show-completion` and `--install-completion`, and
the values completed from the database in use (`--db`, else REDLINES_DB, else the default file).

The shell asks through the environment: `_REDLINES_COMPLETE=complete_bash` (the order Typer's
scripts use) or `bash_complete` (Click's), with `COMP_WORDS` and `COMP_CWORD` for bash and
`_TYPER_COMPLETE_ARGS` for zsh and fish. Completing imports no database layer but stdlib sqlite3
(`redlines.store.candidates`), and no Rich.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

SHELLS = ("bash", "zsh", "fish")
OPTIONS = ("--install-completion", "--show-completion")


def with_shell_values(args: list[str], commands) -> list[str]:
    """--show-completion and --install-completion take a shell's name, or nothing (the shell
    running redlines): where none is named, an empty one is put in, for Click to read."""
    out = list(args)
    for i, token in enumerate(out):
        if token in commands or token == "--":
            break  # they belong to `redlines` itself, before any command
        following = out[i + 1] if i + 1 < len(out) else None
        if token in OPTIONS and (following is None or following.startswith("-") or following in commands):
            out.insert(i + 1, "")
    return out


def _shell(given: str) -> str:
    name = given
    if not name:
        try:
            from typer._completion_shared import _get_shell_name

            name = _get_shell_name() or ""
        except Exception:  # shellingham could not tell
            name = ""
        name = name or Path(os.environ.get("SHELL", "")).name
    if name not in SHELLS:
        said = f"cannot complete for {name!r}" if name else "cannot tell which shell this is"
        raise typer.BadParameter(f"{said}; name one of bash, zsh or fish")
    return name


def _complete_var(prog_name: str) -> str:
    return f"_{prog_name}_COMPLETE".replace("-", "_").upper()


def show(ctx: typer.Context, value: str | None) -> None:
    """Print the completion script for the shell."""
    if value is None or ctx.resilient_parsing:
        return
    from typer._completion_shared import get_completion_script

    prog_name = ctx.find_root().info_name or "redlines"
    typer.echo(get_completion_script(prog_name=prog_name, complete_var=_complete_var(prog_name), shell=_shell(value)))
    raise typer.Exit()


def install(ctx: typer.Context, value: str | None) -> None:
    """Install the completion script where the shell finds it."""
    if value is None or ctx.resilient_parsing:
        return
    from typer import _completion_shared as shared

    shell = _shell(value)
    prog_name = ctx.find_root().info_name or "redlines"
    installer = {"bash": shared.install_bash, "zsh": shared.install_zsh, "fish": shared.install_fish}[shell]
    path = installer(prog_name=prog_name, complete_var=_complete_var(prog_name), shell=shell)
    from redlines.output.messages import info

    info(f"{shell} completion installed in {path}; it takes effect in a new shell")
    raise typer.Exit()


def complete(cli, ctx_args, prog_name: str, complete_var: str | None) -> None:
    """Answer the shell's completion request, if this run is one, and exit."""
    complete_var = complete_var or _complete_var(prog_name)
    instruction = os.environ.get(complete_var)
    if not instruction:
        return
    first, _, second = instruction.partition("_")
    action, shell = (second, first) if first in SHELLS else (first, second)  # bash_complete or complete_bash
    comp = _classes().get(shell)
    if comp is None or action not in ("complete", "source"):
        typer.echo(f"redlines: cannot complete {instruction!r}", err=True)
        sys.exit(1)
    completer = comp(cli, ctx_args, prog_name, complete_var)
    typer.echo(completer.source() if action == "source" else completer.complete())
    sys.exit(0)


def _classes() -> dict:
    """Typer's completion classes, their help texts shown as written (Typer's own would import
    Rich to strip markup, which ours does not use)."""
    import re

    from typer._completion_classes import BashComplete, FishComplete, ZshComplete

    class Zsh(ZshComplete):
        def format_completion(self, item) -> str:
            def escape(s: str) -> str:
                return (
                    s.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`").replace(":", r"\\:")
                )

            return f'"{escape(item.value)}":"{escape(item.help)}"' if item.help else f'"{escape(item.value)}"'

    class Fish(FishComplete):
        def format_completion(self, item) -> str:
            return item.value + "\t" + re.sub(r"\s", " ", item.help) if item.help else item.value

    return {"bash": BashComplete, "zsh": Zsh, "fish": Fish}


# --- values, from the database in use ---------------------------------------------------------


def _where(ctx) -> tuple[Path | None, str]:
    """The database file (None for a server) and the as-of date the command line selects, as far
    as it is typed."""
    from datetime import date

    from redlines.domain import dates
    from redlines.paths import user_path
    from redlines.store.engine import default_path

    root = ctx.find_root().params
    db = root.get("db") or os.environ.get("REDLINES_DB")
    path = None if db and "://" in db else user_path(db) if db else default_path()
    as_of = "9999-12-31"
    try:
        today_text = os.environ.get("REDLINES_TODAY")
        today = dates.parse(today_text, date.today()).end() if today_text else date.today()
        given = root.get("as_of")
        as_of = (dates.parse(given, today).end() if given else today).isoformat()
    except Exception:  # an unreadable date while typing: offer everything
        pass
    return path, as_of


def actors(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Actor slugs starting with what is typed, each with the actor's name."""
    from redlines.store.candidates import actor_slugs

    path, _ = _where(ctx)
    return actor_slugs(path, incomplete) if path else []


def threats(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Threat ids starting with what is typed (known on the as-of date), with their statements."""
    from redlines.store.candidates import threat_ids

    path, as_of = _where(ctx)
    return [(i, _short(s)) for i, s in threat_ids(path, incomplete, as_of)] if path else []


def records(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """For edit and delete: threat ids, and event ids (THREAT#N) once a # is typed."""
    from redlines.store.candidates import event_ids

    if "#" in incomplete:
        path, as_of = _where(ctx)
        return [(i, _short(w)) for i, w in event_ids(path, incomplete, as_of)] if path else []
    return threats(ctx, incomplete)


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
