"""Paths as a user types them."""

from __future__ import annotations

from pathlib import Path


def user_path(text: str) -> Path:
    """`text` with a leading `~` or `~user` expanded, as a shell would; a `~name` that names no
    user stays as written (a shell leaves it too), rather than failing."""
    path = Path(text)
    try:
        return path.expanduser()
    except RuntimeError:  # "Could not determine home directory"
        return path
