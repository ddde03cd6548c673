"""Where the files shipped beside the code are: migrations/ and data/.

Installed, they are the packages `redlines.migrations` and `redlines.data`; run from a source
checkout without installing, they are the folders at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path


def _folder(name: str) -> Path:
    here = Path(__file__).parent
    installed = here / name
    return installed if installed.is_dir() else here.parent / name


def migrations_dir() -> Path:
    return _folder("migrations")


def data_dir() -> Path:
    return _folder("data")
