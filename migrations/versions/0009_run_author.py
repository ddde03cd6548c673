"""Authors: each run records who made it (`REDLINES_AUTHOR`, else the login name), so that
`history --author` can filter by it and `undo` takes back the caller's own last run; and an index
of the change log's deleted events, so that an event id is never given out twice.

Runs recorded before this revision keep the author NULL ("unknown"): who made them was never
written down, and filling in the login name of whoever happens to upgrade the file would
attribute a colleague's runs (or those of a file received from elsewhere) to them. Such runs are
still listed by `history` and can be taken back with `undo --run N`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 18:00:00.000000

"""

from typing import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # A plain ADD COLUMN (nullable, no default): existing runs read NULL, nothing is rewritten.
    op.add_column("run", sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    # Event ids are never given out twice: the change log's rows of deleted events are indexed, so
    # that the next number of a threat's events counts the numbers it has had and lost too.
    op.create_index(
        "ix_change_retired_events",
        "change",
        ["row_id"],
        unique=False,
        sqlite_where=sa.text("table_name = 'event' AND op = 'delete'"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_change_retired_events", table_name="change")
    # A plain DROP COLUMN: a batch copy of `run` would cascade-delete the change log.
    op.drop_column("run", "author")
