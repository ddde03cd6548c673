"""One formatter per output format, chosen once; commands never branch on format.

A command builds a `View` (the JSON document, the rows and columns for the tabular forms, and
optionally its own human rendering) and hands it to `emit`. Data goes to stdout; messages go
through `redlines.output.console` to stderr. Rich is imported only for the table form.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

FORMATS = ("table", "json", "jsonl", "csv", "md")

# C0 and C1 control characters (and DEL), but not newline or tab: a user's text must never
# drive the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that print nothing yet change what a reader sees: bidi embeddings, overrides and
# isolates (U+202A-E, U+2066-9) and marks (U+200E/F, U+061C) that reorder text, zero-width
# spaces and joiners (U+200B-D, U+2060, U+FEFF), and the rest of Unicode's format characters
# (category Cf: soft hyphen, invisible operators, tag characters) and line/paragraph separators.
# On a terminal they are shown as escapes, as the control characters are; JSON keeps them.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


class Column(NamedTuple):
    header: str
    key: str
    # How the table treats it: "number" and "id" are never wrapped; "name" wraps between its
    # parts (spaces, hyphens); "text" is prose, wrapped between words. Nothing is ever cut.
    kind: str = "text"
    style: str | None = None
    drop: int = 0  # 0: always shown; else dropped (highest first) when the table does not fit
    justify: str = "left"
    get: Callable[[dict], Any] | None = None  # how to show the row's value, if not row[key]

    def value(self, row: dict) -> Any:
        return self.get(row) if self.get else row.get(self.key)


class View(NamedTuple):
    document: Any  # what `--json` prints; a list (or any iterable) is written as an array, as it comes
    rows: Iterable[dict]  # one record per line for jsonl, csv, md and table; may be an iterator
    columns: list[Column]
    title: str | None = None
    render: Callable[[Any], None] | None = None  # a human form of its own, given a rich Console
    html: Callable[[], str] | None = None  # a page of its own (the report)
    empty: str = "nothing to show"


def emit(view: View, fmt: str, output: str | None = None) -> None:
    """Print the view in the format chosen, to stdout or to the file `output`."""
    if output is None:
        FORMATTERS[fmt](view)
        return
    with destination(output) as out:
        saved, sys.stdout = sys.stdout, out
        try:
            FORMATTERS[fmt](view)
        finally:
            sys.stdout = saved


PAGE = 50  # rows a listing shows as a table when neither --limit nor --all is given


def emit_listing(
    view_of: Callable[[Iterable[dict]], View],
    fmt: str,
    *,
    limit: int | None,
    all_: bool,
    fetch: Callable[[int | None], Iterable[dict]],
    count: Callable[[], int],
    noun: str,
) -> None:
    """A listing (list, timeline, search, history). As a table: a page of PAGE rows (or
    `--limit N`, or every row with `--all`), then a line on stderr saying how many more there
    are. In every other form (json, jsonl, csv, md: data for a file or another program),
    every row unless `--limit` is given, written as it comes from the database."""
    from redlines.errors import BadInput

    if all_ and limit is not None:
        raise BadInput("--limit and --all ask for different things; give one of them")
    if fmt != "table":
        emit(view_of(fetch(limit)), fmt)
        return
    want = None if all_ else PAGE if limit is None else limit
    rows = list(fetch(want))
    emit(view_of(rows), fmt)
    total = count() if want is not None and len(rows) == want else len(rows)
    if total > len(rows):
        from redlines.output.messages import info

        sys.stdout.flush()
        info(f"showing {len(rows):,} of {total:,} {noun}; --limit N or --all for more")


@contextmanager
def destination(path: str | None):
    """Where a command's output goes: stdout (`None`, `-`, `/dev/stdout` or the very file stdout
    is); a device or FIFO, written directly; or a file, written to a temporary file made
    exclusively in the target's folder and moved into place when whole. The database in use (and
    its `-wal`, `-shm` and `-journal`) is refused as a target. After writing a file, says on
    stderr what it wrote."""
    import os
    import stat

    from redlines.errors import BadInput
    from redlines.paths import user_path

    if path is None or path == "-":
        yield sys.stdout
        return
    if not path.strip() or "\x00" in path:
        raise BadInput(f"-o {path!r} is not a file name")
    target = user_path(path)
    stream = _standard_stream(target)
    if stream is not None:
        yield stream
        return
    real = Path(os.path.realpath(target))
    _refuse_database(path, real)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _cannot_write(path, e) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise BadInput(f"-o {path!r} is a folder; give a file name")
    if st is not None and not stat.S_ISREG(st.st_mode):
        # A device or a FIFO is written as it is: replacing it with a file would break it.
        with _direct(path, real) as out:
            yield out
        _wrote(path, out)
        return
    with _replacing(path, real, st) as out:
        yield out
    _wrote(path, out)


class _CountingFile(io.FileIO):
    """A file that counts the bytes written through it (to say what was written)."""

    written = 0

    def write(self, b) -> int:
        n = super().write(b)
        self.written += n or 0
        return n


def _text(fd: int) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedWriter(_CountingFile(fd, "w")), encoding="utf-8", newline="")


def _written(out: io.TextIOWrapper) -> int:
    return out.buffer.raw.written


def _wrote(path: str, out: io.TextIOWrapper) -> None:
    from redlines.output.messages import info

    info(f"wrote {safe_text(path)} ({_written(out):,} bytes)")


def _standard_stream(target: Path):
    """stdout (or stderr) when `target` names it: by name (`/dev/stdout`, `/dev/fd/1`,
    `/proc/self/fd/1`), or by being the very file that stdout already writes to."""
    import os

    names = {1: sys.stdout, 2: sys.stderr}
    text = str(target)
    for fd, stream in names.items():
        if text in (f"/dev/{'stdout' if fd == 1 else 'stderr'}", f"/dev/fd/{fd}", f"/proc/self/fd/{fd}"):
            return stream
    try:
        st = os.stat(target)
        out = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return sys.stdout if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino) else None


def _refuse_database(path: str, real: Path) -> None:
    from redlines.errors import Conflict
    from redlines.paths import in_use

    db = in_use(real)
    if db is not None:
        raise Conflict(f"-o {path!r} is the database in use ({db}); it was not touched", ["choose another file"])


def _cannot_write(path: str, e: OSError):
    import errno

    from redlines.errors import RedlinesError

    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return RedlinesError(f"cannot write {path}: the disk is full; nothing was written")
    return RedlinesError(f"cannot write {path}: {e.strerror or e}")


@contextmanager
def _direct(path: str, real: Path):
    import os

    try:
        fd = os.open(real, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise _cannot_write(path, e) from None
    out = _text(fd)
    try:
        yield out
        out.flush()
    except OSError as e:
        raise _cannot_write(path, e) from None
    finally:
        with suppress(OSError):
            out.close()


@contextmanager
def _replacing(path: str, real: Path, st):
    """A temporary file made exclusively (random name, O_EXCL) beside `real`, given the mode the
    file has (or would get), moved over `real` only when whole."""
    import os
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name[:200]}.", suffix=".tmp")
    except OSError as e:
        raise _cannot_write(path, e) from None
    out = None
    try:
        if st is not None:
            mode = st.st_mode & 0o7777
        else:
            umask = os.umask(0o022)
            os.umask(umask)
            mode = 0o666 & ~umask
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        out = _text(fd)
        yield out
        out.flush()
        os.fsync(fd)
        out.close()
        _refuse_database(path, real)  # the database may have been opened while the output was made
        os.replace(tmp, real)
        tmp = None
    except OSError as e:
        raise _cannot_write(path, e) from None
    finally:
        if out is None:
            os.close(fd)
        elif not out.closed:
            with suppress(OSError):
                out.close()
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)


def safe_text(value: Any) -> str:
    """A cell for people: lists joined, nothing missing shown as blank, control characters and
    invisible format characters (bidi controls, zero-width characters) shown as escapes rather
    than sent to the terminal."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return _INVISIBLE.sub(_escape_invisible, text)


def _escape_invisible(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _json(view: View) -> None:
    doc = view.document
    if doc is None or isinstance(doc, (dict, str, int, float, bool)):
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    write_array(doc, sys.stdout)


def write_array(items: Iterable, out) -> None:
    """A JSON array written element by element as it comes (the same text as `json.dumps(list,
    indent=2)`), so that a long listing is never held, or formatted, whole in memory."""
    first = True
    for item in items:
        out.write("[\n  " if first else ",\n  ")
        out.write(_element(item))
        first = False
    out.write("[]\n" if first else "\n]\n")


def _finite(v: float) -> str:
    return float.__repr__(v) if v == v and v not in (float("inf"), float("-inf")) else json.dumps(v)


# How `json.dumps` writes each scalar (by exact type), with its C string encoder: indent=2 sends
# every value through the pure-Python encoder, which took 85% of `timeline --json` at 100,000 threats.
_SCALARS: dict[type, Callable[[Any], str]] = {
    str: json.encoder.encode_basestring,
    int: int.__repr__,
    float: _finite,
    bool: lambda v: "true" if v else "false",
    type(None): lambda v: "null",
}


_KEYS: dict[tuple, list[str]] = {}  # the encoded `"key": ` of each set of keys seen (a listing has one or two)


def _element(item: Any) -> str:
    """`json.dumps(item, ensure_ascii=False, indent=2)` indented one level, as an element of an
    array: a flat dict (string keys, every value a scalar) is written directly, anything else by json."""
    if type(item) is dict and item:
        keys = tuple(item)
        names = _KEYS.get(keys)
        if names is None and all(type(k) is str for k in keys) and len(_KEYS) < 64:
            names = _KEYS[keys] = [f"{_SCALARS[str](k)}: " for k in keys]
        if names is not None:
            try:
                values = [_SCALARS[type(v)](v) for v in item.values()]
            except KeyError:  # a value that is not a scalar
                pass
            else:
                return "{\n    " + ",\n    ".join(map(str.__add__, names, values)) + "\n  }"
    return json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  ")


def _jsonl(view: View) -> None:
    out = sys.stdout
    for row in view.rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in value)
    text = str(value)
    # A cell that a spreadsheet would run as a formula is kept as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(view: View) -> None:
    rows: Iterator[dict] = iter(view.rows)
    first = next(rows, None)
    keys = list(first) if first is not None else [c.key for c in view.columns]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(keys)
    if first is None:
        return
    for row in _chain(first, rows):
        writer.writerow([csv_cell(_flat(row.get(k))) for k in keys])


def _chain(first: dict, rest: Iterator[dict]) -> Iterator[dict]:
    yield first
    yield from rest


def _flat(value: Any) -> Any:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [v.get("url", json.dumps(v, ensure_ascii=False)) for v in value]
    return value


def _md(view: View) -> None:
    def cell(v: Any) -> str:
        return safe_text(v).replace("|", "\\|").replace("\n", " ")

    out = sys.stdout
    out.write("| " + " | ".join(c.header for c in view.columns) + " |\n")
    out.write("|" + "|".join(" --- " for _ in view.columns) + "|\n")
    for r in view.rows:
        out.write("| " + " | ".join(cell(c.value(r)) for c in view.columns) + " |\n")


def console(stderr: bool = False):
    """A Rich console that prints user text as written: no markup, no highlighting. A closed
    pipe is raised as BrokenPipeError for the command to end with exit 0 (Rich's own handling
    exits with status 1)."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return PipeConsole(stderr=stderr, markup=False, highlight=False, emoji=False)


def print_lines(con, lines) -> None:
    """Lines already laid out to the console's width (lists of (text, style) segments): as
    plain text when there is no colour (fast, for `--all` into a pager), else styled."""
    if con.color_system is None or con.no_color:
        con.file.write("".join("".join(text for text, _ in line) + "\n" for line in lines))
        return
    from rich.text import Text

    for line in lines:
        con.print(Text.assemble(*((text, style or "") for text, style in line)), soft_wrap=True)


def table_lines(columns: list[Column], rows: list[dict], width: int, total_from: int | None = None):
    """Rows as a table that fits `width` (see `redlines.output.layout`)."""
    from redlines.output.layout import Col, render

    cols = [Col(c.header, c.kind, c.drop, c.justify, c.style or "") for c in columns]
    cells = [[safe_text(c.value(r)) for c in columns] for r in rows]
    return render(cols, cells, width, total_from=total_from)


def _table(view: View) -> None:
    con = console()
    if view.render is not None:
        view.render(con)
        return
    rows = list(view.rows)
    if not rows:
        from redlines.output.messages import info

        info(view.empty)
        return
    from redlines.output.layout import wrap

    lines = [[(line, "bold")] for line in wrap(safe_text(view.title), con.width)] if view.title else []
    print_lines(con, lines + table_lines(view.columns, rows, con.width))


def _html(view: View) -> None:
    if view.html is None:
        from redlines.errors import BadInput

        raise BadInput("--format html is for `report`")
    sys.stdout.write(view.html())


FORMATTERS: dict[str, Callable[[View], None]] = {
    "table": _table,
    "json": _json,
    "jsonl": _jsonl,
    "csv": _csv,
    "md": _md,
    "html": _html,
}
