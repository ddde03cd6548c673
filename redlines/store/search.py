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

import json
import re
import sqlite3
from dataclasses import dataclass

from redlines.domain.snippets import CLOSE, OPEN  # marks around matched words, replaced by the output layer

_THREATS = (
    "SELECT t.rowid * 3, coalesce(t.statement, '') || ' ' || coalesce(t.trigger, '') || ' ' || "
    "coalesce(t.consequence, '') FROM threat t"
)
_EVENTS = "SELECT e.rowid * 3 + 1, e.what FROM event e"
_CITATIONS = "SELECT c.id * 3 + 2, c.quote FROM citation c"
_INSERT = "INSERT INTO search (rowid, body) "


@dataclass(frozen=True)
class Upkeep:
    """How an engine's index takes new rows: `insert` followed by one of the SELECTs of the rows of
    threats, events and citations (key, ..., text), and `indexed`, whether the row of a key is
    indexed already (a `{}` for the key's expression). New rows are indexed by the code that
    writes them: `Writer.insert` one at a time, the bulk loader and `db copy` a batch at a time.
    `ordered`: a bulk insert goes in key order (FTS5 appends rows fastest in rowid order).
    `batched`: a load into a database without threats indexes each batch as soon as it is written
    (`rows_above`), while the next batch is read; else the new threats in one pass at the end."""

    insert: str
    threats: str
    events: str
    citations: str
    indexed: str
    ordered: bool = False
    batched: bool = False

    def _by(self, key: str) -> str:
        return f" ORDER BY {key}" if self.ordered else ""

    def rows(self, conn, table: str, keys: list) -> None:
        """Index rows just inserted into threat, event or citation (other tables: nothing)."""
        sql = {"threat": "t.id = ?", "event": "e.id = ?", "citation": "c.id = ? AND c.quote IS NOT NULL"}.get(table)
        if sql and keys:
            source = {"threat": self.threats, "event": self.events, "citation": self.citations}[table]
            conn.executemany(f"{self.insert}{source} WHERE {sql}", [(key,) for key in keys])

    def threats_by_id(self, conn, threat_ids: list[str]) -> None:
        """Index threats just inserted in bulk, with their events and citations."""
        ids = "(SELECT value FROM json_each(?))"
        arg = (json.dumps(threat_ids, ensure_ascii=False),)
        conn.execute(f"{self.insert}{self.threats} WHERE t.id IN {ids}", arg)
        conn.execute(f"{self.insert}{self.events} WHERE e.threat_id IN {ids}", arg)
        conn.execute(
            f"{self.insert}{self.citations} WHERE c.quote IS NOT NULL AND (c.threat_id IN {ids} OR c.event_id IN "
            f"(SELECT id FROM event WHERE threat_id IN {ids}))",
            (*arg, *arg),
        )

    def threats_after(self, conn, floor: int) -> None:
        """Index the threats whose rowid is above `floor` (those a bulk import added: an import
        never deletes a threat, so each new one is numbered above the largest rowid there was),
        with their events and citations; rows indexed already (written one at a time) are left."""
        new = "(SELECT id FROM threat WHERE rowid > ?)"
        fresh = f"NOT EXISTS ({self.indexed})"
        conn.execute(
            f"{self.insert}{self.threats} WHERE t.rowid > ? AND {fresh.format('t.rowid * 3')}{self._by('t.rowid')}",
            (floor,),
        )
        conn.execute(
            f"{self.insert}{self.events} WHERE e.threat_id IN {new} AND {fresh.format('e.rowid * 3 + 1')}"
            f"{self._by('e.rowid')}",
            (floor,),
        )
        # The citations of those threats and of their events, as one list of keys: an OR of two
        # IN lists was planned on PostgreSQL as a scan of the list for every citation once the
        # list outgrew its memory for hashing (a 150k import ran for over ten minutes).
        cited = (
            "(SELECT c2.id FROM citation c2 JOIN threat t2 ON t2.id = c2.threat_id WHERE t2.rowid > ? "
            "UNION ALL SELECT c3.id FROM citation c3 JOIN event e3 ON e3.id = c3.event_id "
            "JOIN threat t3 ON t3.id = e3.threat_id WHERE t3.rowid > ?)"
        )
        conn.execute(
            f"{self.insert}{self.citations} WHERE c.quote IS NOT NULL AND c.id IN {cited} "
            f"AND {fresh.format('c.id * 3 + 2')}{self._by('c.id')}",
            (floor, floor),
        )

    def rows_above(self, conn, threat: int, event: int, citation: int) -> None:
        """Index every threat, event and citation numbered above these: the rows of the batch a
        load into a database without threats has just written (all of them are new)."""
        conn.execute(f"{self.insert}{self.threats} WHERE t.rowid > ?{self._by('t.rowid')}", (threat,))
        conn.execute(f"{self.insert}{self.events} WHERE e.rowid > ?{self._by('e.rowid')}", (event,))
        quoted = f"{self.insert}{self.citations} WHERE c.quote IS NOT NULL AND c.id > ?{self._by('c.id')}"
        conn.execute(quoted, (citation,))

    def everything(self, conn) -> None:
        """Index every row, into an index that holds none yet."""
        conn.execute(f"{self.insert}{self.threats}{self._by('t.rowid')}")
        conn.execute(f"{self.insert}{self.events}{self._by('e.rowid')}")
        conn.execute(f"{self.insert}{self.citations} WHERE c.quote IS NOT NULL{self._by('c.id')}")


# FTS5's own list of the rows it holds answers "is this key indexed?".
# Each batch of a load goes in as written: the same work for FTS5 as one pass at the end (which
# writes out what it holds at every smaller key too), done while the reading process reads the next.
UPKEEP = Upkeep(
    _INSERT, _THREATS, _EVENTS, _CITATIONS, "SELECT 1 FROM search_docsize WHERE id = {}", ordered=True, batched=True
)


def _upkeep(conn) -> Upkeep:
    if _postgres(conn):
        from redlines.store import pgsearch

        return pgsearch.UPKEEP
    return UPKEEP


def index_row(conn: sqlite3.Connection, table: str, key) -> None:
    """Index one row just inserted into threat, event or citation (other tables: nothing to do)."""
    _upkeep(conn).rows(conn, table, [key])


def index_rows(conn: sqlite3.Connection, table: str, keys: list) -> None:
    """Index rows just inserted into threat, event or citation (other tables: nothing to do)."""
    _upkeep(conn).rows(conn, table, keys)


def index_threats(conn: sqlite3.Connection, threat_ids: list[str]) -> None:
    """Index threats just inserted in bulk, with their events and citations."""
    _upkeep(conn).threats_by_id(conn, threat_ids)


def batch_marks(conn: sqlite3.Connection) -> tuple[int, int, int] | None:
    """Before a batch of a load into a database without threats is written: the largest rowid of
    threat, event and citation, to index the batch's rows by (`index_batch`), when the engine's
    index takes them a batch at a time; else None (`index_threats_after` takes them at the end)."""
    if not _upkeep(conn).batched:
        return None
    one = "SELECT COALESCE(MAX({}), 0) FROM {}"  # (a citation's id is its rowid)
    return tuple(
        conn.execute(one.format(*k)).fetchone()[0]
        for k in (("rowid", "threat"), ("rowid", "event"), ("id", "citation"))
    )


def index_batch(conn: sqlite3.Connection, marks: tuple[int, int, int]) -> None:
    """Index the rows written since `batch_marks` gave `marks`."""
    _upkeep(conn).rows_above(conn, *marks)


# How many segments of a size FTS5 lets pile up before it merges them ('automerge'; 4 is its
# default). Into a database without threats, a load's batches go in with 16: the segments are then
# rewritten about half as many times (1M threats: 13.6 s against 19.1 s in FTS5, the same file
# size, a common word's look-up 52 against 43 ms), and the default is put back when it ends.
_MERGE_USUALLY, _MERGE_WHILE_LOADING = 4, 16


def merge_less(conn: sqlite3.Connection) -> None:
    """While a load into a database without threats indexes its batches: merge less often."""
    _automerge(conn, _MERGE_WHILE_LOADING)


def merge_as_usual(conn: sqlite3.Connection) -> None:
    """Once such a load has written its rows: merge as usual again. (The default is set through
    FTS5, which then holds it for this connection too, and its row is then removed: no setting of
    the load's is left in the file. The segments written meanwhile stay until later writes merge
    them: a common word's look-up 52 against 43 ms at 1M threats.)"""
    _automerge(conn, _MERGE_USUALLY)
    if not _postgres(conn):
        conn.execute("DELETE FROM search_config WHERE k = 'automerge'")


def _automerge(conn, segments: int) -> None:
    if not _postgres(conn):  # (its index has no segments to merge)
        conn.execute("INSERT INTO search (search, rank) VALUES ('automerge', ?)", (segments,))


def index_threats_after(conn: sqlite3.Connection, floor: int) -> None:
    """Index, in one pass, the threats whose rowid is above `floor` with their events and
    citations (see `Upkeep.threats_after`). Rows go in in rowid order, as FTS5 appends them
    fastest (a smaller rowid makes it write out what it holds): about half the time of one
    statement a batch. Into an empty index, each table goes in whole, without asking which rows
    are indexed. (Merging the segments afterwards, FTS5's 'optimize', was measured: it leaves a
    larger file.)"""
    upkeep = _upkeep(conn)
    if upkeep is UPKEEP and floor == 0 and conn.execute("SELECT 1 FROM search_docsize LIMIT 1").fetchone() is None:
        upkeep.everything(conn)
        return
    upkeep.threats_after(conn, floor)


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
