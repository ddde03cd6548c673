"""`redlines schema COMMAND`: one JSON Schema per command with JSON output, named as the command,
generated from redlines/output/shapes.py and held to the real output (no field missing or extra)."""

import json

import jsonschema
import pytest
from conftest import Cli

from redlines.cli import COMMANDS
from redlines.cli.exchange import SCHEMA_ALIASES, SCHEMA_NAMES

# Each schema, and a command line whose --json output it describes.
OUTPUTS = {
    "list": ["list", "--json"],
    "show": ["show", "putin-nuclear-doctrine", "--explain", "--json"],
    "actors": ["actors", "--json"],
    "search": ["search", "nuclear", "--json"],
    "report": ["report", "--explain", "--json"],
    "timeline": ["timeline", "--json"],
    "due": ["due", "--within", "1y", "--json"],
    "history": ["history", "--json"],
    "export": ["export", "--json"],
    "db-status": ["db", "status", "--json"],
}


def schema_of(cli, name: str) -> dict:
    schema = json.loads(cli("schema", name).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_every_schema_is_named_as_its_command():
    from redlines.output.shapes import ALIASES, SHAPES

    assert SCHEMA_NAMES == tuple(SHAPES) == tuple(OUTPUTS)
    assert set(SCHEMA_ALIASES) == set(ALIASES)
    for name in SCHEMA_NAMES:
        assert name.split("-")[0] in COMMANDS, name


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_real_output_validates_against_the_schema_of_its_command(cli, name):
    cli("delete", "trump-sanctions-july#1", "--yes")  # history has a run with changes
    schema = schema_of(cli, name)
    assert schema["title"] == f"redlines {name}"
    document = cli.json(*OUTPUTS[name])
    assert document  # something real to check
    jsonschema.validate(document, schema)


@pytest.mark.parametrize("old, new", [("threat", "show"), ("threats", "list")])
def test_the_old_names_still_answer(cli, old, new):
    a, b = schema_of(cli, old), schema_of(cli, new)
    assert a == b


def test_search_and_db_status_schemas_refuse_a_missing_or_an_extra_field(cli, tmp_path):
    hits = cli.json("search", "nuclear", "--json")
    schema = schema_of(cli, "search")
    assert any(m["event"] for h in hits for m in h["matches"])  # both kinds of match are there
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**hits[0], "surprise": 1}], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{k: v for k, v in hits[0].items() if k != "score"}], schema)
    match = hits[0]["matches"][0]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**hits[0], "matches": [{**match, "where": "x"}]}], schema)

    status = cli.json("db", "status", "--json")
    schema = schema_of(cli, "db-status")
    assert status["last_change"] is not None
    for broken in ({**status, "surprise": 1}, {k: v for k, v in status.items() if k != "runs"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)
    empty = Cli(tmp_path / "empty.db", "2025-08-12")
    empty("db", "init", "--empty")
    jsonschema.validate(empty.json("db", "status", "--json"), schema)


def test_an_unknown_schema_name_lists_the_commands(cli):
    err = cli("schema", "threatz", expect=2).stderr
    assert "no schema is called 'threatz'" in err
    assert "list, show, actors, search, report, timeline, due, history, export, db-status" in err
