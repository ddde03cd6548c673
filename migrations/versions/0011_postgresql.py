"""PostgreSQL: what SQLite has built in and the store's SQL relies on. Nothing changes on SQLite.

- `rowid` on threats and events: SQLite's implicit row number (order of entry, the search
  index's keys), made an identity column;
- the SQLite functions the rule SQL uses that PostgreSQL lacks, as SQL functions that inline:
  `julianday(text)`, `printf('%0Nd', n)`, `rl_date(text[, modifier[, modifier]])` (SQLite's
  `date()`, which the store's SQL is translated to), and `max`/`sum` over booleans (SQLite's
  comparisons are integers);
- text columns in the "C" collation: compared and sorted byte by byte, as SQLite does, whatever
  the database's default collation;
- the search index: a table of the same rows as SQLite's FTS5 index (threats, events, quotes),
  with a `tsvector` of its words (cut at every character that is not a letter or a digit, as
  FTS5's unicode61 tokenizer cuts them, lowercased, Latin diacritics removed; 'simple'
  configuration) and a GIN index, kept in step by triggers on
  updates of the indexed text and on deletes, as SQLite's triggers do (new rows are indexed by
  the code that writes them, on both engines).

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-25 19:30:00.000000

"""

from typing import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = [
    # SQLite's julianday of an ISO day (only differences of it are used).
    """CREATE FUNCTION julianday(d text) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN d ~ '^\\d{4}-\\d{2}-\\d{2}$' THEN (d::date - DATE '2000-01-01') + 2451544.5 END $$""",
    # printf('%0Nd', n): n written with N digits at least, zero-padded.
    """CREATE FUNCTION printf(fmt text, n bigint) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN n < 0 THEN '-' || lpad((-n)::text, substring(fmt FROM '^%0?(\\d+)d$')::int - 1, '0')
                   ELSE lpad(n::text, greatest(substring(fmt FROM '^%0?(\\d+)d$')::int, length(n::text)), '0') END $$""",
    # SQLite's date(): an ISO day (or 'now', the UTC day), with modifiers such as '+1 month' or
    # '-31 days'; NULL for what is not a day, or a result past 9999-12-31.
    """CREATE FUNCTION rl_day(d text) RETURNS date LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN d = 'now' THEN (now() AT TIME ZONE 'UTC')::date
                   WHEN d ~ '^\\d{4}-\\d{2}-\\d{2}$' THEN d::date END $$""",
    """CREATE FUNCTION rl_iso(d date) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN d <= DATE '9999-12-31' THEN to_char(d, 'YYYY-MM-DD') END $$""",
    """CREATE FUNCTION rl_date(d text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT rl_iso(rl_day(d)) $$""",
    """CREATE FUNCTION rl_date(d text, m1 text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT rl_iso((rl_day(d) + m1::interval)::date) $$""",
    """CREATE FUNCTION rl_date(d text, m1 text, m2 text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT rl_iso((rl_day(d) + m1::interval + m2::interval)::date) $$""",
    # max() and sum() over comparisons, which SQLite counts as 0 and 1.
    """CREATE FUNCTION rl_bool_max(s integer, v boolean) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN v IS NULL THEN s ELSE greatest(s, v::int) END $$""",
    """CREATE AGGREGATE max(boolean) (SFUNC = rl_bool_max, STYPE = integer)""",
    """CREATE FUNCTION rl_bool_sum(s bigint, v boolean) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN v IS NULL THEN s ELSE coalesce(s, 0) + v::int END $$""",
    """CREATE AGGREGATE sum(boolean) (SFUNC = rl_bool_sum, STYPE = bigint)""",
]
DROPS = [
    "DROP AGGREGATE sum(boolean)",
    "DROP FUNCTION rl_bool_sum(bigint, boolean)",
    "DROP AGGREGATE max(boolean)",
    "DROP FUNCTION rl_bool_max(integer, boolean)",
    "DROP FUNCTION rl_date(text, text, text)",
    "DROP FUNCTION rl_date(text, text)",
    "DROP FUNCTION rl_date(text)",
    "DROP FUNCTION rl_iso(date)",
    "DROP FUNCTION rl_day(text)",
    "DROP FUNCTION printf(text, bigint)",
    "DROP FUNCTION julianday(text)",
]

THREAT_BODY = "coalesce(new.statement, '') || ' ' || coalesce(new.trigger, '') || ' ' || coalesce(new.consequence, '')"
SEARCH = [
    """CREATE TABLE search (
    rowid bigint PRIMARY KEY, kind text NOT NULL, threat_id text NOT NULL, event_id text, body text,
    doc tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(translate(lower(coalesce(body, ''){collate}), '{fold_from}', '{fold_to}'), '[^[:alnum:]]+', ' ', 'g'))) STORED)""",
    "CREATE INDEX ix_search_doc ON search USING gin (doc)",
    "CREATE INDEX ix_search_threat_id ON search (threat_id)",
    # As SQLite's triggers (migrations 0002, 0004): an update of the indexed text, and a delete.
    f"""CREATE FUNCTION search_threat_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    UPDATE search SET body = {THREAT_BODY}, threat_id = new.id WHERE rowid = old.rowid * 3; RETURN NULL; END $$""",
    """CREATE FUNCTION search_event_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    UPDATE search SET body = new.what, threat_id = new.threat_id, event_id = new.id WHERE rowid = old.rowid * 3 + 1;
    RETURN NULL; END $$""",
    """CREATE FUNCTION search_citation_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    DELETE FROM search WHERE rowid = old.id * 3 + 2;
    INSERT INTO search (rowid, kind, threat_id, event_id, body)
      SELECT new.id * 3 + 2, 'quote', coalesce(new.threat_id, (SELECT threat_id FROM event WHERE id = new.event_id)),
             new.event_id, new.quote WHERE new.quote IS NOT NULL;
    RETURN NULL; END $$""",
    """CREATE FUNCTION search_threat_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    DELETE FROM search WHERE rowid = old.rowid * 3; RETURN NULL; END $$""",
    """CREATE FUNCTION search_event_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    DELETE FROM search WHERE rowid = old.rowid * 3 + 1; RETURN NULL; END $$""",
    """CREATE FUNCTION search_citation_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    DELETE FROM search WHERE rowid = old.id * 3 + 2; RETURN NULL; END $$""",
    "CREATE TRIGGER search_threat_update AFTER UPDATE OF statement, trigger, consequence ON threat "
    "FOR EACH ROW EXECUTE FUNCTION search_threat_update()",
    "CREATE TRIGGER search_event_update AFTER UPDATE OF what ON event FOR EACH ROW EXECUTE FUNCTION search_event_update()",
    "CREATE TRIGGER search_citation_update AFTER UPDATE OF quote ON citation "
    "FOR EACH ROW EXECUTE FUNCTION search_citation_update()",
    "CREATE TRIGGER search_threat_delete AFTER DELETE ON threat FOR EACH ROW EXECUTE FUNCTION search_threat_delete()",
    "CREATE TRIGGER search_event_delete AFTER DELETE ON event FOR EACH ROW EXECUTE FUNCTION search_event_delete()",
    "CREATE TRIGGER search_citation_delete AFTER DELETE ON citation FOR EACH ROW EXECUTE FUNCTION search_citation_delete()",
]


SELF_REFERENCES = (("actor", "fk_actor_of_id_actor"), ("run", "fk_run_undoes_run"))


def _text_columns() -> list[tuple[str, str]]:
    """Every text column of redlines' tables, as the database has them."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND data_type IN ('character varying', 'text') AND table_name <> 'alembic_version' "
        "ORDER BY table_name, ordinal_position"
    )
    return [(r[0], r[1]) for r in rows]


def _letters_collation() -> str:
    """A COLLATE clause under which lower() and [:alnum:] know every alphabet (the database's own
    when its LC_CTYPE does; a "C" one knows ASCII alone), or "" when the database's does."""
    bind = op.get_bind()
    test = "SELECT lower('ÉЗ'{c}) = 'éз' AND regexp_replace('éз'{c}, '[^[:alnum:]]', '', 'g') = 'éз'"
    if bind.exec_driver_sql(test.format(c="")).scalar():
        return ""
    names = [
        r[0]
        for r in bind.exec_driver_sql(
            "SELECT collname FROM pg_collation WHERE collname IN ('C.utf8', 'C.UTF-8', 'und-x-icu', 'en_US.utf8') "
            "AND collencoding IN (-1, pg_char_to_encoding('UTF8')) ORDER BY collname"
        )
    ]
    for name in names:
        clause = f' COLLATE "{name}"'
        if bind.exec_driver_sql(test.format(c=clause)).scalar():
            return clause
    return ""  # ASCII words are searched as on SQLite; others as whole runs of letters


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Text compares and sorts byte by byte, as in SQLite (whatever the database's own collation):
    # the same order of names and ids, and the rule SQL's keys (a date, char(1), a number) compare as built.
    for table, column in _text_columns():
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR COLLATE "C"')
    for table in ("threat", "event"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN rowid bigint GENERATED BY DEFAULT AS IDENTITY")
        op.execute(f"CREATE UNIQUE INDEX ix_{table}_rowid ON {table} (rowid)")
    for sql in FUNCTIONS:
        op.execute(sql)
    from redlines.store.pgsearch import fold_pairs  # the letters FTS5 folds, as the queries fold them

    collate = _letters_collation()
    fold_from, fold_to = fold_pairs()
    for sql in SEARCH:
        op.execute(sql.replace("{collate}", collate).replace("{fold_from}", fold_from).replace("{fold_to}", fold_to))
    # The references of a table to itself may be checked at commit (`db copy` sets them so).
    for table, fk in SELF_REFERENCES:
        op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT {fk} DEFERRABLE INITIALLY IMMEDIATE")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, fk in SELF_REFERENCES:
        op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT {fk} NOT DEFERRABLE")
    for table in ("threat", "event", "citation"):
        op.execute(f"DROP TRIGGER search_{table}_update ON {table}")
        op.execute(f"DROP TRIGGER search_{table}_delete ON {table}")
    for table in ("threat", "event", "citation"):
        for when in ("update", "delete"):
            op.execute(f"DROP FUNCTION search_{table}_{when}()")
    op.execute("DROP TABLE search")
    op.execute("DROP VIEW IF EXISTS actor_scorecard")
    op.execute("DROP VIEW IF EXISTS threat_outcome")
    for sql in DROPS:
        op.execute(sql)
    for table in ("threat", "event"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN rowid")
    for table, column in _text_columns():
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR COLLATE "default"')
