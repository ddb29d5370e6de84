"""Satisfaction arithmetic (MĐHL), with the uncertainty a reader needs before acting on a figure.

An officer with 3 ratings at 67 % is not worse than one with 400 at 85 %: every rate travels with
its n and a 95 % Wilson score interval, which behaves well for small n and rates near 0 or 100 %.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hailong.contract.scale import Score

Z_95 = 1.959963984540054
SMALL_SAMPLE = 30  # below this many ratings a figure is shown, but marked as not yet reliable


def satisfaction_rate(satisfied: int, n: int) -> float | None:
    """MĐHL in %: the share of answers that are "Hài lòng" or "Rất hài lòng"; None without data."""
    if n <= 0:
        return None
    return 100.0 * satisfied / n


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a proportion, in %. (0, 100) when there is no data."""
    if n <= 0:
        return (0.0, 100.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half))


@dataclass(frozen=True)
class GroupSummary:
    """MĐHL of one group (a counter, an officer, a procedure, a field)."""

    key: str | None
    name: str
    n: int
    satisfied: int
    rate: float | None
    ci_low: float
    ci_high: float

    @property
    def small_sample(self) -> bool:
        return self.n < SMALL_SAMPLE


UNKNOWN_NAME = "(không rõ / unknown)"


def summarize(
    counts: Iterable[tuple[str | None, int, int]], names: Mapping[str, str]
) -> list[GroupSummary]:
    """Fold ``(key, score, count)`` rows into one summary per key.

    Sorted so that where action matters comes first: by the upper end of the interval, ascending.
    A group is listed early only when even the optimistic reading of its rate is low, so three
    unlucky ratings do not outrank four hundred mediocre ones.
    """
    totals: dict[str | None, list[int]] = {}
    for key, score, count in counts:
        bucket = totals.setdefault(key, [0, 0])
        bucket[0] += count
        if Score(score).is_satisfied:
            bucket[1] += count
    summaries = []
    for key, (n, satisfied) in totals.items():
        low, high = wilson_interval(satisfied, n)
        name = names.get(key, key) if key is not None else UNKNOWN_NAME
        summaries.append(
            GroupSummary(key, name, n, satisfied, satisfaction_rate(satisfied, n), low, high)
        )
    return sorted(summaries, key=lambda s: (s.ci_high, -s.n, s.name))
