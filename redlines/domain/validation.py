"""One set of rules for every way in: `add`, `edit` and `import` all check records here. Pure:
no I/O; the callers hand in what the database holds.

A rule names the field it concerns (`outcome`, `due`, `aliases[1]` ...), and its message is a
template with `{field}` where that field is named, so that the command line can say `--outcome`
and an import can say `threats[3].events[0].outcome` about the same rule.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from typing import NamedTuple

from redlines.domain.outcomes import EVENT_KINDS, RESPONSE_OUTCOMES


class Problem(NamedTuple):
    field: str  # the field of the record concerned: `outcome`, `name`, `aliases[2]`
    message: str  # a template: `{field}` is replaced by the field as the caller names it

    def text(self, field: str | None = None) -> str:
        return self.message.replace("{field}", field if field is not None else self.field)


def name_key(text: str) -> str:
    """What names, aliases and slugs are compared by: Unicode NFC, then case folding (which may
    undo NFC, so normalised again), so that `José` typed either way and `JOSÉ` are one name."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def shown(value: object, width: int = 60) -> str:
    """A value from the input, fit to quote in a message: short text and numbers as written,
    anything else by its type (a repr of a 3,000-level list would fail, or fill the screen)."""
    if isinstance(value, str):
        return repr(value if len(value) <= width else value[:width] + "…")
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        text = repr(value) if not isinstance(value, int) or abs(value) < 10**width else "a very long number"
        return text if len(text) <= width else text[:width] + "…"
    return f"a {type(value).__name__}"


# --- events --------------------------------------------------------------------------------------


def event_problems(kind: object, outcome: object, due: object) -> list[Problem]:
    """What is wrong with an event's kind, outcome and due date taken together (`due` is given
    already read; None when absent)."""
    if kind is None:
        return [Problem("kind", "{field} is required: one of " + ", ".join(EVENT_KINDS))]
    if kind not in EVENT_KINDS:
        return [Problem("kind", f"{{field}} {shown(kind)} is not one of: {', '.join(EVENT_KINDS)}")]
    problems = []
    if outcome is not None and outcome not in RESPONSE_OUTCOMES:
        problems.append(Problem("outcome", f"{{field}} {shown(outcome)} is not one of: {', '.join(RESPONSE_OUTCOMES)}"))
    elif kind == "response" and outcome is None:
        problems.append(Problem("outcome", "a response needs {field}: " + ", ".join(RESPONSE_OUTCOMES)))
    elif kind != "response" and outcome is not None:
        problems.append(Problem("outcome", f"{{field}} is for a response, not a {kind} event"))
    if kind == "deadline" and due is None:
        problems.append(Problem("due", "a deadline event needs {field} (the new deadline)"))
    elif kind != "deadline" and due is not None:
        problems.append(Problem("due", f"{{field}} is for a deadline event, not a {kind} event"))
    return problems


def in_the_future(starts_on: date, today: date) -> bool:
    """A threat or event cannot be dated after today (or the as-of date)."""
    return starts_on > today


# --- actors --------------------------------------------------------------------------------------


class ActorNames(NamedTuple):
    slug: str
    name: str | None
    aliases: list[str]


def name_clashes(actors: Iterable[ActorNames], checked: set[str]) -> list[tuple[str, Problem]]:
    """(slug, problem) for each name of an actor in `checked` that another actor also answers to:
    slugs, names and aliases are one namespace under `name_key` (an actor may repeat its own)."""
    owners: dict[str, dict[str, None]] = {}
    named: list[tuple[str, str, str, str]] = []  # slug, field, text, key
    for a in actors:
        fields = [("slug", a.slug), ("name", a.name)] + [(f"aliases[{j}]", x) for j, x in enumerate(a.aliases)]
        for field, text in fields:
            if text:
                key = name_key(text)
                owners.setdefault(key, {})[a.slug] = None
                named.append((a.slug, field, text, key))
    out = []
    for slug, field, text, key in named:
        others = [o for o in owners[key] if o != slug]
        if slug in checked and others:
            label = "slug" if field == "slug" else "alias" if field.startswith("aliases") else "name"
            out.append((slug, Problem(field, f"the {label} {shown(text)} is taken by the actor {others[0]}")))
    return out


def speaks_for_problems(of: Mapping[str, str | None], checked: Iterable[str]) -> list[tuple[str, Problem]]:
    """(slug, problem) for each actor in `checked` that speaks for itself, or for an actor that
    (through others) speaks for it: `of` must never lead back where it started."""
    out = []
    for slug in checked:
        seen, at = [slug], of.get(slug)
        while at is not None and at not in seen:
            seen.append(at)
            at = of.get(at)
        if at == slug:
            what = (
                "an actor cannot speak for itself"
                if len(seen) == 1
                else "speaking for " + " -> ".join(map(str, [*seen[1:], slug])) + " would go round in a circle"
            )
            out.append((slug, Problem("of", what)))
    return out
