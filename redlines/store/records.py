"""Writing single records (actors, threats, events, citations), deleting them with everything
that hangs off them, and reverting a run. Every row goes through a `Writer`, so the change log
sees it all (no ON DELETE CASCADE does work behind its back)."""

from __future__ import annotations

import json
import sqlite3

from redlines.domain.checks import event_id, event_number
from redlines.schema import EVENT
from redlines.store.queries import field_list
from redlines.store.sqlite import select_in
from redlines.store.write import BULK, COLUMNS, Writer


def source_id(w: Writer, url: str) -> int:
    """The source with this URL, added if new."""
    row = w.conn.execute("SELECT id FROM source WHERE url = ?", (url,)).fetchone()
    return row[0] if row else w.insert("source", {"url": url})


def cite(w: Writer, subject: str, subject_id: str, url: str, quote: str | None) -> None:
    w.insert("citation", {"source_id": source_id(w, url), subject: subject_id, "quote": quote})


def next_event_id(conn: sqlite3.Connection, threat_id: str) -> str:
    """The next number of a threat's events: after every number it has, and every one it had."""
    numbers = [event_number(r[0]) for r in conn.execute("SELECT id FROM event WHERE threat_id = ?", (threat_id,))]
    return event_id(threat_id, max([*numbers, *retired_event_numbers(conn, threat_id)], default=0) + 1)


def retired_event_numbers(conn: sqlite3.Connection, threat_id: str) -> set[int]:
    """The numbers of the events of a threat that were deleted (from the change log, through its
    partial index `ix_change_retired_events`): never to be given out again."""
    rows = conn.execute(
        "SELECT row_id FROM change WHERE table_name = 'event' AND op = 'delete' AND row_id >= ? AND row_id < ?",
        (f"{threat_id}#", f"{threat_id}$"),  # '$' follows '#': the ids `threat_id#...` alone
    )
    return {n for (row_id,) in rows if (n := event_number(row_id))}


def actor_names(conn: sqlite3.Connection) -> list:
    """Every actor's slug, name and aliases (as `validation.ActorNames`), in slug order."""
    from redlines.domain.validation import ActorNames

    aliases: dict[int, list[str]] = {}
    for actor_id, alias in conn.execute("SELECT actor_id, alias FROM alias ORDER BY id"):
        aliases.setdefault(actor_id, []).append(alias)
    return [
        ActorNames(slug, name, aliases.get(i, []))
        for i, slug, name in conn.execute("SELECT id, slug, name FROM actor ORDER BY slug")
    ]


def speaks_for(conn: sqlite3.Connection) -> dict[str, str | None]:
    """Each actor's slug, with the slug of the actor it speaks for (or None)."""
    return dict(conn.execute("SELECT a.slug, o.slug FROM actor a LEFT JOIN actor o ON o.id = a.of_id").fetchall())


def citations(conn: sqlite3.Connection, subject: str, subject_id: str) -> list[tuple[int, str, str | None]]:
    """(citation id, URL, quote) of a threat's (`threat_id`) or an event's (`event_id`) citations."""
    column = {"threat_id": "threat_id", "event_id": "event_id"}[subject]
    return [
        tuple(r)
        for r in conn.execute(
            f"SELECT c.id, s.url, c.quote FROM citation c JOIN source s ON s.id = c.source_id "
            f"WHERE c.{column} = ? ORDER BY c.id",
            (subject_id,),
        )
    ]


def events_of(conn: sqlite3.Connection, threat_id: str) -> list[dict]:
    """Every stored event of a threat, in order of entry."""
    return [
        dict(r)
        for r in conn.execute(
            f"SELECT id, {field_list(EVENT)} FROM event WHERE threat_id = ? ORDER BY seq",
            (threat_id,),
        )
    ]


def delete_event(w: Writer, event_id: str) -> None:
    for (cid,) in w.conn.execute("SELECT id FROM citation WHERE event_id = ?", (event_id,)).fetchall():
        w.delete("citation", cid)
    w.delete("event", event_id)


def delete_threat(w: Writer, threat_id: str) -> None:
    conn = w.conn
    for (eid,) in conn.execute("SELECT id FROM event WHERE threat_id = ? ORDER BY seq", (threat_id,)).fetchall():
        delete_event(w, eid)
    for table in ("citation", "threat_target", "threat_tag"):
        for (rid,) in conn.execute(f"SELECT id FROM {table} WHERE threat_id = ?", (threat_id,)).fetchall():
            w.delete(table, rid)
    w.delete("threat", threat_id)


def delete_threats(w: Writer, threat_ids: list[str]) -> None:
    """Many threats with everything under them, as `delete_threat` deletes one, in a statement
    or two a table: the citations of their events, the events, their own citations, targets and
    tags, then the threats, each row logged (the undo of a bulk import)."""
    ids = (json.dumps(threat_ids, ensure_ascii=False),)
    theirs = f"threat_id IN {_LISTED}"
    w.delete_where("citation", f"event_id IN (SELECT id FROM event WHERE {theirs})", ids)
    for table in ("event", "citation", "threat_target", "threat_tag"):
        w.delete_where(table, theirs, ids)
    w.delete_where("threat", f"id IN {_LISTED}", ids)


def _delete_sources(w: Writer, source_ids: list[int]) -> None:
    w.delete_where("source", "id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))", (json.dumps(source_ids),))


_LISTED = "(SELECT value FROM json_each(?))"  # the keys of a JSON array bound as one value
# How the rows of a table logged in bulk (`BULK`: an import's new threats and sources) are taken
# back: many at a time, as they went in.
_BULK_REMOVE = {"threat": delete_threats, "source": _delete_sources}


def delete_actor(w: Writer, actor_id: int) -> None:
    for (aid,) in w.conn.execute("SELECT id FROM alias WHERE actor_id = ?", (actor_id,)).fetchall():
        w.delete("alias", aid)
    w.delete("actor", actor_id)


def actor_references(conn: sqlite3.Connection, actor_id: int) -> list[str]:
    """What still refers to an actor: threats it issued or is targeted by, actors that speak for it."""
    threats = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM threat WHERE issuer_id = ? UNION "
            "SELECT threat_id FROM threat_target WHERE actor_id = ? ORDER BY 1",
            (actor_id, actor_id),
        )
    ]
    members = [r[0] for r in conn.execute("SELECT slug FROM actor WHERE of_id = ? ORDER BY slug", (actor_id,))]
    return [f"threat {t}" for t in threats] + [f"actor {m} (speaks for it)" for m in members]


def replace_children(w: Writer, table: str, parent_col: str, parent_id, key, rows: list[dict]) -> tuple[list, list]:
    """Make the child rows of one parent exactly `rows`, matching existing rows on `key`
    (one column or several), so that unchanged rows are left alone. Returns the keys added and
    those removed."""
    keys = (key,) if isinstance(key, str) else key
    cols = ", ".join(("id", *keys))
    existing = {
        tuple(r[1:]): r[0]
        for r in w.conn.execute(f"SELECT {cols} FROM {table} WHERE {parent_col} = ? ORDER BY id", (parent_id,))
    }
    wanted = [tuple(r[k] for k in keys) for r in rows]
    removed = [k for k in existing if k not in set(wanted)]
    for k in removed:
        w.delete(table, existing[k])
    added = []
    for k, r in zip(wanted, rows, strict=False):
        if k not in existing:
            w.insert(table, {parent_col: parent_id, **r})
            existing[k] = None
            added.append(k)
    return added, removed


# --- the change log ----------------------------------------------------------------------------


_RUN = "SELECT id, at, command, undoes, author FROM run"


def last_run(conn: sqlite3.Connection, author: str | None = None) -> sqlite3.Row | None:
    """The newest run; with `author`, the newest run of that author that no run has undone yet
    (the one `undo` takes back: when it is itself an undo, taking it back redoes)."""
    if author is None:
        return conn.execute(f"{_RUN} ORDER BY id DESC LIMIT 1").fetchone()
    return conn.execute(
        f"{_RUN} r WHERE author = ? AND NOT EXISTS (SELECT 1 FROM run u WHERE u.undoes = r.id) "
        "ORDER BY id DESC LIMIT 1",
        (author,),
    ).fetchone()


def run_by_id(conn: sqlite3.Connection, run_id: int) -> sqlite3.Row | None:
    return conn.execute(f"{_RUN} WHERE id = ?", (run_id,)).fetchone()


def undone_by(conn: sqlite3.Connection, run_id: int) -> sqlite3.Row | None:
    """The run that took back run `run_id`, if one did."""
    return conn.execute(f"{_RUN} WHERE undoes = ? ORDER BY id LIMIT 1", (run_id,)).fetchone()


def later_runs_on_rows_of(conn: sqlite3.Connection, run_id: int, after: int, before: int | None = None) -> list:
    """The runs after run `after` (and before run `before`, if given) that changed a row that
    run `run_id` changed: what an undo of (or recorded as) `run_id` would overwrite. A row of
    the log for many inserted rows (`BULK`) counts for each key it holds, on either side."""
    return conn.execute(
        f"""WITH mine(table_name, row_id) AS (
  SELECT table_name, row_id FROM change WHERE run_id = :run AND row_id <> :bulk
  UNION ALL SELECT c.table_name, j.value FROM change c, json_each(c.after) j WHERE c.run_id = :run AND c.row_id = :bulk
)
{_RUN} WHERE id IN (
  SELECT l.run_id FROM change l WHERE l.run_id > :after AND l.run_id < :before AND l.row_id <> :bulk
    AND (l.table_name, l.row_id) IN (SELECT table_name, row_id FROM mine)
  UNION SELECT l.run_id FROM change l, json_each(l.after) j WHERE l.run_id > :after AND l.run_id < :before
    AND l.row_id = :bulk AND (l.table_name, j.value) IN (SELECT table_name, row_id FROM mine)
) ORDER BY id""",
        {"run": run_id, "after": after, "before": before if before is not None else 2**62, "bulk": BULK},
    ).fetchall()


def runs(conn: sqlite3.Connection, limit: int | None, author: str | None = None) -> list[sqlite3.Row]:
    where, args = (" WHERE author = ?", [author]) if author is not None else ("", [])
    if limit is not None:
        args.append(limit)
    return conn.execute(f"{_RUN}{where} ORDER BY id DESC" + (" LIMIT ?" if limit is not None else ""), args).fetchall()


def count_runs(conn: sqlite3.Connection, author: str | None = None) -> int:
    if author is None:
        return conn.execute("SELECT COUNT(*) FROM run").fetchone()[0]
    return conn.execute("SELECT COUNT(*) FROM run WHERE author = ?", (author,)).fetchone()[0]


def changes(conn: sqlite3.Connection, run_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    if not run_ids:
        return out
    rows = select_in(
        conn,
        "SELECT run_id, table_name, row_id, op, before, after FROM change WHERE run_id IN ({values}) ORDER BY id",
        run_ids,
    )
    for r in rows:
        if r["row_id"] == BULK:  # many inserted rows logged as one: a change each, as history shows them
            table = r["table_name"]
            out.setdefault(r["run_id"], []).extend(
                {"table": table, "row_id": key, "op": "insert", "before": None, "after": None}
                for key in json.loads(r["after"])
            )
            continue
        out.setdefault(r["run_id"], []).append(
            {
                "table": r["table_name"],
                "row_id": r["row_id"],
                "op": r["op"],
                "before": json.loads(r["before"]) if r["before"] else None,
                "after": json.loads(r["after"]) if r["after"] else None,
            }
        )
    return out


def _key(table: str, row_id: str):
    """A logged row id as the table's key: text for threats and events, a number elsewhere."""
    return row_id if table in ("threat", "event") else int(row_id)


def revert(w: Writer, run_changes: list[dict]) -> None:
    """Apply the inverse of a run's changes, last first. Consecutive changes of one table that
    go back the same way are taken back together: rows inserted in bulk (logged by key alone,
    `changes` gives them without `after`) are removed in bulk, and deleted rows are put back
    a statement a step for the lot (`Writer.insert_many`)."""
    step, items = None, []  # (how, table) of the changes gathered in `items`
    for c in reversed(run_changes):
        table, before, after = c["table"], c["before"], c["after"]
        how = _together(c)
        if how is not None:
            if (how, table) != step:
                _take_back(w, step, items)
                step, items = (how, table), []
            items.append(before if how == "put back" else _key(table, c["row_id"]))
            continue
        _take_back(w, step, items)
        step, items = None, []
        key = after["id"] if after else before["id"] if before else _key(table, c["row_id"])
        if c["op"] == "insert":
            remove = {"threat": delete_threat, "event": delete_event, "actor": delete_actor}.get(table)
            if remove:
                remove(w, key)
            else:
                w.delete(table, key)
        elif c["op"] == "delete":
            w.insert(table, {k: before.get(k) for k in COLUMNS[table]})  # a log older than a column lacks it
        else:
            w.update(table, key, {k: before[k] for k in COLUMNS[table] if k != "id" and k in before})
    _take_back(w, step, items)


def _together(change: dict) -> str | None:
    """How a change is taken back with its neighbours of the same table, if it can be."""
    table = change["table"]
    if change["op"] == "insert" and change["after"] is None and table in _BULK_REMOVE:
        return "remove"
    if change["op"] == "delete" and all(k in change["before"] for k in COLUMNS[table]):
        return "put back"  # (a row logged before a column was added goes back alone: `insert` fills it)
    return None


def _take_back(w: Writer, step: tuple[str, str] | None, items: list) -> None:
    if step is None or not items:
        return
    how, table = step
    if how == "remove":
        _BULK_REMOVE[table](w, items)
    else:
        w.insert_many(table, items)
