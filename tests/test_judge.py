"""report, due, timeline, --explain and the JSON Schemas, pinned on a small fixed data set."""

import json

import jsonschema
import pytest

from redlines.service import Tracker

SMALL = {
    "actors": [
        {"slug": "alpha", "name": "Alpha", "kind": "state"},
        {"slug": "bea", "name": "Bea Leader", "kind": "person", "of": "alpha", "aliases": ["Bea"]},
        {"slug": "gamma", "name": "Gamma Bloc", "kind": "bloc"},
    ],
    "threats": [
        {
            "id": "t1",
            "issuer": "bea",
            "targets": ["gamma"],
            "made_on": "2025-01-10",
            "statement": "Tariffs by February",
            "category": "economic",
            "deadline": "2025-02",
        },
        {
            "id": "t2",
            "issuer": "bea",
            "targets": ["gamma"],
            "made_on": "2025-03-01",
            "statement": "Strike if they march",
            "category": "military",
            "events": [
                {"kind": "crossed", "on": "2025-03-05", "what": "they marched"},
                {"kind": "response", "on": "2025-03-20", "outcome": "followed_through", "what": "struck"},
            ],
        },
        {
            "id": "t3",
            "issuer": "alpha",
            "made_on": "2024-06",
            "statement": "Red line on the border",
            "category": "military",
            "events": [{"kind": "crossed", "on": "2025-05-20", "what": "border crossed"}],
        },
        {
            "id": "t4",
            "issuer": "gamma",
            "targets": ["alpha"],
            "made_on": "2025-04-01",
            "statement": "Sanctions unless",
            "category": "economic",
            "events": [{"kind": "complied", "on": "2025-04-15", "what": "gave in"}],
        },
        {
            "id": "t5",
            "issuer": "gamma",
            "made_on": "2025-05-01",
            "statement": "Talks end in July",
            "category": "diplomatic",
            "deadline": "2025-07-01",
        },
    ],
}


@pytest.fixture
def small(empty_cli, db):
    Tracker(db).import_document(SMALL, "test data")
    empty_cli.today = "2025-06-01"
    return empty_cli


def row(key, label, **counts):
    base = {
        "key": key,
        "label": label,
        "threats": 0,
        "pending": 0,
        "followed_through": 0,
        "partial": 0,
        "not_followed_through": 0,
        "complied": 0,
        "withdrawn": 0,
        "tested": 0,
        "follow_through_rate": None,
        "rate_low": None,
        "rate_high": None,
        "median_days_to_response": None,
    }
    return {**base, **counts}


def test_report_json_is_exact(small):
    assert small.json("report", "--json") == {
        "schema_version": 1,
        "as_of": "2025-06-01",
        "by": "actor",
        "grace_days": 30,
        "min_tested": 3,
        "rows": [
            row(
                "bea",
                "Bea Leader",
                threats=2,
                followed_through=1,
                not_followed_through=1,
                tested=2,
                follow_through_rate=0.5,
                rate_low=0.0945,
                rate_high=0.9055,
                median_days_to_response=15.0,
            ),
            row("gamma", "Gamma Bloc", threats=2, pending=1, complied=1),
            row("alpha", "Alpha", threats=1, pending=1),
        ],
        "total": row(
            "total",
            "All",
            threats=5,
            pending=2,
            followed_through=1,
            not_followed_through=1,
            complied=1,
            tested=2,
            follow_through_rate=0.5,
            rate_low=0.0945,
            rate_high=0.9055,
            median_days_to_response=15.0,
        ),
    }


def test_report_groupings_and_filters(small):
    by_state = small.json("report", "--by", "state", "--json")["rows"]
    assert [(r["key"], r["threats"], r["tested"]) for r in by_state] == [("alpha", 3, 2), ("gamma", 2, 0)]
    by_category = small.json("report", "--by", "category", "--json")["rows"]
    assert [(r["key"], r["threats"]) for r in by_category] == [("economic", 2), ("military", 2), ("diplomatic", 1)]
    by_year = small.json("report", "--by", "year", "--json")["rows"]
    assert [(r["key"], r["threats"]) for r in by_year] == [("2024", 1), ("2025", 4)]  # in year order
    only = small.json("report", "--actor", "Bea", "--category", "military", "--since", "2025-02", "--json")
    assert [(r["key"], r["threats"]) for r in only["rows"]] == [("bea", 1)]
    # 40 days on, the border crossing is past its 30-day grace
    later = small.json("report", "--actor", "alpha", "--json", today="2025-07-10")["rows"][0]
    assert (later["pending"], later["not_followed_through"]) == (0, 1)
    assert (
        small.json("report", "--actor", "alpha", "--grace", "60", "--json", today="2025-07-10")["rows"][0]["pending"]
        == 1
    )


def test_report_explain_names_the_rule_of_each_threat(small):
    rows = {r["key"]: r for r in small.json("report", "--explain", "--json")["rows"]}
    assert rows["bea"]["threats_judged"] == [
        {
            "id": "t1",
            "outcome": "not_followed_through",
            "rule": "deadline",
            "tested_on": "2025-02",
            "deadline": "2025-02",
        },
        {"id": "t2", "outcome": "followed_through", "rule": "response", "tested_on": "2025-03-05", "deadline": None},
    ]
    text = small("report", "--explain").stdout
    assert "bea: t1 not followed through (deadline); t2 followed through (response)" in text
    assert "too few (2)" in text


def test_show_explain(small):
    x = small.json("show", "t2", "--explain", "--json")["explanation"]
    assert x == {
        "outcome": "followed_through",
        "rule": "response",
        "why": "a response was recorded; the strongest one decides",
        "decided_by": "t2#2",
        "deadline": None,
        "deadline_set_by": None,
        "tested_on": "2025-03-05",
        "as_of": "2025-06-01",
        "grace_days": 30,
    }
    assert small.json("show", "t1", "--explain", "--json")["explanation"]["deadline_set_by"] == "threat"
    assert (
        "why         deadline: the deadline in force passed with no response recorded"
        in small("show", "t1", "--explain").stdout
    )


def test_due_lists_what_to_check_next_oldest_first(small):
    assert small.json("due", "--within", "45d", "--json") == [
        {
            "id": "t1",
            "issuer": "bea",
            "status": "deadline passed",
            "on": "2025-02",
            "days": 93,
            "outcome": "not_followed_through",
            "deadline": "2025-02",
            "statement": "Tariffs by February",
        },
        {
            "id": "t3",
            "issuer": "alpha",
            "status": "crossed",
            "on": "2025-05-20",
            "days": 12,
            "outcome": "pending",
            "deadline": None,
            "statement": "Red line on the border",
        },
        {
            "id": "t5",
            "issuer": "gamma",
            "status": "deadline ahead",
            "on": "2025-07-01",
            "days": -30,
            "outcome": "pending",
            "deadline": "2025-07-01",
            "statement": "Talks end in July",
        },
    ]
    assert [d["id"] for d in small.json("due", "--json")] == ["t1", "t3", "t5"]  # 30 days off: inside 30d
    assert [d["id"] for d in small.json("due", "--within", "29d", "--json")] == ["t1", "t3"]
    assert small("due", "--within", "2w").stdout.splitlines()[0] == (
        "t1  bea  deadline passed 2025-02, 93 days ago, no response recorded"
    )
    assert "lies in the past" in small("due", "--within", "-3d", expect=2).stderr


def test_timeline_is_in_date_order(small):
    rows = small.json("timeline", "--actor", "bea", "--json")
    assert [(r["on"], r["kind"], r["threat"], r["event"]) for r in rows] == [
        ("2025-01-10", "made", "t1", None),
        ("2025-03-01", "made", "t2", None),
        ("2025-03-05", "crossed", "t2", "t2#1"),
        ("2025-03-20", "response", "t2", "t2#2"),
    ]
    assert [r["threat"] for r in small.json("timeline", "--since", "2025-04", "--json")] == ["t4", "t4", "t5", "t3"]
    assert small.json("--as-of", "2025-03-10", "timeline", "--actor", "bea", "--json")[-1]["kind"] == "crossed"
    assert small("timeline", "--actor", "bea").stdout.splitlines()[-1] == (
        "2025-03-20  response  t2: struck -> followed through"
    )


def test_empty_results_are_empty_json_arrays(small):
    for args in (
        ["list", "--actor", "alpha", "--outcome", "partial"],
        ["due", "--actor", "gamma", "--within", "1d"],
        ["timeline", "--since", "2030"],
        ["search", "zebra"],
    ):
        result = small(*args, "--json")
        assert (result.stdout, result.exit_code) == ("[]\n", 0)


@pytest.mark.parametrize(
    "name, args",
    [
        ("threats", ["list", "--json"]),
        ("threat", ["show", "t2", "--json"]),
        ("threat", ["show", "t1", "--explain", "--json"]),
        ("actors", ["actors", "--json"]),
        ("report", ["report", "--json"]),
        ("report", ["report", "--explain", "--by", "state", "--json"]),
        ("due", ["due", "--within", "1y", "--json"]),
        ("timeline", ["timeline", "--json"]),
        ("history", ["history", "--json"]),
        ("export", ["export"]),
    ],
)
def test_real_output_validates_against_its_schema(small, name, args):
    schema = json.loads(small("schema", name).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(small.json(*args), schema)


def test_schemas_refuse_drift(small):
    """A field the schema does not know, or one missing, fails validation."""
    schema = json.loads(small("schema", "report").stdout)
    doc = small.json("report", "--json")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**doc, "surprise": 1}, schema)
    del doc["rows"][0]["tested"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)
    assert "no schema is called 'nope'" in small("schema", "nope", expect=2).stderr


def test_timeline_and_due_show_the_latest_or_oldest_few(small):
    assert [(r["on"], r["kind"]) for r in small.json("timeline", "--limit", "3", "--json")] == [
        ("2025-04-15", "complied"),
        ("2025-05-01", "made"),
        ("2025-05-20", "crossed"),
    ]
    assert [d["id"] for d in small.json("due", "--limit", "1", "--json")] == ["t1"]
    assert small.json("timeline", "--limit", "0", "--json") == []
