"""Writing an export: the JSON envelope one record a line (so two exports diff cleanly), JSON lines
of typed records, or CSV of threats for spreadsheets. All stream: nothing is held whole."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import TextIO

from redlines.domain.document import join_cell
from redlines.output.formats import csv_cell
from redlines.schema import THREAT_FIELDS

# A threat a row: its fields as an export holds them (those that `import` reads back from a CSV),
# with its outcome as of the as-of date and the deadline in force besides.
CSV_FIELDS = (
    "id",
    "issuer",
    "targets",
    *THREAT_FIELDS,
    "deadline_in_force",
    "outcome",
    "tested_on",
    "tags",
    "sources",
    "quotes",
)


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=False)


def write_json(out: TextIO, parts: dict) -> None:
    meta = parts["meta"]
    out.write("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in meta.items()))
    for name in ("actors", "sources", "threats"):
        out.write(f',\n"{name}": [')
        first = True
        for record in parts[name]:
            out.write(("\n" if first else ",\n") + _line(record))
            first = False
        out.write("\n]" if not first else "]")
    out.write("\n}\n")


def write_jsonl(out: TextIO, parts: dict) -> None:
    out.write(_line({"type": "meta", **parts["meta"]}) + "\n")
    for name, kind in (("actors", "actor"), ("sources", "source"), ("threats", "threat")):
        for record in parts[name]:
            out.write(_line({"type": kind, **record}) + "\n")


def write_csv(out: TextIO, threats: Iterable[dict]) -> None:
    """One threat a row, with its outcome as of the as-of date. A list is one cell, a line an
    item (targets, tags, sources, and the quotes that go with the sources line by line)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for t in threats:
        row = {**t, "sources": [s["url"] for s in t["sources"]], "quotes": [s["quote"] or "" for s in t["sources"]]}
        writer.writerow(
            [csv_cell(join_cell(v) if isinstance(v, list) else v) for v in (row.get(k) for k in CSV_FIELDS)]
        )
