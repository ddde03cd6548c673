"""The errors every layer may raise, and the exit status each one means."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    FAILURE = 1  # not found, conflict, database problem
    USAGE = 2  # bad usage or unreadable input


class RedlinesError(Exception):
    """A failure the user should see as one clear line (plus optional hints), never a traceback."""

    status = ExitStatus.FAILURE

    def __init__(self, message: str, hints: list[str] | tuple[str, ...] = (), *, field: str | None = None):
        # With `field`, the message is a template naming it as `{field}`: the library says the
        # field (`statement`), the command line the option that sets it (`--said`), see `named`.
        self.field, self.template = field, message
        if field is not None:
            message = message.replace("{field}", field, 1)
        super().__init__(message)
        self.message = message
        self.hints = list(hints)

    def named(self, names: dict[str, str]) -> None:
        """Say the field as `names` calls it (the command line: its option)."""
        if self.field is not None:
            self.message = self.template.replace("{field}", names.get(self.field, self.field), 1)


class NotFound(RedlinesError):
    pass


class Conflict(RedlinesError):
    pass


class DatabaseProblem(RedlinesError):
    pass


class BadInput(RedlinesError):
    status = ExitStatus.USAGE
