"""What shell completion offers, read straight from the database file: read-only, with stdlib
`sqlite3` alone, and never creating, seeding or upgrading anything (a completion must be fast and
must not write). A missing file, another engine or an unexpected schema offers nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

MAX_OFFERED = 200
_LAST = "\U0010ffff"  # sorts after every character: `id >= p AND id < p || _LAST` is "starts with p"


def _open(path: Path) -> sqlite3.Connection | None:
    if not path.is_file():
        return None
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return None


def _rows(path: Path, sql: str, args: tuple) -> list[tuple[str, str]]:
    conn = _open(path)
    if conn is None:
        return []
    try:
        return [(r[0], r[1] or "") for r in conn.execute(sql, args)]
    except sqlite3.Error:  # an old or foreign schema, or a busy file: offer nothing
        return []
    finally:
        conn.close()


def actor_slugs(path: Path, prefix: str) -> list[tuple[str, str]]:
    """(slug, name) of the actors whose slug starts with `prefix`."""
    prefix = prefix.casefold()
    return _rows(
        path,
        "SELECT slug, name FROM actor WHERE slug >= ? AND slug < ? ORDER BY slug LIMIT ?",
        (prefix, prefix + _LAST, MAX_OFFERED),
    )


def threat_ids(path: Path, prefix: str, as_of: str) -> list[tuple[str, str]]:
    """(id, statement) of the threats whose id starts with `prefix`, made by the as-of date."""
    return _rows(
        path,
        "SELECT id, statement FROM threat WHERE id >= ? AND id < ? AND made_on <= ? ORDER BY id LIMIT ?",
        (prefix, prefix + _LAST, as_of, MAX_OFFERED),
    )


def event_ids(path: Path, prefix: str, as_of: str) -> list[tuple[str, str]]:
    """(id, what) of the events whose id (THREAT#N) starts with `prefix`, known by the as-of date."""
    return _rows(
        path,
        "SELECT e.id, e.what FROM event e JOIN threat t ON t.id = e.threat_id "
        "WHERE e.id >= ? AND e.id < ? AND e.occurred_on <= ? AND t.made_on <= ? ORDER BY e.rowid LIMIT ?",
        (prefix, prefix + _LAST, as_of, as_of, MAX_OFFERED),
    )
