"""Coverage: how many of the receipts a unit handed out were rated, so a high MĐHL resting on a few
answers cannot pass for the whole unit's (pure: no I/O).

The cohort is the receipts of the period, not the ratings: a receipt counts in the period it was
**issued** in (``receipts.issued_at``), whatever day its rating arrives. Each receipt ends in one
of three outcomes (:class:`Outcome`):

* **rated** (*đã đánh giá*): a counted rating (``ratings.counted``, the headline figures) of the
  same unit and dossier code at the **reception** stage (:data:`COVERED_STAGE`). The receipt is the
  reception's slip, and the reception officer is the one it names; a return-stage rating is the
  return's (another moment, maybe another officer) and does not make the reception rated. A unit
  stores at most one rating per code and stage, so a receipt is rated at most once.
* **abandoned** (*bỏ dở*): not rated, but a kiosk recorded an abandoned session for it at the
  reception stage (a scan that ended without a face: timeout, or the next citizen's scan).
  Abandoned then rated is rated.
* **not reached** (*chưa đánh giá*): neither: the citizen never scanned it, or the kiosk was offline
  and its records have not arrived yet.

Both origins count as issued: codes the hub allocated (``issued``) and other systems' receipts
signed here (``registered``): either was handed to a citizen here. Ratings without a receipt
(walk-ins) and of codes the register does not know have no receipt to be a share of: they are in
the MĐHL n, never in coverage. A receipt issued last period and rated this one raises last
period's coverage, not this one's; the figures of a period that just ended can so still rise a
little while offline kiosks catch up.

The response rate is rated ÷ issued, in %, with a Wilson interval (the propensity to answer, read
from one period). A rate is marked (:class:`Level`) when the period has no receipt, too few to
judge (:data:`FEW_RECEIPTS`), or a response under :data:`LOW_RESPONSE` %: the MĐHL beside it then
speaks for a small share of the citizens served.

:func:`tally` is the rule in plain Python over receipts, ratings and abandoned sessions: the
reference the store's SQL (:mod:`hub.store.coverage`) is tested against, and the definition a
reader can check by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from hailong.contract.scale import Stage
from hub.domain.satisfaction import UNKNOWN_NAME, wilson_interval

COVERED_STAGE = Stage.RECEPTION  # the moment the receipt is handed out: the one it covers
LOW_RESPONSE = 30.0  # % of the receipts rated: below, "tỷ lệ phản hồi thấp / low response"
FEW_RECEIPTS = 20  # fewer receipts than this: too few to judge the response rate

Dimension = Literal["unit", "counter", "officer", "procedure", "field"]
# What a receipt is grouped by: its unit, counter, officer and procedure (the field follows from
# the procedure through the catalogue).
GroupKey = tuple[str, str, str, str]


class Outcome(StrEnum):
    RATED = "rated"
    ABANDONED = "abandoned"
    NOT_REACHED = "not_reached"


class Level(StrEnum):
    """How far a response rate can be trusted to stand for the receipts served."""

    NO_RECEIPTS = "none"  # nothing issued: no rate
    FEW = "few"  # under FEW_RECEIPTS issued: shown, not judged
    LOW = "low"  # under LOW_RESPONSE % rated: the MĐHL beside it rests on a small share
    OK = "ok"


_LABELS: dict[Level, tuple[str, str]] = {
    Level.NO_RECEIPTS: ("chưa có biên nhận", "no receipts"),
    Level.FEW: ("ít biên nhận", "few receipts"),
    Level.LOW: ("tỷ lệ phản hồi thấp", "low response"),
    Level.OK: ("", ""),
}


# -- the rule, per receipt -------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """A receipt of the register, as coverage reads it (no personal data)."""

    code: str
    unit: str
    counter: str
    officer: str
    procedure: str
    issued_at: datetime

    @property
    def key(self) -> GroupKey:
        return (self.unit, self.counter, self.officer, self.procedure)


@dataclass(frozen=True)
class RatingFact:
    """What coverage needs of a stored rating: its unit, code (None: a walk-in), stage, and
    whether it is in the headline figures."""

    unit: str
    code: str | None
    stage: str
    counted: bool = True


@dataclass(frozen=True)
class AbandonedFact:
    """What coverage needs of an abandoned kiosk session."""

    unit: str
    code: str | None
    stage: str = COVERED_STAGE.value


def outcome(
    receipt: Receipt, rated: set[tuple[str, str]], abandoned: set[tuple[str, str]]
) -> Outcome:
    """The receipt's outcome, given the (unit, code) pairs rated and abandoned at the reception."""
    pair = (receipt.unit, receipt.code)
    if pair in rated:
        return Outcome.RATED
    return Outcome.ABANDONED if pair in abandoned else Outcome.NOT_REACHED


@dataclass(frozen=True)
class Tally:
    """Receipts issued, and how many of them were rated and abandoned (the rest: not reached)."""

    issued: int = 0
    rated: int = 0
    abandoned: int = 0

    def __post_init__(self) -> None:
        if min(self.issued, self.rated, self.abandoned) < 0 or (
            self.rated + self.abandoned > self.issued
        ):
            raise ValueError(f"impossible tally {self}")

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.issued + other.issued, self.rated + other.rated, self.abandoned + other.abandoned
        )

    @property
    def not_reached(self) -> int:
        return self.issued - self.rated - self.abandoned


def tally(
    receipts: Iterable[Receipt],
    ratings: Iterable[RatingFact],
    abandoned: Iterable[AbandonedFact],
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[GroupKey, Tally]:
    """The receipts issued in ``[since, until)`` (None: open), counted per group by outcome."""
    stage = COVERED_STAGE.value
    rated = {(r.unit, r.code) for r in ratings if r.code and r.counted and r.stage == stage}
    left = {(a.unit, a.code) for a in abandoned if a.code and a.stage == stage}
    found: dict[GroupKey, Tally] = {}
    for receipt in receipts:
        if since is not None and receipt.issued_at < since:
            continue
        if until is not None and receipt.issued_at >= until:
            continue
        result = outcome(receipt, rated, left)
        one = Tally(1, int(result is Outcome.RATED), int(result is Outcome.ABANDONED))
        found[receipt.key] = found.get(receipt.key, Tally()) + one
    return found


# -- the figures a reader sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """The response of one group (a unit, counter, officer, procedure or field): its receipts,
    rated, abandoned and not reached, the response rate in % (None: no receipt) and its 95 %
    Wilson interval, and how far the rate can be trusted (:attr:`level`)."""

    key: str | None
    name: str
    issued: int
    rated: int
    abandoned: int
    rate: float | None
    ci_low: float
    ci_high: float

    @property
    def not_reached(self) -> int:
        return self.issued - self.rated - self.abandoned

    @property
    def abandoned_rate(self) -> float | None:
        return None if self.issued == 0 else 100.0 * self.abandoned / self.issued

    @property
    def level(self) -> Level:
        if self.rate is None:
            return Level.NO_RECEIPTS
        if self.issued < FEW_RECEIPTS:
            return Level.FEW
        return Level.LOW if self.rate < LOW_RESPONSE else Level.OK

    @property
    def low(self) -> bool:
        """The MĐHL beside this rate rests on a small share of the receipts."""
        return self.level is Level.LOW

    @property
    def label(self) -> tuple[str, str]:
        """The note shown beside the rate (Vietnamese, English); empty when nothing to say."""
        return _LABELS[self.level]


def coverage_of(key: str | None, name: str, counted: Tally) -> Coverage:
    rate = None if counted.issued == 0 else 100.0 * counted.rated / counted.issued
    low, high = wilson_interval(counted.rated, counted.issued)
    return Coverage(key, name, counted.issued, counted.rated, counted.abandoned, rate, low, high)


def total(tallies: Mapping[GroupKey, Tally], name: str = "") -> Coverage:
    """Every receipt of ``tallies`` as one line."""
    return coverage_of(None, name, sum(tallies.values(), Tally()))


_POSITION = {"unit": 0, "counter": 1, "officer": 2, "procedure": 3}


def fold(
    tallies: Mapping[GroupKey, Tally],
    dimension: Dimension,
    names: Mapping[str, str],
    fields: Mapping[str, str] | None = None,
) -> list[Coverage]:
    """One line per group of ``dimension``, named from ``names`` (the code itself when absent).
    ``fields`` maps a procedure to its field (lĩnh vực), for ``dimension == "field"``; a
    procedure it does not know is keyed None ("unknown"). Lowest response first, then by name:
    where the figures speak for fewest citizens comes first."""
    grouped: dict[str | None, Tally] = {}
    for key, counted in tallies.items():
        if dimension == "field":
            value: str | None = (fields or {}).get(key[3])
        else:
            value = key[_POSITION[dimension]]
        grouped[value] = grouped.get(value, Tally()) + counted
    lines = [
        coverage_of(value, names.get(value, value) if value is not None else UNKNOWN_NAME, t)
        for value, t in grouped.items()
    ]
    return sorted(lines, key=lambda c: (c.rate if c.rate is not None else 101.0, c.name))
