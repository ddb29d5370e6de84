"""``hailong report summary``: MĐHL per counter, officer, procedure and field, as plain text.

Counting happens in SQL on the rollups (``rating_rollups``: ratings per local day, key and score;
``rating_month_rollups``: the same per local month; both kept by
:func:`hub.store.ratings.store_batch`); the arithmetic lives in :mod:`hub.domain.satisfaction`.
Whole months come from the monthly rollups, the whole days around them from the daily ones, and a
period that starts or ends inside a local day takes that part of the day from ``ratings`` (through
the index on unit and time), so figures are exact for any bounds; whole days never touch
``ratings``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, select, true
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
from hub.store.models import (
    FactorMonthRollupRow,
    FactorRollupRow,
    HourMonthRollupRow,
    HourRollupRow,
    RatingMonthRollupRow,
    RatingRollupRow,
    RatingRow,
    ReasonMonthRollupRow,
    ReasonRollupRow,
)
from hub.store.ratings import LOCAL_ZONE

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


def summary(
    session: Session,
    unit: Unit,
    dimension: Dimension,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    zone: tzinfo = LOCAL_ZONE,
) -> list[GroupSummary]:
    """One row per group of ``dimension`` for the unit, ratings in ``[since, until)``.

    ``zone`` must be the one the rollups were written with (``store_batch``'s). A naive bound is
    taken as UTC, as the database stores times.
    """
    period = Period.split(since, until, zone)
    counts: Counter[tuple[str | None, int]] = Counter()
    for (key, score), n in _rating_counts(session, unit, period, dimension, None).items():
        counts[(key or None, score)] += n  # the rollups' NO_VALUE and the raw NULL alike
    rows = [(key, score, n) for (key, score), n in sorted(counts.items(), key=_null_first)]
    return summarize(rows, _names(unit, dimension))


FACTOR_NAMES = {f.value: f"{f.label_vi} / {f.label_en}" for f in Factor}


def factor_summary(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    officer: str | None = None,
    zone: tzinfo = LOCAL_ZONE,
) -> list[GroupSummary]:
    """MĐHL per SIPAS factor, from the survey answers of ratings in ``[since, until)`` (only
    those of ``officer`` when given)."""
    period = Period.split(since, until, zone)
    rows = _factor_counts(session, unit, period, officer)
    return summarize(rows, FACTOR_NAMES)


def _factor_counts(
    session: Session, unit: Unit, period: Period, officer: str | None
) -> list[tuple[str | None, int, int]]:
    counts: Counter[tuple[str | None, int]] = Counter()
    for table, when in rollup_parts(period, FactorRollupRow, FactorMonthRollupRow):
        rolled = (
            select(table.factor, table.score, func.sum(table.n))
            .where(table.unit == unit.unit.code, when, *_of_officer(table.officer, officer))
            .group_by(table.factor, table.score)
        )
        for factor, score, n in session.execute(rolled):
            counts[(factor, int(score))] += int(n)
    for answers in _edge_values(session, unit, period, RatingRow.factors, officer):
        for factor, score in answers.items():
            counts[(factor, int(score))] += 1
    return [(key, score, n) for (key, score), n in sorted(counts.items(), key=_null_first)]


def reason_counts(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    officer: str | None = None,
    zone: tzinfo = LOCAL_ZONE,
) -> list[tuple[str, int]]:
    """How many ratings in ``[since, until)`` cited each reason, most cited first (only the
    ratings of ``officer`` when given)."""
    period = Period.split(since, until, zone)
    counts: Counter[str] = Counter()
    for table, when in rollup_parts(period, ReasonRollupRow, ReasonMonthRollupRow):
        rolled = (
            select(table.reason, func.sum(table.n))
            .where(table.unit == unit.unit.code, when, *_of_officer(table.officer, officer))
            .group_by(table.reason)
        )
        for reason, n in session.execute(rolled):
            counts[reason] += int(n)
    for cited in _edge_values(session, unit, period, RatingRow.reasons, officer):
        counts.update(set(cited))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _of_officer(column: Any, officer: str | None) -> list[ColumnElement[bool]]:
    """The WHERE clause keeping one officer's ratings (none: every rating)."""
    return [] if officer is None else [column == officer]


def _edge_values(
    session: Session, unit: Unit, period: Period, column: Any, officer: str | None = None
) -> list[Any]:
    """``column`` of the ratings in the period's partial days (JSON, folded by the caller)."""
    values: list[Any] = []
    for start, end in period.edges:
        values += session.scalars(
            select(column).where(
                RatingRow.unit == unit.unit.code,
                RatingRow.rated_at >= start,
                RatingRow.rated_at < end,
                RatingRow.counted.is_(True),
                *_of_officer(RatingRow.officer, officer),
            )
        )
    return values


def _null_first(item: tuple[tuple[str | None, int], int]) -> tuple[bool, str, int]:
    (key, score), _n = item
    return (key is not None, key or "", score)


DaySpan = tuple[date | None, date | None]  # [first, end) of local days; None: open on that side


@dataclass(frozen=True)
class Period:
    """``[since, until)`` split into whole local months (read from the ``*_month_rollups``),
    whole local days outside them (from the daily rollups: at most a month's worth at each end)
    and at most two partial days at its edges (read from ``ratings``). Bounds are UTC.

    A year's dashboard so reads 12 months of monthly rows instead of 250 days of daily ones."""

    months: DaySpan | None  # first days of the months [first, end); None: no whole month
    days: tuple[DaySpan, ...]  # the whole days before and after those months
    edges: tuple[tuple[datetime, datetime], ...]
    has_days: bool

    @classmethod
    def split(cls, since: datetime | None, until: datetime | None, zone: tzinfo) -> Period:
        start = _utc(since) if since is not None else None
        end = _utc(until) if until is not None else None
        first_day = _day_on_or_after(start, zone) if start is not None else None
        end_day = end.astimezone(zone).date() if end is not None else None
        if first_day is not None and end_day is not None and first_day >= end_day:
            # Within a day or two: no whole day between the bounds, all of it from ``ratings``.
            assert start is not None
            assert end is not None
            return cls(None, (), ((start, end),) if start < end else (), has_days=False)
        edges = []
        if start is not None and first_day is not None:
            first_midnight = _midnight(first_day, zone)
            if start < first_midnight:
                edges.append((start, first_midnight))
        if end is not None and end_day is not None:
            end_midnight = _midnight(end_day, zone)
            if end_midnight < end:
                edges.append((end_midnight, end))
        months, days = _split_months(first_day, end_day)
        return cls(months, days, tuple(edges), has_days=True)


def _split_months(
    first_day: date | None, end_day: date | None
) -> tuple[DaySpan | None, tuple[DaySpan, ...]]:
    """The whole months of the days ``[first_day, end_day)`` and the days left at either end."""
    first_month = first_day if first_day is None or first_day.day == 1 else _next_month(first_day)
    end_month = end_day.replace(day=1) if end_day is not None else None
    if first_month is not None and end_month is not None and first_month >= end_month:
        return None, ((first_day, end_day),)  # no whole month: every day from the daily rollups
    days: list[DaySpan] = []
    if first_day is not None and first_month is not None and first_day < first_month:
        days.append((first_day, first_month))
    if end_day is not None and end_month is not None and end_month < end_day:
        days.append((end_month, end_day))
    return (first_month, end_month), tuple(days)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _within(column: Any, span: DaySpan) -> list[ColumnElement[bool]]:
    """The WHERE clauses keeping a rollup's ``day`` or ``month`` column within ``span``."""
    first, end = span
    clauses: list[ColumnElement[bool]] = []
    if first is not None:
        clauses.append(column >= first)
    if end is not None:
        clauses.append(column < end)
    return clauses


def rollup_parts(period: Period, daily: Any, monthly: Any) -> list[tuple[Any, ColumnElement[bool]]]:
    """The rollup tables to read for the period's whole days, each with its WHERE on the time:
    ``monthly`` (a ``*_month_rollups`` row class) for the whole months, ``daily`` for the rest."""
    parts: list[tuple[Any, ColumnElement[bool]]] = []
    if period.months is not None:
        parts.append((monthly, and_(true(), *_within(monthly.month, period.months))))
    parts += [(daily, and_(true(), *_within(daily.day, span))) for span in period.days]
    return parts


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _day_on_or_after(moment: datetime, zone: tzinfo) -> date:
    """The first local day that starts at or after ``moment``."""
    day = moment.astimezone(zone).date()
    return day if _midnight(day, zone) == moment else day + timedelta(days=1)


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


def _rating_counts(
    session: Session, unit: Unit, period: Period, column: str, officer: str | None
) -> Counter[tuple[Any, int]]:
    """Ratings per value of ``column`` (a column of ``rating_rollups`` and ``ratings``) and score."""
    counts: Counter[tuple[Any, int]] = Counter()
    # The whole unit per score: the hourly rollups hold ~50 rows a day where the fine ones hold
    # thousands (a year's dashboard headline read 150,000 rows otherwise).
    whole_unit = column == "unit" and officer is None
    parts = (
        rollup_parts(period, HourRollupRow, HourMonthRollupRow)
        if whole_unit
        else rollup_parts(period, RatingRollupRow, RatingMonthRollupRow)
    )
    for table, when in parts:
        rolled_column = getattr(table, column)
        rolled = (
            select(rolled_column, table.score, func.sum(table.n))
            .where(
                table.unit == unit.unit.code,
                when,
                *([] if whole_unit else _of_officer(table.officer, officer)),
            )
            .group_by(rolled_column, table.score)
        )
        for key, score, n in session.execute(rolled):
            counts[(key, int(score))] += int(n)
    raw_column = getattr(RatingRow, column)
    for start, end in period.edges:
        raw = (
            select(raw_column, RatingRow.score, func.count())
            .where(
                RatingRow.unit == unit.unit.code,
                RatingRow.rated_at >= start,
                RatingRow.rated_at < end,
                RatingRow.counted.is_(True),  # what the rollups count (hub.domain.register)
                *_of_officer(RatingRow.officer, officer),
            )
            .group_by(raw_column, RatingRow.score)
        )
        for key, score, n in session.execute(raw):
            counts[(key, int(score))] += int(n)
    return counts


def unit_totals(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    zone: tzinfo = LOCAL_ZONE,
) -> tuple[int, int]:
    """(ratings, satisfied) of the whole unit in ``[since, until)``: the dashboard's headlines."""
    period = Period.split(since, until, zone)
    counts = _rating_counts(session, unit, period, "unit", None)
    n = sum(counts.values())
    satisfied = sum(c for (_, score), c in counts.items() if Score(score).is_satisfied)
    return n, satisfied


@dataclass(frozen=True)
class Uncounted:
    """Ratings of a period kept apart from the headline figures (hub.domain.register):
    ``unverified``, codes the register does not know (out of the figures unless the unit counts
    them); ``suspect``, receipt-less or unverified ratings of a kiosk too close to another (never
    counted); ``mismatched``, ratings whose kiosk claimed what the register contradicts (counted
    as the register attributes them, when their code is known)."""

    unverified: int = 0
    suspect: int = 0
    mismatched: int = 0


def uncounted_totals(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Uncounted:
    """Counted from ``ratings`` itself (through the index on unit and time), since the rollups
    hold only what counts. A naive bound is taken as UTC."""
    where: list[ColumnElement[bool]] = [RatingRow.unit == unit.unit.code]
    if since is not None:
        where.append(RatingRow.rated_at >= _utc(since))
    if until is not None:
        where.append(RatingRow.rated_at < _utc(until))
    unverified = RatingRow.dossier_code.is_not(None) & RatingRow.receipt_known.is_(False)
    mismatched = RatingRow.claim_mismatch.is_not(None)
    suspect = RatingRow.suspect.is_(True)
    keys = (unverified, suspect, mismatched)
    query = select(*keys, func.count()).where(*where, unverified | suspect | mismatched)
    totals = [0, 0, 0]
    for *flags, n in session.execute(query.group_by(*keys)):
        for i, flag in enumerate(flags):
            totals[i] += int(n) if flag else 0
    return Uncounted(*totals)


def stage_summary(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    officer: str | None = None,
    zone: tzinfo = LOCAL_ZONE,
) -> list[GroupSummary]:
    """MĐHL per service moment (tiếp nhận, trả kết quả), both always listed, in that order."""
    period = Period.split(since, until, zone)
    counts = _rating_counts(session, unit, period, "stage", officer)
    found = {s.key: s for s in summarize([(k, s, n) for (k, s), n in counts.items()], STAGE_NAMES)}
    lines = [
        found.pop(stage.value) if stage.value in found else _empty(stage.value, STAGE_NAMES[stage])
        for stage in Stage
    ]
    return lines + sorted(found.values(), key=lambda s: s.name)


def factor_table(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    officer: str | None = None,
    zone: tzinfo = LOCAL_ZONE,
) -> list[GroupSummary]:
    """The provincial SIPAS report's table (seed 000): MĐHL per factor in the survey's order
    (access, procedure, officer, result, feedback; a factor nobody answered has n = 0), then the
    service overall (key :data:`OVERALL`, from every rating's score)."""
    period = Period.split(since, until, zone)
    found = {
        s.key: s for s in summarize(_factor_counts(session, unit, period, officer), FACTOR_NAMES)
    }
    lines = [found.get(f.value) or _empty(f.value, FACTOR_NAMES[f.value]) for f in Factor]
    scores = _rating_counts(session, unit, period, "unit", officer)
    overall = summarize([(OVERALL, s, n) for (_, s), n in scores.items()], {OVERALL: OVERALL_NAME})
    return lines + (overall or [_empty(OVERALL, OVERALL_NAME)])


def score_distribution(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    officer: str | None = None,
    zone: tzinfo = LOCAL_ZONE,
) -> list[ScoreShare]:
    """The ratings of the period on each of the 5 levels, "Rất hài lòng" first (the kiosk's order)."""
    period = Period.split(since, until, zone)
    per_score: Counter[int] = Counter()
    for (_, score), n in _rating_counts(session, unit, period, "unit", officer).items():
        per_score[score] += n
    total = sum(per_score.values())
    return [
        ScoreShare(score, per_score[score], satisfaction_rate(per_score[score], total))
        for score in sorted(Score, reverse=True)
    ]


def reason_table(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    officer: str | None = None,
    zone: tzinfo = LOCAL_ZONE,
) -> list[ReasonLine]:
    """The reasons cited in the period, most cited first, named from the unit's catalogue."""
    catalogue = {reason.code: reason for reason in unit.reasons}
    lines = []
    for code, n in reason_counts(session, unit, since, until, officer=officer, zone=zone):
        known = catalogue.get(code)
        if known is None:
            lines.append(ReasonLine(code, code, code, None, n))
        else:
            lines.append(ReasonLine(code, known.name, known.name_en, known.factor, n))
    return lines


def hour_heat_map(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    zone: tzinfo = LOCAL_ZONE,
) -> HeatMap:
    """Ratings and MĐHL per local weekday and hour of the day, from ``hour_rollups`` (whole days)
    and ``ratings`` (the cut parts of days at the period's edges)."""
    period = Period.split(since, until, zone)
    totals: Counter[tuple[int, int]] = Counter()
    satisfied: Counter[tuple[int, int]] = Counter()

    def count(weekday: int, hour: int, score: int, n: int) -> None:
        totals[(weekday, hour)] += n
        if Score(score).is_satisfied:
            satisfied[(weekday, hour)] += n

    for table, when in rollup_parts(period, HourRollupRow, HourMonthRollupRow):
        # A month's rows carry the weekday; a day's give it by their date.
        weekday = table.weekday if table is HourMonthRollupRow else table.day
        rolled = (
            select(weekday, table.hour, table.score, func.sum(table.n))
            .where(table.unit == unit.unit.code, when)
            .group_by(weekday, table.hour, table.score)
        )
        for day, hour, score, n in session.execute(rolled):
            count(day if isinstance(day, int) else day.weekday(), int(hour), int(score), int(n))
    for start, end in period.edges:
        raw = select(RatingRow.rated_at, RatingRow.score).where(
            RatingRow.unit == unit.unit.code,
            RatingRow.rated_at >= start,
            RatingRow.rated_at < end,
            RatingRow.counted.is_(True),
        )
        for rated_at, score in session.execute(raw):
            local = _utc(rated_at).astimezone(zone)
            count(local.weekday(), local.hour, int(score), 1)
    cells = {key: HeatCell(n, satisfied[key]) for key, n in totals.items()}
    hours = sorted({*OPENING_HOURS, *(hour for _, hour in cells)})
    return HeatMap(tuple(hours), cells)


def analysis(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    officer: str | None = None,
    zone: tzinfo = LOCAL_ZONE,
) -> Analysis:
    """The dashboard's analysis of ``[since, until)``; with ``officer``, only that officer's
    ratings, and no heat map (``hour_rollups`` are per unit, not per officer)."""
    bounds = (session, unit, since, until)
    return Analysis(
        stages=stage_summary(*bounds, officer=officer, zone=zone),
        factors=factor_table(*bounds, officer=officer, zone=zone),
        distribution=score_distribution(*bounds, officer=officer, zone=zone),
        reasons=reason_table(*bounds, officer=officer, zone=zone),
        heat_map=hour_heat_map(*bounds, zone=zone) if officer is None else None,
    )


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
