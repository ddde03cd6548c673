"""The rules version: a `setting` table holds the version of the outcome rules that the cached
verdicts and the views of the file were made with; on open, redlines compares it with its own
and, when they differ, recomputes the cache and recreates the views from the live rule SQL
(`redlines.store.rules`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 17:05:02.399324

The views frozen in 0002 (the grace period written in as 31 days) are dropped here: from now on
the views are made from the live SQL on open, in the same transaction that writes the version.
Nothing of the live SQL is frozen here; the downgrade restores the views of 0002, so that older
revisions find the schema they made (their downgrades drop columns the live views may read).
"""

from typing import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = ("actor_scorecard", "threat_outcome")  # dependants first


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "setting",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")


def downgrade() -> None:
    """Downgrade schema."""
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(OUTCOME_VIEW)
        op.execute(SCORECARD_VIEW)
    op.drop_table("setting")


# The views as revision 0002 made them, frozen here for the downgrade.
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
