"""Full-text search (FTS5, kept in step by triggers) and SQL views of outcomes and the scorecard.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

SQLite-only objects: the search index and its triggers. The views give `sqlite3`, sqlite-utils
and Datasette users the CLI's answers as of today (grace 30 days).
"""

from typing import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# FTS rowids: a threat's rowid * 3, an event's rowid * 3 + 1, a citation's id * 3 + 2, so that each
# trigger finds its own row without a scan.
THREAT_BODY = "coalesce(new.statement, '') || ' ' || coalesce(new.trigger, '') || ' ' || coalesce(new.consequence, '')"
CITATION_THREAT = "coalesce(new.threat_id, (SELECT threat_id FROM event WHERE id = new.event_id))"

TRIGGERS = {
    "threat": (
        f"INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        f"VALUES (new.rowid * 3, 'threat', new.id, NULL, {THREAT_BODY});",
        "DELETE FROM search WHERE rowid = old.rowid * 3;",
    ),
    "event": (
        "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        "VALUES (new.rowid * 3 + 1, 'event', new.threat_id, new.id, new.what);",
        "DELETE FROM search WHERE rowid = old.rowid * 3 + 1;",
    ),
    "citation": (
        f"INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        f"SELECT new.id * 3 + 2, 'quote', {CITATION_THREAT}, new.event_id, new.quote "
        f"WHERE new.quote IS NOT NULL;",
        "DELETE FROM search WHERE rowid = old.id * 3 + 2;",
    ),
}

OUTCOME_VIEW = """
CREATE VIEW threat_outcome AS
WITH params AS (SELECT date('now') AS as_of, date('now', '-31 days') AS grace_cutoff),
visible AS (
  SELECT t.id, t.issuer_id, t.made_on, t.category,
    COALESCE((SELECT e.due FROM event e WHERE e.threat_id = t.id AND e.kind = 'deadline'
              AND e.occurred_on <= p.as_of ORDER BY e.occurred_on DESC, e.rowid DESC LIMIT 1),
             t.deadline) AS deadline,
    (SELECT MIN(e.occurred_on) FROM event e WHERE e.threat_id = t.id AND e.kind = 'crossed'
     AND e.occurred_on <= p.as_of) AS first_crossed,
    (SELECT MAX(CASE e.outcome WHEN 'followed_through' THEN 3 WHEN 'partial' THEN 2
                               WHEN 'not_followed_through' THEN 1 END)
     FROM event e WHERE e.threat_id = t.id AND e.kind = 'response' AND e.occurred_on <= p.as_of) AS response_rank,
    EXISTS (SELECT 1 FROM event e WHERE e.threat_id = t.id AND e.kind = 'complied' AND e.occurred_on <= p.as_of) AS complied,
    EXISTS (SELECT 1 FROM event e WHERE e.threat_id = t.id AND e.kind = 'withdrawn' AND e.occurred_on <= p.as_of) AS withdrawn,
    p.as_of, p.grace_cutoff
  FROM threat t, params p
  WHERE t.made_on <= p.as_of
), passed AS (
  SELECT v.*, (v.deadline IS NOT NULL AND substr(v.as_of, 1, length(v.deadline)) > v.deadline) AS deadline_passed
  FROM visible v
)
SELECT p.id, a.slug AS issuer, p.made_on, p.category, p.deadline,
  CASE WHEN p.response_rank = 3 THEN 'followed_through'
       WHEN p.response_rank = 2 THEN 'partial'
       WHEN p.response_rank = 1 THEN 'not_followed_through'
       WHEN p.complied THEN 'complied'
       WHEN p.withdrawn THEN 'withdrawn'
       WHEN p.deadline_passed THEN 'not_followed_through'
       WHEN p.first_crossed <= p.grace_cutoff THEN 'not_followed_through'
       ELSE 'pending' END AS outcome,
  CASE WHEN p.deadline_passed AND (p.first_crossed IS NULL OR p.deadline < p.first_crossed)
       THEN p.deadline ELSE p.first_crossed END AS tested_on
FROM passed p JOIN actor a ON a.id = p.issuer_id
"""

SCORECARD_VIEW = """
CREATE VIEW actor_scorecard AS
SELECT issuer AS actor, COUNT(*) AS threats,
  SUM(outcome = 'pending') AS pending, SUM(outcome = 'followed_through') AS followed_through,
  SUM(outcome = 'partial') AS partial, SUM(outcome = 'not_followed_through') AS not_followed_through,
  SUM(outcome = 'complied') AS complied, SUM(outcome = 'withdrawn') AS withdrawn,
  SUM(outcome IN ('followed_through', 'partial', 'not_followed_through')) AS tested,
  (SUM(outcome = 'followed_through') + SUM(outcome = 'partial') / 2.0)
    / NULLIF(SUM(outcome IN ('followed_through', 'partial', 'not_followed_through')), 0) AS follow_through_rate
FROM threat_outcome GROUP BY issuer
"""


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _sqlite():  # PostgreSQL's search index and views: migration 0011 and the store
        return
    op.execute(
        "CREATE VIRTUAL TABLE search USING fts5(kind UNINDEXED, threat_id UNINDEXED, "
        "event_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')"
    )
    for table, (insert, delete) in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER search_{table}_insert AFTER INSERT ON {table} BEGIN {insert} END")
        op.execute(f"CREATE TRIGGER search_{table}_delete AFTER DELETE ON {table} BEGIN {delete} END")
        op.execute(f"CREATE TRIGGER search_{table}_update AFTER UPDATE ON {table} BEGIN {delete} {insert} END")
    op.execute(
        f"INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        f"SELECT rowid * 3, 'threat', id, NULL, {THREAT_BODY.replace('new.', '')} FROM threat"
    )
    op.execute(
        "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        "SELECT rowid * 3 + 1, 'event', threat_id, id, what FROM event"
    )
    op.execute(
        "INSERT INTO search (rowid, kind, threat_id, event_id, body) "
        "SELECT c.id * 3 + 2, 'quote', coalesce(c.threat_id, e.threat_id), c.event_id, c.quote "
        "FROM citation c LEFT JOIN event e ON e.id = c.event_id WHERE c.quote IS NOT NULL"
    )
    op.execute(OUTCOME_VIEW)
    op.execute(SCORECARD_VIEW)


def downgrade() -> None:
    if not _sqlite():
        return
    op.execute("DROP VIEW actor_scorecard")
    op.execute("DROP VIEW threat_outcome")
    for table in TRIGGERS:
        for when in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER search_{table}_{when}")
    op.execute("DROP TABLE search")
