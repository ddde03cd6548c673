"""The shapes of every JSON output, as typed dictionaries: `redlines schema NAME` prints the JSON
Schema generated from them, and the tests validate real output against those schemas, with no
field missing and none extra, so the documents and their schemas cannot drift apart.

Imported only by `redlines schema` and the tests: it needs pydantic, which no other command loads.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict

from redlines import schema
from redlines.domain.checks import ACTOR_KINDS
from redlines.domain.outcomes import CATEGORIES, EVENT_KINDS, OUTCOMES, RESPONSE_OUTCOMES, RULES

IsoDate = Annotated[
    str,
    Field(
        pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$",
        description="An ISO date at its own precision: 2025-01-05, 2025-01 or 2025.",
    ),
]
Outcome = Literal[OUTCOMES]
ResponseOutcome = Literal[RESPONSE_OUTCOMES]
Category = Literal[CATEGORIES]
EventKind = Literal[EVENT_KINDS]
Rule = Literal[tuple(RULES)]
STRICT = ConfigDict(extra="forbid")


def _value(c: schema.Column):
    """The JSON type of a column's value, from the schema."""
    t = Literal[c.choices] if c.choices else IsoDate if c.date else c.type
    return t | None if c.nullable else t


def _fields(table: schema.Table, *names: str) -> dict:
    """The typed fields of a table's columns, by their names in documents (all its plain ones
    unless named)."""
    columns = {c.key: c for c in table.plain}
    return {n: _value(columns[n]) for n in names or columns}


def _shape(name: str, fields: dict, doc: str | None = None) -> type:
    """A strict typed dictionary of these fields (no other key allowed)."""
    shape = TypedDict(name, fields)
    shape.__doc__ = doc
    return with_config(STRICT)(shape)


@with_config(STRICT)
class Source(TypedDict):
    url: str
    title: str | None
    quote: str | None


Event = _shape("Event", {"id": str, **_fields(schema.EVENT), "sources": list[Source]})


@with_config(STRICT)
class Explanation(TypedDict):
    outcome: Outcome
    rule: Rule
    why: str
    decided_by: str | None
    deadline: IsoDate | None
    deadline_set_by: str | None
    tested_on: IsoDate | None
    as_of: IsoDate
    grace_days: int


Threat = _shape(
    "Threat",
    {
        "schema_version": NotRequired[int],
        "id": str,
        "issuer": str,
        "issuer_name": str,
        "targets": list[str],
        **_fields(schema.THREAT, *schema.THREAT_AS_STORED),
        "tags": list[str],
        "deadline": IsoDate | None,
        "outcome": Outcome,
        "tested_on": IsoDate | None,
        "restated": int,
        "sources": list[Source],
        "events": NotRequired[list[Event]],
        "event": NotRequired[str],  # `show THREAT#N`: the event asked for, marked in the timeline
        "explanation": NotRequired[Explanation],
    },
    """A threat as `list --json` gives it; `show --json` adds its events (and, with --explain,
    the explanation of its outcome).""",
)


@with_config(STRICT)
class Actor(TypedDict):
    slug: str
    name: str
    kind: Literal[ACTOR_KINDS]
    of: str | None
    aliases: list[str]
    threats: int
    targeted: int


@with_config(STRICT)
class Judged(TypedDict):
    id: str
    outcome: Outcome
    rule: Rule
    tested_on: IsoDate | None
    deadline: IsoDate | None


@with_config(STRICT)
class ReportRow(TypedDict):
    key: str
    label: str
    threats: int
    pending: int
    followed_through: int
    partial: int
    not_followed_through: int
    complied: int
    withdrawn: int
    tested: int
    follow_through_rate: float | None
    rate_low: float | None
    rate_high: float | None
    median_days_to_response: float | None
    threats_judged: NotRequired[list[Judged]]


@with_config(STRICT)
class Report(TypedDict):
    schema_version: int
    as_of: IsoDate
    by: Literal["actor", "state", "category", "year"]
    grace_days: int
    min_tested: int
    rows: list[ReportRow]
    total: ReportRow


@with_config(STRICT)
class Due(TypedDict):
    id: str
    issuer: str
    status: Literal["deadline ahead", "deadline passed", "crossed"]
    on: IsoDate
    days: Annotated[int, Field(description="Days since `on` (negative: days until a deadline ahead ends).")]
    outcome: Outcome
    deadline: IsoDate | None
    statement: str


@with_config(STRICT)
class TimelineEntry(TypedDict):
    on: IsoDate
    step: int
    seq: int
    threat: str
    issuer: str
    kind: Literal["made"] | EventKind
    what: str
    outcome: ResponseOutcome | None
    due: IsoDate | None
    event: str | None


@with_config(STRICT)
class Change(TypedDict):
    table: str
    id: str
    op: Literal["insert", "update", "delete"]
    fields: dict[str, list]


@with_config(STRICT)
class Run(TypedDict):
    run: int
    at: str
    author: Annotated[
        str | None,
        Field(description="Who made it: REDLINES_AUTHOR, else the login name; null: recorded before authors were."),
    ]
    command: str
    undoes: int | None
    changes: list[Change]


@with_config(STRICT)
class SearchMatch(TypedDict):
    in_: Annotated[Literal["threat", "event", "quote"], Field(alias="in", description="Where the words were found.")]
    event: str | None
    snippet: Annotated[str, Field(description="The passage, the matched words in [brackets].")]


@with_config(STRICT)
class SearchHit(TypedDict):
    id: str
    issuer: str
    made_on: IsoDate
    outcome: Outcome
    statement: str
    score: Annotated[float, Field(description="Relevance: higher is better.")]
    matches: list[SearchMatch]


@with_config(STRICT)
class LastChange(TypedDict):
    at: str
    command: str


@with_config(STRICT)
class DbStatus(TypedDict):
    """What `db status --json` says of the database."""

    path: str
    size_bytes: int
    schema_version: str | None
    schema_head: str
    journal_mode: str
    actors: int
    threats: int
    events: int
    sources: int
    runs: int
    last_change: LastChange | None


@with_config(STRICT)
class Citation(TypedDict):
    url: str
    quote: str | None


ExportEvent = _shape("ExportEvent", {"id": str, **_fields(schema.EVENT), "sources": list[Citation]})
ExportThreat = _shape(
    "ExportThreat",
    {
        "id": str,
        "issuer": str,
        **_fields(schema.THREAT),
        "targets": list[str],
        "tags": list[str],
        "sources": list[Citation],
        "events": list[ExportEvent],
    },
)
ExportActor = _shape("ExportActor", {**_fields(schema.ACTOR), "of": str | None, "aliases": list[str]})
ExportSource = _shape("ExportSource", _fields(schema.SOURCE))


@with_config(STRICT)
class Export(TypedDict):
    """Everything needed to rebuild the data set; what `import` reads."""

    schema_version: int
    exported_at: str
    actors: list[ExportActor]
    sources: list[ExportSource]
    threats: list[ExportThreat]


# The JSON output of each command, named as the command is (`db status` as db-status).
SHAPES = {
    "list": list[Threat],
    "show": Threat,
    "actors": list[Actor],
    "search": list[SearchHit],
    "report": Report,
    "timeline": list[TimelineEntry],
    "due": list[Due],
    "history": list[Run],
    "export": Export,
    "db-status": DbStatus,
}
# Earlier names, still answered.
ALIASES = {"threats": "list", "threat": "show"}


def json_schema(name: str) -> dict:
    name = ALIASES.get(name, name)
    schema = TypeAdapter(SHAPES[name]).json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": f"redlines {name}"}
