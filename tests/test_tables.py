"""Every human form fits the terminal (COLUMNS) without cutting a number, a name or a header:
report in every grouping, actors, list, due, timeline, history, search and show, at 80 and 120
columns, on the seed data and on long names, ids and statements made up here."""

import re

import pytest

from redlines.output.layout import Col, cell_width, fit, flow, render, wrap
from redlines.service import Tracker

LONG_SLUG = "ministry-of-foreign-affairs-of-the-russian-federation-spokeswoman"[:64]  # 64 characters
SOLID_SLUG = "x" * 64  # 64 characters and no hyphen to break at
LONG_ID = "osce-warning-" + "a" * 51
SOLID_ID = "z" * 64
OSCE = "Organisation for Security and Co-operation in Europe"
SPOKESWOMAN = "Maria Zakharova, Spokeswoman of the Ministry of Foreign Affairs"
SENTENCE = (
    "the organisation warned that any further escalation along the line of contact would be met "
    "with coordinated sanctions and the suspension of observer missions"
)
_WORDS = SENTENCE.split(" ")
STATEMENT = " ".join(_WORDS[i % len(_WORDS)] for i in range(200))  # a 200-word statement
URL = "https://www.example.org/" + "/".join(["a-very-long-path-segment"] * 8) + "?query=" + "q" * 40


@pytest.fixture
def long_cli(cli, db):
    """The seed data and, beside it, long names, slugs, ids, statements and a long URL."""
    cli("db", "init")
    Tracker(db).import_document(
        {
            "actors": [
                {
                    "slug": "osce",
                    "name": OSCE,
                    "kind": "organization",
                    "aliases": ["OSCE", "Organization for Security and Co-operation in Europe", "ОБСЕ"],
                },
                {"slug": LONG_SLUG, "name": SPOKESWOMAN, "kind": "person", "of": "osce"},
                {"slug": SOLID_SLUG, "name": "X" * 60, "kind": "state"},
                {
                    "slug": "beijing",
                    "name": "中华人民共和国外交部发言人办公室",
                    "kind": "organization",
                },  # wide characters
            ],
            "threats": [
                {
                    "id": LONG_ID,
                    "issuer": "osce",
                    "targets": [LONG_SLUG, SOLID_SLUG],
                    "made_on": "2025-06-01",
                    "statement": STATEMENT,
                    "trigger": STATEMENT[:300],
                    "consequence": STATEMENT[:500],
                    "category": "diplomatic",
                    "deadline": "2025-09-30",
                    "tags": ["t" * 40, "escalation"],
                    "sources": [{"url": URL, "quote": STATEMENT[:400]}],
                    "events": [
                        {"kind": "crossed", "on": "2025-06-15", "what": STATEMENT[:600], "sources": [{"url": URL}]},
                        {"kind": "restated", "on": "2025-07-01", "what": "again, word for word"},
                    ],
                },
                {
                    "id": SOLID_ID,
                    "issuer": LONG_SLUG,
                    "targets": ["osce"],
                    "made_on": "2025-05-01",
                    "statement": "Observers out by the tenth.",
                    "category": "military",
                    "deadline": "2025-05-10",
                },
                {
                    "id": "solid",
                    "issuer": SOLID_SLUG,
                    "made_on": "2024-01-01",
                    "statement": STATEMENT,
                    "category": "nuclear",
                    "events": [{"kind": "response", "on": "2024-02-01", "what": "done", "outcome": "followed_through"}],
                },
                {
                    "id": "beijing-1",
                    "issuer": "beijing",
                    "made_on": "2025-02-01",
                    "statement": "外交部发言人表示，" * 30,
                    "category": "economic",
                },
            ],
        },
        "test",
    )
    return cli


COMMANDS = [
    *(
        ["report", "--by", by, *explain]
        for by in ("actor", "state", "category", "year")
        for explain in ([], ["--explain"])
    ),
    ["actors"],
    ["list"],
    ["due", "--within", "1y"],
    ["timeline"],
    ["history"],
    ["search", "escalation"],
    ["search", "sanctions"],
    ["show", LONG_ID],
    ["show", SOLID_ID],
    ["show", "putin-all"],
    ["show", "beijing-1"],
]


def too_long(out: str, columns: int) -> list[str]:
    return [line for line in out.splitlines() if cell_width(line) > columns]


def pieces(text: str) -> list[str]:
    """The parts a name or sentence may be wrapped between: words, and the parts of hyphenated words."""
    return [p for word in text.split() for p in re.split(r"(?<=-)", word) if p]


def assert_whole(out: str, text: str, longest: int = 60) -> None:
    """Each word of `text` is on some line of `out`, whole (wrapping may only break between them).
    A word longer than `longest` (a line of Chinese, which has no spaces) may be broken
    anywhere: joined again, it is whole."""
    lines = out.splitlines()
    joined = "".join(line.strip() for line in lines)
    for piece in pieces(text):
        if cell_width(piece) > longest:
            assert piece in joined
        else:
            assert any(piece in line for line in lines), f"{piece!r} of {text!r} is not shown whole"


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_no_line_is_wider_than_the_terminal(long_cli, args, columns):
    out = long_cli(*args, env={"COLUMNS": str(columns)}).stdout
    assert out.strip()
    assert too_long(out, columns) == []
    if args[0] != "search":  # search shows passages, which FTS5 marks with "…" where they start or end
        assert "…" not in out


@pytest.mark.parametrize("columns", [80, 120])
def test_report_shows_every_number_of_its_json_in_every_grouping(long_cli, columns):
    env = {"COLUMNS": str(columns)}
    counts = ("threats", "tested", "followed_through", "partial", "not_followed_through", "complied", "withdrawn")
    for by in ("actor", "state", "category", "year"):
        rep = long_cli.json("report", "--by", by, "--json")
        out = long_cli("report", "--by", by, env=env).stdout
        assert f"Follow-through by {by}" in out
        for header in ("threats", "tested", "yes", "partly", "no", "complied", "dropped", "pending", "rate"):
            assert re.search(rf"(^|\s){header}(\s|$)", out, re.M), f"header {header} missing"
        for row in [*rep["rows"], rep["total"]]:
            assert_whole(out, row["key"])
            numbers = [row[k] for k in counts[:2]] + [row[k] for k in counts[2:]] + [row["pending"]]
            assert re.search(r"\s+".join(str(n) for n in numbers), out), f"{by} {row['key']}: {numbers} not in a row"
            if row["tested"] >= rep["min_tested"]:
                low, high = round(row["rate_low"] * 100), round(row["rate_high"] * 100)
                rate = f"{row['follow_through_rate']:.0%} ({low}-{high})"
            else:
                rate = f"too few ({row['tested']})" if row["tested"] else "untested"
            assert rate in out
            # The median days to a response: an optional column, dropped before any other
            # number (after the bars) where the width is short; at 120 columns it is there.
            if columns == 120 and row["median_days_to_response"] is not None:
                assert re.search(rf"{re.escape(rate)}\s+{row['median_days_to_response']:g}(\s|$)", out), row


def test_report_by_year_is_in_year_order(long_cli):
    rows = long_cli.json("report", "--by", "year", "--json")["rows"]
    assert [r["key"] for r in rows] == ["2022", "2024", "2025"]
    out = long_cli("report", "--by", "year").stdout
    assert out.index("\n2022 ") < out.index("\n2024 ") < out.index("\n2025 ")


@pytest.mark.parametrize("columns", [80, 120])
def test_actors_show_names_whole_and_every_count(long_cli, columns):
    out = long_cli("actors", env={"COLUMNS": str(columns)}).stdout
    for a in long_cli.json("actors", "--json"):
        assert any(a["slug"] in line for line in out.splitlines())  # a slug is never wrapped
        assert_whole(out, a["name"])
        for alias in a["aliases"]:
            assert_whole(out, alias)
    # Every count of the JSON is on the actor's row (or in its record).
    blocks = out.split("\n\n") if out.startswith("slug:") else None
    for a in long_cli.json("actors", "--json"):
        if blocks is not None:
            [block] = [b for b in blocks if b.startswith(f"slug:     {a['slug']}\n")]
            assert f"threats:  {a['threats']}\n" in block + "\n" and f"targeted: {a['targeted']}" in block
        else:  # a row, or a slug on a line of its own with the row below it (the "stacked" form)
            lines = out.splitlines()
            [at] = [n for n, line in enumerate(lines) if line == a["slug"] or line.startswith(a["slug"] + " ")]
            row = lines[at] if lines[at] != a["slug"] else lines[at + 1]
            assert re.search(rf"\s{a['threats']}\s+{a['targeted']}$", row)


def test_actors_on_the_seed_fit_80_columns_as_a_table(cli):
    out = cli("actors", env={"COLUMNS": "80"}).stdout
    lines = out.splitlines()
    assert lines[0].split() == ["slug", "name", "kind", "of", "aliases", "threats", "targeted"]
    assert too_long(out, 80) == []
    # Names wrap between words, never inside one (issue 10: "Vladim/ir").
    assert any(line.startswith("putin ") and " Vladimir Putin " in line for line in lines)
    assert any(line.startswith("zelensky ") and " Volodymyr " in line for line in lines)


@pytest.mark.parametrize("columns", [80, 120])
def test_list_due_search_timeline_show_names_ids_and_numbers_whole(long_cli, columns):
    env = {"COLUMNS": str(columns)}
    listing = long_cli("list", env=env).stdout
    for t in long_cli.json("list", "--json"):
        assert any(t["id"] in line for line in listing.splitlines())
        assert_whole(listing, t["issuer"])
        for target in t["targets"]:
            assert_whole(listing, target)
        assert_whole(listing, t["statement"])
        if t["restated"]:
            assert f"restated {t['restated']}x" in listing
    due = long_cli("due", "--within", "1y", env=env).stdout
    for d in long_cli.json("due", "--within", "1y", "--json"):
        assert any(d["id"] in line for line in due.splitlines())
        assert f"{abs(d['days'])} day" in due
    timeline = long_cli("timeline", env=env).stdout
    for entry in long_cli.json("timeline", "--json"):
        assert f"{entry['on']:<10}  {entry['kind']:<9}" in timeline
        assert_whole(timeline, entry["threat"])
    show = long_cli("show", LONG_ID, env=env).stdout
    assert_whole(show, OSCE)
    assert_whole(show, STATEMENT)
    # A URL longer than a line is folded after a slash or hyphen: joined again, it is whole.
    assert URL in "".join(line.strip() for line in show.splitlines())
    found = long_cli("search", "escalation", env=env).stdout
    for hit in long_cli.json("search", "escalation", "--json"):
        assert any(hit["id"] in line for line in found.splitlines())


@pytest.mark.parametrize("columns", [80, 120])
def test_history_shows_names_and_ids_whole(long_cli, columns):
    out = long_cli("history", "--limit", "1", env={"COLUMNS": str(columns)}).stdout
    assert too_long(out, columns) == []
    for text in (OSCE, SPOKESWOMAN, LONG_SLUG, SOLID_SLUG, LONG_ID, SOLID_ID):
        assert_whole(out, text)
    run = long_cli.json("history", "--json")[0]
    assert f"#{run['run']}" in out and f"({len(run['changes'])} changes)" in out


# --- the layout itself ----------------------------------------------------------------------


@pytest.mark.parametrize("width", [20, 33, 40, 57, 80, 119])
def test_wrap_never_exceeds_the_width_and_loses_nothing(width):
    text = f"{STATEMENT} {URL} {SOLID_SLUG} 中华人民共和国外交部发言人办公室"
    lines = wrap(text, width, "  label: ", "    ")
    assert all(cell_width(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "label:" + "".join(text.split())


def test_wrap_breaks_between_words_and_keeps_spacing_within_a_line():
    assert wrap("nuclear  (CAMEO 1385) and more words here", 22) == ["nuclear  (CAMEO 1385)", "and more words here"]
    assert wrap("one\ntwo three", 40, "> ") == ["> one", "  two three"]
    # A word too long for the line after a label goes to a line of its own rather than being folded.
    assert wrap(SOLID_ID, 70, "a-long-label: ", "  ") == ["a-long-label:", "  " + SOLID_ID]


def test_flow_keeps_parts_whole():
    parts = [("trump-sanctions-july", "bold"), ("2025-07-14", ""), ("not followed through", "red")]
    assert ["".join(t for t, _ in line) for line in flow(parts, 40)] == [
        "trump-sanctions-july  2025-07-14",
        "  not followed through",
    ]


def text_of(lines) -> list[str]:
    return ["".join(t for t, _ in line) for line in lines]


def test_a_table_drops_optional_columns_first_then_narrows():
    cols = [Col("key", "name"), Col("n", "number", justify="right"), Col("bar", "number", drop=1)]
    rows = [["united-states", "12345", "█" * 30]]
    assert fit(cols, rows, 80).shown == [0, 1, 2]
    assert text_of(render(cols, rows, 30)) == ["key                n", "─" * 20, "united-states  12345"]
    # Narrower still: one space between columns, and the name wraps after its hyphen.
    assert text_of(render(cols, rows, 16)) == ["key            n", "─" * 16, "united-    12345", "states"]


def test_a_table_too_narrow_for_its_numbers_stacks_then_shows_records():
    cols = [Col("key", "id"), *(Col(f"count{i}", "number", justify="right") for i in range(5))]
    rows = [["k" * 30, *("123456" for _ in range(5))]]
    assert text_of(render(cols, rows, 40)) == [
        "key",
        "  count0  count1  count2  count3  count4",
        "─" * 40,
        "k" * 30,
        "  123456  123456  123456  123456  123456",
    ]
    assert text_of(render(cols, rows, 37))[1:3] == ["  count0 count1 count2 count3 count4", "─" * 36]
    # Too narrow for the numbers side by side: a record per row; only the id, longer than a
    # line, is folded.
    assert text_of(render(cols, rows, 25)) == [
        "key:    " + "k" * 17,
        "        " + "k" * 13,
        *(f"count{i}: 123456" for i in range(5)),
    ]


def test_search_passages_bracket_their_matches_and_bold_them_on_a_terminal():
    from io import StringIO

    from rich.console import Console

    from redlines.output.views import _passage

    out = StringIO()
    con = Console(file=out, force_terminal=True, color_system="standard", width=40, markup=False, highlight=False)
    _passage(
        con, ["the line was ", "crossed", " and a long tail of words after it, ", "cross\u202eed", " again"], "  x: "
    )
    text = out.getvalue()
    assert re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() == [
        "  x: the line was [crossed] and a long",
        "      tail of words after it,",
        "      [cross\\u202eed] again",
    ]
    assert "\x1b[1m[crossed]\x1b[0m" in text and "\x1b[1m[cross\\u202eed]\x1b[0m" in text
