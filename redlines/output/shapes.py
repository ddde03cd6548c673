"""The shapes of every JSON output, as typed dictionaries: `redlines schema NAME` prints the JSON
Schema generated from them, and the tests validate real output against those schemas, with no
field missing and none extra, so the documents and their schemas cannot drift apart.

Imported only by `redlines schema` and the tests: it needs pydantic, which no other command loads.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict

IsoDate = Annotated[
    str,
    Field(
        pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$",
        description="An ISO date at its own precision: 2025-01-05, 2025-01 or 2025.",
    ),
]
Outcome = Literal["pending", "followed_through", "partial", "not_followed_through", "complied", "withdrawn"]
ResponseOutcome = Literal["followed_through", "partial", "not_followed_through"]
Category = Literal["military", "nuclear", "economic", "diplomatic", "other"]
EventKind = Literal["crossed", "deadline", "response", "complied", "withdrawn", "restated", "note"]
Rule = Literal["response", "complied", "withdrawn", "deadline", "grace", "pending"]
STRICT = ConfigDict(extra="forbid")


@with_config(STRICT)
class Source(TypedDict):
    url: str
    title: str | None
    quote: str | None


@with_config(STRICT)
class Event(TypedDict):
    id: str
    kind: EventKind
    on: IsoDate
    what: str
    outcome: ResponseOutcome | None
    due: IsoDate | None
    cameo: str | None
    sources: list[Source]


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


@with_config(STRICT)
class Threat(TypedDict):
    """A threat as `list --json` gives it; `show --json` adds its events (and, with --explain,
    the explanation of its outcome)."""

    schema_version: NotRequired[int]
    id: str
    issuer: str
    issuer_name: str
    targets: list[str]
    made_on: IsoDate
    statement: str
    trigger: str | None
    consequence: str | None
    category: Category
    cameo: str | None
    tags: list[str]
    deadline: IsoDate | None
    outcome: Outcome
    tested_on: IsoDate | None
    restated: int
    sources: list[Source]
    events: NotRequired[list[Event]]
    event: NotRequired[str]  # `show THREAT#N`: the event asked for, marked in the timeline
    explanation: NotRequired[Explanation]


@with_config(STRICT)
class Actor(TypedDict):
    slug: str
    name: str
    kind: Literal["person", "state", "organization", "bloc"]
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


@with_config(STRICT)
class ExportEvent(TypedDict):
    id: str
    kind: EventKind
    on: IsoDate
    what: str
    outcome: ResponseOutcome | None
    due: IsoDate | None
    cameo: str | None
    sources: list[Citation]


@with_config(STRICT)
class ExportThreat(TypedDict):
    id: str
    issuer: str
    made_on: IsoDate
    statement: str
    trigger: str | None
    consequence: str | None
    category: Category
    cameo: str | None
    deadline: IsoDate | None
    targets: list[str]
    tags: list[str]
    sources: list[Citation]
    events: list[ExportEvent]


@with_config(STRICT)
class ExportActor(TypedDict):
    slug: str
    name: str
    kind: Literal["person", "state", "organization", "bloc"]
    of: str | None
    aliases: list[str]


@with_config(STRICT)
class ExportSource(TypedDict):
    url: str
    title: str | None
    publisher: str | None
    published_on: IsoDate | None


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
