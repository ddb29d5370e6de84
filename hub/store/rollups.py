"""The rollups: what every figure counts, written and read here only.

The tables (:mod:`hub.store.models`) count the stored ratings that count (hub.domain.register) per
local day in four tables (scores per key, survey answers per factor, reasons, scores per hour) and
per local month in their twins, whose key is the day's with ``month`` (and, for the heat map,
``weekday``) for ``day``, less the columns the twin leaves out. Beside them, the channel rollups
(revision 0016: unit, day or month, channel, assisted, score) count the same ratings per channel,
written by the same call and read by :func:`channel_counts` through the same plan.

Write side: :func:`add_to_rollups`, in the ingest transaction; one ``INSERT ... ON CONFLICT DO
UPDATE SET n = n + excluded.n`` per table and batch, keys in order so two hubs writing the same
keys take their row locks in the same order.

Read side: :func:`counts` of a :class:`Scope`. Its :class:`Plan` reads whole local months from the
monthly tables, the whole days around them from the daily ones (at most a month's worth at each
end) and the cut parts of days at its edges from ``ratings``, counted by the very function that
fills the rollups: figures are exact for any bounds, and whole days never touch ``ratings``. A
year's dashboard so reads 12 months of monthly rows instead of 250 days of daily ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, func, literal, select, true, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hailong.contract.clock import UNIT_ZONE
from hailong.contract.scale import Channel
from hailong.settings import Unit
from hub.domain.periods import as_utc
from hub.store.models import (
    NO_VALUE,
    ChannelMonthRollupRow,
    ChannelRollupRow,
    FactorMonthRollupRow,
    FactorRollupRow,
    FieldMonthRollupRow,
    HourMonthRollupRow,
    HourRollupRow,
    RatingMonthRollupRow,
    RatingRollupRow,
    RatingRow,
    ReasonMonthRollupRow,
    ReasonRollupRow,
    UnitFactorMonthRollupRow,
)

# The default clock; the day of a rollup is its unit's local date, on the unit's ``time_zone``.
LOCAL_ZONE: tzinfo = UNIT_ZONE


@dataclass(frozen=True)
class Scope:
    """The ratings a figure counts: the unit's, rated in ``[since, until)`` (None: open on that
    side; a naive bound is UTC, as the database stores times), only ``officer``'s when given.
    ``zone`` must be the one the rollups were written with (``store_batch``'s): the unit's own
    ``time_zone``, which it is unless another is given."""

    unit: Unit
    since: datetime | None = None
    until: datetime | None = None
    officer: str | None = None
    zone: tzinfo = LOCAL_ZONE

    def __post_init__(self) -> None:
        if self.zone is LOCAL_ZONE:  # the default: the unit's clock
            object.__setattr__(self, "zone", self.unit.zone)


# -- the tables ------------------------------------------------------------------------------------

_DERIVED = ("month", "weekday")  # what a monthly key takes from the daily key's ``day``


def _derived(day: date) -> tuple[date, int]:
    return day.replace(day=1), day.weekday()


class _Family:
    """A daily rollup table and its monthly twin. The monthly key is worked out from the daily
    one by column name (``month`` and ``weekday`` from ``day``), and a read knows what it can
    group by from the same names: a new rollup is a pair of models and a line below."""

    def __init__(self, daily: Any, monthly: Any) -> None:
        self.daily, self.monthly = daily, monthly
        self.names: tuple[str, ...] = _key_names(daily)
        monthly_names = _key_names(monthly)
        extended = (*self.names, *_DERIVED)
        self._to_month = itemgetter(*(extended.index(name) for name in monthly_names))
        # The columns a read across both tables can group by.
        self.readable = frozenset(extended) & frozenset(monthly_names)

    def by_month(self, counts: Mapping[tuple[Any, ...], int]) -> Counter[tuple[Any, ...]]:
        """Daily counts (unit, day, ...) folded into the monthly twin's keys."""
        months: Counter[tuple[Any, ...]] = Counter()
        for key, n in counts.items():
            months[self._to_month((*key, *_derived(key[1])))] += n
        return months


def _key_names(model: Any) -> tuple[str, ...]:
    return tuple(column.name for column in model.__table__.primary_key.columns)


RATINGS = _Family(RatingRollupRow, RatingMonthRollupRow)
FACTORS = _Family(FactorRollupRow, FactorMonthRollupRow)
REASONS = _Family(ReasonRollupRow, ReasonMonthRollupRow)
HOURS = _Family(HourRollupRow, HourMonthRollupRow)
FAMILIES = (RATINGS, FACTORS, REASONS, HOURS)  # the order the upserts take their locks in
# Monthly folds of two of them with the same daily tables (revision 0018), written after the four:
# per unit, month, field and score, and per unit, month, factor and score.
FIELDS = _Family(RatingRollupRow, FieldMonthRollupRow)
UNIT_FACTORS = _Family(FactorRollupRow, UnitFactorMonthRollupRow)
CHANNELS = _Family(ChannelRollupRow, ChannelMonthRollupRow)
# A read takes the first that holds its columns: the channel rollups hold a handful of rows per
# unit and day, the hourly ones ~50 where the fine ones hold thousands (a year's dashboard
# headline read 150,000 rows otherwise); the province page's fields and factors of 150 units read
# the 0018 folds (~120,000 rows a quarter from the fine monthly tables at 3 million ratings).
_SMALLEST_FIRST = (CHANNELS, HOURS, FIELDS, UNIT_FACTORS, RATINGS, FACTORS, REASONS)


# -- the write side --------------------------------------------------------------------------------


def add_to_rollups(
    session: Session, rows: Iterable[Mapping[str, Any]], zone: tzinfo = LOCAL_ZONE
) -> None:
    """Count ``rows`` (the values of ratings being stored in this transaction, see
    :func:`hub.store.ratings.rating_values`) in the four daily rollup tables and their twins,
    and per channel (:func:`_add_channel_counts`)."""
    rows = rows if isinstance(rows, Sequence) else list(rows)  # read twice
    daily = _daily_counts(rows, zone)
    for family, counted in zip(FAMILIES, daily, strict=True):
        _upsert_counts(session, family.daily.__table__, counted)
    for family, counted in zip(FAMILIES, daily, strict=True):
        _upsert_counts(session, family.monthly.__table__, family.by_month(counted))
    _upsert_counts(session, FIELDS.monthly.__table__, FIELDS.by_month(daily[0]))
    _upsert_counts(session, UNIT_FACTORS.monthly.__table__, UNIT_FACTORS.by_month(daily[1]))
    _add_channel_counts(session, rows, zone)


def _daily_counts(
    rows: Iterable[Mapping[Any, Any]], zone: tzinfo
) -> tuple[Counter[tuple[Any, ...]], ...]:
    """The daily rollups' keys of ``rows`` and their counts, one Counter per table of
    :data:`FAMILIES`. The hub's hot path: plain tuples in the tables' key order."""
    scores: Counter[tuple[Any, ...]] = Counter()
    factors: Counter[tuple[Any, ...]] = Counter()
    reasons: Counter[tuple[Any, ...]] = Counter()
    hours: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        local = row["rated_at"].astimezone(zone)
        key = (
            row["unit"],
            local.date(),
            row["stage"],
            row["counter"] or NO_VALUE,
            row["officer"] or NO_VALUE,
            row["procedure"] or NO_VALUE,
            row["field"] or NO_VALUE,
        )
        scores[(*key, row["score"])] += 1
        hours[(key[0], key[1], local.hour, row["score"])] += 1
        for factor, score in row["factors"].items():
            factors[(*key, factor, score)] += 1
        for reason in set(row["reasons"]):
            reasons[(*key, reason)] += 1
    return scores, factors, reasons, hours


def _upsert_counts(session: Session, table: Any, counts: Mapping[tuple[Any, ...], int]) -> None:
    """Add ``n`` to each key's row, creating it when missing (SQLite >= 3.24 and PostgreSQL)."""
    if not counts:
        return
    assert isinstance(table, Table)
    # make_engine accepts only these two back-ends (hub.store.db.SUPPORTED_BACKENDS).
    dialect = session.get_bind().dialect.name
    upsert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    names = [column.name for column in table.primary_key.columns]
    statement = upsert.on_conflict_do_update(
        index_elements=names, set_={"n": table.c.n + upsert.excluded.n}
    )
    session.execute(
        statement,
        [{**dict(zip(names, key, strict=True)), "n": n} for key, n in sorted(counts.items())],
    )


# -- the read side ---------------------------------------------------------------------------------

# What the write side reads of a rating: the cut days are counted from these columns of ``ratings``.
_RAW = ("unit", "rated_at", "stage", "counter", "officer", "procedure", "field", "score")
_RAW_COLUMNS = [getattr(RatingRow, name) for name in (*_RAW, "factors", "reasons")]
_CHANNEL_COLUMNS = [RatingRow.channel, RatingRow.assisted]  # what _channel_daily reads besides


def counts(session: Session, scope: Scope, *columns: str) -> Counter[tuple[Any, ...]]:
    """The counted ratings of ``scope`` per value of ``columns`` (rollup columns: ``stage``,
    ``counter``, ``officer``, ``procedure``, ``field`` (:data:`NO_VALUE` for none), ``score``,
    ``factor``, ``reason``, ``hour``, ``weekday``), from the smallest rollup that holds them all.
    A survey answer counts once per factor, a rating once per reason it cites."""
    code = scope.unit.unit.code
    return counts_of_units(
        session, [code], scope.since, scope.until, *columns, officer=scope.officer, zone=scope.zone
    )[code]


def grouped_counts(
    session: Session, scope: Scope, groupings: Sequence[tuple[str, ...]]
) -> list[Counter[tuple[Any, ...]]]:
    """:func:`counts` of ``scope`` per each of ``groupings`` (a tuple of columns each, all read
    from one rollup), in that order, from one read per part of the plan. On PostgreSQL the
    database sums each grouping (``GROUPING SETS``): a provincial centre's dashboard gets ~700
    rows instead of its ~5,000 finest keys to fold in Python; elsewhere the finest keys are
    read and folded here. The cut days are counted from ``ratings`` as :func:`counts` does."""
    columns = tuple(dict.fromkeys(name for grouping in groupings for name in grouping))
    family = _family(columns, scope.officer)
    postgres = session.get_bind().dialect.name == "postgresql"
    if not postgres or not set(columns) <= set(family.names):
        return _fold(counts(session, scope, *columns), columns, groupings)
    code = scope.unit.unit.code
    plan = Plan.split(scope.since, scope.until, scope.zone)
    found: list[Counter[tuple[Any, ...]]] = [Counter() for _ in groupings]
    # GROUPING(columns...) of a row: a bit per column, the first the highest, set when the row's
    # grouping leaves that column out (then NULL): it names the grouping the row sums.
    width = len(columns)
    which = {
        sum(1 << (width - 1 - at) for at, name in enumerate(columns) if name not in grouping): (
            i,
            [columns.index(name) for name in grouping],
        )
        for i, grouping in enumerate(groupings)
    }
    connection = session.connection()
    for table, when in plan.parts(family):
        t = table.__table__
        selected = [t.c[name] for name in columns]
        sets = [tuple_(*(t.c[name] for name in grouping)) for grouping in groupings]
        mine = [] if scope.officer is None else [t.c.officer == scope.officer]
        rolled = (
            select(func.grouping(*selected), *selected, func.sum(t.c.n))
            .where(t.c.unit == code, when, *mine)
            .group_by(func.grouping_sets(*sets))
        )
        for mask, *read, n in connection.execute(rolled):
            i, picks = which[mask]
            found[i][tuple(read[at] for at in picks)] += int(n)
    for values, n in _edge_counts(session, [code], plan, family, scope.officer, scope.zone):
        for i, grouping in enumerate(groupings):
            found[i][tuple(values[name] for name in grouping)] += n
    return found


def _fold(
    fine: Mapping[tuple[Any, ...], int],
    columns: Sequence[str],
    groupings: Sequence[tuple[str, ...]],
) -> list[Counter[tuple[Any, ...]]]:
    """``fine`` (counts per ``columns``) summed down to each of ``groupings``, in one pass."""
    picks = [[columns.index(name) for name in grouping] for grouping in groupings]
    sums: list[dict[tuple[Any, ...], int]] = [{} for _ in groupings]
    for key, n in fine.items():
        for pick, summed in zip(picks, sums, strict=True):
            part = tuple(key[at] for at in pick)
            summed[part] = summed.get(part, 0) + n
    return [Counter(summed) for summed in sums]


def counts_of_units(
    session: Session,
    units: Iterable[str],
    since: datetime | None,
    until: datetime | None,
    *columns: str,
    officer: str | None = None,
    zone: tzinfo = LOCAL_ZONE,
) -> dict[str, Counter[tuple[Any, ...]]]:
    """:func:`counts` of many units (by code) at once: one query per part of the plan, grouped
    by unit, however many the units (a province's 150 units in a handful of queries, not one
    each). Every unit asked for is in the answer (an empty Counter when it has no rating)."""
    return _counts_of(session, units, since, until, columns, officer, zone, per_unit=True)


def counts_across_units(
    session: Session,
    units: Iterable[str],
    since: datetime | None,
    until: datetime | None,
    *columns: str,
    officer: str | None = None,
    zone: tzinfo = LOCAL_ZONE,
) -> Counter[tuple[Any, ...]]:
    """:func:`counts_of_units` summed over the units by the database: the trend page wants the
    province's months, not 150 units x 24 months x 5 scores rows to add up in Python."""
    return _counts_of(session, units, since, until, columns, officer, zone, per_unit=False)[""]


def _counts_of(
    session: Session,
    units: Iterable[str],
    since: datetime | None,
    until: datetime | None,
    columns: Sequence[str],
    officer: str | None,
    zone: tzinfo,
    per_unit: bool,
) -> dict[str, Counter[tuple[Any, ...]]]:
    """Per unit code (``per_unit``) or all under the key ``""``."""
    codes = sorted(set(units))
    found: dict[str, Counter[tuple[Any, ...]]] = {
        code: Counter() for code in (codes if per_unit else [""])
    }
    if not codes:
        return found
    family = _family(columns, officer)
    plan = Plan.split(since, until, zone)
    # Core rows straight from the driver (session.connection()): the ORM's row processing cost
    # a provincial centre's quarter ~35 ms for its ~5,000 rows (bench/province.py).
    connection = session.connection()
    for table, when in plan.parts(family):
        t = table.__table__
        sources = [name if name in t.c else "day" for name in columns]
        selected = [t.c.unit if per_unit else literal(""), *(t.c[n] for n in sources)]
        mine = [] if officer is None else [t.c.officer == officer]
        rolled = (
            select(*selected, func.sum(t.c.n))
            .where(t.c.unit.in_(codes), when, *mine)
            .group_by(*selected[0 if per_unit else 1 :])
        )
        direct = list(sources) == list(columns)  # no month or weekday to derive from a day
        for unit, *read, n in connection.execute(rolled):
            if n is None:  # no GROUP BY over no row: one row of NULL
                continue
            key = tuple(read) if direct else _pick(dict(zip(sources, read, strict=True)), columns)
            found[unit][key] += int(n)
    for values, n in _edge_counts(session, codes, plan, family, officer, zone):
        found[values["unit"] if per_unit else ""][_pick(values, columns)] += n
    return found


def _edge_counts(
    session: Session,
    codes: Sequence[str],
    plan: Plan,
    family: _Family,
    officer: str | None,
    zone: tzinfo,
) -> Iterable[tuple[dict[str, Any], int]]:
    """The cut days of ``plan`` counted from ``ratings`` under ``family``'s daily key, as
    (values by column name, n): by the very function that fills that daily table."""
    for start, end in plan.edges:
        raw = select(*_RAW_COLUMNS, *_CHANNEL_COLUMNS).where(
            RatingRow.unit.in_(codes),
            RatingRow.rated_at >= start,
            RatingRow.rated_at < end,
            RatingRow.counted.is_(True),  # what the rollups count (hub.domain.register)
        )
        for key, n in _cut_counts(family, session.execute(raw).mappings(), zone).items():
            values = dict(zip(family.names, key, strict=True))
            if officer is None or values["officer"] == officer:
                yield values, n


Tallies = dict[Any, tuple[int, int]]  # a column's value -> (ratings, of which satisfied)


def tallies_of_units(
    session: Session,
    units: Iterable[str],
    since: datetime | None,
    until: datetime | None,
    column: str,
    satisfied: Collection[int],
    zone: tzinfo = LOCAL_ZONE,
) -> dict[str, Tallies]:
    """Per unit code of ``units`` and value of ``column``: its counted ratings and those whose
    score is in ``satisfied``, summed by the database (``SUM(CASE ...)``): :func:`counts_of_units`
    of ``column`` and ``score`` folded over the scores, in a fifth of the rows (the province
    page's fields and factors of 150 units for a year: ~70,000 rollup rows read, ~1,500 sent).
    Every unit asked for is in the answer (empty when it has no rating)."""
    codes = sorted(set(units))
    found: dict[str, dict[Any, list[int]]] = {code: {} for code in codes}
    if not codes:
        return {}
    family = _family((column, "score"), None)
    if column not in family.names:  # a month or weekday is derived from a day: not summed here
        raise ValueError(f"{column} is not a column of the daily rollups")
    plan = Plan.split(since, until, zone)
    good = sorted(set(satisfied))
    connection = session.connection()
    for table, when in plan.parts(family):
        t = table.__table__
        ok = func.sum(case((t.c.score.in_(good), t.c.n), else_=0))
        rolled = (
            select(t.c.unit, t.c[column], func.sum(t.c.n), ok)
            .where(t.c.unit.in_(codes), when)
            .group_by(t.c.unit, t.c[column])
        )
        for unit, key, n, n_ok in connection.execute(rolled):
            line = found[unit].setdefault(key, [0, 0])
            line[0] += int(n)
            line[1] += int(n_ok)
    for values, n in _edge_counts(session, codes, plan, family, None, zone):
        line = found[values["unit"]].setdefault(values[column], [0, 0])
        line[0] += n
        line[1] += n if values["score"] in good else 0
    return {unit: {k: (v[0], v[1]) for k, v in lines.items()} for unit, lines in found.items()}


def all_time_at_or_below(session: Session, unit: str, score: int) -> int:
    """The unit's counted ratings of ``score`` or lower ever: the follow-up page's open count,
    read from the daily table (every counted rating is in it) without planning a period."""
    total = select(func.coalesce(func.sum(RatingRollupRow.n), 0)).where(
        RatingRollupRow.unit == unit, RatingRollupRow.score <= score
    )
    return int(session.scalar(total) or 0)


def _cut_counts(
    family: _Family, rows: Iterable[Mapping[Any, Any]], zone: tzinfo
) -> Counter[tuple[Any, ...]]:
    """The cut days' ``rows`` counted under ``family``'s daily key, by the function that fills
    that daily table."""
    if family.daily is ChannelRollupRow:
        return _channel_daily(rows, zone)
    return _daily_counts(rows, zone)[[f.daily for f in FAMILIES].index(family.daily)]


def _family(columns: Sequence[str], officer: str | None) -> _Family:
    wanted = {*columns, *(["officer"] if officer is not None else [])}
    for family in _SMALLEST_FIRST:
        if wanted <= family.readable:
            return family
    raise ValueError(f"no rollup holds {sorted(wanted)} for a whole period")


def _pick(values: Mapping[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    """``columns`` of a rollup row (its values by column name): a daily row's ``month`` and
    ``weekday`` from its ``day``."""
    return tuple(
        values[name] if name in values else _derived(values["day"])[_DERIVED.index(name)]
        for name in columns
    )


# -- the plan: whole months, whole days, cut days ------------------------------------------------

DaySpan = tuple[date | None, date | None]  # [first, end) of local days; None: open on that side


@dataclass(frozen=True)
class Plan:
    """``[since, until)`` split into whole local months (read from the monthly rollups), whole
    local days outside them (the daily rollups) and at most two cut days at its edges (read from
    ``ratings``). Bounds are UTC."""

    months: DaySpan | None  # first days of the months [first, end); None: no whole month
    days: tuple[DaySpan, ...]  # the whole days before and after those months
    edges: tuple[tuple[datetime, datetime], ...]

    @classmethod
    def split(cls, since: datetime | None, until: datetime | None, zone: tzinfo) -> Plan:
        start = as_utc(since) if since is not None else None
        end = as_utc(until) if until is not None else None
        first_day = _day_on_or_after(start, zone) if start is not None else None
        end_day = end.astimezone(zone).date() if end is not None else None
        if start and end and first_day and end_day and first_day >= end_day:
            # Within a day or two: no whole day between the bounds, all of it from ``ratings``.
            return cls(None, (), ((start, end),) if start < end else ())
        edges = []
        if start is not None and first_day is not None and start < _midnight(first_day, zone):
            edges.append((start, _midnight(first_day, zone)))
        if end is not None and end_day is not None and _midnight(end_day, zone) < end:
            edges.append((_midnight(end_day, zone), end))
        months, days = _split_months(first_day, end_day)
        return cls(months, days, tuple(edges))

    def parts(self, family: _Family) -> list[tuple[Any, ColumnElement[bool]]]:
        """The tables to read for the whole days, each with its WHERE on the time: the monthly
        table for the whole months, the daily one for the rest."""
        found: list[tuple[Any, ColumnElement[bool]]] = []
        if self.months is not None:
            found.append((family.monthly, _within(family.monthly.month, self.months)))
        found += [(family.daily, _within(family.daily.day, span)) for span in self.days]
        return found


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


def _within(column: Any, span: DaySpan) -> ColumnElement[bool]:
    """A rollup's ``day`` or ``month`` column within ``span``."""
    first, end = span
    clauses = [] if first is None else [column >= first]
    return and_(true(), *clauses, *([] if end is None else [column < end]))


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _day_on_or_after(moment: datetime, zone: tzinfo) -> date:
    """The first local day that starts at or after ``moment``."""
    day = moment.astimezone(zone).date()
    return day if _midnight(day, zone) == moment else day + timedelta(days=1)


# -- the channels: every channel in one count, each still visible ---------------------------------

ChannelKey = tuple[str, bool, int]  # (channel, assisted, score)


def _channel_daily(rows: Iterable[Mapping[Any, Any]], zone: tzinfo) -> Counter[tuple[Any, ...]]:
    """``channel_rollups``' keys of ``rows`` (unit, local day, channel, assisted, score) and their
    counts. A row without ``channel`` or ``assisted`` (a caller that read only the columns the four
    older rollups need) takes the contract's defaults: a kiosk's rating, not assisted."""
    found: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        day = row["rated_at"].astimezone(zone).date()
        channel = row.get("channel") or Channel.KIOSK.value
        found[(row["unit"], day, channel, bool(row.get("assisted")), row["score"])] += 1
    return found


def _add_channel_counts(
    session: Session, rows: Iterable[Mapping[str, Any]], zone: tzinfo = LOCAL_ZONE
) -> None:
    """The channel rollups' share of :func:`add_to_rollups`: after the four families, so every
    writer takes its row locks in the same order."""
    daily = _channel_daily(rows, zone)
    _upsert_counts(session, CHANNELS.daily.__table__, daily)
    _upsert_counts(session, CHANNELS.monthly.__table__, CHANNELS.by_month(daily))


def channel_counts(session: Session, scope: Scope) -> Counter[ChannelKey]:
    """The counted ratings of ``scope`` per (channel, assisted, score), exact for any bounds (the
    same :class:`Plan` as :func:`counts`). The channel rollups are per unit: a scope naming an
    officer is refused rather than answered with the whole unit's figures."""
    if scope.officer is not None:
        raise ValueError("the channel rollups are kept per unit, not per officer")
    code = scope.unit.unit.code
    return channel_counts_of_units(session, [code], scope.since, scope.until, scope.zone)[code]


def channel_counts_of_units(
    session: Session,
    units: Iterable[str],
    since: datetime | None,
    until: datetime | None,
    zone: tzinfo = LOCAL_ZONE,
) -> dict[str, Counter[ChannelKey]]:
    """:func:`channel_counts` of many units (by code) at once, one query per part of the plan
    whatever their number: a province's report reads its 150 units' channels in a few queries.
    Every unit asked for is in the answer (an empty Counter when it has no rating)."""
    codes = sorted(set(units))
    found: dict[str, Counter[ChannelKey]] = {code: Counter() for code in codes}
    if not codes:
        return found
    plan = Plan.split(since, until, zone)
    for table, when in plan.parts(CHANNELS):
        keys = (table.unit, table.channel, table.assisted, table.score)
        rolled = select(*keys, func.sum(table.n)).where(table.unit.in_(codes), when).group_by(*keys)
        for unit, channel, assisted, score, n in session.execute(rolled):
            found[unit][(channel, bool(assisted), int(score))] += int(n)
    for start, end in plan.edges:
        raw = select(
            RatingRow.unit,
            RatingRow.rated_at,
            RatingRow.channel,
            RatingRow.assisted,
            RatingRow.score,
        ).where(
            RatingRow.unit.in_(codes),
            RatingRow.rated_at >= start,
            RatingRow.rated_at < end,
            RatingRow.counted.is_(True),  # what the rollups count (hub.domain.register)
        )
        for (unit, _day, channel, assisted, score), n in _channel_daily(
            session.execute(raw).mappings(), zone
        ).items():
            found[unit][(channel, assisted, score)] += n
    return found


# -- what the rollups leave out --------------------------------------------------------------------


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


def uncounted_totals(session: Session, scope: Scope) -> Uncounted:
    """Counted from ``ratings`` itself (through the index on unit and time), since the rollups
    hold only what counts. The whole unit's, whatever the scope's officer."""
    where: list[ColumnElement[bool]] = [RatingRow.unit == scope.unit.unit.code]
    if scope.since is not None:
        where.append(RatingRow.rated_at >= as_utc(scope.since))
    if scope.until is not None:
        where.append(RatingRow.rated_at < as_utc(scope.until))
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
