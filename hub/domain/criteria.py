"""The official criteria sets (bộ chỉ số đánh giá) as data: which indicators there are, where
the hub finds each, how a citizen's answer becomes points, the maxima, bands and rounding (pure:
the files are read by :func:`hub.indices.load_criteria`).

The rules change (Circular 01/2018/TT-VPCP today; Circular 03/2025/TT-VPCP may replace its
scoring), and a quarter must keep being computed under the rules of its time. So a set of rules
is a versioned file with an effective date, never code: a change is a new file, and
:meth:`CriteriaBook.in_force` says which one applies on a given day. docs/indices.md explains
every key.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from hailong.contract.scale import Factor, Score
from hailong.settings.loading import Section

VersionCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")]
Points = Annotated[int, Field(ge=0, le=10)]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class Source(StrEnum):
    """Where the hub finds an indicator's value for a dossier."""

    RATING = "rating"  # the citizen's rating of the dossier (kiosk, online, paper)
    REGISTER = "register"  # processing time: the receipt register's promised and returned days
    SURVEY = "survey"  # a question of the rating form the hub does not collect yet
    SYSTEM = "system"  # records of the one-stop system the hub does not hold

    @property
    def collected(self) -> bool:
        """Whether this hub has the data at all; the others are always "no data"."""
        return self in (Source.RATING, Source.REGISTER)


class Indicator(Section):
    """One indicator of the set (Article 13: 0 to ``max_points`` points)."""

    number: Annotated[int, Field(ge=1, le=99)]
    name_vi: Text
    name_en: Text
    source: Source
    # Article 14: most are scored per dossier; some (5, 6, 8, 9) per unit.
    per: Literal["dossier", "unit"] = "dossier"
    max_points: Annotated[int, Field(ge=1, le=10)] = 2
    # For a rating: use this SIPAS factor's answer when the citizen gave one, else the overall face.
    factor: Factor | None = None
    # Why there is no data (shown in the report) for a source the hub does not collect.
    no_data_vi: str = ""
    no_data_en: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.factor is not None and self.source is not Source.RATING:
            raise ValueError("`factor` is only for an indicator whose source is `rating`")
        if self.source.collected and self.per == "unit":
            raise ValueError(f"a `{self.source}` indicator is scored per dossier: per = 'dossier'")
        if not self.source.collected and not (self.no_data_vi and self.no_data_en):
            raise ValueError(
                f"source `{self.source}` gives no data: say why in no_data_vi and no_data_en"
            )
        return self


class Band(Section):
    """A band (xếp loại) from ``min`` up to the next band's ``min``."""

    min: Annotated[Decimal, Field(ge=0)]
    label_vi: Text
    label_en: Text


class IndexRule(Section):
    """Which indicators an index adds up, its maximum and its bands (Article 15)."""

    indicators: tuple[int, ...] = Field(min_length=1)
    max: Annotated[Decimal, Field(gt=0)]
    # "scaled": the band is read on the index times max / (the maximum of the indicators that
    # have data); "raw": on the index as it is. See docs/indices.md.
    band_basis: Literal["scaled", "raw"] = "scaled"
    bands: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if len(set(self.indicators)) != len(self.indicators):
            raise ValueError("an indicator is listed twice")
        mins = [b.min for b in self.bands]
        if any(a <= b for a, b in itertools.pairwise(mins)):
            raise ValueError("bands must go from the highest `min` down, each lower than the last")
        if mins[-1] != 0:
            raise ValueError("the last band must start at min = 0, so every index has a band")
        if mins[0] > self.max:
            raise ValueError(f"the first band starts above the maximum {self.max}")
        return self

    def band(self, value: Decimal) -> Band:
        """The band ``value`` falls in: the first whose ``min`` it reaches (``≥``, as the
        circular says "từ 15 điểm": exactly 15.0 is Xuất sắc, 14.9 is not)."""
        return next(b for b in self.bands if value >= b.min)


class Timeliness(Section):
    """Indicator points for the processing time (Article 13, item 1)."""

    early: Points = 2
    on_time: Points = 1
    late: Points = 0
    # A dossier not yet returned whose promised day has passed: "late" (it can no longer be on
    # time) or "no_data" (wait for the return).
    unreturned_past_promise: Literal["late", "no_data"] = "late"


class Rounding(Section):
    """Indices are rounded half up to ``decimals`` places (Article 15: one decimal)."""

    decimals: Annotated[int, Field(ge=0, le=4)] = 1


class Ratio766(Section):
    """Decision 766/QĐ-TTg's satisfaction ratio: (dossiers − dossiers rated dissatisfied,
    complained about or late) ÷ dossiers."""

    dissatisfied_scores: tuple[Score, ...] = (Score.VERY_DISSATISFIED, Score.DISSATISFIED)
    count_late: bool = True


class CriteriaSet(Section):
    """One version of the official criteria, in force from ``effective`` until the next one."""

    version: VersionCode
    title_vi: Text
    title_en: Text
    effective: date
    score_points: dict[Score, Points]
    timeliness: Timeliness = Timeliness()
    rounding: Rounding = Rounding()
    ratio_766: Ratio766 = Ratio766()
    officer: IndexRule
    unit: IndexRule
    indicators: tuple[Indicator, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        missing = sorted(set(Score) - set(self.score_points))
        if missing:
            raise ValueError(
                f"score_points must give points for every score 1-5; missing {missing}"
            )
        numbers = [i.number for i in self.indicators]
        if len(set(numbers)) != len(numbers):
            raise ValueError("two indicators have the same number")
        by_number = {i.number: i for i in self.indicators}
        top = max((i.max_points for i in self.indicators if i.source is Source.RATING), default=10)
        if max(self.score_points.values()) > top:
            raise ValueError(f"score_points give more than an indicator's max_points ({top})")
        timing_top = max(
            (i.max_points for i in self.indicators if i.source is Source.REGISTER), default=10
        )
        timing = self.timeliness
        if max(timing.early, timing.on_time, timing.late) > timing_top:
            raise ValueError(f"timeliness gives more than an indicator's max_points ({timing_top})")
        for name, rule in (("officer", self.officer), ("unit", self.unit)):
            unknown = [n for n in rule.indicators if n not in by_number]
            if unknown:
                raise ValueError(f"{name}.indicators names unknown indicators {unknown}")
            total = sum(by_number[n].max_points for n in rule.indicators)
            if rule.max != total:
                raise ValueError(
                    f"{name}.max is {rule.max} but its indicators add up to {total} points"
                )
        if any(by_number[n].per == "unit" for n in self.officer.indicators):
            raise ValueError("officer.indicators may only name per-dossier indicators")
        return self

    def indicator(self, number: int) -> Indicator:
        return next(i for i in self.indicators if i.number == number)

    def rule(self, kind: Literal["officer", "unit"]) -> IndexRule:
        return self.officer if kind == "officer" else self.unit


@dataclass(frozen=True)
class CriteriaBook:
    """Every version the hub knows, oldest first. Several coexist: the one in force on a day is
    the latest whose effective date is on or before that day."""

    sets: tuple[CriteriaSet, ...]
    _days: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.sets, key=lambda s: s.effective))
        for a, b in itertools.pairwise(ordered):
            if a.effective == b.effective:
                raise ValueError(
                    f"{a.version} and {b.version} both take effect on {a.effective.isoformat()}"
                )
        versions = [s.version for s in ordered]
        if len(set(versions)) != len(versions):
            raise ValueError("two criteria files have the same version")
        object.__setattr__(self, "sets", ordered)
        object.__setattr__(self, "_days", tuple(s.effective for s in ordered))

    def in_force(self, day: date) -> CriteriaSet | None:
        """The version in force on ``day``, or None before the first one."""
        index = bisect.bisect_right(self._days, day)
        return self.sets[index - 1] if index else None
