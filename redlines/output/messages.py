"""Every message for people goes to stderr, through here: plain text, so that an error costs
no import of Rich and a pipe on stdout carries data alone."""

from __future__ import annotations

import sys

from redlines.errors import RedlinesError


def info(message: str) -> None:
    print(message, file=sys.stderr)


def error(e: RedlinesError) -> None:
    print(f"error: {e.message}", file=sys.stderr)
    for hint in e.hints:
        print(f"  {hint}", file=sys.stderr)
