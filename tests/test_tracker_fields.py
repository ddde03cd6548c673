"""The library speaks in fields, the command line in options: a Python caller of `Tracker` is
told the field (`grace`, `within`, `statement`), the command line the option that sets it; and
the Tracker's write half is a part it holds, not a base class it mixes in."""

from __future__ import annotations

import inspect

import pytest
from conftest import Cli

from redlines.errors import BadInput
from redlines.recording import Recorder
from redlines.service import Tracker


@pytest.mark.parametrize(
    "call, field, option",
    [
        (lambda t: t.report(grace=-1), "grace", "--grace"),
        (lambda t: t.due(within="-3d"), "within", "--within"),
        (lambda t: t.dossiers(limit=-1), "dossiers", "--dossiers"),
        (lambda t: t.add_threat(by="putin", on="2025-01-01", said="  "), "statement", "--said"),
    ],
)
def test_errors_name_the_field_for_python_callers(cli: Cli, call, field, option):
    cli("db", "init")
    tracker = Tracker(cli.db)
    try:
        with pytest.raises(BadInput) as e:
            call(tracker)
    finally:
        tracker.close()
    assert e.value.field == field
    assert field in e.value.message and option not in e.value.message


@pytest.mark.parametrize(
    "args, option",
    [
        (["add", "threat", "--by", "putin", "--on", "2025-01-01", "--said", "  "], "--said"),
        (["due", "--within", "-3d"], "--within"),
    ],
)
def test_the_command_line_names_the_option(cli: Cli, args, option):
    result = cli(*args, expect=2)
    assert result.stderr.startswith(f"error: {option} ")


def test_the_write_half_is_held_not_mixed_in(cli: Cli):
    assert Recorder not in Tracker.__mro__
    cli("db", "init")
    tracker = Tracker(cli.db)
    try:
        assert tracker.recorder.reader is tracker
        # each write the Tracker offers is the recorder's, with its signature
        for name in ("add_actor", "add_threat", "add_event", "edit", "delete", "undo", "history_of"):
            assert inspect.signature(getattr(tracker, name)) == inspect.signature(getattr(tracker.recorder, name))
        tid = tracker.add_threat(by="putin", on="2025-01-01", said="A test statement")
        assert tracker.threat(tid)["statement"] == "A test statement"
    finally:
        tracker.close()


def test_reads_do_not_use_the_write_half():
    """The read half (`service.py`) calls no private helper of the recorder, and the recorder
    reads through its tracker's public names."""
    source = inspect.getsource(Tracker)
    functions = inspect.getmembers(Recorder, inspect.isfunction)
    private = [n for n, _ in functions if n.startswith("_") and not n.startswith("__")]
    assert private and not [n for n in private if f".{n}(" in source]
