"""Coverage kept as it happens and read from its rollups: receipts issued in a period, and how many
were rated or abandoned (the rule is :mod:`hub.domain.coverage`'s, whose
:func:`~hub.domain.coverage.tally` the tests hold these reads to).

Write side (revision 0015), in the transaction of the event, by the one place each event is
stored:

* a receipt inserted (issued or registered: :func:`count_receipt`, from the ORM's
  ``before_insert`` on ``ReceiptRow``, so every way a receipt enters the register counts): +1
  issued on its unit's local issue day, counter, officer and procedure; and, should a counted
  reception rating or an abandoned session already name the code (stored before the receipt was
  registered), its outcome at once;
* a counted reception rating stored (:func:`count_ratings`, from ``store_batch``: kiosk, online
  and paper alike): ``receipts.rated`` set, +1 rated on the receipt's issue-day row, and -1
  abandoned when ``receipts.abandoned`` was set (abandoned then rated is rated);
* an abandoned session at the reception stored (:func:`count_abandoned`, from
  ``store_abandoned`` and the ORM hook): ``receipts.abandoned`` set on the first one, and +1
  abandoned unless ``receipts.rated``.

Both flags are flipped with ``UPDATE receipts ... WHERE NOT flag RETURNING`` the other flag: the
update takes the receipt's row lock, and PostgreSQL re-reads the row once the lock is free, so a
rating and an abandoned session of one receipt stored by two workers at once see each other and
count it once (on SQLite writers take turns anyway). A rating batch and an abandoned-session
batch of one unit's same receipts, committed at once by two workers, can deadlock on PostgreSQL;
it detects that and fails one, which the ingest retries as a transient error
(:func:`hub.store.db.is_transient`). The counts go in with the rating rollups' upsert
(``n = n + excluded.n``, :func:`hub.store.rollups._upsert_counts`), so concurrent writers never
lose an increment. Two
tables: ``coverage_rollups`` per (unit, day, counter, officer, procedure, outcome), for a unit's
tables; ``coverage_day_rollups`` per (unit, day, outcome), for units' totals (the province view,
the dashboard's headline): a quarter of 150 units is ~40,000 rows there. And their monthly twins
(revision 0020), written by the same upsert: ``coverage_month_rollups`` and
``coverage_unit_month_rollups``, keyed by the first day of the local issue month.

Read side: the periods bound ``issued_at`` (the cohort is the receipts). Whole local days come
from the rollups; a period that starts or ends within a day (an API caller's bounds, "today until
now") has that cut day counted from ``receipts`` by :func:`register_tallies`, the ``GROUP BY``
the rollups replaced, so the figures are exact for any bounds (the rating rollups' rule,
:class:`hub.store.rollups.Plan`): whole local months from the monthly twins, the whole days
around them from the daily tables. A province's year read ~76,000 day rows (~25 ms at 3 million
ratings); its months are ~5,400.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import Session, object_session

from hub.domain.coverage import COVERED_STAGE, GroupKey, Outcome, Tally
from hub.domain.periods import as_utc
from hub.store.models import (
    AbandonedSessionRow,
    CoverageDayRollupRow,
    CoverageMonthRollupRow,
    CoverageRollupRow,
    CoverageUnitMonthRollupRow,
    RatingRow,
    ReceiptRow,
)
from hub.store.rollups import LOCAL_ZONE, DaySpan, Plan, Scope
from hub.store.rollups import _upsert_counts as upsert_counts  # the rating rollups' upsert

ISSUED = "issued"
RATED = Outcome.RATED.value
ABANDONED = Outcome.ABANDONED.value
_STAGE = COVERED_STAGE.value
_RECEIPTS: Table = ReceiptRow.__table__  # type: ignore[assignment]
_FINE: Table = CoverageRollupRow.__table__  # type: ignore[assignment]
_DAILY: Table = CoverageDayRollupRow.__table__  # type: ignore[assignment]
_MONTHLY: Table = CoverageMonthRollupRow.__table__  # type: ignore[assignment]
_UNIT_MONTHLY: Table = CoverageUnitMonthRollupRow.__table__  # type: ignore[assignment]

# (unit, local issue day, counter, officer, procedure, outcome): coverage_rollups' key order.
_Key = tuple[str, date, str, str, str, str]


# -- the write side --------------------------------------------------------------------------------


# ``Session.info`` key: unit code -> its time zone, set by the writers that know their unit
# (:func:`use_zone`: issuing, ``store_batch``, ``store_abandoned``); a unit not there is on the
# default clock. The ORM hooks below have only the session to ask.
ZONES = "hailong.unit_zones"


def use_zone(session: Session, unit: str, zone: tzinfo) -> None:
    """Count ``unit``'s receipts on ``zone``'s days in this session (the unit's ``time_zone``)."""
    session.info.setdefault(ZONES, {})[unit] = zone


def _day(session: Session, unit: str, issued_at: datetime) -> date:
    """The unit's local issue day (the dossier code's day, hailong.contract.clock)."""
    return issued_at.astimezone(session.info.get(ZONES, {}).get(unit, LOCAL_ZONE)).date()


def _add(session: Session, deltas: Mapping[_Key, int]) -> None:
    """Add ``deltas`` to the coverage rollups: the fine keys, the day totals, then their monthly
    twins (revision 0020), each in key order: every writer takes its row locks in the same
    order. The month is the local issue day's, so it follows whatever zone made the day."""
    fine = {key: n for key, n in deltas.items() if n}
    totals: Counter[tuple[str, date, str]] = Counter()
    months: Counter[_Key] = Counter()
    month_totals: Counter[tuple[str, date, str]] = Counter()
    for (unit, day, counter, officer, procedure, outcome), n in fine.items():
        month = day.replace(day=1)
        totals[(unit, day, outcome)] += n
        months[(unit, month, counter, officer, procedure, outcome)] += n
        month_totals[(unit, month, outcome)] += n
    upsert_counts(session, _FINE, fine)
    upsert_counts(session, _DAILY, {key: n for key, n in totals.items() if n})
    upsert_counts(session, _MONTHLY, {key: n for key, n in months.items() if n})
    upsert_counts(session, _UNIT_MONTHLY, {key: n for key, n in month_totals.items() if n})


def _rated_exists(unit: Any, code: Any) -> ColumnElement[bool]:
    return exists().where(
        RatingRow.unit == unit,
        RatingRow.dossier_code == code,
        RatingRow.stage == _STAGE,
        RatingRow.counted.is_(True),
    )


def _abandoned_exists(unit: Any, code: Any) -> ColumnElement[bool]:
    return exists().where(
        AbandonedSessionRow.unit == unit,
        AbandonedSessionRow.dossier_code == code,
        AbandonedSessionRow.stage == _STAGE,
    )


def count_receipt(receipt: ReceiptRow) -> None:
    """Count a receipt being inserted (the ORM's ``before_insert``): +1 issued, and the outcome
    of a rating or abandoned session that named its code before it was in the register."""
    session = object_session(receipt)
    if session is None:  # pragma: no cover - the ORM flushes only objects of a session
        raise RuntimeError("a receipt is counted in the session that inserts it")
    found = session.execute(
        select(
            _rated_exists(receipt.unit, receipt.dossier_code),
            _abandoned_exists(receipt.unit, receipt.dossier_code),
        )
    ).one()
    receipt.rated, receipt.abandoned = bool(found[0]), bool(found[1])
    day = _day(session, receipt.unit, receipt.issued_at)
    key = (receipt.unit, day, receipt.counter, receipt.officer)
    deltas: Counter[_Key] = Counter({(*key, receipt.procedure, ISSUED): 1})
    if receipt.rated:
        deltas[(*key, receipt.procedure, RATED)] += 1
    elif receipt.abandoned:
        deltas[(*key, receipt.procedure, ABANDONED)] += 1
    _add(session, deltas)


def _flag(session: Session, unit: str, codes: set[str], flag: str, other: str) -> list[Any]:
    """Set ``flag`` on the unit's receipts of ``codes`` that lack it; their keys and ``other``."""
    column, then = _RECEIPTS.c[flag], _RECEIPTS.c[other]
    flipped = (
        update(_RECEIPTS)
        .where(
            _RECEIPTS.c.unit == unit, _RECEIPTS.c.dossier_code.in_(sorted(codes)), column.is_(False)
        )
        .values({flag: True})
        .returning(
            _RECEIPTS.c.issued_at,
            _RECEIPTS.c.counter,
            _RECEIPTS.c.officer,
            _RECEIPTS.c.procedure,
            then,
        )
    )
    return list(session.execute(flipped))


def _by_unit(rows: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for row in rows:
        if row["dossier_code"] and row["stage"] == _STAGE:
            found.setdefault(row["unit"], set()).add(row["dossier_code"])
    return found


def count_ratings(session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Count the ratings being stored (``ratings`` rows' values) that rate a known receipt:
    counted, at the reception. Called by ``store_batch`` with every rating it inserts."""
    deltas: Counter[_Key] = Counter()
    for unit, codes in _by_unit(row for row in rows if row["counted"]).items():
        for issued_at, counter, officer, procedure, abandoned in _flag(
            session, unit, codes, "rated", "abandoned"
        ):
            key = (unit, _day(session, unit, issued_at), counter, officer, procedure)
            deltas[(*key, RATED)] += 1
            if abandoned:
                deltas[(*key, ABANDONED)] -= 1
    _add(session, deltas)


def count_abandoned(session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Count the abandoned sessions being stored (``abandoned_sessions`` rows' values): the
    first of a known receipt at the reception, unless it is rated."""
    deltas: Counter[_Key] = Counter()
    for unit, codes in _by_unit(rows).items():
        for issued_at, counter, officer, procedure, rated in _flag(
            session, unit, codes, "abandoned", "rated"
        ):
            if not rated:
                day = _day(session, unit, issued_at)
                deltas[(unit, day, counter, officer, procedure, ABANDONED)] += 1
    _add(session, deltas)


def count_abandoned_row(row: AbandonedSessionRow) -> None:
    """:func:`count_abandoned` of one session the ORM inserts (its ``before_insert``)."""
    session = object_session(row)
    if session is None:  # pragma: no cover - the ORM flushes only objects of a session
        raise RuntimeError("an abandoned session is counted in the session that inserts it")
    values = {"unit": row.unit, "dossier_code": row.dossier_code, "stage": row.stage}
    count_abandoned(session, [values])


def rebuild_coverage(session: Session) -> None:
    """Recount every receipt's flags and both coverage rollups from the register, ratings and
    abandoned sessions (what revision 0015 did once; for data loaded around the writers, e.g. a
    benchmark's bulk insert or a restored copy). One UPDATE and a few INSERT ... SELECT. A unit
    whose zone the session was told of (:func:`use_zone`) is counted on its clock, every other
    one on :data:`LOCAL_ZONE`."""
    session.execute(
        update(_RECEIPTS).values(
            rated=_rated_exists(_RECEIPTS.c.unit, _RECEIPTS.c.dossier_code),
            abandoned=_abandoned_exists(_RECEIPTS.c.unit, _RECEIPTS.c.dossier_code),
        )
    )
    for table in (_FINE, _DAILY, _MONTHLY, _UNIT_MONTHLY):
        session.execute(delete(table))
    dialect = session.get_bind().dialect.name
    outcomes = {
        ISSUED: true(),
        RATED: _RECEIPTS.c.rated.is_(True),
        ABANDONED: and_(_RECEIPTS.c.abandoned.is_(True), _RECEIPTS.c.rated.is_(False)),
    }
    names = ["unit", "day", "counter", "officer", "procedure", "outcome", "n"]
    for zone, units in _zone_groups(session):  # each unit's days on its clock (use_zone)
        day = _day_sql(dialect, _RECEIPTS.c.issued_at, zone)
        keys = [_RECEIPTS.c.unit, day, _RECEIPTS.c.counter, _RECEIPTS.c.officer]
        keys.append(_RECEIPTS.c.procedure)
        for outcome, where in outcomes.items():
            rows = select(*keys, literal(outcome), func.count()).where(where, units)
            session.execute(insert(_FINE).from_select(names, rows.group_by(*keys)))
    per_day = (
        select(_FINE.c.unit, _FINE.c.day, _FINE.c.outcome, func.sum(_FINE.c.n))
        .group_by(_FINE.c.unit, _FINE.c.day, _FINE.c.outcome)
    )  # fmt: skip
    session.execute(insert(_DAILY).from_select(["unit", "day", "outcome", "n"], per_day))
    _sum_months(session, dialect)


def _sum_months(session: Session, dialect: str) -> None:
    """The monthly twins summed from the daily rows (as revision 0020's data step)."""
    for daily, monthly in ((_FINE, _MONTHLY), (_DAILY, _UNIT_MONTHLY)):
        names = [c.name for c in monthly.primary_key.columns]
        month = _month_sql(dialect, daily.c.day)
        keys = [month if name == "month" else daily.c[name] for name in names]
        rows = select(*keys, func.sum(daily.c.n)).group_by(*keys)
        session.execute(insert(monthly).from_select([*names, "n"], rows))


def _month_sql(dialect: str, day: Any) -> ColumnElement[Any]:
    """The first day of a local day's month in SQL."""
    if dialect == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month")


def _zone_groups(session: Session) -> list[tuple[tzinfo, ColumnElement[bool]]]:
    """The units of each zone the session was told of (:func:`use_zone`), then every other unit
    on :data:`LOCAL_ZONE`: (zone, a WHERE on ``receipts.unit``)."""
    told: dict[tzinfo, list[str]] = {}
    for unit, zone in sorted(session.info.get(ZONES, {}).items()):
        if zone is not LOCAL_ZONE:
            told.setdefault(zone, []).append(unit)
    others = [code for codes in told.values() for code in codes]
    groups = [(zone, _RECEIPTS.c.unit.in_(codes)) for zone, codes in told.items()]
    return [*groups, (LOCAL_ZONE, _RECEIPTS.c.unit.not_in(others) if others else true())]


def _day_sql(dialect: str, column: Any, zone: tzinfo = LOCAL_ZONE) -> ColumnElement[Any]:
    """The local day of an instant in SQL, on ``zone``'s clock. SQLite has no zones: the zone's
    offset of 2000-01-01 is used, which is right for Việt Nam (UTC+7, no summer time since 1975)
    and any zone without summer time."""
    if dialect == "postgresql":
        return cast(func.timezone(str(zone), column), Date)
    offset = zone.utcoffset(datetime(2000, 1, 1)) or timedelta()
    return func.date(column, f"{int(offset.total_seconds()) // 60:+d} minutes")


# -- the read side ---------------------------------------------------------------------------------


def _parts(
    since: datetime | None, until: datetime | None, zone: tzinfo, monthly: Any, daily: Any
) -> tuple[list[tuple[Any, ColumnElement[bool]]], tuple[tuple[datetime, datetime], ...]]:
    """``[since, until)`` as the rating rollups' :class:`Plan` splits it: the whole local months
    from ``monthly`` (revision 0020), the whole days around them from ``daily``, each with its
    WHERE on the time; and the cut edges, counted from the register."""
    plan = Plan.split(since, until, zone)
    parts = [] if plan.months is None else [(monthly, _on(monthly.c.month, plan.months))]
    parts += [(daily, _on(daily.c.day, span)) for span in plan.days]
    return parts, plan.edges


def _on(column: Any, span: DaySpan) -> ColumnElement[bool]:
    first, end = span
    clauses = [
        *([] if first is None else [column >= first]),
        *([] if end is None else [column < end]),
    ]
    return and_(true(), *clauses)


def _tally(counted: Mapping[str, int]) -> Tally:
    return Tally(counted.get(ISSUED, 0), counted.get(RATED, 0), counted.get(ABANDONED, 0))


def coverage_tallies(session: Session, scope: Scope) -> dict[GroupKey, Tally]:
    """The receipts of ``scope`` (its unit's, issued in ``[since, until)``, only those its
    officer received when it names one), per (unit, counter, officer, procedure)."""
    code = scope.unit.unit.code
    parts, edges = _parts(scope.since, scope.until, scope.zone, _MONTHLY, _FINE)
    found: dict[GroupKey, Counter[str]] = {}
    # Core rows straight from the driver: a centre's quarter is thousands of them.
    connection = session.connection()
    for t, when in parts:
        keys = (t.c.unit, t.c.counter, t.c.officer, t.c.procedure, t.c.outcome)
        mine = [] if scope.officer is None else [t.c.officer == scope.officer]
        rolled = select(*keys, func.sum(t.c.n)).where(t.c.unit == code, when, *mine).group_by(*keys)
        for unit, counter, officer, procedure, outcome, n in connection.execute(rolled):
            found.setdefault((unit, counter, officer, procedure), Counter())[outcome] += int(n)
    for start, end in edges:
        for key, cut in register_tallies(session, code, start, end, scope.officer).items():
            counted = found.setdefault(key, Counter())
            counted.update({ISSUED: cut.issued, RATED: cut.rated, ABANDONED: cut.abandoned})
    return {key: _tally(c) for key, c in found.items() if c[ISSUED]}


def coverage_by_unit(
    session: Session,
    units: Sequence[str],
    since: datetime | None,
    until: datetime | None,
    zone: tzinfo = LOCAL_ZONE,
) -> dict[str, Tally]:
    """Per unit code of ``units``: its receipts issued in ``[since, until)``, rated and
    abandoned, in one query over the month totals and one over the day totals around them
    however many the units (the province view: a year of 150 units is ~5,400 rows; plus one
    over ``receipts`` per cut day). A unit without receipts is absent."""
    codes = sorted(set(units))
    if not codes:
        return {}
    parts, edges = _parts(since, until, zone, _UNIT_MONTHLY, _DAILY)
    found: dict[str, Counter[str]] = {}
    connection = session.connection()
    for t, when in parts:
        rolled = (
            select(t.c.unit, t.c.outcome, func.sum(t.c.n))
            .where(t.c.unit.in_(codes), when)
            .group_by(t.c.unit, t.c.outcome)
        )
        for unit, outcome, n in connection.execute(rolled):
            found.setdefault(unit, Counter())[outcome] += int(n)
    for start, end in edges:
        for unit, cut in register_by_unit(session, codes, start, end).items():
            counted = found.setdefault(unit, Counter())
            counted.update({ISSUED: cut.issued, RATED: cut.rated, ABANDONED: cut.abandoned})
    return {unit: _tally(c) for unit, c in found.items() if c[ISSUED]}


def coverage_of_spans(
    session: Session,
    unit: str,
    spans: Sequence[tuple[datetime, datetime]],
    zone: tzinfo = LOCAL_ZONE,
) -> list[Tally]:
    """The unit's receipts issued in each ``[since, until)`` of ``spans`` (the dashboard's
    headline periods: today, week, month, quarter, year), each from the month and day totals
    and its cut days from the register. The periods without a cut day are read in one
    ``UNION ALL``, each row tagged with its period: one round trip, not one to three each."""
    found: list[Counter[str]] = [Counter() for _ in spans]
    pieces: list[Any] = []
    for at, (since, until) in enumerate(spans):
        parts, edges = _parts(since, until, zone, _UNIT_MONTHLY, _DAILY)
        if edges:  # a cut day: read alone, with the register's count of it
            alone = coverage_by_unit(session, [unit], since, until, zone).get(unit, Tally())
            found[at].update({ISSUED: alone.issued, RATED: alone.rated, ABANDONED: alone.abandoned})
            continue
        for t, when in parts:
            pieces.append(
                select(literal_column(str(at)), t.c.outcome, func.sum(t.c.n))
                .where(t.c.unit == unit, when)
                .group_by(t.c.outcome)
            )
    if pieces:
        query: Any = union_all(*pieces) if len(pieces) > 1 else pieces[0]
        for at, outcome, n in session.connection().execute(query):
            found[at][outcome] += int(n)
    return [_tally(c) if c[ISSUED] else Tally() for c in found]


# -- the register itself: the cut days, and the reference the rollups are held to ----------------


def _rated() -> ColumnElement[bool]:
    """The join to a receipt's counted reception rating (at most one: the unique index)."""
    return and_(
        RatingRow.unit == ReceiptRow.unit,
        RatingRow.dossier_code == ReceiptRow.dossier_code,
        RatingRow.stage == _STAGE,
        RatingRow.counted.is_(True),
    )


def _abandoned() -> ColumnElement[int]:
    """1 for a receipt not rated that an abandoned session at the reception names, else 0."""
    left = _abandoned_exists(ReceiptRow.unit, ReceiptRow.dossier_code)
    return case((and_(RatingRow.id.is_(None), left), 1), else_=0)


def _counts(where: Sequence[ColumnElement[bool]], *keys: Any) -> Select[Any]:
    return (
        select(*keys, func.count(), func.count(RatingRow.id), func.sum(_abandoned()))
        .select_from(ReceiptRow)
        .outerjoin(RatingRow, _rated())
        .where(*where)
        .group_by(*keys)
    )


def _period(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(ReceiptRow.issued_at >= as_utc(since))
    if until is not None:
        where.append(ReceiptRow.issued_at < as_utc(until))
    return where


def register_tallies(
    session: Session,
    unit: str,
    since: datetime | None,
    until: datetime | None,
    officer: str | None = None,
) -> dict[GroupKey, Tally]:
    """The unit's receipts issued in ``[since, until)`` per (unit, counter, officer, procedure),
    counted from ``receipts`` joined to ``ratings`` and ``abandoned_sessions`` (~3 µs a
    receipt): the cut days of a period, and what the rollups must always equal."""
    where = [ReceiptRow.unit == unit, *_period(since, until)]
    if officer is not None:
        where.append(ReceiptRow.officer == officer)
    query = _counts(
        where, ReceiptRow.unit, ReceiptRow.counter, ReceiptRow.officer, ReceiptRow.procedure
    )
    return {
        (unit, counter, officer, procedure): Tally(int(issued), int(rated), int(abandoned or 0))
        for unit, counter, officer, procedure, issued, rated, abandoned in session.execute(query)
    }


def register_by_unit(
    session: Session, units: Sequence[str], since: datetime | None, until: datetime | None
) -> dict[str, Tally]:
    """Per unit code of ``units``: :func:`register_tallies`' totals, in one ``GROUP BY unit``."""
    where = [ReceiptRow.unit.in_(sorted(set(units))), *_period(since, until)]
    return {
        unit: Tally(int(issued), int(rated), int(abandoned or 0))
        for unit, issued, rated, abandoned in session.execute(_counts(where, ReceiptRow.unit))
    }


# -- the coverage tables summed in the database ---------------------------------------------------

# The dimensions :func:`coverage_sums` sums, by the column of the (counter, officer, procedure) key
# each reads; a field is its procedure's (the caller folds procedures into fields).
SUMMED: tuple[str, ...] = ("counter", "officer", "procedure")


def coverage_sums(
    session: Session, scope: Scope
) -> tuple[Tally, dict[str, dict[str | None, Tally]]] | None:
    """The receipts of ``scope`` (as :func:`coverage_tallies` counts them) summed in total and
    per counter, officer and procedure, by PostgreSQL (``GROUPING SETS``): a provincial
    centre's quarter sends ~400 rows instead of its ~4,300 finest keys times their outcomes to
    fold in Python. The finest keys without an issued receipt are left out first (``HAVING``),
    as :func:`coverage_tallies` leaves them out, so the sums are the same. None on SQLite, or
    when the period has a cut day (counted from the register): the caller folds
    :func:`coverage_tallies` then."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    parts, edges = _parts(scope.since, scope.until, scope.zone, _MONTHLY, _FINE)
    if edges or not parts:
        return None
    code = scope.unit.unit.code
    pieces = []
    for t, when in parts:
        mine = [] if scope.officer is None else [t.c.officer == scope.officer]
        pieces.append(
            select(t.c.counter, t.c.officer, t.c.procedure, t.c.outcome, t.c.n).where(
                t.c.unit == code, when, *mine
            )
        )
    rows = (pieces[0] if len(pieces) == 1 else union_all(*pieces)).subquery("parts")

    def of(outcome: str) -> ColumnElement[Any]:
        return func.sum(case((rows.c.outcome == outcome, rows.c.n), else_=0))

    keys = (rows.c.counter, rows.c.officer, rows.c.procedure)
    fine = (
        select(*keys, of(ISSUED).label("i"), of(RATED).label("r"), of(ABANDONED).label("a"))
        .group_by(*keys)
        .having(of(ISSUED) > 0)
        .subquery("fine")
    )
    columns = (fine.c.counter, fine.c.officer, fine.c.procedure)
    summed = select(
        func.grouping(*columns),
        *columns,
        func.sum(fine.c.i),
        func.sum(fine.c.r),
        func.sum(fine.c.a),
    ).group_by(func.grouping_sets(*(tuple_(c) for c in columns), tuple_()))
    # GROUPING(counter, officer, procedure): a bit per column left out, the counter's highest.
    which = {0b011: 0, 0b101: 1, 0b110: 2}
    overall = Tally()
    tables: dict[str, dict[str | None, Tally]] = {name: {} for name in SUMMED}
    for mask, counter, officer, procedure, issued, rated, abandoned in session.connection().execute(
        summed
    ):
        counted = Tally(int(issued or 0), int(rated or 0), int(abandoned or 0))
        if mask == 0b111:
            overall = counted
        else:
            at = which[mask]
            tables[SUMMED[at]][(counter, officer, procedure)[at]] = counted
    return overall, tables
