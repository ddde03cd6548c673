from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redlines.domain.dates import DAY, MONTH, YEAR, FuzzyDate, parse, starts_on_or_after, starts_on_or_before
from redlines.errors import BadInput

TODAY = date(2025, 6, 15)


@pytest.mark.parametrize(
    "text, iso, precision",
    [
        ("2024-11-21", "2024-11-21", DAY),
        ("2024-11", "2024-11", MONTH),
        ("2024", "2024", YEAR),
        ("21 Nov 2024", "2024-11-21", DAY),
        ("21 November 2024", "2024-11-21", DAY),
        ("November 21, 2024", "2024-11-21", DAY),
        ("November 2024", "2024-11", MONTH),
        ("Jan 2025", "2025-01", MONTH),
        ("  jan   2025 ", "2025-01", MONTH),
        ("Sept 2024", "2024-09", MONTH),
        ("Thursday, 21 November 2024", "2024-11-21", DAY),
        ("today", "2025-06-15", DAY),
        ("yesterday", "2025-06-14", DAY),
        ("tomorrow", "2025-06-16", DAY),
        ("+50d", "2025-08-04", DAY),
        ("-2w", "2025-06-01", DAY),
        ("+3m", "2025-09-15", DAY),
        ("+1y", "2026-06-15", DAY),
        ("in 50 days", "2025-08-04", DAY),
        ("in a week", "2025-06-22", DAY),
        ("10 days ago", "2025-06-05", DAY),
        ("2 months ago", "2025-04-15", DAY),
        ("a year ago", "2024-06-15", DAY),
    ],
)
def test_accepted_forms_keep_their_precision(text, iso, precision):
    d = parse(text, TODAY)
    assert (d.iso(), d.precision) == (iso, precision)


@pytest.mark.parametrize(
    "text",
    [
        "31 Febtember",
        "2025-02-30",
        "2025-13",
        "",
        "soon",
        "next tuesday",
        "0000",
        "+d",
        "in many days",
        "21 Nov",
        "November",
    ],
)
def test_unreadable_dates_are_refused_with_the_input_and_the_accepted_forms(text):
    with pytest.raises(BadInput) as e:
        parse(text, TODAY)
    assert repr(text) in e.value.message
    assert "in 50 days" in e.value.hints[0]


def test_a_missing_day_or_month_is_never_taken_from_today():
    # dateutil alone turns "2018-10" into the 24th when run on a 24th
    assert parse("October 2018", date(2025, 6, 24)).iso() == "2018-10"
    assert parse("2018-10", date(2025, 6, 24)).iso() == "2018-10"


def test_periods_start_and_end():
    assert FuzzyDate.from_iso("2024-02").end() == date(2024, 2, 29)
    assert FuzzyDate.from_iso("2025-02").end() == date(2025, 2, 28)
    assert FuzzyDate.from_iso("2025").start() == date(2025, 1, 1)
    assert FuzzyDate.from_iso("2025").end() == date(2025, 12, 31)


@given(st.text(max_size=40))
def test_any_string_parses_to_a_stated_precision_or_is_refused(text):
    try:
        d = parse(text, TODAY)
    except BadInput as e:
        assert e.message.startswith("cannot read the date")
    else:
        assert d.precision in (DAY, MONTH, YEAR)
        assert FuzzyDate.from_iso(d.iso()) == d


isos = st.one_of(
    st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(lambda d: d.isoformat()),
    st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(lambda d: d.isoformat()[:7]),
    st.integers(1900, 2100).map(str),
)


@given(isos, st.dates(date(1900, 1, 1), date(2100, 12, 31)))
def test_string_comparison_of_stored_dates_is_comparison_of_their_starts(stored, d):
    """What the store's SQL relies on to filter dates of mixed precision."""
    start = FuzzyDate.from_iso(stored).start()
    assert (stored <= starts_on_or_before(d)) == (start <= d)
    assert (stored > starts_on_or_after(d)) == (start >= d)
