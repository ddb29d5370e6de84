"""Trends, targets and the year-end projection (hub.domain.trends), with numbers worked by hand."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.trends import (
    Tally,
    month_rows,
    months_left,
    pace_window,
    parse_target_rate,
    project,
    quarter_rows,
    target_for,
)
from hub.domain.units import UnitKind, UnitNode, UnitTree

PROVINCE, WARD, OTHER = "000.00.00.H41", "000.00.20.H41", "000.00.21.H41"
TREE = UnitTree.of(
    [
        UnitNode(PROVINCE, "Tỉnh", UnitKind.PROVINCE),
        UnitNode(WARD, "Phường", UnitKind.COMMUNE, PROVINCE),
        UnitNode(OTHER, "Xã", UnitKind.COMMUNE, PROVINCE),
    ]
)


def test_the_projection_worked_by_hand() -> None:
    # 31 October: 1,000 ratings so far, 850 satisfied (85 %). July-September: 300 ratings, 270
    # satisfied (90 %), so 100 a month. Left: November and December, 2 months: 200 more ratings
    # at 90 %, 180 satisfied. Year end: (850 + 180) / (1000 + 200) = 1030 / 1200 = 85.833 %.
    today = date(2026, 10, 31)
    assert pace_window(today) == (date(2026, 7, 1), date(2026, 10, 1))
    assert months_left(today) == 2.0
    projected = project(Tally(1000, 850), Tally(300, 270), months_left(today))
    assert projected.rate == pytest.approx(1030 / 1200 * 100)
    assert projected.expected == pytest.approx(200)
    assert projected.pace_rate == pytest.approx(90.0)


def test_months_left_counts_today_as_elapsed() -> None:
    assert months_left(date(2026, 10, 15)) == pytest.approx(2 + 16 / 31)
    assert months_left(date(2026, 12, 31)) == 0.0  # the last day: nothing left
    assert months_left(date(2026, 1, 1)) == pytest.approx(11 + 30 / 31)
    assert months_left(date(2028, 2, 1)) == pytest.approx(10 + 28 / 29)  # a leap year


def test_the_pace_window_reaches_into_last_year_in_the_first_quarter() -> None:
    assert pace_window(date(2027, 2, 10)) == (date(2026, 11, 1), date(2027, 2, 1))
    assert pace_window(date(2027, 1, 1)) == (date(2026, 10, 1), date(2027, 1, 1))
    assert pace_window(date(2027, 4, 30)) == (date(2027, 1, 1), date(2027, 4, 1))


def test_without_a_pace_the_year_so_far_stands_and_without_ratings_nothing() -> None:
    assert project(Tally(40, 30), Tally(), 5.0).rate == pytest.approx(75.0)
    assert project(Tally(), Tally(), 5.0).rate is None
    # No rating this year yet, but a pace: the projection is the pace's rate.
    assert project(Tally(), Tally(90, 81), 12.0).rate == pytest.approx(90.0)
    with pytest.raises(ValueError, match="months left"):
        project(Tally(), Tally(), -0.1)


def test_months_and_quarters_stand_beside_last_year() -> None:
    months = {
        date(2026, 1, 1): Tally(100, 90),
        date(2026, 2, 1): Tally(50, 40),
        date(2025, 1, 1): Tally(80, 60),
        date(2025, 3, 1): Tally(20, 20),
    }
    rows = month_rows(2026, months)
    assert [r.label for r in rows] == [f"T{m}" for m in range(1, 13)]
    assert rows[0].now == Tally(100, 90)
    assert rows[0].year_before == Tally(80, 60)
    assert rows[0].change == pytest.approx(90.0 - 75.0)
    assert rows[1].change is None  # February 2025 had no rating
    assert rows[11].now == Tally()
    assert rows[11].now.rate is None
    q1 = quarter_rows(2026, months)[0]
    assert (q1.label, q1.now, q1.year_before) == ("Q1", Tally(150, 130), Tally(100, 80))
    assert q1.change == pytest.approx(130 / 1.5 - 80.0)


def test_a_unit_is_held_to_its_own_target_else_the_one_above_else_its_catalogue() -> None:
    targets = {(PROVINCE, 2026): 90.0, (WARD, 2026): 85.0, (PROVINCE, 2025): 88.0}
    own = target_for(WARD, 2026, targets, TREE, 80.0)
    assert (own.rate, own.source, own.set_for) == (85.0, "unit", WARD)
    above = target_for(OTHER, 2026, targets, TREE, 80.0)
    assert (above.rate, above.source, above.set_for) == (90.0, "above", PROVINCE)
    assert target_for(WARD, 2025, targets, TREE, 80.0).rate == 88.0
    catalogue = target_for(OTHER, 2024, targets, TREE, 80.0)
    assert (catalogue.rate, catalogue.source) == (80.0, "catalogue")
    assert target_for(OTHER, 2024, targets, TREE, None).rate is None


@pytest.mark.parametrize(
    ("text", "rate"),
    [("90", 90.0), ("92,5", 92.5), ("92.5", 92.5), (" 95 % ", 95.0), ("0", 0.0), ("100", 100.0),
     ("100,00", 100.0), ("", None), ("   ", None)],
)  # fmt: skip
def test_a_typed_target_is_read(text: str, rate: float | None) -> None:
    assert parse_target_rate(text) == rate


@pytest.mark.parametrize(
    "text", ["100,01", "101", "-1", "abc", "nan", "inf", "1e2", "9 0", "90,123", "1000", "90%%"]
)
def test_a_typed_target_outside_the_rules_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="percentage"):
        parse_target_rate(text)


@given(st.text(max_size=12))
def test_any_text_is_a_target_in_bounds_none_or_refused(text: str) -> None:
    try:
        rate = parse_target_rate(text)
    except ValueError:
        return
    assert rate is None or 0.0 <= rate <= 100.0


@given(st.integers(0, 10_000))
def test_every_rate_with_two_decimals_reads_back(hundredths: int) -> None:
    text = f"{hundredths // 100},{hundredths % 100:02d}"
    assert parse_target_rate(text) == pytest.approx(hundredths / 100)
