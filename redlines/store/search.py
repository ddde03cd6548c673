"""Full-text search over the FTS5 index `search`: the one place that knows SQLite's FTS5.

The index holds the words of each text, not the text: it is an external-content table
(migration 0010) whose texts are read, when a passage is cut, through the view `search_source`
from the rows themselves. Its keys: a threat's rowid * 3, an event's rowid * 3 + 1, a citation's
id * 3 + 2; the view is keyed on the index's own list of rows (`search_docsize`), so a look-up by
key is two reads by rowid, and the view gives each indexed row's kind, threat and event.

New rows are indexed here, by the code that writes them (`Writer.insert` one at a time, the bulk
loader in one pass at the end of an import); triggers hand FTS5 the old words of a changed or
deleted text. Rowids are the keys, so a threat's or an event's rowid must never change under the
index: VACUUM and VACUUM INTO keep them; a migration that copies `threat` or `event` into a new
table must build the index again, by 'delete-all' and the INSERTs here. Never FTS5's 'rebuild':
it reads the texts through the view, which lists the rows the index holds, and would empty it."""

from __future__ import annotations

import re
import sqlite3

from redlines.domain.snippets import CLOSE, OPEN  # marks around matched words, replaced by the output layer

_THREATS = (
    "SELECT t.rowid * 3, coalesce(t.statement, '') || ' ' || coalesce(t.trigger, '') || ' ' || "
    "coalesce(t.consequence, '') FROM threat t"
)
_EVENTS = "SELECT e.rowid * 3 + 1, e.what FROM event e"
_CITATIONS = "SELECT c.id * 3 + 2, c.quote FROM citation c"
_INSERT = "INSERT INTO search (rowid, body) "
_INDEXED = "SELECT 1 FROM search_docsize WHERE id = {}"  # is the row with this key indexed?
INDEXED = {
    "threat": f"{_INSERT}{_THREATS} WHERE t.id = ?",
    "event": f"{_INSERT}{_EVENTS} WHERE e.id = ?",
    "citation": f"{_INSERT}{_CITATIONS} WHERE c.id = ? AND c.quote IS NOT NULL",
}


def index_row(conn: sqlite3.Connection, table: str, key) -> None:
    """Index one row just inserted into threat, event or citation (other tables: nothing to do;
    on PostgreSQL, its own index: `redlines.store.pgsearch`)."""
    if _postgres(conn):
        from redlines.store import pgsearch

        return pgsearch.index_row(conn, table, key)
    sql = INDEXED.get(table)
    if sql:
        conn.execute(sql, (key,))


def index_threats(conn: sqlite3.Connection, threat_ids: list[str]) -> None:
    """Index threats just inserted in bulk, with their events and citations."""
    if _postgres(conn):
        from redlines.store import pgsearch

        return pgsearch.index_threats(conn, threat_ids)
    ids = "(SELECT value FROM json_each(?))"
    import json

    arg = (json.dumps(threat_ids),)
    conn.execute(f"{_INSERT}{_THREATS} WHERE t.id IN {ids}", arg)
    conn.execute(f"{_INSERT}{_EVENTS} WHERE e.threat_id IN {ids}", arg)
    conn.execute(
        f"{_INSERT}{_CITATIONS} WHERE c.quote IS NOT NULL AND (c.threat_id IN {ids} OR c.event_id IN "
        f"(SELECT id FROM event WHERE threat_id IN {ids}))",
        (*arg, *arg),
    )


def index_threats_after(conn: sqlite3.Connection, floor: int) -> None:
    """Index, in one pass, the threats whose rowid is above `floor` with their events and
    citations: those a bulk import added (an import never deletes a threat, so each new one is
    numbered above the largest rowid there was). Rows go in in rowid order, as FTS5 appends
    them fastest (a smaller rowid makes it write out what it holds): about half the time of one
    statement a batch. Rows indexed already (written one at a time, by `Writer`) are left alone.
    (Merging the segments afterwards, FTS5's 'optimize', was measured: it leaves a larger file.)"""
    if _postgres(conn):
        from redlines.store import pgsearch

        return pgsearch.index_threats_after(conn, floor)
    if floor == 0 and conn.execute("SELECT 1 FROM search_docsize LIMIT 1").fetchone() is None:
        # every threat is new, and nothing is indexed yet: each table whole, in rowid order
        conn.execute(f"{_INSERT}{_THREATS} ORDER BY t.rowid")
        conn.execute(f"{_INSERT}{_EVENTS} ORDER BY e.rowid")
        conn.execute(f"{_INSERT}{_CITATIONS} WHERE c.quote IS NOT NULL ORDER BY c.id")
        return
    new = "(SELECT id FROM threat WHERE rowid > ?)"
    fresh = f"NOT EXISTS ({_INDEXED})"
    conn.execute(f"{_INSERT}{_THREATS} WHERE t.rowid > ? AND {fresh.format('t.rowid * 3')} ORDER BY t.rowid", (floor,))
    conn.execute(
        f"{_INSERT}{_EVENTS} WHERE e.threat_id IN {new} AND {fresh.format('e.rowid * 3 + 1')} ORDER BY e.rowid",
        (floor,),
    )
    conn.execute(
        f"{_INSERT}{_CITATIONS} WHERE c.quote IS NOT NULL AND (c.threat_id IN {new} OR c.event_id IN "
        f"(SELECT id FROM event WHERE threat_id IN {new})) AND {fresh.format('c.id * 3 + 2')} ORDER BY c.id",
        (floor, floor),
    )


def _postgres(conn) -> bool:
    return getattr(conn, "dialect", "sqlite") != "sqlite"  # its index: `redlines.store.pgsearch`


# A word found in more places than this is ranked among its latest this-many matches only: ranking
# every one of millions of matches would take seconds.
RANKED = 5_000


def _plain(query: str) -> str:
    """A query as plain words, each quoted, for when FTS5 cannot parse what was typed."""
    words = re.findall(r"\w+", query)
    return " ".join(f'"{w}"' for w in words)


def search(conn: sqlite3.Connection, query: str, as_of: str, limit: int | None) -> list[dict]:
    """Threats whose statement, trigger, consequence, events or quotes match, best first, each
    with its matching passages.

    FTS5 ranks the matches (the latest RANKED of them) by rowid alone, which is cheap; only the
    best few are then read, checked against the as-of date and cut into passages, so the cost
    follows the number of threats asked for rather than the number of matches."""
    if _postgres(conn):
        from redlines.store import pgsearch

        return pgsearch.search(conn, query, as_of, limit)
    if limit == 0:
        return []
    query = _usable(conn, query)
    if not query:
        return []
    if limit is None:  # every match: all of them ranked (the latest RANKED first, as a page ranks them)
        ranked = conn.execute(
            "WITH latest AS MATERIALIZED (SELECT rowid, rank FROM search WHERE search MATCH ? "
            "ORDER BY rowid DESC LIMIT ?) SELECT rowid, rank FROM latest ORDER BY rank",
            (query, RANKED),
        ).fetchall()
        if len(ranked) == RANKED:
            ranked += conn.execute(
                "SELECT rowid, rank FROM search WHERE search MATCH ? AND rowid < ? ORDER BY rank",
                (query, min(r[0] for r in ranked)),
            ).fetchall()
        best = _best(conn, ranked, as_of)
    batch = max(200, (limit or 0) * 10)
    while limit is not None:
        ranked = conn.execute(
            "WITH latest AS MATERIALIZED (SELECT rowid, rank FROM search WHERE search MATCH ? "
            "ORDER BY rowid DESC LIMIT ?) SELECT rowid, rank FROM latest ORDER BY rank LIMIT ?",
            (query, RANKED, batch),
        ).fetchall()
        best = _best(conn, ranked, as_of)
        if len(best) >= limit or len(ranked) < batch:
            break
        batch *= 4
    chosen = list(best.items())[:limit] if limit is not None else list(best.items())
    passage = f"SELECT snippet(search, 0, '{OPEN}', '{CLOSE}', '…', 12) FROM search WHERE search MATCH ? AND rowid = ?"
    return [
        {
            "id": tid,
            "score": hits[0]["score"],
            "matches": [
                {
                    "in": h["kind"],
                    "event": h["event_id"],
                    "snippet": conn.execute(passage, (query, h["rowid"])).fetchone()[0],
                }
                for h in hits
            ],
        }
        for tid, hits in chosen
    ]


def as_searched(conn: sqlite3.Connection, query: str) -> str | None:
    """The plain words a query is searched for when FTS5 cannot parse it as typed; None when it
    can (it is searched as typed)."""
    if _postgres(conn):
        from redlines.store import pgsearch

        return pgsearch.as_searched(conn, query)
    plain = _usable(conn, query)
    return None if plain == query else plain


def _usable(conn: sqlite3.Connection, query: str) -> str:
    """The query as FTS5 takes it: as typed, or as plain words when FTS5 cannot parse it."""
    try:
        conn.execute("SELECT rowid FROM search WHERE search MATCH ? LIMIT 1", (query,)).fetchall()
    except sqlite3.OperationalError:
        return _plain(query)
    return query


def _best(conn: sqlite3.Connection, ranked: list, as_of: str) -> dict[str, list]:
    """The ranked rows of the index whose threat and event are known on `as_of`, by threat, best first."""
    rows = _visible(conn, [r[0] for r in ranked], as_of)
    best: dict[str, list] = {}
    for rowid, rank in ranked:
        hit = rows.get(rowid)
        if hit is not None:
            best.setdefault(hit["threat_id"], []).append({**dict(hit), "score": rank})
    return best


def count(conn: sqlite3.Connection, query: str, as_of: str) -> int:
    """How many threats known on `as_of` match (what `search` gives without a limit)."""
    if _postgres(conn):
        from redlines.store import pgsearch

        return pgsearch.count(conn, query, as_of)
    query = _usable(conn, query)
    if not query:
        return 0
    return conn.execute(
        "SELECT COUNT(DISTINCT s.threat_id) FROM search CROSS JOIN search_source s ON s.key = search.rowid "
        "CROSS JOIN threat t ON t.id = s.threat_id LEFT JOIN event e ON e.id = s.event_id "
        "WHERE search MATCH ? AND t.made_on <= ? AND (e.id IS NULL OR e.occurred_on <= ?)",
        (query, as_of, as_of),
    ).fetchone()[0]


def _visible(conn: sqlite3.Connection, rowids: list[int], as_of: str) -> dict[int, sqlite3.Row]:
    """Of these rows of the index, those whose threat and event are known on `as_of`."""
    import json

    if not rowids:
        return {}
    sql = (
        "SELECT s.key AS rowid, s.threat_id, s.kind, s.event_id "
        "FROM search_source s CROSS JOIN threat t ON t.id = s.threat_id LEFT JOIN event e ON e.id = s.event_id "
        "WHERE s.key IN (SELECT value FROM json_each(?)) AND t.made_on <= ? "
        "AND (e.id IS NULL OR e.occurred_on <= ?)"
    )
    return {r["rowid"]: r for r in conn.execute(sql, (json.dumps(rowids), as_of, as_of))}


INDEX_MISMATCH = "the search index does not match the records"


def index_problems(conn: sqlite3.Connection) -> list[str]:
    """What FTS5's own integrity check finds wrong with the index, compared with the texts it
    indexes (SQLite's `PRAGMA integrity_check` does not look inside FTS5): a file received from
    elsewhere may carry words the records do not hold, and a later edit of such a row corrupts the
    index. Empty when all is well, or when the check cannot write (a read-only file)."""
    if _postgres(conn) or not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_docsize'").fetchone():
        return []
    try:
        conn.execute("SAVEPOINT index_check")
        try:
            conn.execute("INSERT INTO search (search, rank) VALUES ('integrity-check', 1)")
        finally:
            conn.execute("ROLLBACK TO index_check")
            conn.execute("RELEASE index_check")
    except sqlite3.OperationalError as e:
        if "readonly" in str(e) or "read-only" in str(e) or "query_only" in str(e).replace(" ", "_"):
            return []
        return [f"{INDEX_MISMATCH} ({e})"]
    except sqlite3.DatabaseError:  # SQLITE_CORRUPT_VTAB: "database disk image is malformed"
        return [INDEX_MISMATCH]
    return []


def rebuild(conn: sqlite3.Connection) -> None:
    """Build the index anew from the records, inside the caller's transaction: empty it
    ('delete-all'), then index every row in one pass (never 'rebuild': see the module's notes)."""
    conn.execute("INSERT INTO search (search) VALUES ('delete-all')")
    index_threats_after(conn, 0)
