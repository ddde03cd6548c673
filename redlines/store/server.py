"""A PostgreSQL location (`postgresql://[user[:password]@]host[:port]/dbname`), as a value: what
libpq is given (`conninfo`) and what anything shown to a person says (`str()`: the password as
`***`). Cheap to import: psycopg is imported only by `redlines.store.postgres`, when a server is
actually used."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

SCHEMES = ("postgresql://", "postgres://")


def is_server(location) -> bool:
    return isinstance(location, Server) or (isinstance(location, str) and location.strip().lower().startswith(SCHEMES))


def redacted(url: str) -> str:
    """The URL with any password shown as `***` (also in a query string: `?password=...`)."""
    import re

    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, hostport = netloc.rpartition("@")
            netloc = f"{userinfo.split(':', 1)[0]}:***@{hostport}"
        query = re.sub(r"(?i)(^|&)(password)=[^&]*", r"\1\2=***", parts.query)
        return parts._replace(netloc=netloc, query=query).geturl()
    except ValueError:
        return "postgresql://…"


@dataclass(frozen=True)
class Server:
    """A database on a PostgreSQL server. `str()` never shows the password."""

    conninfo: str = field(repr=False)

    def __str__(self) -> str:
        return redacted(self.conninfo)

    def __repr__(self) -> str:
        return f"Server({str(self)!r})"

    @property
    def dbname(self) -> str:
        import os

        path = urlsplit(self.conninfo).path.lstrip("/")
        return path or os.environ.get("PGDATABASE") or ""
