"""The outcome rules (CONTRACT.md, "Events and outcomes"), rates and intervals. Pure: no I/O.

The store computes the same rules in SQL for whole sets; tests hold the two to each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from redlines.domain.dates import FuzzyDate

CATEGORIES = ("military", "nuclear", "economic", "diplomatic", "other")
EVENT_KINDS = ("crossed", "deadline", "response", "complied", "withdrawn", "restated", "note")
RESPONSE_OUTCOMES = ("followed_through", "partial", "not_followed_through")
OUTCOMES = ("pending", "followed_through", "partial", "not_followed_through", "complied", "withdrawn")
TESTED = RESPONSE_OUTCOMES
DEFAULT_GRACE_DAYS = 30
# The strength of a response: the strongest one decides.
RESPONSE_RANK = {"not_followed_through": 1, "partial": 2, "followed_through": 3}


class Event(NamedTuple):
    kind: str
    on: FuzzyDate
    outcome: str | None = None
    due: FuzzyDate | None = None
    seq: int = 0  # order of entry, to break ties between events of the same date
    id: str | None = None


class Verdict(NamedTuple):
    outcome: str
    rule: str  # which rule decided: response, complied, withdrawn, deadline, grace, pending
    deadline: FuzzyDate | None  # the deadline in force
    tested_on: FuzzyDate | None
    decided_by: Event | None = None  # the event that decided it (None: no event, or the threat's own deadline)


def deadline_passed(deadline: FuzzyDate, as_of: date) -> bool:
    """A deadline passes at the end of its day, month or year."""
    return as_of > deadline.end()


def judge(
    deadline: FuzzyDate | None, events: Iterable[Event], as_of: date, grace_days: int = DEFAULT_GRACE_DAYS
) -> Verdict:
    """A threat's outcome as known on `as_of`, from its own deadline and its events."""
    # Events apply in the order of their ISO dates, then of entry: the order of their start
    # days, a month or a year placed before the days that begin it.
    known = sorted((e for e in events if e.on.start() <= as_of), key=lambda e: (e.on.iso(), e.seq))
    deadline_event = None
    for e in known:
        if e.kind == "deadline" and e.due is not None:
            deadline, deadline_event = e.due, e
    first_crossing = next((e for e in known if e.kind == "crossed"), None)
    first_crossed = first_crossing.on if first_crossing else None
    first_response = next((e.on for e in known if e.kind == "response"), None)
    passed = deadline is not None and deadline_passed(deadline, as_of)
    tested_on = first_tested(first_crossed, first_response, deadline if passed else None)

    responses = [e for e in known if e.kind == "response" and e.outcome in RESPONSE_RANK]
    first = {kind: next((e for e in known if e.kind == kind), None) for kind in ("complied", "withdrawn")}
    if responses:
        strongest = max(responses, key=lambda e: RESPONSE_RANK[e.outcome])  # the first of the strongest
        outcome, rule, by = strongest.outcome, "response", strongest
    elif first["complied"]:
        outcome, rule, by = "complied", "complied", first["complied"]
    elif first["withdrawn"]:
        outcome, rule, by = "withdrawn", "withdrawn", first["withdrawn"]
    elif passed:
        outcome, rule, by = "not_followed_through", "deadline", deadline_event
    elif first_crossed is not None and (as_of - first_crossed.start()).days > grace_days:
        outcome, rule, by = "not_followed_through", "grace", first_crossing
    else:
        outcome, rule, by = "pending", "pending", None
    return Verdict(outcome, rule, deadline, tested_on, by)


def summary(events: Iterable[tuple[str, str, str | None, str | None, int]]) -> tuple:
    """What the store caches on a threat from its events, each given as (kind, ISO date as
    stored, outcome, due, seq), in the order of `schema.SUMMARY_COLUMNS`: first crossing,
    strongest response's rank, first response, whether complied, whether withdrawn, how many
    restatements, the due of the deadline event in force (the latest by date, then entry) and
    the last event's date. Dates compare as stored text, as `store.queries.EVENT_AGGREGATES`
    compares them (a month sorts before its days): the two are held to each other by tests."""
    first_crossed = rank = first_response = deadline_key = last = None
    complied = withdrawn = restated = 0
    for kind, on, outcome, due, seq in events:
        if last is None or on > last:
            last = on
        if kind == "crossed":
            if first_crossed is None or on < first_crossed:
                first_crossed = on
        elif kind == "response":
            if first_response is None or on < first_response:
                first_response = on
            strength = RESPONSE_RANK.get(outcome)
            if strength is not None and (rank is None or strength > rank):
                rank = strength
        elif kind == "deadline":
            if due is not None:
                key = f"{on}\x01{seq:012d}\x01{due}"
                if deadline_key is None or key > deadline_key:
                    deadline_key = key
        elif kind == "complied":
            complied = 1
        elif kind == "withdrawn":
            withdrawn = 1
        elif kind == "restated":
            restated += 1
    deadline_set = deadline_key.split("\x01", 2)[2] if deadline_key is not None else None
    return (first_crossed, rank, first_response, complied, withdrawn, restated, deadline_set, last)


def settled(made_on: str, deadline: str | None, summarised: tuple, grace_days: int | None = None) -> tuple:
    """The verdict a threat settles on, from its ISO `made_on`, its own `deadline` and its
    `summary`, in the order of `schema.SETTLED_COLUMNS`: the day it settles (the latest of the
    day it was made, the day its last event starts, the day after its deadline in force ends and
    the day its first crossing's grace period runs out; NEVER when such a day is past 9999), then
    its outcome, rule, first test and days to the first response as judged on that day. What
    `store.summary.settle_sql` computes in SQL for the threats a write touched, written by a bulk
    import with each new threat's row; tests hold the two to each other. The grace period is
    the default one as it is when called (`store.rules` settles again when it changes)."""
    if grace_days is None:
        grace_days = DEFAULT_GRACE_DAYS
    first_crossed, rank, first_response, complied, withdrawn, _, deadline_set, last = summarised
    in_force = deadline_set if deadline_set is not None else deadline
    on = _start_iso(made_on)
    for later in (
        _start_iso(last) if last is not None else "",
        _after(in_force) if in_force is not None else "",
        _days_on(_start_iso(first_crossed), grace_days + 1) if first_crossed is not None else "",
    ):
        if later > on:
            on = later
    passed = in_force is not None and on[: len(in_force)] > in_force
    if rank is not None:
        outcome, rule = RANKED[rank], "response"
    elif complied:
        outcome, rule = "complied", "complied"
    elif withdrawn:
        outcome, rule = "withdrawn", "withdrawn"
    elif passed:
        outcome, rule = "not_followed_through", "deadline"
    elif first_crossed is not None and on != NEVER and first_crossed <= _days_on(on, -(grace_days + 1)):
        outcome, rule = "not_followed_through", "grace"
    else:
        outcome, rule = "pending", "pending"
    # The first test, keyed as `store.queries.first_tested` keys it: the day, then a crossing
    # before a response before a deadline.
    key = f"{_start_iso(first_crossed)}0{first_crossed}" if first_crossed is not None else "~"
    if first_response is not None:
        key = min(key, f"{_start_iso(first_response)}1{first_response}")
    if passed:
        key = min(key, f"{_end_iso(in_force)}2{in_force}")
    tested_on = key[11:] or None
    days = None
    if first_response is not None and tested_on is not None:
        days = (_day(first_response) - _day(tested_on)).days
    return (on, outcome, rule, tested_on, days)


NEVER = "9999-99-99"  # a day after every date: what has not settled settles on it
RANKED = {rank: outcome for outcome, rank in RESPONSE_RANK.items()}


def _start_iso(iso: str) -> str:
    """The ISO day on which a date stored at any precision starts."""
    return iso + "-01-01" if len(iso) == 4 else iso + "-01" if len(iso) == 7 else iso


# The date arithmetic of `settled`, on ISO strings; cached, since a data set repeats its dates
# (a bulk import settles every threat it reads).


@lru_cache(maxsize=1 << 14)
def _day(iso: str) -> date:
    return date.fromisoformat(_start_iso(iso))


@lru_cache(maxsize=1 << 14)
def _days_on(day: str, days: int) -> str:
    """The ISO day `days` after `day`; NEVER past 9999, a day before every date before year 1."""
    try:
        return (date.fromisoformat(day) + timedelta(days=days)).isoformat()
    except OverflowError:
        return NEVER if days > 0 else "0000-00-00"


@lru_cache(maxsize=1 << 14)
def _end_iso(iso: str) -> str:
    """The last ISO day of the day, month or year `iso`."""
    return FuzzyDate.from_iso(iso).end().isoformat()


@lru_cache(maxsize=1 << 14)
def _after(iso: str) -> str:
    """The first ISO day after the day, month or year `iso`; NEVER past 9999."""
    end = _end_iso(iso)
    return NEVER if end == "9999-12-31" else _days_on(end, 1)


def first_tested(
    crossed: FuzzyDate | None, responded: FuzzyDate | None, deadline_passed: FuzzyDate | None
) -> FuzzyDate | None:
    """When a threat was first tested: the earliest of its first crossing and its first response
    (each from the day its period starts) and its deadline once passed (from the day its period
    ends, when it passed); on the same day, a crossing before a response before a deadline.
    Returned at its own precision; None while untested."""
    candidates = [
        (d.start() if rank < 2 else d.end(), rank, d)
        for rank, d in enumerate((crossed, responded, deadline_passed))
        if d is not None
    ]
    return min(candidates)[2] if candidates else None


def grace_cutoff_iso(as_of: date, grace_days: int) -> str:
    """`grace_cutoff` as a bound on stored dates; where it would fall before year 1, a bound
    that no stored date reaches."""
    try:
        return grace_cutoff(as_of, grace_days).isoformat()
    except OverflowError:
        return "0000-00-00"


RULES = {
    "response": "a response was recorded; the strongest one decides",
    "complied": "the target complied, so no follow-through was needed",
    "withdrawn": "the issuer withdrew the threat",
    "deadline": "the deadline in force passed with no response recorded",
    "grace": "the red line was crossed more than the grace period ago with no response recorded",
    "pending": "not decided yet: no response, and no deadline or grace period has run out",
}


def grace_cutoff(as_of: date, grace_days: int) -> date:
    """A crossing that started on or before this day is past its grace period on `as_of`."""
    return as_of - timedelta(days=grace_days + 1)


def follow_through_rate(followed_through: int, partial: int, not_followed_through: int) -> float | None:
    tested = followed_through + partial + not_followed_through
    return None if tested == 0 else (followed_through + partial / 2) / tested


def wilson_interval(p: float | None, n: int, z: float = 1.96) -> tuple[float | None, float | None]:
    """The 95% Wilson score interval, without continuity correction, for proportion p over n."""
    if p is None or n == 0:
        return None, None
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
