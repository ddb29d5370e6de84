"""Trends against the same period last year, yearly targets and the year-end projection (pure).

A province reads a unit's MĐHL month by month and quarter by quarter beside the same month or
quarter a year before (seasons differ: January's rush is not June's), against the year's target.

**Targets.** A target is set per year, for a unit or for the province as a whole. The target a
unit is held to in a year is its own if the province set one, else the nearest unit above it
that has one (the province's), else the one in its catalogue (``target_rate``).

**Projection** (where the unit lands at year end at its current pace). With the year so far
(``done``: every counted rating from 1 January to now) and the *pace* (the last three whole
months before the current one, whatever their year):

    per month   v = pace n / 3                 rate   p = pace satisfied / pace n
    left        m = months after this one + the unelapsed share of this month (today counts
                    as elapsed: on 15 October, 2 + 16/31)
    expected    e = v * m   ratings still to come, satisfied at p
    projection  (done satisfied + p * e) / (done n + e)

Without ratings in the pace window the projection is the year so far; without any rating, none.
It is a reading aid, not a forecast: it assumes the next months look like the last three.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from hub.domain.satisfaction import satisfaction_rate
from hub.domain.units import UnitTree

PACE_MONTHS = 3
TargetSource = Literal["unit", "above", "catalogue"]


@dataclass(frozen=True)
class Tally:
    """Counted ratings and how many were satisfied."""

    n: int = 0
    satisfied: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.n + other.n, self.satisfied + other.satisfied)

    @property
    def rate(self) -> float | None:
        return satisfaction_rate(self.satisfied, self.n)


@dataclass(frozen=True)
class TrendRow:
    """One month or quarter of a year beside the same one a year before."""

    label: str  # "T1".."T12" (tháng) or "Q1".."Q4" (quý)
    first: date  # the period's first day this year
    now: Tally
    year_before: Tally

    @property
    def change(self) -> float | None:
        """Points of MĐHL against the year before; None when either has no rating."""
        if self.now.rate is None or self.year_before.rate is None:
            return None
        return self.now.rate - self.year_before.rate


def month_rows(year: int, months: Mapping[date, Tally]) -> tuple[TrendRow, ...]:
    """The 12 months of ``year`` beside those of the year before; ``months`` is keyed by each
    month's first day (a month without ratings may be absent)."""
    return tuple(
        TrendRow(
            f"T{m}",
            date(year, m, 1),
            months.get(date(year, m, 1), Tally()),
            months.get(date(year - 1, m, 1), Tally()),
        )
        for m in range(1, 13)
    )


def quarter_rows(year: int, months: Mapping[date, Tally]) -> tuple[TrendRow, ...]:
    """The 4 quarters of ``year`` beside those of the year before, summed from ``months``."""

    def quarter(y: int, q: int) -> Tally:
        total = Tally()
        for m in range(3 * q - 2, 3 * q + 1):
            total += months.get(date(y, m, 1), Tally())
        return total

    return tuple(
        TrendRow(f"Q{q}", date(year, 3 * q - 2, 1), quarter(year, q), quarter(year - 1, q))
        for q in range(1, 5)
    )


def pace_window(today: date) -> tuple[date, date]:
    """The first day of the three whole months before ``today``'s month, and the first day of
    ``today``'s month: ``[first, end)``."""
    index = today.year * 12 + today.month - 1 - PACE_MONTHS
    return date(index // 12, index % 12 + 1, 1), today.replace(day=1)


def months_left(today: date) -> float:
    """Months of ``today``'s year still to come: the whole ones after this month plus the share
    of this month after ``today`` (``today`` itself counts as elapsed)."""
    days = calendar.monthrange(today.year, today.month)[1]
    return (12 - today.month) + (days - today.day) / days


@dataclass(frozen=True)
class Projection:
    """Where the year lands at the current pace (see the module's docstring)."""

    rate: float | None  # %; None without any rating
    expected: float  # ratings still expected this year at the pace
    pace_rate: float | None  # the pace window's MĐHL, %


def project(done: Tally, pace: Tally, left: float, pace_months: int = PACE_MONTHS) -> Projection:
    """The year-end MĐHL from the year so far, the pace window and the months ``left``."""
    if left < 0 or pace_months <= 0:
        raise ValueError("months left must be >= 0 and the pace window at least a month")
    if pace.n == 0:
        return Projection(done.rate, 0.0, None)
    expected = pace.n / pace_months * left
    satisfied = done.satisfied + pace.satisfied / pace.n * expected
    return Projection(100.0 * satisfied / (done.n + expected), expected, pace.rate)


@dataclass(frozen=True)
class Target:
    rate: float | None  # %; None when nothing sets one
    source: TargetSource | None
    set_for: str | None  # the unit whose target it is (the unit itself or one above)


def check_target_rate(rate: float) -> float:
    """A target is a percentage from 0 to 100 (bounds included)."""
    if not 0.0 <= rate <= 100.0:  # also refuses NaN
        raise ValueError(f"a target is a percentage from 0 to 100, not {rate}")
    return rate


_RATE = re.compile(r"\s*(\d{1,3}(?:[.,]\d{1,2})?)\s*%?\s*")


def parse_target_rate(text: str) -> float | None:
    """A target as typed on the targets page: "90", "92,5" (the decimal comma Vietnamese use),
    "92.5", "95 %"; up to two decimals; an empty box is None (clear the unit's own target).
    Anything else, or a rate outside 0-100, is a ValueError."""
    if not text.strip():
        return None
    found = _RATE.fullmatch(text)
    if found is None:
        raise ValueError(f"not a percentage: {text!r}")
    return check_target_rate(float(found.group(1).replace(",", ".")))


def target_for(
    unit: str,
    year: int,
    targets: Mapping[tuple[str, int], float],
    tree: UnitTree,
    catalogue_rate: float | None,
) -> Target:
    """The target ``unit`` is held to in ``year``: its own, else the nearest above it, else its
    catalogue's ``catalogue_rate``."""
    own = targets.get((unit, year))
    if own is not None:
        return Target(own, "unit", unit)
    for above in tree.ancestors(unit):
        found = targets.get((above.code, year))
        if found is not None:
            return Target(found, "above", above.code)
    if catalogue_rate is not None:
        return Target(catalogue_rate, "catalogue", unit)
    return Target(None, None, None)
