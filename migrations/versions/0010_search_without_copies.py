"""The search index without a copy of the texts: an external-content FTS5 table whose texts are
read, when a passage is cut (`snippet`), from the rows themselves through the view
`search_source`; then the file is vacuumed, so that the space the copies took is given back.

The view is keyed on the index's own list of rows (`search_docsize`, one row per indexed text,
by rowid): a look-up by key is one read of that list and one of the row the key names (a
threat's rowid * 3, an event's rowid * 3 + 1, a citation's id * 3 + 2), never a scan. The index
holds the words of `body` alone; which threat, event or quote a row is comes from the view.

An external-content index forgets a text only when told the words it had: the triggers hand the
old text to FTS5's 'delete' command, and only for rows that are indexed (a row added by an
import is indexed when the import ends).

Indexes (both engines): `ix_threat_tag_tag` goes (no query looks threats up by tag; 3% of the
file), and `ix_threat_report_dated` comes: a report by category or by year reads the settled
verdicts from it in order, instead of sorting every threat. The search part is SQLite's alone:
on PostgreSQL it does nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 19:30:00.000000

"""

from typing import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"

SOURCE_VIEW = """CREATE VIEW search_source AS
SELECT d.id AS key,
  CASE d.id % 3 WHEN 0 THEN 'threat' WHEN 1 THEN 'event' ELSE 'quote' END AS kind,
  CASE d.id % 3
    WHEN 0 THEN (SELECT t.id FROM threat t WHERE t.rowid = d.id / 3)
    WHEN 1 THEN (SELECT e.threat_id FROM event e WHERE e.rowid = d.id / 3)
    ELSE (SELECT coalesce(c.threat_id, (SELECT e.threat_id FROM event e WHERE e.id = c.event_id))
          FROM citation c WHERE c.id = d.id / 3) END AS threat_id,
  CASE d.id % 3
    WHEN 1 THEN (SELECT e.id FROM event e WHERE e.rowid = d.id / 3)
    WHEN 2 THEN (SELECT c.event_id FROM citation c WHERE c.id = d.id / 3) END AS event_id,
  CASE d.id % 3
    WHEN 0 THEN (SELECT coalesce(t.statement, '') || ' ' || coalesce(t.trigger, '') || ' '
                   || coalesce(t.consequence, '') FROM threat t WHERE t.rowid = d.id / 3)
    WHEN 1 THEN (SELECT e.what FROM event e WHERE e.rowid = d.id / 3)
    ELSE (SELECT c.quote FROM citation c WHERE c.id = d.id / 3) END AS body
FROM search_docsize d"""

# The text each table indexes, as `new.` or `old.` columns, the key of its row, and when it has one.
BODY = {
    "threat": "coalesce({r}.statement, '') || ' ' || coalesce({r}.trigger, '') || ' ' || coalesce({r}.consequence, '')",
    "event": "{r}.what",
    "citation": "{r}.quote",
}
KEY = {"threat": "{r}.rowid * 3", "event": "{r}.rowid * 3 + 1", "citation": "{r}.id * 3 + 2"}
TEXT_COLUMNS = {"threat": "statement, trigger, consequence", "event": "what", "citation": "quote"}


def _forget(table: str) -> str:
    key, body = KEY[table].format(r="old"), BODY[table].format(r="old")
    return (
        f"INSERT INTO search (search, rowid, body) SELECT 'delete', {key}, {body} "
        f"WHERE EXISTS (SELECT 1 FROM search_docsize WHERE id = {key});"
    )


def _index(table: str) -> str:
    key, body = KEY[table].format(r="new"), BODY[table].format(r="new")
    return f"INSERT INTO search (rowid, body) SELECT {key}, {body} WHERE {body} IS NOT NULL;"


def triggers() -> dict[str, str]:
    out = {}
    for t in BODY:
        out[f"search_{t}_delete"] = f"CREATE TRIGGER search_{t}_delete AFTER DELETE ON {t} BEGIN {_forget(t)} END"
        out[f"search_{t}_update"] = (
            f"CREATE TRIGGER search_{t}_update AFTER UPDATE OF {TEXT_COLUMNS[t]} ON {t} "
            f"BEGIN {_forget(t)} {_index(t)} END"
        )
    return out


# --- as 0002 and 0004 left them, for the downgrade -------------------------------------------------

OLD_BODY = "coalesce(new.statement, '') || ' ' || coalesce(new.trigger, '') || ' ' || coalesce(new.consequence, '')"
OLD_INSERTS = {
    "threat": (
        "INSERT INTO search (rowid, kind, threat_id, event_id, body) VALUES (new.rowid * 3, 'threat', new.id, "
        "NULL, coalesce(new.statement, '') || ' ' || coalesce(new.trigger, '') || ' ' || "
        "coalesce(new.consequence, ''));"
    ),
    "event": (
        "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        "VALUES (new.rowid * 3 + 1, 'event', new.threat_id, new.id, new.what);"
    ),
    "citation": (
        "INSERT INTO search (rowid, kind, threat_id, event_id, body) SELECT new.id * 3 + 2, 'quote', "
        "coalesce(new.threat_id, (SELECT threat_id FROM event WHERE id = new.event_id)), new.event_id, "
        "new.quote WHERE new.quote IS NOT NULL;"
    ),
}
OLD_DELETES = {
    "threat": "DELETE FROM search WHERE rowid = old.rowid * 3;",
    "event": "DELETE FROM search WHERE rowid = old.rowid * 3 + 1;",
    "citation": "DELETE FROM search WHERE rowid = old.id * 3 + 2;",
}
OLD_TEXT_COLUMNS = {
    "threat": "statement, trigger, consequence",
    "event": "what, threat_id",
    "citation": "quote, threat_id, event_id",
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _vacuum() -> None:
    """Give the freed pages back to the file system (VACUUM runs outside a transaction)."""
    with op.get_context().autocommit_block():
        op.execute("VACUUM")


def upgrade() -> None:
    op.drop_index("ix_threat_tag_tag", table_name="threat_tag")
    op.create_index(
        "ix_threat_report_dated",
        "threat",
        ["category", "settled_outcome", "made_on", "settled_on", "settled_days", "issuer_id"],
        unique=False,
    )
    if not _sqlite():
        return
    for t in BODY:
        op.execute(f"DROP TRIGGER search_{t}_delete")
        op.execute(f"DROP TRIGGER search_{t}_update")
    op.execute("DROP TABLE search")
    op.execute(
        f"CREATE VIRTUAL TABLE search USING fts5(body, {TOKENIZE}, content = 'search_source', content_rowid = 'key')"
    )
    op.execute(SOURCE_VIEW)
    # In key order within each table, as FTS5 appends fastest; then merged into one segment.
    op.execute(
        f"INSERT INTO search (rowid, body) SELECT {KEY['threat'].format(r='t')}, "
        f"{BODY['threat'].format(r='t')} FROM threat t ORDER BY t.rowid"
    )
    op.execute("INSERT INTO search (rowid, body) SELECT e.rowid * 3 + 1, e.what FROM event e ORDER BY e.rowid")
    op.execute(
        "INSERT INTO search (rowid, body) SELECT c.id * 3 + 2, c.quote FROM citation c "
        "WHERE c.quote IS NOT NULL ORDER BY c.id"
    )
    op.execute("INSERT INTO search (search) VALUES ('optimize')")
    for sql in triggers().values():
        op.execute(sql)
    _vacuum()


def downgrade() -> None:
    op.drop_index("ix_threat_report_dated", table_name="threat")
    op.create_index("ix_threat_tag_tag", "threat_tag", ["tag"], unique=False)
    if not _sqlite():
        return
    for t in BODY:
        op.execute(f"DROP TRIGGER search_{t}_delete")
        op.execute(f"DROP TRIGGER search_{t}_update")
    op.execute("DROP VIEW search_source")
    op.execute("DROP TABLE search")
    op.execute(
        f"CREATE VIRTUAL TABLE search USING fts5(kind UNINDEXED, threat_id UNINDEXED, "
        f"event_id UNINDEXED, body, {TOKENIZE})"
    )
    for t in BODY:
        op.execute(f"CREATE TRIGGER search_{t}_delete AFTER DELETE ON {t} BEGIN {OLD_DELETES[t]} END")
        op.execute(
            f"CREATE TRIGGER search_{t}_update AFTER UPDATE OF {OLD_TEXT_COLUMNS[t]} ON {t} "
            f"BEGIN {OLD_DELETES[t]} {OLD_INSERTS[t]} END"
        )
    op.execute(
        f"INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        f"SELECT rowid * 3, 'threat', id, NULL, {OLD_BODY.replace('new.', '')} FROM threat ORDER BY rowid"
    )
    op.execute(
        "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        "SELECT rowid * 3 + 1, 'event', threat_id, id, what FROM event ORDER BY rowid"
    )
    op.execute(
        "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        "SELECT c.id * 3 + 2, 'quote', coalesce(c.threat_id, e.threat_id), c.event_id, c.quote "
        "FROM citation c LEFT JOIN event e ON e.id = c.event_id WHERE c.quote IS NOT NULL ORDER BY c.id"
    )
