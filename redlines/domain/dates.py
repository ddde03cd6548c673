"""Fuzzy dates: a day, a month or a year, kept at the precision it was given.

Stored and printed as ISO strings at their own precision (`2025-01-05`, `2025-01`, `2025`).
Such strings sort by the first day of their period, and for a full day `d` the comparison
`s <= d.isoformat()` is true exactly when the period `s` starts on or before `d`; the store
relies on that (see `starts_on_or_before` and `starts_on_or_after`).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import NamedTuple

from redlines.errors import BadInput

DAY, MONTH, YEAR = "day", "month", "year"

ACCEPTED_FORMS = (
    "2024-11-21, 2024-11, 2024, 21 Nov 2024, November 2024, Jan 2025, "
    "today, yesterday, tomorrow, +50d, -2w, +3m, in 50 days, 10 days ago"
)

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}

_ISO = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_DAY_MONTH_YEAR = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?,?\s+(\d{{4}})")
_MONTH_DAY_YEAR = re.compile(rf"({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})")
_MONTH_YEAR = re.compile(rf"({_MONTH_RE})\.?,?\s+(\d{{4}})")
_SHORT_OFFSET = re.compile(r"([+-])\s*(\d{1,5})\s*([dwmy])")
_IN_N = re.compile(r"in\s+(\d{1,5}|an?|one)\s+(day|week|month|year)s?")
_N_AGO = re.compile(r"(\d{1,5}|an?|one)\s+(day|week|month|year)s?\s+ago")


class FuzzyDate(NamedTuple):
    """A date known to a day, a month or a year."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> str:
        return DAY if self.day else MONTH if self.month else YEAR

    def iso(self) -> str:
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    __str__ = iso

    def start(self) -> date:
        """The first day of the period."""
        return date(self.year, self.month or 1, self.day or 1)

    def end(self) -> date:
        """The last day of the period."""
        if self.day:
            return self.start()
        if self.month:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, 12, 31)

    @classmethod
    def of(cls, d: date) -> FuzzyDate:
        return cls(d.year, d.month, d.day)

    @classmethod
    def from_iso(cls, text: str) -> FuzzyDate:
        """Read a stored ISO string at any precision; raises ValueError if it is not one."""
        m = _ISO.fullmatch(text.strip())
        if not m:
            raise ValueError(f"not an ISO date: {text!r}")
        return _checked(*(int(g) if g else None for g in m.groups()))


def _checked(year: int, month: int | None, day: int | None) -> FuzzyDate:
    if not 1 <= year <= 9999:
        raise ValueError("year out of range")
    if month is not None and not 1 <= month <= 12:
        raise ValueError("month out of range")
    if day is not None:
        date(year, month, day)  # raises ValueError for 31 February and the like
    return FuzzyDate(year, month, day)


def parse(text: str, today: date) -> FuzzyDate:
    """Read a date in any accepted form, relative to `today`; raises BadInput otherwise."""
    raw = text
    s = " ".join(text.strip().lower().split())
    try:
        found = _parse(s, today)
    except (ValueError, OverflowError) as e:
        if isinstance(e, OverflowError) or str(e).startswith("year"):
            raise BadInput(
                f"the date {raw!r} falls outside the calendar: years 1 to 9999", [f"accepted forms: {ACCEPTED_FORMS}"]
            ) from None
        found = None
    if found is None:
        raise BadInput(f"cannot read the date {raw!r}", [f"accepted forms: {ACCEPTED_FORMS}"])
    return found


def _parse(s: str, today: date) -> FuzzyDate | None:
    if m := _ISO.fullmatch(s):
        return _checked(*(int(g) if g else None for g in m.groups()))
    words = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if s in words:
        return FuzzyDate.of(today + timedelta(days=words[s]))
    if m := _DAY_MONTH_YEAR.fullmatch(s):
        return _checked(int(m[3]), _MONTHS[m[2]], int(m[1]))
    if m := _MONTH_DAY_YEAR.fullmatch(s):
        return _checked(int(m[3]), _MONTHS[m[1]], int(m[2]))
    if m := _MONTH_YEAR.fullmatch(s):
        return _checked(int(m[2]), _MONTHS[m[1]], None)
    if m := _SHORT_OFFSET.fullmatch(s):
        n = int(m[2]) * (1 if m[1] == "+" else -1)
        return _shift(today, n, _UNITS[m[3]])
    if m := _IN_N.fullmatch(s):
        return _shift(today, _count(m[1]), m[2] + "s")
    if m := _N_AGO.fullmatch(s):
        return _shift(today, -_count(m[1]), m[2] + "s")
    return _spelled_out(s)


def _count(word: str) -> int:
    return 1 if word in ("a", "an", "one") else int(word)


def _shift(today: date, n: int, unit: str) -> FuzzyDate:
    from dateutil.relativedelta import relativedelta

    return FuzzyDate.of(today + relativedelta(**{unit: n}))


def _spelled_out(s: str) -> FuzzyDate | None:
    """Other spelled-out forms ("Thursday, 21 November 2024") through dateutil.parser.

    The parser fills whatever is missing from its default; parsing against two different
    defaults shows what was really given, so nothing is ever taken from today.
    """
    if not re.search(r"\d{4}", s) or not re.search(_MONTH_RE, s):
        return None
    from datetime import datetime

    from dateutil import parser

    try:
        a = parser.parse(s, default=datetime(2000, 1, 1), fuzzy=False)
        b = parser.parse(s, default=datetime(2001, 2, 2), fuzzy=False)
    except (ValueError, OverflowError, parser.ParserError):
        return None
    if a.year != b.year:
        return None
    if a.month != b.month:
        return None  # a year with no month given is only read in ISO form
    return _checked(a.year, a.month, a.day if a.day == b.day else None)


def starts_on_or_before(d: date) -> str:
    """The bound `b` such that a stored ISO string `s` starts on or before `d` iff `s <= b`."""
    return d.isoformat()


def starts_on_or_after(d: date) -> str:
    """The bound `b` such that a stored ISO string `s` starts on or after `d` iff `s > b`."""
    if d == date.min:
        return "0000"  # below every stored date
    return (d - timedelta(days=1)).isoformat()
