"""`Filters`: which threats a reading command asks for, as the user gives them (actors by slug,
name or alias; dates in any form the date grammar reads). Built once where the command is read,
and resolved once by the service (`Tracker.where`) into what the store filters by."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Filters:
    actors: tuple[str, ...] = ()  # issued by any of these
    target: str | None = None  # aimed at this actor
    category: str | None = None
    outcome: str | None = None  # as judged on the as-of date
    since: str | None = None  # made on or after this date
    until: str | None = None  # made on or before this date (a month or year counts to its end)
    search: str | None = None  # the statement, trigger or consequence holds this text

    def __post_init__(self) -> None:
        object.__setattr__(self, "actors", tuple(self.actors or ()))

    @classmethod
    def of(cls, filters: Filters | None = None, **given) -> Filters:
        """`filters`, or one made of the keywords given (as a Python caller writes them:
        `tracker.list_threats(actors=["putin"])`)."""
        if filters is not None and given:
            raise TypeError("give Filters or keywords, not both")
        return filters if filters is not None else cls(**given)

    def given(self) -> set[str]:
        """The names of the filters set."""
        return {f.name for f in fields(self) if getattr(self, f.name) not in (None, ())}
