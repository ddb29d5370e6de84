"""MĐHL and Wilson intervals against figures computed by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.satisfaction import satisfaction_rate, summarize, wilson_interval


def test_rate_is_share_of_satisfied_and_very_satisfied() -> None:
    assert satisfaction_rate(17, 20) == 85.0
    assert satisfaction_rate(0, 0) is None


def test_wilson_17_of_20() -> None:
    """p = 0.85, z² = 3.8415, n = 20: denominator 1.19207, centre 0.94604 / 1.19207 = 0.79361,
    half-width 1.96·sqrt(0.006375 + 0.0024009) / 1.19207 = 0.15403 → [63.96 %, 94.76 %]."""
    low, high = wilson_interval(17, 20)
    assert low == pytest.approx(63.96, abs=0.01)
    assert high == pytest.approx(94.76, abs=0.01)


def test_wilson_2_of_3_is_wide() -> None:
    """p = 2/3, n = 3: centre (0.6667 + 0.6402) / 2.2805 = 0.5731, half 0.3966 → [20.77, 93.85]."""
    low, high = wilson_interval(2, 3)
    assert low == pytest.approx(20.77, abs=0.01)
    assert high == pytest.approx(93.85, abs=0.01)


def test_wilson_all_satisfied_stays_below_100() -> None:
    low, high = wilson_interval(10, 10)
    assert high == pytest.approx(100.0)
    assert low == pytest.approx(72.25, abs=0.01)


@given(n=st.integers(1, 10_000), data=st.data())
def test_interval_contains_rate(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n)
    rate = satisfaction_rate(k, n)
    assert rate is not None
    assert 0.0 <= low <= rate + 1e-9 <= high + 2e-9 <= 100.0 + 2e-9


def test_summarize_counts_and_orders_by_upper_bound() -> None:
    rows = [
        ("Q1", 5, 300),
        ("Q1", 4, 40),
        ("Q1", 2, 60),  # 340 / 400 = 85 %, narrow interval
        ("Q2", 1, 1),
        ("Q2", 5, 2),  # 2 / 3 = 66.7 %, very wide interval
        (None, 3, 1),
    ]
    result = summarize(rows, {"Q1": "Quầy 1", "Q2": "Quầy 2"})
    by_key = {s.key: s for s in result}
    assert (by_key["Q1"].n, by_key["Q1"].satisfied, by_key["Q1"].rate) == (400, 340, 85.0)
    assert by_key["Q2"].small_sample
    assert not by_key["Q1"].small_sample
    assert by_key[None].rate == 0.0
    # Q2's three ratings may still be 94 % satisfied: Q1, surely below 89 %, comes first.
    assert [s.key for s in result][:2] == [None, "Q1"]
