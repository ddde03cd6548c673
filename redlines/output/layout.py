"""Text laid out for a terminal of a given width: wrapping at word boundaries, and tables that fit.

Pure functions on plain strings (already made safe by `formats.safe_text`); no Rich here. A line
never exceeds the width it is given (for widths of 20 cells and more). Nothing is ever cut or
replaced by "…": prose wraps between words, names between their parts (spaces, hyphens,
slashes), and a table that cannot hold its columns drops its optional ones, then narrows its
gaps and wraps, then puts its first column on a line of its own, and at last shows each row as
a record of `header: value` lines. Numbers are never wrapped.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# A styled piece of a line: (text, style); style is a Rich style name or "".
Segment = tuple[str, str]
Line = list[Segment]

PROSE_COMFORT = 20  # a prose column narrower than this is hard to read: drop optional columns first
PROSE_LEAST = 10  # and narrower than this, put the first column on a line of its own

_WORDS = re.compile(r"\S+")
_SPACED_WORDS = re.compile(r"(\s*)(\S+)")  # a word and the spaces before it (kept within a line)
# Where a name or an over-long word may be broken: after a hyphen, a slash, a comma, a dot, an
# underscore, a hash or CJK punctuation, never inside a run of letters if it can be helped.
_NAME_BREAK = re.compile(r"(?<=[-/,._#?&=\u3001\u3002\uff0c\uff1a\uff1b])")  # and after CJK 、。，：；


def cell_width(text: str) -> int:
    """Cells a terminal gives the text: wide East Asian characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    n = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def _fold(word: str, width: int) -> list[str]:
    """A word longer than `width` in pieces that fit: after a hyphen, slash or the like where
    one falls, else between characters (nothing is lost, nothing replaced)."""
    pieces, rest = [], word
    while cell_width(rest) > width:
        parts = _NAME_BREAK.split(rest)
        head = ""
        for part in parts:
            if cell_width(head + part) > width:
                break
            head += part
        if not head:  # no break point fits: break between characters
            for ch in rest:
                if cell_width(head + ch) > width:
                    break
                head += ch
            head = head or rest[0]
        pieces.append(head)
        rest = rest[len(head) :]
    return [*pieces, rest] if rest else pieces


def wrap(text: str, width: int, first: str = "", rest: str | None = None) -> list[str]:
    """`text` in lines of at most `width` cells, broken between words; the first line starts
    with `first`, the others with `rest` (by default, as many spaces as `first` is wide). Line
    breaks in the text are kept, and the spaces between words on a line; a word wider than a
    line is folded."""
    rest = " " * cell_width(first) if rest is None else rest
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = first if not lines else rest
        empty = True
        for m in _SPACED_WORDS.finditer(paragraph.replace("\t", " ")):
            space, word = m.group(1), m.group(2)
            room = width - cell_width(line) - (0 if empty else len(space))
            if cell_width(word) <= room:
                line += word if empty else space + word
                empty = False
                continue
            if not empty or (line != rest and cell_width(rest + word) <= width):
                # on a line of its own (after the first's label, if the word fits there whole)
                lines.append(line)
                line, empty = rest, True
            room = max(1, width - cell_width(line))
            pieces = _fold(word, room) if cell_width(word) > room else [word]
            for piece in pieces[:-1]:
                lines.append(line + piece)
                line = rest
            line += pieces[-1]
            empty = False
        lines.append(line)
    return [line.rstrip() for line in lines]


def flow(parts: list[Segment], width: int, indent: int = 2, sep: str = "  ") -> list[Line]:
    """A heading made of parts (id, date, names, outcome...), in lines of at most `width`
    cells: parts stay whole where they fit, joined by `sep`; the lines after the first are
    indented. A part wider than a line wraps between its words."""
    lines: list[Line] = [[]]
    used = 0
    pad = " " * indent
    for text, style in parts:
        if not text:
            continue
        gap = sep if lines[-1] else ""
        if used + cell_width(gap + text) <= width:
            lines[-1].append((gap + text, style))
            used += cell_width(gap + text)
            continue
        if lines[-1]:
            lines.append([(pad, "")])
            used = indent
        start = " " * used
        pieces = wrap(text, width, start, pad)
        lines[-1].append((pieces[0][used:], style))
        for piece in pieces[1:]:
            lines.append([(pad, ""), (piece[indent:], style)])
        used = cell_width(pieces[-1])
    return lines


class Col(NamedTuple):
    """A column as the layout sees it."""

    header: str
    kind: str = "text"  # "number" and "id": never wrapped; "name": wraps between parts; "text": prose
    drop: int = 0  # 0: always shown; otherwise dropped, highest first, when the table does not fit
    justify: str = "left"
    style: str = ""


class Table(NamedTuple):
    """What `fit` decided: the columns shown, their widths, the gap, and the form."""

    shown: list[int]
    widths: list[int]
    gap: int
    form: str  # "grid", "stacked" (first column on a line of its own) or "records"


def _longest_word(cells: list[str], split: re.Pattern | None = None) -> int:
    best = 0
    for cell in cells:
        for word in _WORDS.findall(cell):
            parts = _NAME_BREAK.split(word) if split else [word]
            best = max(best, *(cell_width(p) for p in parts))
    return best


def _natural(cells: list[str]) -> int:
    return max((cell_width(line) for cell in cells for line in cell.split("\n")), default=0)


def fit(cols: list[Col], rows: list[list[str]], width: int) -> Table:
    """Choose the columns, widths and form that fit `width` cells, in this order of sacrifice:
    prose narrows to a comfortable width; optional columns go; gaps narrow to one space; prose
    narrows to its longest word and names wrap between their parts; prose folds; the first
    column moves to a line of its own; and at last each row becomes a record."""
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in cols]
    header = [cell_width(c.header) for c in cols]
    natural = [max(header[i], _natural(list(columns[i]))) for i in range(len(cols))]
    word = [
        max(header[i], _longest_word(list(columns[i]), _NAME_BREAK if c.kind == "name" else None))
        for i, c in enumerate(cols)
    ]

    def least(i: int, step: int) -> int:
        """The narrowest column i may be at this step of sacrifice."""
        kind = cols[i].kind
        if kind in ("number", "id"):
            return natural[i]
        if kind == "name":
            return natural[i] if step < 3 else min(natural[i], word[i])
        if step == 0:
            return natural[i]
        if step < 3:
            return min(natural[i], max(header[i], PROSE_COMFORT))
        if step == 3:
            return min(natural[i], max(header[i], min(word[i], PROSE_COMFORT)))
        return min(natural[i], max(header[i], PROSE_LEAST))

    def attempt(shown: list[int], step: int, gap: int, room: int = width) -> list[int] | None:
        widths = [least(i, step) for i in shown]
        spare = room - sum(widths) - gap * (len(shown) - 1)
        if spare < 0:
            return None
        # Room left over goes to the names first (so that they need not wrap), then to the
        # prose, shared a cell at a time among the columns of a kind.
        for kind in ("name", "text"):
            grow = [k for k, i in enumerate(shown) if cols[i].kind == kind]
            while spare > 0:
                short = [k for k in grow if widths[k] < natural[shown[k]]]
                if not short:
                    break
                for k in short[:spare]:
                    widths[k] += 1
                spare -= len(short[:spare])
        return widths

    shown = list(range(len(cols)))
    for step, gap in ((0, 2), (1, 2)):
        if (widths := attempt(shown, step, gap)) is not None:
            return Table(shown, widths, gap, "grid")
    # The column sets to try, all of them first, then without the optional ones, one by one.
    sets = [list(shown)]
    for i in sorted((i for i, c in enumerate(cols) if c.drop and i), key=lambda i: -cols[i].drop):
        sets.append([k for k in sets[-1] if k != i])
    for subset in sets[1:]:
        if (widths := attempt(subset, 1, 2)) is not None:
            return Table(subset, widths, 2, "grid")
    for step, gap in ((1, 1), (3, 1), (4, 1)):
        if (widths := attempt(sets[-1], step, gap)) is not None:
            return Table(sets[-1], widths, gap, "grid")
    # The first column on a line of its own leaves the others the whole width (and room,
    # perhaps, for the optional columns again).
    if len(shown) > 1:
        for subset in sets:
            for step, gap in ((1, 2), (1, 1), (3, 1), (4, 1)):
                if (widths := attempt(subset[1:], step, gap, width - 2)) is not None:
                    return Table(subset, [width, *widths], gap, "stacked")
    return Table(sets[-1], [], 1, "records")


def _cell_lines(text: str, width: int, kind: str) -> list[str]:
    if kind in ("number", "id") and cell_width(text) <= width:
        return [text]
    return wrap(text, width) or [""]


def _pad(text: str, width: int, justify: str) -> str:
    space = " " * max(0, width - cell_width(text))
    return space + text if justify == "right" else text + space


def render(
    cols: list[Col], rows: list[list[str]], width: int, *, total_from: int | None = None, indent: str = ""
) -> list[Line]:
    """The table as lines of styled segments, at most `width` cells each (trailing spaces
    removed). `total_from`: the index of the first row of a closing section (a total), set
    apart by a rule."""
    inner = width - len(indent)
    t = fit(cols, rows, inner)
    out: list[Line] = []
    if t.form == "records":
        label = max(cell_width(cols[i].header) for i in t.shown) + 2
        for n, row in enumerate(rows):
            if n:
                out.append([])
            for i in t.shown:
                first = _pad(cols[i].header + ":", label, "left")
                for k, line in enumerate(wrap(row[i], inner, first, " " * label)):
                    head, body = (first, line[label:]) if k == 0 else (" " * label, line[label:])
                    out.append([(indent + head, "bold" if k == 0 else ""), (body, cols[i].style)])
        return _trimmed(out)
    grid = t.shown if t.form == "grid" else t.shown[1:]
    widths = t.widths if t.form == "grid" else t.widths[1:]
    lead = indent + ("  " if t.form == "stacked" else "")
    gap = " " * t.gap

    def line_of(cells: list[tuple[str, str, str]]) -> Line:
        segs: Line = [(lead, "")]
        for k, (text, style, justify) in enumerate(cells):
            segs.append(((gap if k else "") + _pad(text, widths[k], justify), style))
        return segs

    if t.form == "stacked":
        out.append([(indent + cols[t.shown[0]].header, "bold")])
    out.append(line_of([(cols[i].header, "bold", cols[i].justify) for i in grid]))
    rule = sum(widths) + t.gap * (len(widths) - 1) + len(lead) - len(indent)
    out.append([(indent + "─" * rule, "")])
    for n, row in enumerate(rows):
        if n == total_from:
            out.append([(indent + "─" * rule, "")])
        if t.form == "stacked":
            key = cols[t.shown[0]]
            out += [[(line, key.style)] for line in wrap(row[t.shown[0]], width, indent)]
        stacks = [_cell_lines(row[i], w, cols[i].kind) for i, w in zip(grid, widths, strict=True)]
        for k in range(max(len(s) for s in stacks)):
            cells = zip(stacks, grid, strict=True)
            out.append(line_of([(s[k] if k < len(s) else "", cols[i].style, cols[i].justify) for s, i in cells]))
    return _trimmed(out)


def _trimmed(lines: list[Line]) -> list[Line]:
    """Lines without trailing spaces (a pipe or a test sees exactly the text)."""
    out = []
    for line in lines:
        segs = list(line)
        while segs and not segs[-1][0].rstrip():
            segs.pop()
        if segs:
            segs[-1] = (segs[-1][0].rstrip(), segs[-1][1])
        out.append(segs)
    return out
