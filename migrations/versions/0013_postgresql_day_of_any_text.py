"""PostgreSQL: `rl_day` (SQLite's date() of a day, migration 0011) gives NULL for text that is
not a day, as SQLite does, instead of failing. Nothing changes on SQLite.

The store's SQL takes the date of a threat that never settles ('9999-99-99', the day after
every date) when it settles it again; PostgreSQL's cast of it failed the write ("date/time
field value out of range"), where SQLite's date() gives NULL. A day of the month up to 31 past
its month's end rolls over into the next month, as SQLite's day arithmetic does ('2025-02-30'
is 2025-03-02). SQLite's year 0 is PostgreSQL's 1 BC, which `rl_iso` wrote as '0001': a day
before year 1 reads as SQLite writes it ('0000-12-01'), and none earlier is written (NULL).
With two modifiers, a day past 9999 after the first is NULL, as in SQLite ('9999-12-01',
'+1 month', '-1 day', the end of a deadline in December 9999, is NULL on both engines).

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

_NOW = "WHEN d = 'now' THEN (now() AT TIME ZONE 'UTC')::date"
# SQLite's year 0 is PostgreSQL's 1 BC (its make_date year -1).
_YEAR = "nullif(substr(d, 1, 4)::int, 0)"
DAY_OF_ANY_TEXT = f"""CREATE OR REPLACE FUNCTION rl_day(d text) RETURNS date LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT CASE {_NOW}
                   WHEN d ~ '^\\d{{4}}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$'
                   THEN make_date(coalesce({_YEAR}, -1), substr(d, 6, 2)::int, 1) + (substr(d, 9, 2)::int - 1)
              END $$"""
ISO_OF_YEAR_0 = """CREATE OR REPLACE FUNCTION rl_iso(d date) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN d > DATE '9999-12-31' THEN NULL
                   WHEN d >= DATE '0001-01-01' THEN to_char(d, 'YYYY-MM-DD')
                   WHEN d >= DATE '0001-01-01 BC' THEN '0000' || to_char(d, '-MM-DD') END $$"""
# Each modifier in turn: a day past 9999 on the way is NULL, as in SQLite.
TWO_MODIFIERS_IN_TURN = """CREATE OR REPLACE FUNCTION rl_date(d text, m1 text, m2 text) RETURNS text LANGUAGE sql
    STABLE PARALLEL SAFE AS $$ SELECT rl_date(rl_date(d, m1), m2) $$"""
DAY_OR_FAIL = f"""CREATE OR REPLACE FUNCTION rl_day(d text) RETURNS date LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT CASE {_NOW}
                   WHEN d ~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}$' THEN d::date END $$"""
ISO_OR_BC = """CREATE OR REPLACE FUNCTION rl_iso(d date) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN d <= DATE '9999-12-31' THEN to_char(d, 'YYYY-MM-DD') END $$"""
TWO_MODIFIERS_AT_ONCE = """CREATE OR REPLACE FUNCTION rl_date(d text, m1 text, m2 text) RETURNS text LANGUAGE sql
    STABLE PARALLEL SAFE AS $$ SELECT rl_iso((rl_day(d) + m1::interval + m2::interval)::date) $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DAY_OF_ANY_TEXT)
        op.execute(ISO_OF_YEAR_0)
        op.execute(TWO_MODIFIERS_IN_TURN)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DAY_OR_FAIL)
        op.execute(ISO_OR_BC)
        op.execute(TWO_MODIFIERS_AT_ONCE)
