"""The official indices (pure): Circular 01/2018/TT-VPCP's per-dossier scores, officer and unit
indices with their bands, and Decision 766's satisfaction ratio, under versioned criteria
(:mod:`hub.domain.criteria`).

The arithmetic, as docs/indices.md states it for people:

* A dossier scores 0/1/2 on each per-dossier indicator the hub has data for: processing time
  from the register (returned before, on or after the promised day), the citizen's rating through
  ``score_points``. An indicator without data for a dossier is left out for that dossier.
* Indicator *k*'s value is Σ dossier points ÷ the number of dossiers with data for *k*; the index
  is the sum of those values over the index's indicators that have any data, rounded half up to
  one decimal. When every dossier has data for the same indicators this is exactly the circular's
  "Σ dossier scores ÷ number of dossiers"; computed per indicator, a dossier not yet returned
  neither counts as a zero for its processing time nor drops its rating.
* The band is read on the index (``raw``) or on the index scaled to the full maximum
  (``scaled``: the indicators without data make the reachable maximum lower than 10 or 18).
* Each dossier is scored under the criteria version in force on the day it was received; the
  period's index adds up the indicators, maximum and bands of the version in force on the
  period's last day.

All sums are exact fractions; only the published figures are rounded, so a band edge is judged
on the same number a reader sees.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from hailong.contract.scale import Score
from hub.domain.criteria import Band, CriteriaBook, CriteriaSet, Source
from hub.domain.periods import Period, period

IndexKind = Literal["officer", "unit"]


class Timing(StrEnum):
    """The processing time against the promised day (Article 13, item 1)."""

    EARLY = "early"  # trước hạn
    ON_TIME = "on_time"  # đúng hạn
    LATE = "late"  # quá hạn


@dataclass(frozen=True)
class RatingFacts:
    """A counted rating of a dossier: who it is about (the register's attribution), the face,
    and the survey answers per SIPAS factor, if any: a face, or "không áp dụng"
    (``not_applicable``: the factor did not concern this citizen)."""

    officer: str | None
    score: int
    factors: Mapping[str, int] = field(default_factory=dict)
    not_applicable: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DossierFacts:
    """What the indices need of one dossier: its register entry (days on the unit's calendar)
    and its counted ratings. No personal data."""

    code: str
    unit: str
    officer: str  # who received it (the receipt's officer)
    received_on: date
    promised_on: date | None
    returned_on: date | None = None
    returned_by: str | None = None
    ratings: tuple[RatingFacts, ...] = ()

    def officers(self) -> frozenset[str]:
        """Every officer who handled the dossier: received it, returned it, or was rated on it."""
        names = {self.officer, self.returned_by, *(r.officer for r in self.ratings)}
        return frozenset(n for n in names if n)


def round_half_up(value: Fraction, decimals: int) -> Decimal:
    """``value`` rounded half up (14.95 → 15.0, never to even), exactly: no float on the way."""
    scale = 10**decimals
    sign = -1 if value < 0 else 1
    units = math.floor(abs(value) * scale + Fraction(1, 2))
    return (Decimal(sign * units) / Decimal(scale)).quantize(Decimal(1).scaleb(-decimals))


def timing(dossier: DossierFacts, criteria: CriteriaSet, as_of: date) -> Timing | None:
    """Early, on time or late, or None without data: no promised day, or not yet returned and
    still within the promise (or past it, when the criteria say to wait for the return)."""
    promised = dossier.promised_on
    if promised is None:
        return None
    if dossier.returned_on is None:
        if as_of > promised and criteria.timeliness.unreturned_past_promise == "late":
            return Timing.LATE
        return None
    if dossier.returned_on < promised:
        return Timing.EARLY
    return Timing.ON_TIME if dossier.returned_on == promised else Timing.LATE


def rating_points(rating: RatingFacts, criteria: CriteriaSet, factor: str | None) -> int:
    """A rating's points: the factor's answer when the citizen gave one, else the face."""
    answer = rating.factors.get(factor) if factor is not None else None
    return criteria.score_points[Score(answer if answer is not None else rating.score)]


def dossier_points(
    dossier: DossierFacts, criteria: CriteriaSet, as_of: date, officer: str | None = None
) -> dict[int, int]:
    """The dossier's points per indicator number; an indicator without data is absent.

    For an officer's index only the ratings about that officer count (a return-stage complaint
    about a colleague is not theirs); for the unit, every rating of the dossier. Several ratings
    (reception and return) give the lowest points: one bad moment is a bad experience.
    """
    points: dict[int, int] = {}
    for indicator in criteria.indicators:
        if indicator.per != "dossier":
            continue
        if indicator.source is Source.REGISTER:
            when = timing(dossier, criteria, as_of)
            if when is not None:
                points[indicator.number] = getattr(criteria.timeliness, when.value)
        elif indicator.source is Source.RATING:
            factor = indicator.factor.value if indicator.factor is not None else None
            # A citizen who answered "không áp dụng" says nothing of this factor: their face
            # does not stand in for it (as it does for a question skipped or never asked).
            scores = [
                rating_points(r, criteria, factor)
                for r in dossier.ratings
                if (officer is None or r.officer == officer) and factor not in r.not_applicable
            ]
            if scores:
                points[indicator.number] = min(scores)
    return points


@dataclass(frozen=True)
class IndicatorValue:
    """One indicator of an index: how many dossiers had data and their average points."""

    number: int
    name_vi: str
    name_en: str
    source: Source
    max_points: int
    dossiers: int  # dossiers with data for it
    points: int  # their points, added up
    value: Decimal | None  # points ÷ dossiers, rounded; None: no data
    no_data_vi: str = ""
    no_data_en: str = ""


@dataclass(frozen=True)
class IndexResult:
    """An officer's or a unit's index for a period, with its band."""

    kind: IndexKind
    subject: str  # the officer's or the unit's code
    version: str  # the criteria version whose indicators, maximum and bands apply
    dossiers: int  # dossiers scored (received in the period, under some version)
    indicators: tuple[IndicatorValue, ...]
    index: Decimal | None  # None: no indicator had data
    max: Decimal  # the full maximum (10 or 18)
    max_available: int  # the maximum of the indicators that had data
    scaled: Decimal | None  # index × max ÷ max_available, rounded
    band: Band | None
    band_basis: Literal["scaled", "raw"]
    # Dossiers scored under each version (a period spanning a change has two).
    versions: tuple[tuple[str, int], ...] = ()
    unscored: int = 0  # dossiers received before the first version took effect


class NoCriteria(LookupError):
    """No criteria version is in force on the day asked."""


def compute_index(
    dossiers: Iterable[DossierFacts],
    book: CriteriaBook,
    kind: IndexKind,
    subject: str,
    last_day: date,
    as_of: date,
) -> IndexResult:
    """The index of ``dossiers`` (those of one officer or one unit, received in the period
    ending on ``last_day``). ``as_of`` is today on the unit's calendar: it decides whether a
    dossier not yet returned is already late."""
    rules = book.in_force(last_day)
    if rules is None:
        raise NoCriteria(f"no criteria version in force on {last_day.isoformat()}")
    rule = rules.rule(kind)
    sums: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    per_version: dict[str, int] = defaultdict(int)
    scored = unscored = 0
    for dossier in dossiers:
        version = book.in_force(dossier.received_on)
        if version is None:
            unscored += 1
            continue
        scored += 1
        per_version[version.version] += 1
        officer = subject if kind == "officer" else None
        for number, points in dossier_points(dossier, version, as_of, officer).items():
            sums[number] += points
            counts[number] += 1
    decimals = rules.rounding.decimals
    values: list[IndicatorValue] = []
    exact = Fraction(0)
    reachable = 0
    for number in rule.indicators:
        indicator = rules.indicator(number)
        n = counts.get(number, 0)
        average = Fraction(sums[number], n) if n else None
        if average is not None:
            exact += average
            reachable += indicator.max_points
        values.append(
            IndicatorValue(
                number=number,
                name_vi=indicator.name_vi,
                name_en=indicator.name_en,
                source=indicator.source,
                max_points=indicator.max_points,
                dossiers=n,
                points=sums.get(number, 0),
                value=round_half_up(average, decimals) if average is not None else None,
                no_data_vi=indicator.no_data_vi,
                no_data_en=indicator.no_data_en,
            )
        )
    index = scaled = None
    band = None
    if reachable:
        index = round_half_up(exact, decimals)
        scaled = round_half_up(exact * Fraction(rule.max) / reachable, decimals)
        band = rule.band(scaled if rule.band_basis == "scaled" else index)
    return IndexResult(
        kind=kind,
        subject=subject,
        version=rules.version,
        dossiers=scored,
        indicators=tuple(values),
        index=index,
        max=rule.max,
        max_available=reachable,
        scaled=scaled,
        band=band,
        band_basis=rule.band_basis,
        versions=tuple(sorted(per_version.items())),
        unscored=unscored,
    )


def unit_index(
    dossiers: Sequence[DossierFacts], book: CriteriaBook, unit: str, last_day: date, as_of: date
) -> IndexResult:
    """The unit's index (maximum 18 under the 2018 circular)."""
    return compute_index(dossiers, book, "unit", unit, last_day, as_of)


def officer_indices(
    dossiers: Sequence[DossierFacts], book: CriteriaBook, last_day: date, as_of: date
) -> tuple[IndexResult, ...]:
    """One index per officer who handled any of ``dossiers`` (maximum 10), by officer code."""
    handled: dict[str, list[DossierFacts]] = defaultdict(list)
    for dossier in dossiers:
        for officer in dossier.officers():
            handled[officer].append(dossier)
    return tuple(
        compute_index(handled[code], book, "officer", code, last_day, as_of)
        for code in sorted(handled)
    )


@dataclass(frozen=True)
class SatisfactionRatio:
    """Decision 766's ratio: (dossiers − dossiers rated dissatisfied, complained about or late)
    ÷ dossiers. A dossier both dissatisfied and late is taken out once."""

    dossiers: int
    dissatisfied: int
    late: int
    excluded: int  # dissatisfied or late (or both)
    percent: Decimal | None  # None without dossiers


def satisfaction_ratio(
    dossiers: Iterable[DossierFacts], book: CriteriaBook, last_day: date, as_of: date
) -> SatisfactionRatio:
    """Each dossier judged under its own version; rounded as the last day's version says.
    Complaints are not in the hub (no official register yet), so none are taken out for them."""
    rules = book.in_force(last_day)
    if rules is None:
        raise NoCriteria(f"no criteria version in force on {last_day.isoformat()}")
    total = dissatisfied = late = excluded = 0
    for dossier in dossiers:
        version = book.in_force(dossier.received_on)
        if version is None:
            continue
        total += 1
        bad = any(r.score in version.ratio_766.dissatisfied_scores for r in dossier.ratings)
        overdue = version.ratio_766.count_late and (timing(dossier, version, as_of) is Timing.LATE)
        dissatisfied += bad
        late += overdue
        excluded += bad or overdue
    percent = (
        round_half_up(Fraction(100 * (total - excluded), total), rules.rounding.decimals)
        if total
        else None
    )
    return SatisfactionRatio(total, dissatisfied, late, excluded, percent)


_QUARTER = re.compile(r"^([0-9]{4})-?[Qq]([1-4])$")
_YEAR = re.compile(r"^([0-9]{4})$")


def parse_period(text: str) -> Period:
    """A report period as people write it: ``2026Q3`` (or ``2026-Q3``) for a quarter, ``2026``
    for a year. Anything else is a :class:`ValueError` that says what is expected."""
    value = text.strip()
    try:
        if match := _QUARTER.match(value):
            return period("quarter", date(int(match[1]), 3 * int(match[2]) - 2, 1))
        if match := _YEAR.match(value):
            return period("year", date(int(match[1]), 1, 1))
    except ValueError:  # year 0, or a period ending past year 9999
        pass
    raise ValueError(f"{text!r}: expected a quarter such as 2026Q3 or a year such as 2026")


def period_label(span: Period) -> tuple[str, str]:
    """How a report names the period: "Quý 3/2026" / "Q3 2026", "Năm 2026" / "Year 2026"."""
    if span.kind == "quarter":
        quarter = (span.first.month - 1) // 3 + 1
        return f"Quý {quarter}/{span.first.year}", f"Q{quarter} {span.first.year}"
    if span.kind == "year":
        return f"Năm {span.first.year}", f"Year {span.first.year}"
    return (
        f"{span.first.isoformat()} – {span.last.isoformat()}",
        f"{span.first.isoformat()} to {span.last.isoformat()}",
    )
