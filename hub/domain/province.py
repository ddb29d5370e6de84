"""Ranking a province's units by MĐHL (pure).

A province compares its units (seed 003 asks each to reach 85 %, seed 004 90-95 %), and a ranked
list is what gets read aloud in a meeting. Small samples lie (BRIEF.md): a commune with 12
ratings at 100 % is not the province's best. So a unit with fewer than :data:`RANK_MIN_RATINGS`
counted ratings in the period is listed apart, with its figures, and never given a rank.

Ranks are by the rate itself, compared exactly (satisfied/n as fractions, not rounded floats),
and equal rates share a rank ("1, 1, 3", the competition ranking a results table uses); within a
tie the unit with more ratings is listed first, then by name, so the order is stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from hub.domain.satisfaction import SMALL_SAMPLE, satisfaction_rate, wilson_interval

RANK_MIN_RATINGS = SMALL_SAMPLE  # 30: below this a unit is listed apart, never ranked


@dataclass(frozen=True)
class UnitFigure:
    """One unit's counted ratings in a period: ``n`` and how many were satisfied."""

    code: str
    name: str
    n: int
    satisfied: int

    def __post_init__(self) -> None:
        if self.n < 0 or not 0 <= self.satisfied <= self.n:
            raise ValueError(f"unit {self.code}: satisfied {self.satisfied} of n {self.n}")

    @property
    def rate(self) -> float | None:
        return satisfaction_rate(self.satisfied, self.n)

    @property
    def ci(self) -> tuple[float, float]:
        return wilson_interval(self.satisfied, self.n)

    @property
    def rankable(self) -> bool:
        return self.n >= RANK_MIN_RATINGS


@dataclass(frozen=True)
class RankedUnit:
    rank: int  # 1 = highest MĐHL; equal rates share a rank
    figure: UnitFigure


@dataclass(frozen=True)
class Ranking:
    """Units with enough ratings, ranked; the others apart (most ratings first), unranked."""

    ranked: tuple[RankedUnit, ...]
    too_few: tuple[UnitFigure, ...]


def _exact(figure: UnitFigure) -> Fraction:
    return Fraction(figure.satisfied, figure.n)


def rank_units(figures: Iterable[UnitFigure]) -> Ranking:
    """Rank ``figures`` by MĐHL, highest first; ties share a rank; small units apart."""
    every = list(figures)
    codes = [f.code for f in every]
    if len(set(codes)) != len(codes):
        raise ValueError("a unit appears twice in the ranking")
    eligible = sorted(
        (f for f in every if f.rankable), key=lambda f: (-_exact(f), -f.n, f.name, f.code)
    )
    ranked: list[RankedUnit] = []
    for position, figure in enumerate(eligible, start=1):
        tied = ranked and _exact(ranked[-1].figure) == _exact(figure)
        ranked.append(RankedUnit(ranked[-1].rank if tied else position, figure))
    apart = sorted((f for f in every if not f.rankable), key=lambda f: (-f.n, f.name, f.code))
    return Ranking(tuple(ranked), tuple(apart))
