"""Where the files shipped beside the code are: migrations/ and data/.

Installed, they are the packages `redlines.migrations` and `redlines.data`; run from a source
checkout without installing, they are the folders at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path


def _folder(package: str, name: str) -> Path:
    try:
        from importlib.resources import files

        return Path(str(files(package)))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / name


def migrations_dir() -> Path:
    return _folder("redlines.migrations", "migrations")


def data_dir() -> Path:
    return _folder("redlines.data", "data")
