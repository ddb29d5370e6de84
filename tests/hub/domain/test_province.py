"""Ranking units by MĐHL (hub.domain.province): ties share a rank, small units are listed apart,
at and past the bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.province import RANK_MIN_RATINGS, UnitFigure, rank_units


def _unit(code: str, n: int, satisfied: int) -> UnitFigure:
    return UnitFigure(code, f"Xã {code}", n, satisfied)


def test_units_are_ranked_by_rate_and_equal_rates_share_a_rank() -> None:
    ranking = rank_units(
        [
            _unit("A", 100, 80),  # 80 %
            _unit("B", 40, 36),  # 90 %
            _unit("C", 200, 180),  # 90 %, more ratings: listed before B
            _unit("D", 50, 45),  # 90 %
            _unit("E", 30, 30),  # 100 %, exactly at the bound
        ]
    )
    assert [(r.rank, r.figure.code) for r in ranking.ranked] == [
        (1, "E"),
        (2, "C"),
        (2, "D"),
        (2, "B"),
        (5, "A"),
    ]
    assert ranking.too_few == ()


def test_equal_rates_are_compared_exactly_not_as_rounded_floats() -> None:
    # 2/3 and 66666/100000 round alike to one decimal, but are not the same rate.
    ranking = rank_units([_unit("A", 30, 20), _unit("B", 100_000, 66_666), _unit("C", 60, 40)])
    assert [(r.rank, r.figure.code) for r in ranking.ranked] == [(1, "C"), (1, "A"), (3, "B")]


def test_small_units_are_listed_apart_at_and_past_the_bound() -> None:
    assert RANK_MIN_RATINGS == 30
    ranking = rank_units(
        [
            _unit("AT", RANK_MIN_RATINGS, 20),  # 30 ratings: ranked
            _unit("BELOW", RANK_MIN_RATINGS - 1, RANK_MIN_RATINGS - 1),  # 29 at 100 %: not ranked
            _unit("FEW", 3, 3),
            _unit("NONE", 0, 0),
        ]
    )
    assert [r.figure.code for r in ranking.ranked] == ["AT"]
    assert [f.code for f in ranking.too_few] == ["BELOW", "FEW", "NONE"]  # most ratings first
    assert ranking.too_few[-1].rate is None
    assert ranking.too_few[-1].ci == (0.0, 100.0)


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError, match="satisfied"):
        _unit("X", 10, 11)
    with pytest.raises(ValueError, match="twice"):
        rank_units([_unit("X", 40, 30), _unit("X", 40, 30)])


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=30))
def test_every_unit_is_listed_once_and_ranks_follow_the_rates(pairs: list[tuple[int, int]]) -> None:
    figures = [_unit(str(i), max(n, ok), min(n, ok)) for i, (n, ok) in enumerate(pairs)]
    ranking = rank_units(figures)
    listed = [r.figure.code for r in ranking.ranked] + [f.code for f in ranking.too_few]
    assert sorted(listed) == sorted(f.code for f in figures)
    for before, after in zip(ranking.ranked, ranking.ranked[1:], strict=False):
        rate_before = before.figure.satisfied / before.figure.n
        rate_after = after.figure.satisfied / after.figure.n
        assert rate_before >= rate_after
        assert (after.rank == before.rank) == (
            before.figure.satisfied * after.figure.n == after.figure.satisfied * before.figure.n
        )
    assert all(r.figure.n >= RANK_MIN_RATINGS for r in ranking.ranked)
    assert all(f.n < RANK_MIN_RATINGS for f in ranking.too_few)
