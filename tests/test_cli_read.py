"""list, show, actors and report through the CLI: exact output, exit codes, stdout/stderr."""

import json

import pytest
from conftest import ARTICLE_URL, raw

from redlines.service import Tracker

TITLE = "Trump And Putin’s History Of Empty Threats Undermines The Alaska Summit"


def ids(rows):
    return [r["id"] for r in rows]


def test_as_of_the_article_every_trump_deadline_lapsed(cli):
    rows = cli.json("--as-of", "2025-08-12", "list", "--actor", "trump", "--json", today="2026-01-01")
    assert [(r["id"], r["made_on"], r["deadline"], r["outcome"], r["tested_on"]) for r in rows] == [
        ("trump-sanctions-july", "2025-07-14", "2025-08-08", "not_followed_through", "2025-08-08"),
        ("trump-sanctions-march", "2025-03", "2025-03", "not_followed_through", "2025-03"),
        ("trump-sanctions-january", "2025-01", "2025-01", "not_followed_through", "2025-01"),
    ]


def test_putin_threats_newest_first_with_their_outcomes(cli):
    rows = cli.json("list", "--actor", "putin", "--json")
    assert [(r["id"], r["outcome"], r["tested_on"]) for r in rows] == [
        ("putin-nuclear-doctrine", "not_followed_through", "2024-11-19"),
        ("putin-long-range-weapons", "partial", "2024-11-19"),
        ("putin-f16", "not_followed_through", "2024-08"),
        ("putin-all-means-necessary", "not_followed_through", "2023-05-11"),
    ]


def test_list_json_threat_object_is_exact(cli):
    [row] = cli.json("list", "--actor", "putin", "--category", "nuclear", "--since", "2024", "--json")
    assert row == {
        "id": "putin-nuclear-doctrine",
        "issuer": "putin",
        "issuer_name": "Vladimir Putin",
        "targets": ["nato", "ukraine"],
        "made_on": "2024-09-25",
        "statement": (
            "Putin proposed changes to Russia’s nuclear doctrine to lower its threshold to use nuclear weapons."
        ),
        "trigger": "an attack on Russia by a non-nuclear state backed by a nuclear power",
        "consequence": "a nuclear response",
        "category": "nuclear",
        "cameo": "1385",
        "tags": ["ukraine-war", "nuclear"],
        "deadline": None,
        "outcome": "not_followed_through",
        "tested_on": "2024-11-19",
        "restated": 0,
        "sources": [
            {
                "url": ARTICLE_URL,
                "title": TITLE,
                "quote": "Then in 2024 Putin proposed changes to "
                "Russia’s nuclear doctrine to lower its threshold to use nuclear weapons.",
            }
        ],
    }


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ["--actor", "putin", "--actor", "Donald Trump", "--limit", "2"],
            ["trump-sanctions-july", "trump-sanctions-march"],
        ),
        (["--target", "UK"], ["putin-long-range-weapons"]),
        (
            ["--target", "the west", "--outcome", "not_followed_through"],
            ["putin-nuclear-doctrine", "putin-f16", "putin-all-means-necessary"],
        ),
        (["--outcome", "partial"], ["putin-long-range-weapons"]),
        (["--category", "economic", "--until", "2025-03"], ["trump-sanctions-march", "trump-sanctions-january"]),
        (["--since", "2025-03", "--until", "March 2025"], ["trump-sanctions-march"]),
        (["--since", "2025-03-02"], ["trump-sanctions-july"]),  # a month counts from its first day
        (["--search", "F-16"], ["putin-f16"]),
        (["--search", "100%"], []),  # LIKE wildcards are taken literally
        (["--limit", "0"], []),
    ],
)
def test_list_filters(cli, args, expected):
    assert ids(cli.json("list", *args, "--json")) == expected


def test_as_of_hides_later_threats_and_events(cli):
    rows = cli.json("--as-of", "2024-11-20", "list", "--json")
    assert ids(rows) == ["putin-nuclear-doctrine", "putin-long-range-weapons", "putin-f16", "putin-all-means-necessary"]
    assert rows[1]["outcome"] == "pending"  # crossed on the 19th, the Oreshnik strike came on the 21st
    # a month or a year as-of date means the last day of that period
    assert cli.json("--as-of", "2024-11", "list", "--json")[1]["outcome"] == "partial"
    assert cli.json("--as-of", "2023", "list", "--json")[0]["id"] == "putin-all-means-necessary"
    assert cli.json("--as-of", "2021", "list", "--json") == []


def test_show_json_has_the_timeline(cli):
    t = cli.json("show", "putin-long", "--json")  # any unique start of an id
    assert t["id"] == "putin-long-range-weapons"
    assert [(e["id"], e["kind"], e["on"], e["outcome"], e["due"]) for e in t["events"]] == [
        ("putin-long-range-weapons#1", "crossed", "2024-11-19", None, None),
        ("putin-long-range-weapons#2", "response", "2024-11-21", "partial", None),
    ]
    assert t["events"][1]["sources"] == [
        {
            "url": ARTICLE_URL,
            "title": TITLE,
            "quote": (
                "Though Putin unveiled the Oreshnik intermediate ballistic missile on Dnipro, he did not do much else."
            ),
        }
    ]
    assert cli.json("--as-of", "2024-11-20", "show", "putin-long", "--json")["events"][1:] == []


def test_show_as_a_dossier(cli):
    # The article's URL (129 characters) is longer than the 100 columns: it is folded after a
    # hyphen, where it fits, so that no line runs past the terminal's width.
    url_at_14 = ["https://www.forbes.com/sites/natashalindstaedt/2025/08/12/trump-and-putins-history-of-"]
    URL_AT_14 = [url_at_14[0], ARTICLE_URL[len(url_at_14[0]) :]]
    url_at_2 = "https://www.forbes.com/sites/natashalindstaedt/2025/08/12/trump-and-putins-history-of-empty-"
    URL_AT_2 = [url_at_2, ARTICLE_URL[len(url_at_2) :]]
    out = cli("show", "putin-all").stdout
    assert (
        out
        == f"""putin-all-means-necessary
Putin warned the West that he would use all means necessary if long-range missiles were supplied to
Ukraine, read as a threat of nuclear escalation.

issuer      Vladimir Putin (putin)
against     nato
made on     2022
category    nuclear  (CAMEO 1385)
if          long-range missiles are supplied to Ukraine
then        use all means necessary, including nuclear weapons
tags        ukraine-war, nuclear, long-range-weapons
restated    1
outcome     not followed through  (tested 2023-05-11)

timeline
  2023        restated: Putin repeated the warning in 2023.
              "Repeatedly in 2022 and 2023 Putin warned the West"
              {URL_AT_14[0]}
              {URL_AT_14[1]}
  2023-05-11  crossed: The United Kingdom confirmed it had supplied Storm Shadow long-range cruise
              missiles to Ukraine.
              "these repeated threats of using nuclear weapons have thus far been empty"
              {URL_AT_14[0]}
              {URL_AT_14[1]}

sources
  "Repeatedly in 2022 and 2023 Putin warned the West that he would use all means necessary if
   long-range missiles were supplied to Ukraine, interpreted as nuclear level escalation."
  {URL_AT_2[0]}
  {URL_AT_2[1]}
"""
    )


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["show", "nope"], 1, "no threat has the id 'nope'"),
        (["show", "putin-"], 1, "'putin-' is the start of several threat ids"),
        (["--as-of", "2024-01", "show", "putin-long-range-weapons"], 1, "as of 2024-01-31"),
        (["list", "--actor", "putn"], 1, "did you mean: putin (Vladimir Putin)?"),
        (["list", "--category", "psychic"], 2, "--category 'psychic' is not one of"),
        (["list", "--outcome", "won"], 2, "--outcome 'won' is not one of"),
        (["list", "--since", "31 Febtember"], 2, "cannot read the date '31 Febtember'"),
        (["--as-of", "someday", "list"], 2, "accepted forms: 2024-11-21, 2024-11, 2024"),
        (["list", "--format", "xml"], 2, "'xml' is not one of table, json, jsonl, csv, md"),
        (["list", "--limit", "-1"], 2, "-1"),
        (["list", "--grace", "-5"], 2, "-5"),
        (["report", "--by", "planet"], 2, "--by 'planet' is not one of: actor, state, category, year"),
    ],
)
def test_bad_input_gets_a_clear_message_and_its_exit_code(cli, args, code, message):
    result = cli(*args, expect=code)
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_an_ambiguous_actor_lists_the_candidates(cli, db):
    # Names are unique now (add, edit and import refuse a clash), but a database written before
    # that rule may hold one: written here around redlines, as such a database would be.
    cli("list")
    with raw(db) as c:
        c.execute("INSERT INTO actor (slug, name, kind) VALUES ('georgia-ge', 'Georgia', 'state')")
        c.execute("INSERT INTO actor (slug, name, kind) VALUES ('georgia-us', 'State of Georgia', 'state')")
        c.execute("INSERT INTO alias (actor_id, alias) SELECT id, 'Georgia' FROM actor WHERE slug = 'georgia-us'")
    result = cli("list", "--actor", "GEORGIA", expect=1)
    assert result.stderr == (
        "error: 'GEORGIA' could mean several actors\n  georgia-ge (Georgia)\n  georgia-us (State of Georgia)\n"
    )


def test_actors_json(cli):
    actors = {a["slug"]: a for a in cli.json("actors", "--json")}
    assert actors["putin"] == {
        "slug": "putin",
        "name": "Vladimir Putin",
        "kind": "person",
        "of": "russia",
        "aliases": ["Vladmir Putin", "President Putin"],
        "threats": 4,
        "targeted": 3,
    }
    assert actors["nato"]["of"] is None and actors["nato"]["targeted"] == 3


def test_list_table_for_people(cli):
    out = cli("list", "--actor", "trump", "--limit", "1").stdout
    assert out == (
        # 103 characters: the heading wraps between its parts to stay within the 100 columns
        "trump-sanctions-july  2025-07-14  trump -> putin, russia  economic  not followed through\n"
        "  deadline 2025-08-08\n"
        "    Trump threatened to implement further sanctions on Russia if the fighting continued, with a\n"
        "    deadline of 50 days.\n"
        "1 threat, as of 2025-08-12\n"
    )
    assert cli("list", "--actor", "zelensky").stderr == "no threats match, as of 2025-08-12\n"


def test_report_json_as_of_the_article(cli):
    rep = cli.json("report", "--json")
    assert {k: rep[k] for k in ("schema_version", "as_of", "by", "grace_days", "min_tested")} == {
        "schema_version": 1,
        "as_of": "2025-08-12",
        "by": "actor",
        "grace_days": 30,
        "min_tested": 3,
    }
    assert rep["rows"] == [
        {
            "key": "putin",
            "label": "Vladimir Putin",
            "threats": 4,
            "pending": 0,
            "followed_through": 0,
            "partial": 1,
            "not_followed_through": 3,
            "complied": 0,
            "withdrawn": 0,
            "tested": 4,
            "follow_through_rate": 0.125,
            "rate_low": 0.0132,
            "rate_high": 0.6042,
            "median_days_to_response": 1.0,
        },  # Oreshnik 2 days after the strikes; F-16s within the month
        {
            "key": "trump",
            "label": "Donald Trump",
            "threats": 3,
            "pending": 0,
            "followed_through": 0,
            "partial": 0,
            "not_followed_through": 3,
            "complied": 0,
            "withdrawn": 0,
            "tested": 3,
            "follow_through_rate": 0.0,
            "rate_low": 0.0,
            "rate_high": 0.5615,
            "median_days_to_response": 0.0,
        },  # the Alaska summit was agreed on the deadline day
    ]
    assert rep["total"]["tested"] == 7 and rep["total"]["follow_through_rate"] == 0.0714


def test_report_by_state_rolls_people_up(cli):
    rep = cli.json("report", "--by", "state", "--json")
    assert [(r["key"], r["threats"]) for r in rep["rows"]] == [("russia", 4), ("united-states", 3)]


def test_report_as_markdown_and_table(cli):
    md = cli("report", "--format", "md").stdout.splitlines()
    assert md[0] == "| actor | threats | tested | yes | partly | no | complied | dropped | pending | rate | days |  |"
    assert md[2] == "| putin | 4 | 4 | 0 | 1 | 3 | 0 | 0 | 0 | 12% (1-60) | 1 | █░░░░░░░░░ |"
    table = cli("report").stdout.splitlines()
    assert (
        table[3] == "putin        4       4    0       1   3         0        0        0  12% (1-60)     1  █░░░░░░░░░"
    )
    assert (
        table[4] == "trump        3       3    0       0   3         0        0        0  0% (0-56)      0  ░░░░░░░░░░"
    )
    assert "days: the median number of days from a test to the first response." in table


def test_piped_output_has_no_colour_even_without_no_color(cli):
    out = cli("list", env={"NO_COLOR": None}).stdout
    assert "\x1b[" not in out and "trump-sanctions-july" in out


def test_user_text_is_printed_as_written(cli, db):
    Tracker(db).import_document(
        {
            "actors": [{"slug": "k", "name": "K", "kind": "state"}],
            "threats": [
                {
                    "id": "markup",
                    "issuer": "k",
                    "made_on": "2025-01-01",
                    "statement": "[Kremlin] warns [bold red]loudly[/bold red]\x1b[2J\x07 done",
                }
            ],
        },
        "test",
    )
    out = cli("show", "markup").stdout
    assert "[Kremlin] warns [bold red]loudly[/bold red]\\x1b[2J\\x07 done" in out
    assert "\x1b" not in out and "\x07" not in out
    assert cli.json("show", "markup", "--json")["statement"].startswith("[Kremlin] warns [bold red]")


def test_jsonl_and_csv_carry_the_same_threats(cli):
    rows = cli.json("list", "--json")
    lines = cli("list", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(x) for x in lines] == rows
    csv_lines = cli("list", "--format", "csv").stdout.splitlines()
    assert csv_lines[0].startswith("id,issuer,issuer_name,targets,made_on,statement")
    assert len(csv_lines) == len(rows) + 1


def test_report_table_fits_80_columns_without_its_bars(cli):
    lines = cli("report", env={"COLUMNS": "80"}).stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert lines[3].rstrip() == "putin        4       4    0       1   3         0        0        0  12% (1-60)"
    assert "█" not in "\n".join(lines)


def test_the_actors_table_keeps_every_slug_whole_in_80_columns(cli):
    """Slugs are what a user types back (`--actor`, `of`): the table wraps names and aliases, never
    a slug, in the column of the actor's own or of the one it speaks for."""
    lines = cli("actors", env={"COLUMNS": "80"}).stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    trump = next(line for line in lines if line.startswith("trump "))
    assert trump.split()[:6] == ["trump", "Donald", "Trump", "person", "united-states", "Donald"]
    assert "united-kingdom" in next(line for line in lines if line.startswith("united-kingdom"))
