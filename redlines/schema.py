"""The schema, described once: every table, its columns, their checks and indexes, and the name
each column has in a data-set document (`export`, `import`, `show --json`).

Plain Python, with no SQLAlchemy, because the command paths import it: `store/models.py` builds
the SQLModel tables (what Alembic compares with the migrations) from it, and the writer's column
lists (`store/write.py`), the export's SELECT lists (`store/dump.py`), the CSV columns
(`output/export.py`), the JSON Schemas (`output/shapes.py`) and the reads of the threat columns
(`store/queries.py`, `service.py`) derive from it. Adding an optional text column to a table here
carries it through all of those; the vocabularies (categories, kinds, outcomes) are the domain's,
and the checks and help texts that list them are made from those tuples.

Dates are ISO strings at their own precision (`2025`, `2025-01`, `2025-01-05`; see
`redlines.domain.dates`). Every table has a single-column primary key `id`, which is what lets
the change log record and undo any write generically.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from redlines.domain.checks import ACTOR_KINDS
from redlines.domain.outcomes import CATEGORIES, EVENT_KINDS, NEVER, RESPONSE_OUTCOMES

# Indexes a query steers SQLite's planner to (`INDEXED BY`): a hint naming an index that does
# not exist fails at run time, so the tables below and the queries both name them from here.
SETTLING_INDEX = "ix_threat_settled_on"  # the threats a past date must judge again: few
REPORT_INDEX = "ix_threat_report"  # settled verdicts per issuer, outcome and days, unsorted
# Settled verdicts per category and outcome, then date: a report by category groups in this order,
# and one by year reads each year as one range of each category and outcome: neither sorts.
REPORT_DATED_INDEX = "ix_threat_report_dated"
AWAITING_INDEX = "ix_threat_awaiting"  # settled threats still owed a response, oldest test first
HINTED_INDEXES = (SETTLING_INDEX, REPORT_INDEX, REPORT_DATED_INDEX, AWAITING_INDEX)

RETIRED_EVENTS = "table_name = 'event' AND op = 'delete'"  # the change rows of deleted events

# What a column is for (`Column.role`):
DATA = "data"  # what the user records: written by add/edit/import, exported
KEY = "key"  # a number that only identifies its row (`id INTEGER PRIMARY KEY`)
PARENT = "parent"  # the row a child row belongs to: documents nest the child instead
SUMMARY = "summary"  # the cache of what the outcome rules need from a threat's events
SETTLED = "settled"  # the cached verdict of a settled threat
ORDER = "order"  # an event's place in its threat's order of entry
LOG = "log"  # the change log and the file's settings: written by every command, never exported


@dataclass(frozen=True)
class Column:
    """One column. `field` is its name in documents (the column's own name unless given; None
    for a column documents do not carry). A column that `references` another table's `id` is
    given in documents by that table's `natural_key` (an issuer by its slug, a citation's source
    by its URL). `choices` and `date` make a CHECK constraint named after the column (unless
    `checked` is off: the database has no such check, and adding one needs a migration)."""

    name: str
    type: type = str
    nullable: bool = False
    default: str | int | None = None
    server_default: bool = False  # the default is the database's too (`DEFAULT ...`)
    primary_key: bool = False
    references: str | None = None  # "actor.id"
    ondelete: str | None = None
    unique: bool = False
    index: bool = False
    choices: tuple[str, ...] = ()
    date: bool = False
    checked: bool = True
    field: str | None = ""
    role: str = DATA
    doc: str = ""

    @property
    def key(self) -> str | None:
        """Its name in documents, or None."""
        return None if self.field is None or self.role != DATA else (self.field or self.name)

    def checks(self) -> list[tuple[str, str]]:
        """The CHECK constraints (name, SQL) of its vocabulary or date form."""
        if not self.checked:
            return []
        rule = None
        if self.choices:
            rule = f"{self.name} IN ({', '.join(repr(v) for v in self.choices)})"
        elif self.date:
            rule = f"length({self.name}) IN (4, 7, 10)"
        if rule is None:
            return []
        return [(self.name, f"{self.name} IS NULL OR {rule}" if self.nullable else rule)]


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    where: str | None = None  # a partial index (SQLite)


@dataclass(frozen=True)
class Table:
    name: str
    model: str  # the SQLModel class's name
    columns: tuple[Column, ...]
    checks: tuple[tuple[str, str], ...] = ()  # (name, SQL): the checks that span columns
    indexes: tuple[Index, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    natural_key: str | None = None  # the column that names a row in documents
    doc: str = ""

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Every column's name, in order (the `id` first)."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def role(self, role: str) -> tuple[str, ...]:
        """The names of the columns of a role, in order."""
        return tuple(c.name for c in self.columns if c.role == role)

    @cached_property
    def documented(self) -> tuple[Column, ...]:
        """The columns a document carries, in order."""
        return tuple(c for c in self.columns if c.key is not None)

    @cached_property
    def plain(self) -> tuple[Column, ...]:
        """The columns a document carries as they are stored: neither the key nor a reference."""
        return tuple(c for c in self.documented if not c.primary_key and c.references is None)

    @cached_property
    def fields(self) -> tuple[str, ...]:
        """The names of the `plain` columns in documents."""
        return tuple(c.key for c in self.plain)

    def record(self, row) -> dict:
        """The `plain` fields of a row read through `select`, as a document holds them."""
        return {f: row[f] for f in self.fields}


def _id(*, text: bool = False) -> Column:
    return Column("id", str, primary_key=True) if text else Column("id", int, primary_key=True, role=KEY)


def _count(name: str, role: str) -> Column:
    return Column(name, int, default=0, server_default=True, role=role)


ACTOR = Table(
    "actor",
    "Actor",
    (
        _id(),
        Column("slug", unique=True),
        Column("name"),
        Column("kind", choices=ACTOR_KINDS, default="person"),
        Column(
            "of_id",
            int,
            nullable=True,
            references="actor.id",
            ondelete="RESTRICT",
            index=True,
            field="of",
            doc="the state or body the actor speaks for",
        ),
    ),
    natural_key="slug",
)

ALIAS = Table(
    "alias",
    "Alias",
    (
        _id(),
        Column("actor_id", int, references="actor.id", ondelete="CASCADE", index=True, role=PARENT),
        Column("alias", unique=True),
    ),
)

THREAT = Table(
    "threat",
    "Threat",
    (
        _id(text=True),
        Column("issuer_id", int, references="actor.id", ondelete="RESTRICT", field="issuer"),
        Column("made_on", date=True),
        Column("statement"),
        Column("trigger", nullable=True),
        Column("consequence", nullable=True),
        Column("category", choices=CATEGORIES, default="other"),
        Column("cameo", nullable=True, doc="a CAMEO event code, to join with event data"),
        Column(
            "deadline", nullable=True, date=True, doc="the deadline set with the threat; `deadline` events replace it"
        ),
        # A cache of what the outcome rules need from the threat's events (`store.summary` keeps it
        # in step on every write; `db check` verifies it). Never an outcome: those are derived.
        Column("first_crossed", nullable=True, role=SUMMARY),
        Column("response_rank", int, nullable=True, role=SUMMARY),
        Column("first_response", nullable=True, role=SUMMARY),
        _count("complied", SUMMARY),
        _count("withdrawn", SUMMARY),
        _count("restated", SUMMARY),
        Column("deadline_set", nullable=True, role=SUMMARY),
        Column("last_event_on", nullable=True, role=SUMMARY),
        # From `settled_on` on, the verdict stops changing unless an event is recorded: every event
        # is known, and the deadline and the default grace period have run out. A report as of that
        # day or later reads the verdict here instead of judging again (`store.summary` keeps it).
        Column("settled_on", default=NEVER, server_default=True, role=SETTLED, doc="until computed"),
        Column("settled_outcome", nullable=True, role=SETTLED),
        Column("settled_rule", nullable=True, role=SETTLED),
        Column("settled_tested_on", nullable=True, role=SETTLED),
        Column("settled_days", int, nullable=True, role=SETTLED, doc="from the test to the first response"),
    ),
    indexes=(
        # Covers what judging and reporting read, so that a report scans this index alone; it
        # serves an issuer's newest threats too.
        Index(
            "ix_threat_judging",
            (
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
        ),
        Index("ix_threat_made_on", ("made_on",)),
        # The threats a date must judge again (made by then, not settled by then): few.
        Index(SETTLING_INDEX, ("settled_on", "made_on")),
        # A report counts settled verdicts per issuer, outcome and days in this order, unsorted.
        Index(REPORT_INDEX, ("issuer_id", "settled_outcome", "settled_days", "settled_on", "made_on", "category")),
        # A report by category or by year reads the settled verdicts from here, in that order.
        Index(
            REPORT_DATED_INDEX,
            ("category", "settled_outcome", "made_on", "settled_on", "settled_days", "issuer_id"),
        ),
        # `due` reads the settled threats still owed a response, oldest test first, from here.
        Index(
            AWAITING_INDEX,
            ("settled_tested_on", "id", "settled_on", "issuer_id"),
            where="settled_rule IN ('deadline', 'grace')",
        ),
    ),
)

THREAT_TARGET = Table(
    "threat_target",
    "ThreatTarget",
    (
        _id(),
        Column("threat_id", references="threat.id", ondelete="CASCADE", role=PARENT),
        Column("actor_id", int, references="actor.id", ondelete="RESTRICT", index=True, field="targets"),
    ),
    unique=(("threat_id", "actor_id"),),
)

THREAT_TAG = Table(
    "threat_tag",
    "ThreatTag",
    (
        _id(),
        Column("threat_id", references="threat.id", ondelete="CASCADE", role=PARENT),
        # no index of its own: no query looks threats up by tag (dropped in 0010)
        Column("tag", field="tags"),
    ),
    unique=(("threat_id", "tag"),),
)

EVENT = Table(
    "event",
    "Event",
    (
        _id(text=True),  # `<threat id>#<n>`
        Column("threat_id", references="threat.id", ondelete="CASCADE", role=PARENT),
        Column("kind", choices=EVENT_KINDS),
        Column("occurred_on", date=True, field="on"),
        Column("what"),
        Column("outcome", nullable=True, choices=RESPONSE_OUTCOMES),
        Column("due", nullable=True, date=True),
        Column("cameo", nullable=True, doc="a CAMEO event code, to join with event data"),
        # Its place in its threat's order of entry (1, 2, ...): breaks ties between events of one
        # date, and is restored by `undo`, unlike a rowid.
        _count("seq", ORDER),
    ),
    checks=(
        ("response_outcome", "kind <> 'response' OR outcome IS NOT NULL"),
        ("deadline_due", "kind <> 'deadline' OR due IS NOT NULL"),
    ),
    indexes=(
        Index("ix_event_threat_id_kind_occurred_on", ("threat_id", "kind", "occurred_on")),
        Index("ix_event_occurred_on", ("occurred_on",)),
    ),
)

SOURCE = Table(
    "source",
    "Source",
    (
        _id(),
        Column("url", unique=True),
        Column("title", nullable=True),
        Column("publisher", nullable=True),
        # Not checked by the database (0001 made it so; a check would need a migration).
        Column("published_on", nullable=True, date=True, checked=False),
    ),
    natural_key="url",
)

CITATION = Table(
    "citation",
    "Citation",
    (
        _id(),
        Column("source_id", int, references="source.id", ondelete="RESTRICT", index=True, field="url"),
        Column("threat_id", nullable=True, references="threat.id", ondelete="CASCADE", index=True, role=PARENT),
        Column("event_id", nullable=True, references="event.id", ondelete="CASCADE", index=True, role=PARENT),
        Column("quote", nullable=True),
    ),
    checks=(("one_subject", "(threat_id IS NULL) <> (event_id IS NULL)"),),
)

COMMAND_RUN = Table(
    "run",
    "CommandRun",
    (
        Column("id", int, primary_key=True, role=LOG),
        Column("at", role=LOG, doc="UTC timestamp, ISO 8601"),
        Column("command", role=LOG),
        Column("undoes", int, nullable=True, references="run.id", ondelete="SET NULL", role=LOG),
        Column(
            "author", nullable=True, role=LOG, doc="REDLINES_AUTHOR, else the login name; NULL for runs before 0009"
        ),
    ),
    doc="One command run that wrote something: the unit of `history` and `undo`.",
)

CHANGE = Table(
    "change",
    "Change",
    (
        Column("id", int, primary_key=True, role=LOG),
        Column("run_id", int, references="run.id", ondelete="CASCADE", index=True, role=LOG),
        Column("table_name", role=LOG),
        Column("row_id", role=LOG),
        Column("op", choices=("insert", "update", "delete"), role=LOG),
        Column("before", nullable=True, role=LOG),
        Column("after", nullable=True, role=LOG),
    ),
    # The event ids a threat has had and lost: a number is never given out twice.
    indexes=(Index("ix_change_retired_events", ("row_id",), where=RETIRED_EVENTS),),
    doc="One row written by a run, with the row before and after as JSON (null when absent).",
)

SETTING = Table(
    "setting",
    "Setting",
    (Column("key", primary_key=True, role=LOG), Column("value", role=LOG)),
    doc="Facts about the file itself, by key: `rules_version`, the version of the outcome rules its "
    "cached verdicts and its views were made with (see `redlines.store.rules`).",
)

TABLES = (ACTOR, ALIAS, THREAT, THREAT_TARGET, THREAT_TAG, EVENT, SOURCE, CITATION, COMMAND_RUN, CHANGE, SETTING)
BY_NAME = {t.name: t for t in TABLES}
# The tables that hold the data set (what an export carries), as against the change log.
DATA_TABLES = tuple(t for t in TABLES if any(c.role != LOG for c in t.columns))
# A threat's columns as the rules and the listings read them, and as `import` merges them.
THREAT_FIELDS = THREAT.fields  # made_on, statement, trigger, consequence, category, cameo, deadline
# The same but the deadline: where a threat is judged, its `deadline` is the one in force.
THREAT_AS_STORED = tuple(f for f in THREAT_FIELDS if f != "deadline")
SUMMARY_COLUMNS = THREAT.role(SUMMARY)
SETTLED_COLUMNS = THREAT.role(SETTLED)
# The value a new row takes for a field a record leaves out, by field name.
DEFAULTS = {c.key: c.default for t in (ACTOR, THREAT) for c in t.plain if c.default is not None}
# The fields a new record must have (those with no default and no NULL), by table.
REQUIRED = {
    t.name: tuple(c.key for c in t.documented if not (c.primary_key or c.nullable) and c.default is None)
    for t in DATA_TABLES
}
THREAT_REQUIRED = REQUIRED["threat"]
# A threat's fields that documents give as text (an issuer by its slug), each with whether it is
# required (`import` reads them so).
THREAT_TEXT = {
    c.key: not c.nullable
    for c in THREAT.documented
    if c.references or (c.type is str and not (c.primary_key or c.choices or c.date))
}
THREAT_OPTIONAL_TEXT = tuple(k for k, required in THREAT_TEXT.items() if not required)


def spoken(values: tuple[str, ...], last: str = "or") -> str:
    """A vocabulary as help text says it: `a, b or c`."""
    return ", ".join(values[:-1]) + f" {last} {values[-1]}" if len(values) > 1 else "".join(values)
