"""Reporting periods in the local calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.periods import PERIODS, as_utc, local_today, period


def test_each_period_of_a_day_in_november() -> None:
    day = date(2026, 11, 25)  # a Wednesday
    assert (period("today", day).first, period("today", day).end) == (day, date(2026, 11, 26))
    assert (period("week", day).first, period("week", day).end) == (
        date(2026, 11, 23),
        date(2026, 11, 30),
    )
    assert period("month", day).end == date(2026, 12, 1)
    assert (period("quarter", day).first, period("quarter", day).end) == (
        date(2026, 10, 1),
        date(2027, 1, 1),
    )
    assert period("year", day).previous().first == date(2025, 1, 1)
    assert period("quarter", day).previous().first == date(2026, 7, 1)


def test_the_local_day_starts_seven_hours_before_utc_midnight() -> None:
    assert local_today(datetime(2026, 11, 24, 17, 30, tzinfo=UTC)) == date(2026, 11, 25)
    start, _end = period("today", date(2026, 11, 25)).bounds()
    assert start.astimezone(UTC) == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


@given(day=st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)))
def test_periods_contain_their_day_and_follow_their_predecessor(day: date) -> None:
    for kind in PERIODS:
        current = period(kind, day)
        assert current.first <= day < current.end
        assert current.previous().end == current.first


def test_an_instant_from_outside_the_database_is_put_in_utc() -> None:
    """A bound typed without an offset (the API, a cursor) is UTC, as the database stores times;
    one with an offset is the same instant in UTC."""
    assert as_utc(datetime(2026, 11, 25, 3, 0)) == datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    hanoi = datetime(2026, 11, 25, 0, 0, tzinfo=timezone(timedelta(hours=7)))
    assert as_utc(hanoi).isoformat() == "2026-11-24T17:00:00+00:00"
