"""The filters of the reading commands travel as one value (`Filters`, resolved by the service into
the store's `Where`): each option keeps exactly the threats a reader would pick out of the whole
list by hand, alone and together, in `list`, `report`, `timeline` and `due`; a filter a command
does not take is refused by the library, naming it."""

from __future__ import annotations

import pytest
from conftest import Cli

from redlines.domain.filters import Filters
from redlines.errors import BadInput
from redlines.service import Tracker


@pytest.fixture
def seeded(cli: Cli) -> Cli:
    cli("db", "init")
    return cli


# Each option, and how a reader picks its threats out of `list --json` (the seed has them all).
PICKS = {
    ("--actor", "putin"): lambda t: t["issuer"] == "putin",
    ("--actor", "Donald Trump"): lambda t: t["issuer"] == "trump",
    ("--target", "nato"): lambda t: "nato" in t["targets"],
    ("--category", "nuclear"): lambda t: t["category"] == "nuclear",
    ("--outcome", "not_followed_through"): lambda t: t["outcome"] == "not_followed_through",
    ("--since", "2024-09"): lambda t: t["made_on"] >= "2024-09",
    ("--until", "2024"): lambda t: t["made_on"][:4] <= "2024",
    ("--search", "sanctions"): lambda t: "sanctions" in (t["statement"] + (t["trigger"] or "")).lower(),
}


def ids(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


@pytest.mark.parametrize("option", list(PICKS), ids=lambda o: " ".join(o))
def test_each_filter_keeps_what_a_reader_would_pick(seeded: Cli, option):
    everything = seeded.json("list", "--json")
    picked = ids([t for t in everything if PICKS[option](t)])
    assert picked and len(picked) < len(everything)  # the seed tells a filter that works from one that does not
    assert ids(seeded.json("list", *option, "--json")) == picked


def test_filters_together_keep_what_each_keeps(seeded: Cli):
    everything = seeded.json("list", "--json")
    options = [("--actor", "putin"), ("--since", "2024-09"), ("--category", "nuclear")]
    picked = ids([t for t in everything if all(PICKS[o](t) for o in options)])
    assert picked
    assert ids(seeded.json("list", *(x for o in options for x in o), "--json")) == picked
    assert seeded("list", *(x for o in options for x in o), "--format", "csv").stdout.count("\n") == len(picked) + 1


def test_report_timeline_and_due_take_the_same_filters(seeded: Cli):
    everything = seeded.json("list", "--json")
    putin = [t for t in everything if t["issuer"] == "putin" and t["made_on"] >= "2024-09"]
    report = seeded.json("report", "--actor", "putin", "--since", "2024-09", "--json")
    assert [(r["key"], r["threats"]) for r in report["rows"]] == [("putin", len(putin))]
    entries = seeded.json("timeline", "--actor", "putin", "--since", "2024-09", "--json")
    assert {e["threat"] for e in entries if e["kind"] == "made"} == set(ids(putin))
    assert all(e["issuer"] == "putin" and e["on"] >= "2024-09" for e in entries)
    due = seeded.json("due", "--actor", "trump", "--json")
    assert due and {d["issuer"] for d in due} == {"trump"}


def test_a_filter_a_command_does_not_take_is_refused_by_name(seeded: Cli):
    t = Tracker(seeded.db)
    with pytest.raises(BadInput) as refused:
        t.report(outcome="pending")
    assert refused.value.field == "outcome"
    with pytest.raises(BadInput) as refused:
        t.timeline(Filters(category="nuclear"))
    assert refused.value.field == "category"
    with pytest.raises(TypeError):
        t.list_threats(Filters(), actors=["putin"])  # one or the other
    assert ids(t.list_threats(Filters(actors=("putin",)))) == ids(t.list_threats(actors=["putin"]))
