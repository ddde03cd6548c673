"""Global options before or after the command name, `-o` as --output, "did you mean" for a
mistyped command, and one style of placeholder in every command's help."""

import json
import os
import re

import pytest
from conftest import Cli, run_installed
from test_prompts import Terminal


@pytest.fixture
def other(tmp_path) -> Cli:
    """A second, empty database beside the seeded one the `cli` fixture uses."""
    c = Cli(tmp_path / "other.db", "2025-08-12")
    c("db", "init", "--empty")
    return c


def ids(result) -> list[str]:
    return [t["id"] for t in json.loads(result.stdout)]


@pytest.mark.parametrize(
    "before, after",
    [
        (["--db", "{other}", "list", "--json"], ["list", "--json", "--db", "{other}"]),
        (["--db={other}", "actors", "--json"], ["actors", "--db={other}", "--json"]),
        (["--db", "{other}", "db", "status", "--json"], ["db", "status", "--json", "--db", "{other}"]),
    ],
)
def test_db_before_or_after_the_command_selects_the_same_file(cli, other, before, after):
    cli("list")  # the seeded default database exists and holds threats
    fill = [a.replace("{other}", str(other.db)) for a in before], [a.replace("{other}", str(other.db)) for a in after]
    first, second = (json.loads(cli(*args).stdout) for args in fill)
    assert first == second
    if isinstance(first, dict):
        assert (first["path"], first["threats"]) == (str(other.db), 0)
    else:
        assert first == []  # the empty file, not the seeded one


def test_as_of_before_or_after_the_command(cli):
    everything = ids(cli("list", "--json"))
    before = ids(cli("--as-of", "2024-06", "list", "--json"))
    after = ids(cli("list", "--json", "--as-of", "2024-06"))
    assert before == after
    assert 0 < len(after) < len(everything)
    made = {t["id"]: t["made_on"] for t in cli.json("list", "--json")}
    assert all(made[i] <= "2024-06-30" for i in after)
    assert any(made[i] > "2024-06-30" for i in everything)
    # show of a threat hidden by the as-of date is not found, in either position
    hidden = next(i for i in everything if made[i] > "2024-06-30")
    assert "no threat has the id" in cli("show", hidden, "--as-of", "2024-06", expect=1).stderr
    assert "no threat has the id" in cli("--as-of", "2024-06", "show", hidden, expect=1).stderr


@pytest.mark.parametrize("command", [["report"], ["list"], ["due", "--within", "1y"], ["show", "putin-f16"]])
def test_grace_before_or_after_the_command(cli, command):
    before = cli("--grace", "0", *command, "--json").stdout
    after = cli(*command, "--json", "--grace", "0").stdout
    default = cli(*command, "--json").stdout
    assert before == after
    if command == ["report"]:
        assert json.loads(after)["grace_days"] == 0
        assert json.loads(default)["grace_days"] == 30


def test_the_last_grace_given_wins_wherever_it_stands(cli):
    assert cli.json("--grace", "5", "report", "--grace", "10", "--json")["grace_days"] == 10
    assert cli.json("--grace", "5", "report", "--json")["grace_days"] == 5


@pytest.mark.parametrize(
    "args",
    [
        ["--json", "list"],
        ["--json", "actors"],
        ["--json", "report", "--by", "state"],
        ["--json", "show", "putin-f16"],
        ["--json", "timeline", "--limit", "3"],
        ["--json", "due", "--within", "1y"],
        ["--json", "search", "nuclear"],
        ["--json", "history"],
        ["--json", "db", "status"],
    ],
)
def test_json_before_the_command_is_the_same_as_after_it(cli, args):
    before = cli(*args).stdout
    after = cli(*args[1:], "--json").stdout
    if args[1:3] == ["db", "status"]:
        before, after = (dict(json.loads(x), size_bytes=0) for x in (before, after))
    else:
        json.loads(before)  # one JSON document
    assert before == after


@pytest.mark.parametrize("position", ["before", "after"])
def test_yes_before_or_after_delete_and_undo(cli, db, position):
    def run(*args):
        return cli("--yes", *args) if position == "before" else cli(*args, "--yes")

    assert "add --yes to go ahead" in cli("delete", "putin-f16", expect=2).stderr
    assert "putin-f16" in ids(cli("list", "--json"))  # refused: nothing written
    run("delete", "putin-f16")
    assert "putin-f16" not in ids(cli("list", "--json"))
    assert "add --yes to go ahead" in cli("undo", expect=2).stderr
    run("undo")
    assert "putin-f16" in ids(cli("list", "--json"))


@pytest.mark.parametrize("position", ["before", "after"])
def test_no_input_before_or_after_the_command_on_a_terminal(installed, tmp_path, position):
    """On a terminal `add threat` would ask; --no-input in either place makes it fail instead."""
    db = tmp_path / "t.db"
    run_installed(installed, "db", "init", "--empty", db=db)
    env = {**os.environ, "REDLINES_DB": str(db), "NO_COLOR": "1"}
    env.pop("REDLINES_NO_INPUT", None)
    args = ["add", "threat", "--by", "x"]
    term = Terminal(installed, *(["--no-input", *args] if position == "before" else [*args, "--no-input"]), env=env)
    term.expect("missing --on, --said")
    assert term.wait() == 2


def test_option_values_are_never_taken_for_global_options(empty_cli):
    empty_cli("add", "actor", "kim", "--name", "Kim")
    # --said takes the next word as its value, even one that looks like a global option
    tid = empty_cli("add", "threat", "--by", "kim", "--on", "2025-01-02", "--said", "--json", "--id", "t1").stdout
    assert tid.strip() == "t1"
    assert empty_cli.json("show", "t1", "--json")["statement"] == "--json"
    # after --, nothing moves: the search text is "--json", which finds that statement
    assert [h["id"] for h in json.loads(empty_cli("search", "--json", "--", "--json").stdout)] == ["t1"]
    assert "t1" in empty_cli("search", "--", "--json").stdout
    # a --db value that is also a command name is a file name
    assert empty_cli("--db", "list", "db", "path", env={"REDLINES_DB": None}).stdout.strip().endswith("list")


@pytest.mark.parametrize("args", [["list", "--db"], ["list", "--as-of"], ["report", "--json", "--grace"]])
def test_a_global_option_without_its_value_is_bad_usage(cli, args):
    assert f"Option '{args[-1]}' requires an argument." in cli(*args, expect=2).stderr


def test_a_global_option_a_command_does_not_take_is_bad_usage(cli):
    err = cli("--json", "add", "actor", "kim", "--name", "Kim", expect=2).stderr
    assert "--json means nothing to `redlines add actor`" in err
    assert "--yes means nothing to `redlines list`" in cli("list", "--yes", expect=2).stderr
    assert "--grace means nothing to `redlines timeline`" in cli("--grace", "3", "timeline", expect=2).stderr
    assert "kim" not in cli("actors").stdout  # refused: nothing written


@pytest.mark.sqlite_only  # db backup -o writes a SQLite file, opened as a database
def test_o_is_output_wherever_a_file_is_written(cli, tmp_path):
    cli("report", "--json", "-o", str(tmp_path / "r.json"))
    assert json.loads((tmp_path / "r.json").read_text())["by"] == "actor"
    cli("export", "-o", str(tmp_path / "e.json"))
    assert json.loads((tmp_path / "e.json").read_text())["threats"]
    assert cli("db", "backup", "-o", str(tmp_path / "b.db")).stdout.strip() == str(tmp_path / "b.db")
    assert Cli(tmp_path / "b.db", "2025-08-12").json("list", "--json") == cli.json("list", "--json")
    err = cli("db", "backup", str(tmp_path / "c.db"), "-o", str(tmp_path / "d.db"), expect=2).stderr
    assert "give the file once" in err and not (tmp_path / "c.db").exists() and not (tmp_path / "d.db").exists()
    # on list, -o is no longer --outcome: the outcome filter is --outcome alone
    assert "No such option: -o" in cli("list", "-o", "pending", expect=2).stderr
    assert {t["outcome"] for t in cli.json("list", "--outcome", "partial", "--json")} == {"partial"}


def test_export_json_is_format_json(cli):
    a, b = cli.json("export", "--json"), cli.json("export", "--format", "json")
    a.pop("exported_at"), b.pop("exported_at")
    assert a == b and a["threats"]


@pytest.mark.parametrize(
    "args, suggestion",
    [(["lst"], "Did you mean 'list'?"), (["reprot"], "Did you mean 'report'"), (["db", "stauts"], "'status'")],
)
def test_a_mistyped_command_suggests_the_nearest(cli, args, suggestion):
    err = cli(*args, expect=2).stderr
    assert f"No such command {args[-1]!r}." in err and suggestion in err


def test_a_command_like_nothing_known_suggests_nothing(cli):
    err = cli("xyzzy", expect=2).stderr
    assert "No such command 'xyzzy'." in err and "Did you mean" not in err


PLACEHOLDER = re.compile(r"\[?([A-Z][A-Z_]*(\|-)?|[a-z0-9_-]+(\|[a-z0-9_-]+)+)\]?(\.\.\.)?")


def every_command():
    """(path, click command) for every command and subcommand."""
    from typer import Context
    from typer.main import get_group

    from redlines.cli import COMMANDS, app

    root = get_group(app)
    ctx = Context(root)
    yield "redlines", root, ctx
    for name in COMMANDS:
        command = root.get_command(ctx, name)
        subs = getattr(command, "commands", None)
        if subs:
            for sub in subs.values():
                yield f"redlines {name} {sub.name}", sub, Context(sub, parent=ctx)
        else:
            yield f"redlines {name}", command, Context(command, parent=ctx)


def test_help_shows_one_style_of_placeholder():
    """UPPERCASE placeholders (FILE, DATE, ACTOR, N) and choices as a|b|c, in every command: an
    option whose value is one of a vocabulary shows the vocabulary, not a placeholder."""
    from redlines.domain.checks import ACTOR_KINDS
    from redlines.domain.outcomes import CATEGORIES, EVENT_KINDS, OUTCOMES, RESPONSE_OUTCOMES

    vocabularies = {"--category": CATEGORIES, "--outcome": OUTCOMES, "--kind": EVENT_KINDS}
    wrong, seen = [], 0
    for path, command, ctx in every_command():
        for param in command.params:
            if getattr(param, "is_flag", False) or getattr(param, "hidden", False):
                continue
            seen += 1
            metavar, name = param.make_metavar(ctx), param.opts[0]
            if not PLACEHOLDER.fullmatch(metavar):
                wrong.append(f"{path} {name}: {metavar}")
            choices = metavar.split("|")
            if (
                name in vocabularies
                and path != "redlines edit"
                and not (set(choices) <= set(vocabularies[name] + RESPONSE_OUTCOMES + ACTOR_KINDS) and len(choices) > 1)
            ):
                wrong.append(f"{path} {name}: {metavar} (the choices, not a placeholder)")
    assert wrong == []
    assert seen > 80  # every command was looked at


def test_help_as_printed(cli):
    assert "  -n, --limit N " in cli("list", "--help").stdout
    assert "--kind crossed|deadline|response|complied|withdrawn|restated|note" in cli("add", "event", "--help").stdout
    assert "Usage: redlines add actor [OPTIONS] {SLUG}" in cli("add", "actor", "--help").stdout
    for command in (["list"], ["undo"], ["db", "status"], ["add", "threat"]):
        assert "global options --db PATH, --as-of DATE and --no-input may stand here" in cli(*command, "--help").stdout


def test_add_threat_on_a_terminal_asks_for_a_source_and_its_quote(installed, tmp_path):
    db = tmp_path / "p.db"
    run_installed(installed, "db", "init", "--empty", db=db)
    run_installed(installed, "add", "actor", "kim", "--name", "Kim Jong Un", db=db)
    env = {**os.environ, "REDLINES_DB": str(db), "REDLINES_TODAY": "2025-03-02", "NO_COLOR": "1"}
    env.pop("REDLINES_NO_INPUT", None)
    term = Terminal(installed, "add", "threat", "--by", "kim", "--on", "2025-03-01", "--category", "military", env=env)
    term.expect("Statement:")
    term.type("Drills will be met with fire")
    term.expect("Source URL (Enter skips):")
    term.type("https://example.org/story")
    term.expect("Quote from it, verbatim (Enter skips):")
    term.type("met with fire")
    term.expect("kim-drills-met-fire")
    assert term.wait() == 0
    t = json.loads(run_installed(installed, "show", "kim-drills-met-fire", "--json", db=db, today="2025-03-02").stdout)
    assert [(s["url"], s["quote"]) for s in t["sources"]] == [("https://example.org/story", "met with fire")]


def test_a_source_given_is_not_asked_for_and_a_quote_may_be_skipped(installed, tmp_path):
    db = tmp_path / "p.db"
    run_installed(installed, "db", "init", "--empty", db=db)
    run_installed(installed, "add", "actor", "kim", "--name", "Kim Jong Un", db=db)
    env = {**os.environ, "REDLINES_DB": str(db), "REDLINES_TODAY": "2025-03-02", "NO_COLOR": "1"}
    env.pop("REDLINES_NO_INPUT", None)
    term = Terminal(installed, "add", "threat", "--by", "kim", "--said", "Fire", "--category", "military", env=env)
    term.expect("Made on (date) [today]:")
    term.type("")
    term.expect("Source URL (Enter skips):")
    term.type("https://example.org/a")
    term.expect("Quote from it, verbatim (Enter skips):")
    term.type("")
    term.expect("kim-fire")
    assert term.wait() == 0
    term = Terminal(
        installed, "add", "threat", "--by", "kim", "--said", "Fire", "--source", "https://example.org/b", env=env
    )
    term.expect("Made on (date) [today]:")
    term.type("yesterday")
    term.expect("kim-fire-2")  # no question about the source it was given
    assert "Source URL" not in term.screen
    assert term.wait() == 0
    t = json.loads(run_installed(installed, "show", "kim-fire", "--json", db=db, today="2025-03-02").stdout)
    assert [(s["url"], s["quote"]) for s in t["sources"]] == [("https://example.org/a", None)]


def test_deadline_and_due_relative_forms_count_from_on(empty_cli):
    empty_cli("add", "actor", "kim", "--name", "Kim")
    empty_cli("add", "threat", "--by", "kim", "--on", "21 Nov 2024", "--said", "x", "--deadline", "+30d", "--id", "a")
    assert empty_cli.json("show", "a", "--json")["deadline"] == "2024-12-21"
    empty_cli("add", "threat", "--by", "kim", "--on", "2024-11", "--said", "y", "--deadline", "in 2 weeks", "--id", "b")
    assert empty_cli.json("show", "b", "--json")["deadline"] == "2024-11-15"  # from the start of the month
    # an event's --due counts from the event's --on
    empty_cli("add", "event", "a", "--kind", "deadline", "--on", "2024-12-01", "--due", "+10d", "--what", "moved")
    assert empty_cli.json("show", "a", "--json")["deadline"] == "2024-12-11"
    # edit: from the threat's date (the new one when --on changes too), and the event's date
    empty_cli("edit", "b", "--deadline", "+1m")
    empty_cli("edit", "a", "--on", "2024-10-01", "--deadline", "+1w")
    empty_cli("edit", "a#1", "--due", "tomorrow")
    exported = {t["id"]: t for t in empty_cli.json("export", "--json")["threats"]}
    assert (exported["b"]["deadline"], exported["a"]["deadline"]) == ("2024-12-01", "2024-10-08")
    assert exported["a"]["events"][0]["due"] == "2024-12-02"
    # ISO and spelled-out dates are what they say, whatever --on is
    empty_cli("add", "threat", "--by", "kim", "--on", "2024-11-21", "--said", "z", "--deadline", "2025-01", "--id", "c")
    assert empty_cli.json("show", "c", "--json")["deadline"] == "2025-01"


@pytest.mark.parametrize("command", ["list", "report", "timeline"])
def test_since_after_until_is_refused(cli, command):
    err = cli(command, "--since", "2025-03", "--until", "2025-02-28", expect=2).stderr
    assert "--since '2025-03' (2025-03) is after --until '2025-02-28' (2025-02-28)" in err
    # the same period at both ends, or a day inside a month, is fine
    cli(command, "--since", "2025-03", "--until", "2025-03")
    cli(command, "--since", "2025-03-31", "--until", "2025-03")
