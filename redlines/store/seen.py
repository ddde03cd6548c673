"""A set of keys kept in a private temporary SQLite file rather than in Python: checking that no
threat id of a JSON-lines file of millions of records appears twice then costs a bounded page
cache, not some 90 bytes of Python objects per key (90 MB at a million threats)."""

from __future__ import annotations

import sqlite3

FILTER_BITS = 1 << 26  # 8 MiB: at a million keys, one look-up in 60 reaches the file; at ten, one in 7


class SeenKeys:
    """The `in` and `add` of a set of text keys, on disk (SQLite's temporary file, deleted when
    closed); a few thousand keys are held in Python before they are written out. A bit for each
    key's hash (one hash: a filter of Bloom's kind) answers most look-ups of a key never added,
    which in a file without duplicates is every one, without a query."""

    def __init__(self, pending: int = 5000):
        self._db = sqlite3.connect("")  # "": a temporary database of its own, on disk
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY) WITHOUT ROWID")
        self._recent: set[str] = set()
        self._pending = pending
        self._bits = bytearray(FILTER_BITS >> 3)

    def __contains__(self, key: str) -> bool:
        h = hash(key) & (FILTER_BITS - 1)
        if not self._bits[h >> 3] & (1 << (h & 7)):
            return False  # never added
        if key in self._recent:
            return True
        return self._db.execute("SELECT 1 FROM seen WHERE key = ?", (key,)).fetchone() is not None

    def add(self, key: str) -> None:
        h = hash(key) & (FILTER_BITS - 1)
        self._bits[h >> 3] |= 1 << (h & 7)
        self._recent.add(key)
        if len(self._recent) >= self._pending:
            self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", ((k,) for k in sorted(self._recent)))
            self._recent.clear()

    def close(self) -> None:
        self._db.close()
