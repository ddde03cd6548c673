"""The tables, as SQLModel classes: the one description of the schema.

Alembic's migrations are generated from these and `alembic check` keeps the two in step. The
command paths read and write through `sqlite3` with the portable SQL in `queries.py` and
`write.py`, so that no command pays ~300 ms to import SQLAlchemy just to run a query.

Dates are ISO strings at their own precision (`2025`, `2025-01`, `2025-01-05`); see
`redlines.domain.dates` for why plain string comparison is enough to filter and sort them.
Every table has a single-column primary key `id`, which is what lets the change log record and
undo any write generically.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, MetaData, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from redlines.domain.checks import ACTOR_KINDS
from redlines.domain.outcomes import CATEGORIES, EVENT_KINDS, RESPONSE_OUTCOMES
from redlines.store.schema import AWAITING_INDEX, REPORT_DATED_INDEX, REPORT_INDEX, SETTLING_INDEX

SQLModel.metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ISO_DATE = "length({col}) IN (4, 7, 10)"
RETIRED_EVENTS = "table_name = 'event' AND op = 'delete'"  # the change rows of deleted events
NEVER = "9999-99-99"  # a day after every date: what has not settled settles on it


def _in(col: str, values: tuple[str, ...]) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class Actor(SQLModel, table=True):
    __tablename__ = "actor"
    __table_args__ = (CheckConstraint(_in("kind", ACTOR_KINDS), name="kind"),)
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True)
    name: str
    kind: str
    of_id: int | None = Field(default=None, foreign_key="actor.id", ondelete="RESTRICT", index=True)


class Alias(SQLModel, table=True):
    __tablename__ = "alias"
    id: int | None = Field(default=None, primary_key=True)
    actor_id: int = Field(foreign_key="actor.id", ondelete="CASCADE", index=True)
    alias: str = Field(unique=True)


class Threat(SQLModel, table=True):
    __tablename__ = "threat"
    __table_args__ = (
        CheckConstraint(_in("category", CATEGORIES), name="category"),
        CheckConstraint(ISO_DATE.format(col="made_on"), name="made_on"),
        CheckConstraint("deadline IS NULL OR " + ISO_DATE.format(col="deadline"), name="deadline"),
        # Covers what judging and reporting read, so that a report scans this index alone; it
        # serves an issuer's newest threats too.
        Index(
            "ix_threat_judging",
            "issuer_id",
            "made_on",
            "category",
            "deadline",
            "deadline_set",
            "first_crossed",
            "response_rank",
            "first_response",
            "complied",
            "withdrawn",
            "restated",
            "last_event_on",
            "settled_on",
            "settled_outcome",
            "settled_rule",
            "settled_tested_on",
            "settled_days",
        ),
        Index("ix_threat_made_on", "made_on"),
        # The threats a date must judge again (made by then, not settled by then): few.
        Index(SETTLING_INDEX, "settled_on", "made_on"),
        # A report counts settled verdicts per issuer, outcome and days in this order, unsorted.
        Index(REPORT_INDEX, "issuer_id", "settled_outcome", "settled_days", "settled_on", "made_on", "category"),
        # A report by category or by year reads the settled verdicts from here, in that order.
        Index(REPORT_DATED_INDEX, "category", "settled_outcome", "made_on", "settled_on", "settled_days", "issuer_id"),
        # `due` reads the settled threats still owed a response, oldest test first, from here.
        Index(
            AWAITING_INDEX,
            "settled_tested_on",
            "id",
            "settled_on",
            "issuer_id",
            sqlite_where=text("settled_rule IN ('deadline', 'grace')"),
        ),
    )
    id: str = Field(primary_key=True)
    issuer_id: int = Field(foreign_key="actor.id", ondelete="RESTRICT")
    made_on: str
    statement: str
    trigger: str | None = None
    consequence: str | None = None
    category: str = "other"
    cameo: str | None = None
    deadline: str | None = None  # the deadline set with the threat; `deadline` events replace it
    # A cache of what the outcome rules need from the threat's events (`store.summary` keeps it
    # in step on every write; `db check` verifies it). Never an outcome: those are derived.
    first_crossed: str | None = None
    response_rank: int | None = None
    first_response: str | None = None
    complied: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    withdrawn: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    restated: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    deadline_set: str | None = None
    last_event_on: str | None = None
    # From `settled_on` on, the verdict stops changing unless an event is recorded: every event
    # is known, and the deadline and the default grace period have run out. A report as of that
    # day or later reads the verdict here instead of judging again (`store.summary` keeps it).
    settled_on: str = Field(default=NEVER, sa_column_kwargs={"server_default": NEVER})  # until computed
    settled_outcome: str | None = None
    settled_rule: str | None = None
    settled_tested_on: str | None = None
    settled_days: int | None = None  # from the test to the first response


class ThreatTarget(SQLModel, table=True):
    __tablename__ = "threat_target"
    __table_args__ = (UniqueConstraint("threat_id", "actor_id"),)
    id: int | None = Field(default=None, primary_key=True)
    threat_id: str = Field(foreign_key="threat.id", ondelete="CASCADE")
    actor_id: int = Field(foreign_key="actor.id", ondelete="RESTRICT", index=True)


class ThreatTag(SQLModel, table=True):
    __tablename__ = "threat_tag"
    __table_args__ = (UniqueConstraint("threat_id", "tag"),)
    id: int | None = Field(default=None, primary_key=True)
    threat_id: str = Field(foreign_key="threat.id", ondelete="CASCADE")
    tag: str  # no index of its own: no query looks threats up by tag (dropped in 0010)


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),
        CheckConstraint(
            "outcome IS NULL OR " + _in("outcome", RESPONSE_OUTCOMES),
            name="outcome",
        ),
        CheckConstraint("kind <> 'response' OR outcome IS NOT NULL", name="response_outcome"),
        CheckConstraint("kind <> 'deadline' OR due IS NOT NULL", name="deadline_due"),
        CheckConstraint(ISO_DATE.format(col="occurred_on"), name="occurred_on"),
        CheckConstraint("due IS NULL OR " + ISO_DATE.format(col="due"), name="due"),
        Index("ix_event_threat_id_kind_occurred_on", "threat_id", "kind", "occurred_on"),
        Index("ix_event_occurred_on", "occurred_on"),
    )
    id: str = Field(primary_key=True)  # `<threat id>#<n>`
    threat_id: str = Field(foreign_key="threat.id", ondelete="CASCADE")
    kind: str
    occurred_on: str
    what: str
    outcome: str | None = None
    due: str | None = None
    cameo: str | None = None
    # Its place in its threat's order of entry (1, 2, ...): breaks ties between events of one
    # date, and is restored by `undo`, unlike a rowid.
    seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Source(SQLModel, table=True):
    __tablename__ = "source"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True)
    title: str | None = None
    publisher: str | None = None
    published_on: str | None = None


class Citation(SQLModel, table=True):
    __tablename__ = "citation"
    __table_args__ = (CheckConstraint("(threat_id IS NULL) <> (event_id IS NULL)", name="one_subject"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", ondelete="RESTRICT", index=True)
    threat_id: str | None = Field(default=None, foreign_key="threat.id", ondelete="CASCADE", index=True)
    event_id: str | None = Field(default=None, foreign_key="event.id", ondelete="CASCADE", index=True)
    quote: str | None = None


class Run(SQLModel, table=True):
    """One command run that wrote something: the unit of `history` and `undo`."""

    __tablename__ = "run"
    id: int | None = Field(default=None, primary_key=True)
    at: str  # UTC timestamp, ISO 8601
    command: str
    undoes: int | None = Field(default=None, foreign_key="run.id", ondelete="SET NULL")
    author: str | None = None  # REDLINES_AUTHOR, else the login name; NULL for runs before 0009


class Change(SQLModel, table=True):
    """One row written by a run, with the row before and after as JSON (null when absent)."""

    __tablename__ = "change"
    __table_args__ = (
        CheckConstraint(_in("op", ("insert", "update", "delete")), name="op"),
        # The event ids a threat has had and lost: a number is never given out twice.
        Index("ix_change_retired_events", "row_id", sqlite_where=text(RETIRED_EVENTS)),
    )
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", ondelete="CASCADE", index=True)
    table_name: str
    row_id: str
    op: str
    before: str | None = None
    after: str | None = None


class Setting(SQLModel, table=True):
    """Facts about the file itself, by key: `rules_version`, the version of the outcome rules its
    cached verdicts and its views were made with (see `redlines.store.rules`)."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True)
    value: str
