"""``hailong report summary`` and the dashboard's analysis: MĐHL per counter, officer, procedure
and field, per stage and SIPAS factor, the 5 levels, the reasons, the hour-by-weekday heat map.

Every count comes from the rollups through :func:`hub.store.rollups.counts` (exact for any
:class:`Scope`: whole months, whole days and cut days are its business); the arithmetic lives in
:mod:`hub.domain.satisfaction`. Here are the tables a unit head reads, and their text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from hailong.contract.scale import Factor, Score, Stage
from hailong.settings import Unit
from hub.domain.satisfaction import (
    SMALL_SAMPLE,
    GroupSummary,
    satisfaction_rate,
    summarize,
    wilson_interval,
)
from hub.store.rollups import Scope as Scope  # what every figure below counts
from hub.store.rollups import Uncounted as Uncounted
from hub.store.rollups import counts, grouped_counts
from hub.store.rollups import uncounted_totals as uncounted_totals
from hub.store.spans import scores_of_spans

Dimension = Literal["counter", "officer", "procedure", "field"]
DIMENSIONS: tuple[Dimension, ...] = ("counter", "officer", "procedure", "field")

_HEADINGS: dict[Dimension, str] = {
    "counter": "MĐHL theo quầy / Satisfaction by counter",
    "officer": "MĐHL theo công chức / Satisfaction by officer",
    "procedure": "MĐHL theo thủ tục / Satisfaction by procedure",
    "field": "MĐHL theo lĩnh vực / Satisfaction by field",
}


def _names(unit: Unit, dimension: Dimension) -> dict[str, str]:
    if dimension == "counter":
        return {c.code: c.name for c in unit.counters}
    if dimension == "officer":
        return {o.code: o.name for o in unit.officers}
    if dimension == "procedure":
        return {p.code: f"{p.name} ({p.code})" for p in unit.procedures}
    return {f.code: f.name for f in unit.fields}


def _rows(session: Session, scope: Scope, *columns: str) -> list[tuple[str | None, int, int]]:
    """``(key, score, n)`` per value of ``columns`` and score, for :func:`summarize`; a rating
    without a value for the key (the rollups' NO_VALUE) is keyed None."""
    return _keyed(counts(session, scope, *columns, "score"))


def _keyed(found: Mapping[tuple[Any, ...], int]) -> list[tuple[str | None, int, int]]:
    return [(key or None, score, n) for (key, score), n in sorted(found.items())]


def summary(session: Session, scope: Scope, dimension: Dimension) -> list[GroupSummary]:
    """One row per group of ``dimension`` for the ratings of ``scope``."""
    return summarize(_rows(session, scope, dimension), _names(scope.unit, dimension))


def summary_of(
    found: Mapping[tuple[Any, ...], int], unit: Unit, dimension: Dimension
) -> list[GroupSummary]:
    """:func:`summary` of counts already read (``(key, score)``: one unit's share of
    :func:`hub.store.rollups.counts_of_units`), so a province's report reads once for all."""
    return summarize(_keyed(found), _names(unit, dimension))


FACTOR_NAMES = {f.value: f"{f.label_vi} / {f.label_en}" for f in Factor}


def factor_summary(session: Session, scope: Scope) -> list[GroupSummary]:
    """MĐHL per SIPAS factor, from the survey answers of the ratings of ``scope``."""
    return summarize(_rows(session, scope, "factor"), FACTOR_NAMES)


def reason_counts(session: Session, scope: Scope) -> list[tuple[str, int]]:
    """How many ratings of ``scope`` cited each reason, most cited first."""
    found = [(reason, n) for (reason,), n in counts(session, scope, "reason").items()]
    return sorted(found, key=lambda item: (-item[1], item[0]))


def _per_score(session: Session, scope: Scope) -> Counter[int]:
    return _scores(counts(session, scope, "score"))


def _scores(found: Mapping[tuple[Any, ...], int]) -> Counter[int]:
    return Counter({score: n for (score,), n in found.items()})


# -- the dashboard's analysis for unit heads: stages, SIPAS factors, the 5 levels, reasons, hours --

STAGE_NAMES: dict[str, str] = {
    Stage.RECEPTION.value: "Tiếp nhận hồ sơ / Reception of the dossier",
    Stage.RETURN.value: "Trả kết quả / Return of the result",
}
# The last line of the provincial SIPAS report's factor table (seed 000): the service overall,
# here the citizen's main answer (the face) rather than a survey question.
OVERALL = "overall"
OVERALL_NAME = "Cung ứng dịch vụ hành chính công nói chung / The public service overall"
WEEKDAYS: tuple[tuple[str, str], ...] = (
    ("Thứ 2", "Mon"),
    ("Thứ 3", "Tue"),
    ("Thứ 4", "Wed"),
    ("Thứ 5", "Thu"),
    ("Thứ 6", "Fri"),
    ("Thứ 7", "Sat"),
    ("Chủ nhật", "Sun"),
)
OPENING_HOURS = tuple(range(7, 18))  # 07:00-17:59, the columns shown even when empty


@dataclass(frozen=True)
class ScoreShare:
    """How many ratings of the period gave one level of the 5-level scale, and their share."""

    score: Score
    n: int
    percent: float | None  # None when the period has no rating


@dataclass(frozen=True)
class ReasonLine:
    """A reason for dissatisfaction as the unit's catalogue names it, with the SIPAS factor it
    counts against (None for a code the catalogue no longer has) and how many ratings cited it."""

    code: str
    name: str
    name_en: str
    factor: Factor | None
    n: int


@dataclass(frozen=True)
class HeatCell:
    n: int
    satisfied: int

    @property
    def rate(self) -> float | None:
        return satisfaction_rate(self.satisfied, self.n)


@dataclass(frozen=True)
class HeatMap:
    """Ratings per local weekday (0 = Monday) and local hour; a cell without ratings is absent.
    ``hours`` are the opening hours, widened to any hour that has ratings."""

    hours: tuple[int, ...]
    cells: Mapping[tuple[int, int], HeatCell]

    def cell(self, weekday: int, hour: int) -> HeatCell | None:
        return self.cells.get((weekday, hour))


@dataclass(frozen=True)
class Analysis:
    """Everything the dashboard's analysis sections show for one period."""

    stages: list[GroupSummary]
    factors: list[GroupSummary]
    distribution: list[ScoreShare]
    reasons: list[ReasonLine]
    heat_map: HeatMap | None  # None when restricted to one officer (the hours have no officer)


def _empty(key: str, name: str) -> GroupSummary:
    low, high = wilson_interval(0, 0)
    return GroupSummary(key, name, 0, 0, None, low, high)


def unit_totals(session: Session, scope: Scope) -> tuple[int, int]:
    """(ratings, satisfied) of ``scope``: the dashboard's headlines."""
    per_score = _per_score(session, scope)
    return per_score.total(), sum(n for score, n in per_score.items() if Score(score).is_satisfied)


def unit_totals_of_spans(
    session: Session, unit: Unit, spans: Sequence[tuple[datetime | None, datetime | None]]
) -> list[tuple[int, int]]:
    """:func:`unit_totals` of each ``[since, until)`` of ``spans``, in that order, from one
    statement (:func:`hub.store.spans.scores_of_spans`): the dashboard's ten headlines."""
    return [
        (per_score.total(), sum(n for score, n in per_score.items() if Score(score).is_satisfied))
        for per_score in scores_of_spans(session, unit.unit.code, spans, unit.zone)
    ]


def stage_summary(session: Session, scope: Scope) -> list[GroupSummary]:
    """MĐHL per service moment (tiếp nhận, trả kết quả), both always listed, in that order."""
    return _stage_lines(_rows(session, scope, "stage"))


def _stage_lines(rows: list[tuple[str | None, int, int]]) -> list[GroupSummary]:
    found = {s.key: s for s in summarize(rows, STAGE_NAMES)}
    lines = [
        found.pop(stage.value) if stage.value in found else _empty(stage.value, STAGE_NAMES[stage])
        for stage in Stage
    ]
    return lines + sorted(found.values(), key=lambda s: s.name)


def factor_table(session: Session, scope: Scope) -> list[GroupSummary]:
    """The provincial SIPAS report's table (seed 000): MĐHL per factor in the survey's order
    (access, procedure, officer, result, feedback; a factor nobody answered has n = 0), then the
    service overall (key :data:`OVERALL`, from every rating's score)."""
    return _factor_lines(factor_summary(session, scope), _per_score(session, scope))


def factor_table_of(
    factors: Mapping[tuple[Any, ...], int], scores: Mapping[tuple[Any, ...], int]
) -> list[GroupSummary]:
    """:func:`factor_table` of counts already read: ``(factor, score)`` and ``(score,)``."""
    return _factor_lines(summarize(_keyed(factors), FACTOR_NAMES), _scores(scores))


def _factor_lines(factors: list[GroupSummary], per_score: Counter[int]) -> list[GroupSummary]:
    found = {s.key: s for s in factors}
    lines = [found.get(f.value) or _empty(f.value, FACTOR_NAMES[f.value]) for f in Factor]
    scores = per_score.items()
    overall = summarize([(OVERALL, s, n) for s, n in scores], {OVERALL: OVERALL_NAME})
    return lines + (overall or [_empty(OVERALL, OVERALL_NAME)])


def score_distribution(session: Session, scope: Scope) -> list[ScoreShare]:
    """The ratings of ``scope`` on each of the 5 levels, "Rất hài lòng" first (the kiosk's order)."""
    return _distribution(_per_score(session, scope))


def _distribution(per_score: Counter[int]) -> list[ScoreShare]:
    total = per_score.total()
    return [
        ScoreShare(score, per_score[score], satisfaction_rate(per_score[score], total))
        for score in sorted(Score, reverse=True)
    ]


def reason_table(session: Session, scope: Scope) -> list[ReasonLine]:
    """The reasons cited by the ratings of ``scope``, most cited first, named from the unit's
    catalogue."""
    found = [(reason, n) for (reason,), n in counts(session, scope, "reason").items()]
    return reason_table_of(dict(found), scope.unit)


def reason_table_of(found: Mapping[str, int], unit: Unit) -> list[ReasonLine]:
    """:func:`reason_table` of counts already read (ratings per reason code)."""
    catalogue = {reason.code: reason for reason in unit.reasons}
    lines = []
    ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    for code, n in ranked:
        known = catalogue.get(code)
        if known is None:
            lines.append(ReasonLine(code, code, code, None, n))
        else:
            lines.append(ReasonLine(code, known.name, known.name_en, known.factor, n))
    return lines


def hour_heat_map(session: Session, scope: Scope) -> HeatMap:
    """Ratings and MĐHL per local weekday and hour of the day (``hour_rollups``: the whole unit,
    so ``scope`` names no officer)."""
    totals: Counter[tuple[int, int]] = Counter()
    satisfied: Counter[tuple[int, int]] = Counter()
    for (weekday, hour, score), n in counts(session, scope, "weekday", "hour", "score").items():
        totals[(weekday, hour)] += n
        satisfied[(weekday, hour)] += n if Score(score).is_satisfied else 0
    cells = {key: HeatCell(n, satisfied[key]) for key, n in totals.items()}
    hours = sorted({*OPENING_HOURS, *(hour for _, hour in cells)})
    return HeatMap(tuple(hours), cells)


def analysis(session: Session, scope: Scope) -> Analysis:
    """The dashboard's analysis of ``scope``; with an officer, only that officer's ratings, and
    no heat map (``hour_rollups`` are per unit, not per officer)."""
    return figures(session, scope).analysis


@dataclass(frozen=True)
class Figures:
    """The dashboard's tables (MĐHL per counter, officer, procedure, field) and analysis of one
    scope."""

    tables: dict[Dimension, list[GroupSummary]]
    analysis: Analysis


def figures(session: Session, scope: Scope) -> Figures:
    """:func:`summary` of every dimension and :func:`analysis` of ``scope``, the same figures,
    from one read of the rating rollups summed per dimension and score, per stage and score and
    per score (:func:`hub.store.rollups.grouped_counts`: ``GROUPING SETS`` on PostgreSQL), plus
    one each for the factors, the reasons and the hours: a unit's dashboard at province scale
    read the same rollup rows six times over (a provincial centre's quarter: ~50 ms of its
    100 ms budget, bench/province.py), then folded ~5,000 of them in Python (~20 ms)."""
    wanted = [(dim, "score") for dim in DIMENSIONS]
    *per_dimension, per_stage, scores = grouped_counts(
        session, scope, [*wanted, ("stage", "score"), ("score",)]
    )
    per_score = _scores(scores)
    tables = {
        dim: summarize(_keyed(found), _names(scope.unit, dim))
        for dim, found in zip(DIMENSIONS, per_dimension, strict=True)
    }
    analysed = Analysis(
        stages=_stage_lines(_keyed(per_stage)),
        factors=_factor_lines(factor_summary(session, scope), per_score),
        distribution=_distribution(per_score),
        reasons=reason_table(session, scope),
        heat_map=hour_heat_map(session, scope) if scope.officer is None else None,
    )
    return Figures(tables, analysed)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:5.1f}"


def _line(name: str, n: int, rate: float | None, low: float, high: float) -> str:
    mark = "*" if n < SMALL_SAMPLE else " "
    interval = f"[{low:5.1f} – {high:5.1f}]" if n else ""
    return f"  {name[:56]:<56} {n:>6}{mark} {_pct(rate):>6}  {interval}"


def format_summary(
    unit: Unit,
    tables: Mapping[Dimension, list[GroupSummary]],
    uncounted: Uncounted | None = None,
) -> str:
    """The report a unit head reads: overall MĐHL against the target, then one table per
    dimension; with ``uncounted``, the ratings kept apart from those figures."""
    any_table = next(iter(tables.values()), [])
    n = sum(s.n for s in any_table)
    satisfied = sum(s.satisfied for s in any_table)
    rate = satisfaction_rate(satisfied, n)
    low, high = wilson_interval(satisfied, n)
    target = unit.unit.target_rate
    lines = [
        f"{unit.unit.name} ({unit.unit.code})",
        f"MĐHL chung / Overall: {_pct(rate).strip()} % of {n} "
        f"(95 % CI {low:.1f}–{high:.1f}); chỉ tiêu / target {target:.0f} %"
        + ("" if rate is None else (" ✔" if rate >= target else " ✘")),
    ]
    if uncounted is not None:
        lines.append(
            f"Để riêng / Kept apart: {uncounted.unverified} chưa xác minh (mã không có trong sổ) "
            f"/ unverified (code not in the register); {uncounted.suspect} nghi vấn (quá dày) / "
            f"suspect (too close together); {uncounted.mismatched} máy khai trái với sổ / "
            "kiosk claims the register contradicts"
        )
    header = f"  {'':<56} {'n':>7} {'MĐHL%':>6}  95 % CI"
    for dimension, groups in tables.items():
        lines += ["", _HEADINGS[dimension], header]
        lines += [_line(g.name, g.n, g.rate, g.ci_low, g.ci_high) for g in groups]
        if not groups:
            lines.append("  (chưa có đánh giá / no ratings yet)")
    lines += [
        "",
        f"* dưới {SMALL_SAMPLE} lượt đánh giá: số liệu chưa đủ tin cậy / "
        f"fewer than {SMALL_SAMPLE} ratings: not yet reliable",
        "Nhóm cần quan tâm nhất đứng đầu mỗi bảng / the groups most in need of attention come first",
    ]
    return "\n".join(lines)
