"""Event order is data: each event keeps `seq`, its place in its threat's order of entry, so
that `undo` of a delete puts events back in the order they had (two deadlines on one day keep
which one is in force). Backfilled from the order of entry so far (rowid order).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 17:00:00.000000

"""

from typing import Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # A plain ADD COLUMN: the event table (and its search triggers) stays as it is.
    op.add_column("event", sa.Column("seq", sa.Integer(), server_default="0", nullable=False))
    if op.get_bind().dialect.name != "sqlite":  # a PostgreSQL database starts empty, at 0011
        return
    op.execute(
        "UPDATE event SET seq = r.n FROM (SELECT id, row_number() OVER (PARTITION BY threat_id ORDER BY rowid) AS n "
        "FROM event) r WHERE event.id = r.id"
    )


def downgrade() -> None:
    """Downgrade schema. The views the store makes read `seq` (through the rule SQL), and SQLite
    refuses to drop a column a view reads: they go first, and are made again on the next open."""
    op.execute("DROP VIEW IF EXISTS actor_scorecard")
    op.execute("DROP VIEW IF EXISTS threat_outcome")
    op.drop_column("event", "seq")
