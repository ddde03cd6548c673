"""schema, export, import: the data set and its shapes, for other tools."""

from typing import Annotated

import typer

from redlines.cli import command_app, settings
from redlines.cli.options import Grace, Output, formatted
from redlines.output.formats import destination

# The commands whose JSON output has a schema (redlines.output.shapes.SHAPES, which imports
# pydantic, holds them; a test keeps the two lists equal), and the earlier names still answered.
SCHEMA_NAMES = ("list", "show", "actors", "search", "report", "timeline", "due", "history", "export", "db-status")
SCHEMA_ALIASES = ("threats", "threat")


def schema(
    name: Annotated[
        str,
        typer.Argument(metavar="|".join(SCHEMA_NAMES), help="The command whose --json output it describes."),
    ],
) -> None:
    """Print the JSON Schema of an output."""
    import json

    from redlines.errors import BadInput
    from redlines.output.shapes import json_schema

    if name not in SCHEMA_NAMES + SCHEMA_ALIASES:
        raise BadInput(f"no schema is called {name!r}", [f"choose one of: {', '.join(SCHEMA_NAMES)}"])
    typer.echo(json.dumps(json_schema(name), indent=2, ensure_ascii=False))


EXPORT_FORMATS = ("json", "jsonl", "csv")


@formatted(EXPORT_FORMATS, "json: one document; jsonl: one record a line; csv: one threat a row.", default="json")
def export(
    ctx: typer.Context,
    fmt: str = "json",  # --format, --json: see `formatted`
    output: Output = None,
    grace: Grace = None,
) -> None:
    """The whole data set, in a stable order, to rebuild it elsewhere with `import`."""
    from redlines.output import export as writers

    tracker = settings(ctx).tracker()
    with destination(output) as out:
        if fmt == "csv":
            writers.write_csv(out, tracker.threat_table(grace=grace))
        else:
            (writers.write_json if fmt == "json" else writers.write_jsonl)(out, tracker.export())


def import_(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(metavar="FILE|-", help="An export (json, jsonl or csv); - reads stdin, as does a pipe.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check it and say what would change; write nothing.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Each record is the whole truth about itself: absent fields clear, unlisted events and sources go.",
        ),
    ] = False,
    renumber: Annotated[
        bool,
        typer.Option("--renumber", help="An event whose id a different stored event has goes in under a new number."),
    ] = False,
) -> None:
    """Load a data set, merging by id: all of it lands, or none. Importing twice changes nothing."""
    import sys
    from pathlib import Path

    from redlines.errors import BadInput
    from redlines.output.messages import info
    from redlines.paths import user_path

    tracker = settings(ctx).tracker()
    spooled = source == "-"
    if spooled:
        path, name = _spool(sys.stdin.buffer, source), "(stdin)"
    else:
        path, name = user_path(source), Path(source).name
        if path.is_dir():
            raise BadInput(f"cannot read {source}: it is a directory")
        if not path.exists():
            raise BadInput(f"cannot read {source}: no such file")
        if not path.is_file():  # a pipe (`import <(...)`), a FIFO or a device: read once, from a copy
            try:
                with open(path, "rb") as f:
                    path, spooled = _spool(f, source), True
            except OSError as e:
                raise BadInput(f"cannot read {source}: {e.strerror or e}") from None

    def show_progress(done: int) -> None:
        sys.stderr.write(f"\r{done:,} threats loaded")
        sys.stderr.flush()

    progress = show_progress if sys.stderr.isatty() else None
    try:
        counts = tracker.import_file(path, name, dry_run=dry_run, progress=progress, replace=replace, renumber=renumber)
    except OSError as e:
        raise BadInput(f"cannot read {source}: {e.strerror or e}") from None
    finally:
        if progress:
            sys.stderr.write("\n")
        if spooled:
            path.unlink(missing_ok=True)
    for line in counts.pop("changes"):
        info(line)
    added, changed = ("to add", "to change") if dry_run else ("added", "changed")
    for kind, c in counts.items():
        if any(c.values()):
            info(f"{kind}: {c['added']} {added}, {c['changed']} {changed}, {c['unchanged']} unchanged")
    if dry_run:
        info("dry run: nothing was written")


def _spool(stream, source: str):
    """Copy a stream that can be read only once into a temporary file; its path."""
    import shutil
    import tempfile
    from pathlib import Path

    with tempfile.NamedTemporaryFile("wb", suffix=".import", delete=False) as spool:
        try:
            shutil.copyfileobj(stream, spool)  # read once, streamed from the file after
        except OSError as e:
            Path(spool.name).unlink(missing_ok=True)
            from redlines.errors import BadInput

            raise BadInput(f"cannot read {source}: {e.strerror or e}") from None
    return Path(spool.name)


app = command_app()
app.command("export")(export)
app.command("import")(import_)
app.command("schema")(schema)
