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

    def __init__(self, message: str, hints: list[str] | tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.hints = list(hints)


class NotFound(RedlinesError):
    pass


class Conflict(RedlinesError):
    pass


class DatabaseProblem(RedlinesError):
    pass


class BadInput(RedlinesError):
    status = ExitStatus.USAGE
