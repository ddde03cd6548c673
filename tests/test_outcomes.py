"""The outcome rules of CONTRACT.md at their boundaries, on the pure domain function."""

from datetime import date

import pytest

from redlines.domain.dates import FuzzyDate
from redlines.domain.outcomes import Event, follow_through_rate, judge, wilson_interval


def d(s: str) -> FuzzyDate:
    return FuzzyDate.from_iso(s)


def ev(kind: str, on: str, outcome: str | None = None, due: str | None = None, seq: int = 0) -> Event:
    return Event(kind, d(on), outcome, d(due) if due else None, seq)


def test_an_untested_threat_is_pending_and_untested():
    v = judge(None, [], date(2025, 1, 1))
    assert (v.outcome, v.rule, v.deadline, v.tested_on) == ("pending", "pending", None, None)


@pytest.mark.parametrize(
    "as_of, outcome",
    [
        (date(2025, 4, 9), "pending"),  # crossed 30 days ago: inside the grace period
        (date(2025, 4, 10), "not_followed_through"),  # 31 days ago: past it
    ],
)
def test_grace_day_30_versus_31(as_of, outcome):
    v = judge(None, [ev("crossed", "2025-03-10")], as_of)
    assert v.outcome == outcome
    assert v.tested_on == d("2025-03-10")


def test_grace_can_be_changed():
    assert judge(None, [ev("crossed", "2025-03-10")], date(2025, 4, 20), grace_days=60).outcome == "pending"
    assert judge(None, [ev("crossed", "2025-03-10")], date(2025, 3, 11), grace_days=0).outcome == "not_followed_through"


def test_a_crossing_dated_to_a_month_counts_from_its_first_day():
    assert judge(None, [ev("crossed", "2025-03")], date(2025, 3, 31)).outcome == "pending"
    assert judge(None, [ev("crossed", "2025-03")], date(2025, 4, 1)).outcome == "not_followed_through"


@pytest.mark.parametrize(
    "deadline, as_of, outcome",
    [
        ("2025-02", date(2025, 2, 28), "pending"),  # a month deadline passes at the end of the month
        ("2025-02", date(2025, 3, 1), "not_followed_through"),
        ("2024-02", date(2024, 2, 29), "pending"),  # leap year
        ("2025", date(2025, 12, 31), "pending"),  # a year deadline passes at the end of the year
        ("2025", date(2026, 1, 1), "not_followed_through"),
        ("2025-08-08", date(2025, 8, 8), "pending"),  # a day deadline passes at the end of its day
        ("2025-08-08", date(2025, 8, 9), "not_followed_through"),
    ],
)
def test_deadlines_pass_at_the_end_of_their_period(deadline, as_of, outcome):
    v = judge(d(deadline), [], as_of)
    assert v.outcome == outcome
    assert v.tested_on == (d(deadline) if outcome != "pending" else None)


def test_the_deadline_in_force_is_the_one_most_recently_set():
    # 50 days (2 September) cut to 10-12 days (8 August): the earlier date is in force
    events = [ev("deadline", "2025-07-29", due="2025-08-08")]
    v = judge(d("2025-09-02"), events, date(2025, 8, 12))
    assert (v.outcome, v.deadline) == ("not_followed_through", d("2025-08-08"))
    # before the cut was known, the 50-day deadline was in force and had not passed
    v = judge(d("2025-09-02"), events, date(2025, 7, 28))
    assert (v.outcome, v.deadline) == ("pending", d("2025-09-02"))
    # a later extension replaces an earlier cut
    events.append(ev("deadline", "2025-08-05", due="2025-10"))
    assert judge(d("2025-09-02"), events, date(2025, 8, 12)).deadline == d("2025-10")


def test_deadline_events_of_the_same_day_apply_in_order_of_entry():
    events = [ev("deadline", "2025-05-01", due="2025-06", seq=2), ev("deadline", "2025-05-01", due="2025-07", seq=1)]
    assert judge(None, events, date(2025, 5, 2)).deadline == d("2025-06")


def test_a_month_dated_event_applies_before_the_days_of_that_month():
    events = [ev("deadline", "2025-05-01", due="2025-06", seq=1), ev("deadline", "2025-05", due="2025-07", seq=2)]
    assert judge(None, events, date(2025, 5, 2)).deadline == d("2025-06")


def test_as_of_hides_later_events():
    events = [ev("crossed", "2025-03-10"), ev("response", "2025-04-25", "followed_through")]
    assert judge(None, events, date(2025, 4, 24)).outcome == "not_followed_through"
    assert judge(None, events, date(2025, 4, 25)).outcome == "followed_through"
    assert judge(None, events, date(2025, 3, 9)).tested_on is None


def test_the_strongest_response_decides():
    events = [ev("response", "2025-01-02", "not_followed_through"), ev("response", "2025-01-03", "partial")]
    assert judge(None, events, date(2025, 2, 1)).outcome == "partial"
    events.append(ev("response", "2025-01-04", "followed_through"))
    assert judge(None, events, date(2025, 2, 1)).outcome == "followed_through"


def test_rule_order_response_then_complied_then_withdrawn_then_lapse():
    lapsed = [ev("crossed", "2024-01-01")]
    as_of = date(2025, 1, 1)
    assert judge(None, lapsed + [ev("withdrawn", "2024-02-01")], as_of).outcome == "withdrawn"
    assert (
        judge(None, lapsed + [ev("withdrawn", "2024-02-01"), ev("complied", "2024-03-01")], as_of).outcome == "complied"
    )
    both = lapsed + [ev("complied", "2024-03-01"), ev("response", "2024-04-01", "not_followed_through")]
    v = judge(None, both, as_of)
    assert (v.outcome, v.rule) == ("not_followed_through", "response")
    assert judge(d("2024-06"), [ev("complied", "2024-03-01")], as_of).outcome == "complied"


def test_tested_on_is_the_earlier_of_first_crossing_and_the_passed_deadline():
    events = [ev("crossed", "2025-03-20"), ev("crossed", "2025-03-05")]
    assert judge(d("2025-02"), events, date(2025, 6, 1)).tested_on == d("2025-02")
    assert judge(d("2025-04"), events, date(2025, 6, 1)).tested_on == d("2025-03-05")
    assert judge(d("2025-04"), events, date(2025, 3, 31)).tested_on == d("2025-03-05")


def test_follow_through_rate_counts_partial_as_half():
    assert follow_through_rate(0, 0, 0) is None
    assert follow_through_rate(0, 1, 0) == 0.5
    assert follow_through_rate(1, 1, 2) == 0.375


@pytest.mark.parametrize(
    "p, n, low, high",
    [
        # computed apart from the code, in the other usual form of the score interval:
        # (n·p + z²/2 ± z·sqrt(n·p·(1-p) + z²/4)) / (n + z²); 0/3 and 5/5 agree with published tables
        (0.5, 1, 0.054619, 0.945381),
        (0.0, 3, 0.0, 0.561506),
        (0.125, 4, 0.013191, 0.604234),  # a partial counts 1/2, so p need not be k/n
        (0.5, 10, 0.236590, 0.763410),
        (1.0, 5, 0.565509, 1.0),
    ],
)
def test_wilson_interval_matches_hand_computed_values(p, n, low, high):
    lo, hi = wilson_interval(p, n)
    assert lo == pytest.approx(low, abs=1e-6)
    assert hi == pytest.approx(high, abs=1e-6)


def test_wilson_interval_of_nothing_tested_is_null():
    assert wilson_interval(None, 0) == (None, None)
