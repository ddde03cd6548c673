"""PostgreSQL: the search index folds Latin diacritics only out of texts that have a character
beyond ASCII. Nothing changes on SQLite.

The words of a text (the `doc` column of `search`, migration 0011) are its lowercased text with
Latin diacritics folded by `translate()`, whose cost is the length of the text times the length
of its list of letters (some 600): most of the time of an import on PostgreSQL (7.6 of 8.4 s
for 120,000 texts, against 0.8 s without it). The letters it folds are all beyond ASCII, so a
text of ASCII alone (its length in bytes is its length in characters, in UTF-8) is left as it
is: the words indexed are the same for every text.

PostgreSQL 15 cannot change the expression of a generated column: the column is made anew,
with its index (every text of the index is read once).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 15:00:00.000000

"""

import importlib.util
from pathlib import Path
from typing import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _letters_collation() -> str:
    """0011's COLLATE clause for lower() and [:alnum:] (the same for the same database)."""
    spec = importlib.util.spec_from_file_location(
        "redlines_migration_0011", Path(__file__).with_name("0011_postgresql.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._letters_collation()


def _doc(only_beyond_ascii: bool) -> str:
    from redlines.store.pgsearch import fold_pairs  # the letters FTS5 folds, as the queries fold them

    fold_from, fold_to = fold_pairs()
    text = f"lower(coalesce(body, ''){_letters_collation()})"
    folded = f"translate({text}, '{fold_from}', '{fold_to}')"
    if only_beyond_ascii:
        folded = f"CASE WHEN octet_length(body) = char_length(body) THEN {text} ELSE {folded} END"
    return f"to_tsvector('simple', regexp_replace({folded}, '[^[:alnum:]]+', ' ', 'g'))"


def _make_doc(only_beyond_ascii: bool) -> None:
    op.execute("DROP INDEX ix_search_doc")
    op.execute("ALTER TABLE search DROP COLUMN doc")
    op.execute(f"ALTER TABLE search ADD COLUMN doc tsvector GENERATED ALWAYS AS ({_doc(only_beyond_ascii)}) STORED")
    op.execute("CREATE INDEX ix_search_doc ON search USING gin (doc)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _make_doc(True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _make_doc(False)
