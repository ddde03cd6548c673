"""Checks of single values given on the command line or through the Python API."""

from __future__ import annotations

import re

from redlines.errors import BadInput

MAX_TEXT = 20_000
ACTOR_KINDS = ("person", "state", "organization", "bloc")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
THREAT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,79}")
EVENT_ID = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]{0,79})#([0-9]{1,6})")


def event_number(event_id: str) -> int:
    """The number of an event id, `THREAT#N` (`t#3` and `t#03`: 3); 0 for text that is not one."""
    m = EVENT_ID.fullmatch(event_id)
    return int(m[2]) if m else 0


def event_id(threat_id: str, number: int | str) -> str:
    """The normal form of the id of a threat's event number `number` (`t`, `07`: `t#7`)."""
    return f"{threat_id}#{int(number)}"


def choice(field: str, value: str | None, choices: tuple[str, ...]) -> None:
    """Refuse a value that is not one of `choices` (None passes: the field was not given)."""
    if value is not None and value not in choices:
        raise BadInput(f"{{field}} {value!r} is not one of: {', '.join(choices)}", field=field)


def limit(value: int | None) -> int | None:
    """A --limit: none, or a count SQLite can hold."""
    if value is not None and not 0 <= value <= 1_000_000_000:
        raise BadInput("--limit must be a number from 0 to 1,000,000,000")
    return value


def not_a_character(value: str) -> str | None:
    """The first code point of `value` that UTF-8 cannot hold, as `U+D800`: half of a surrogate
    pair, which is what a byte that was not UTF-8 becomes in an argument, and what a JSON escape
    such as `\\ud800` gives. None when every one is a character (at once for ASCII text)."""
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        return f"U+{ord(value[e.start]):04X}"
    return None


def text(value: str | None, field: str, *, required: bool = True) -> str | None:
    """Text from the user: stripped; refused if required and empty, or if it holds a NUL, half
    of a surrogate pair, or is huge."""
    if value is None or not value.strip():
        if required:
            raise BadInput("{field} needs some text", field=field)
        return None
    if "\x00" in value:
        raise BadInput("{field} holds a NUL character", field=field)
    if (bad := not_a_character(value)) is not None:
        raise BadInput(f"{{field}} holds {bad}, which is not a character (was it UTF-8 text?)", field=field)
    if len(value) > MAX_TEXT:
        raise BadInput(f"{{field}} is longer than {MAX_TEXT:,} characters", field=field)
    return value.strip()
