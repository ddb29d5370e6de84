"""The export tables (pure): rows, notes, the overall figure, and how periods are named."""

from __future__ import annotations

from datetime import date

import pytest

from hailong.settings import Unit
from hub.domain.periods import period
from hub.domain.satisfaction import GroupSummary, satisfaction_rate, wilson_interval
from hub.exports.tables import build_export, overall_of, period_title, quarter_period

DAY = date(2026, 11, 25)


def _group(key: str, name: str, n: int, satisfied: int) -> GroupSummary:
    low, high = wilson_interval(satisfied, n)
    return GroupSummary(key, name, n, satisfied, satisfaction_rate(satisfied, n), low, high)


def test_rows_carry_the_summary_and_say_what_needs_attention(unit: Unit) -> None:
    groups = [
        _group("CB002", "Trần Văn Minh", 35, 25),  # 71.4 % of 35: below the 90 % target
        _group("CB004", "Phạm Đức Anh", 12, 9),  # 75.0 % but only 12 ratings
        _group("CB001", "Nguyễn Thị Lan", 40, 36),  # 90.0 %: meets the target
    ]
    export = build_export(
        unit, period("quarter", DAY), {"officer": groups}, overall_of(groups, 90.0)
    )
    (table,) = export.tables
    assert table.heading == "MĐHL theo công chức / Satisfaction by officer"
    minh, anh, lan = table.rows
    assert minh.values()[:4] == ("CB002", "Trần Văn Minh", 35, 25)
    assert minh.rate == pytest.approx(100 * 25 / 35)
    assert minh.note == "cần quan tâm / needs attention"
    assert anh.note == "dưới 30 lượt / fewer than 30"
    assert not anh.needs_attention  # too few ratings to call it
    assert lan.note == ""
    assert export.overall.n == 87
    assert export.overall.satisfied == 70
    assert export.overall.meets_target is False
    assert export.overall.sentence().startswith("MĐHL chung / Overall: 80.5 % (70/87")
    assert export.overall.sentence().endswith("chỉ tiêu / target 90 %: chưa đạt / not met")
    assert export.filename("csv") == "mdhl-000.00.20.H41-quarter-2026-10-01.csv"


def test_no_ratings_is_said_plainly(unit: Unit) -> None:
    overall = overall_of([], 90.0)
    assert overall.rate is None
    assert overall.meets_target is None
    assert (
        overall.sentence() == "MĐHL chung / Overall: — (0 lượt / ratings); chỉ tiêu / target 90 %"
    )


def test_periods_are_named_as_an_office_names_them() -> None:
    assert period_title(period("quarter", DAY)) == ("Quý IV năm 2026", "Q4 2026")
    assert period_title(period("quarter", date(2026, 2, 1))) == ("Quý I năm 2026", "Q1 2026")
    assert period_title(period("month", DAY)) == ("Tháng 11/2026", "November 2026")
    assert period_title(period("year", DAY)) == ("Năm 2026", "Year 2026")
    assert period_title(period("today", DAY)) == ("Ngày 25/11/2026", "25/11/2026")
    assert period_title(period("week", DAY))[0] == "Tuần 23/11/2026 – 29/11/2026"


def test_a_quarter_is_chosen_by_name() -> None:
    assert quarter_period("current", DAY).first == date(2026, 10, 1)
    assert quarter_period("", DAY).first == date(2026, 10, 1)
    assert quarter_period("previous", DAY).first == date(2026, 7, 1)
    assert quarter_period("2025-Q1", DAY).first == date(2025, 1, 1)
    assert quarter_period("2025-q4", DAY).end == date(2026, 1, 1)
    with pytest.raises(ValueError, match="not started"):
        quarter_period("2027-Q1", DAY)
    with pytest.raises(ValueError, match="expected"):
        quarter_period("Q4", DAY)
