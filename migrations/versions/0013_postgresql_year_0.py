"""PostgreSQL: a day before year 1 reads as SQLite writes it. Nothing changes on SQLite.

SQLite's year 0 is PostgreSQL's 1 BC, which `rl_iso` (migration 0011) wrote as '0001':
`date('0001-01-10', '-31 days')` was '0001-12-10' on PostgreSQL, after every day of year 1,
where SQLite gives '0000-12-10', before them. The grace period of a threat made in the first
weeks of year 1 then ran out on PostgreSQL alone. Such a day is now written as SQLite writes it,
and none earlier (NULL).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 03:00:00.000000

"""

from typing import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

YEAR_0 = """CREATE OR REPLACE FUNCTION rl_iso(d date) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN d >= DATE '0001-01-01' THEN CASE WHEN d <= DATE '9999-12-31' THEN to_char(d, 'YYYY-MM-DD') END
                   WHEN d >= DATE '0001-01-01 BC' THEN '0000' || to_char(d, '-MM-DD') END $$"""
# 0011's
BC_AS_YEAR_1 = """CREATE OR REPLACE FUNCTION rl_iso(d date) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN d <= DATE '9999-12-31' THEN to_char(d, 'YYYY-MM-DD') END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(YEAR_0)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BC_AS_YEAR_1)
