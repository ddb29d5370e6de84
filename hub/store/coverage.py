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
the dashboard's headline): a quarter of 150 units is ~40,000 rows there.

Read side: the periods bound ``issued_at`` (the cohort is the receipts). Whole local days come
from the rollups; a period that starts or ends within a day (an API caller's bounds, "today until
now") has that cut day counted from ``receipts`` by :func:`register_tallies`, the ``GROUP BY``
the rollups replaced, so the figures are exact for any bounds (the rating rollups' rule,
:class:`hub.store.rollups.Plan`). Coverage has no monthly twin: its rows are fewer than the
ratings' (one per receipt, not per factor and reason) and a year of a unit's totals is ~1,000
rows.
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
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, object_session

from hub.domain.coverage import COVERED_STAGE, GroupKey, Outcome, Tally
from hub.domain.periods import as_utc
from hub.store.models import (
    AbandonedSessionRow,
    CoverageDayRollupRow,
    CoverageRollupRow,
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

# (unit, local issue day, counter, officer, procedure, outcome): coverage_rollups' key order.
_Key = tuple[str, date, str, str, str, str]


# -- the write side --------------------------------------------------------------------------------


def _day(issued_at: datetime) -> date:
    """The unit's local issue day (the dossier code's day, hailong.contract.clock)."""
    return issued_at.astimezone(LOCAL_ZONE).date()


def _add(session: Session, deltas: Mapping[_Key, int]) -> None:
    """Add ``deltas`` to both coverage rollups (fine keys first, then the day totals, each in
    key order: every writer takes its row locks in the same order)."""
    fine = {key: n for key, n in deltas.items() if n}
    totals: Counter[tuple[str, date, str]] = Counter()
    for (unit, day, _counter, _officer, _procedure, outcome), n in fine.items():
        totals[(unit, day, outcome)] += n
    upsert_counts(session, _FINE, fine)
    upsert_counts(session, _DAILY, {key: n for key, n in totals.items() if n})


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
    key = (receipt.unit, _day(receipt.issued_at), receipt.counter, receipt.officer)
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
            key = (unit, _day(issued_at), counter, officer, procedure)
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
                deltas[(unit, _day(issued_at), counter, officer, procedure, ABANDONED)] += 1
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
    benchmark's bulk insert or a restored copy). One UPDATE and a few INSERT ... SELECT."""
    session.execute(
        update(_RECEIPTS).values(
            rated=_rated_exists(_RECEIPTS.c.unit, _RECEIPTS.c.dossier_code),
            abandoned=_abandoned_exists(_RECEIPTS.c.unit, _RECEIPTS.c.dossier_code),
        )
    )
    session.execute(delete(_FINE))
    session.execute(delete(_DAILY))
    dialect = session.get_bind().dialect.name
    day = _day_sql(dialect, _RECEIPTS.c.issued_at)
    keys = [_RECEIPTS.c.unit, day, _RECEIPTS.c.counter, _RECEIPTS.c.officer, _RECEIPTS.c.procedure]
    outcomes = {
        ISSUED: true(),
        RATED: _RECEIPTS.c.rated.is_(True),
        ABANDONED: and_(_RECEIPTS.c.abandoned.is_(True), _RECEIPTS.c.rated.is_(False)),
    }
    names = ["unit", "day", "counter", "officer", "procedure", "outcome", "n"]
    for outcome, where in outcomes.items():
        rows = select(*keys, literal(outcome), func.count()).where(where).group_by(*keys)
        session.execute(insert(_FINE).from_select(names, rows))
    per_day = (
        select(_FINE.c.unit, _FINE.c.day, _FINE.c.outcome, func.sum(_FINE.c.n))
        .group_by(_FINE.c.unit, _FINE.c.day, _FINE.c.outcome)
    )  # fmt: skip
    session.execute(insert(_DAILY).from_select(["unit", "day", "outcome", "n"], per_day))


def _day_sql(dialect: str, column: Any) -> ColumnElement[Any]:
    """The local day of an instant in SQL. SQLite has no zones: the offset of
    :data:`LOCAL_ZONE` is used, which is right for Việt Nam (UTC+7, no summer time since 1975)."""
    if dialect == "postgresql":
        return cast(func.timezone(str(LOCAL_ZONE), column), Date)
    offset = LOCAL_ZONE.utcoffset(datetime(2000, 1, 1)) or timedelta()
    return func.date(column, f"{int(offset.total_seconds()) // 60:+d} minutes")


# -- the read side ---------------------------------------------------------------------------------


def _whole_days(
    since: datetime | None, until: datetime | None, zone: tzinfo
) -> tuple[DaySpan | None, tuple[tuple[datetime, datetime], ...]]:
    """``[since, until)`` as the whole local days it spans (None: none) and its cut edges, as
    the rating rollups' :class:`Plan` splits it (its months are whole days too)."""
    plan = Plan.split(since, until, zone)
    spans = ([plan.months] if plan.months is not None else []) + list(plan.days)
    if not spans:
        return None, plan.edges
    firsts = [first for first, _ in spans]
    ends = [end for _, end in spans]
    first = None if None in firsts else min(f for f in firsts if f is not None)
    end = None if None in ends else max(e for e in ends if e is not None)
    return (first, end), plan.edges


def _on_days(column: Any, span: DaySpan) -> list[ColumnElement[bool]]:
    first, end = span
    return [*([] if first is None else [column >= first]), *([] if end is None else [column < end])]


def _tally(counted: Mapping[str, int]) -> Tally:
    return Tally(counted.get(ISSUED, 0), counted.get(RATED, 0), counted.get(ABANDONED, 0))


def coverage_tallies(session: Session, scope: Scope) -> dict[GroupKey, Tally]:
    """The receipts of ``scope`` (its unit's, issued in ``[since, until)``, only those its
    officer received when it names one), per (unit, counter, officer, procedure)."""
    code = scope.unit.unit.code
    whole, edges = _whole_days(scope.since, scope.until, scope.zone)
    found: dict[GroupKey, Counter[str]] = {}
    if whole is not None:
        t = CoverageRollupRow
        keys = (t.unit, t.counter, t.officer, t.procedure, t.outcome)
        mine = [] if scope.officer is None else [t.officer == scope.officer]
        rolled = (
            select(*keys, func.sum(t.n))
            .where(t.unit == code, *_on_days(t.day, whole), *mine)
            .group_by(*keys)
        )
        for unit, counter, officer, procedure, outcome, n in session.execute(rolled):
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
    abandoned, in one query over the day totals however many the units (the province view;
    plus one over ``receipts`` per cut day). A unit without receipts is absent."""
    codes = sorted(set(units))
    if not codes:
        return {}
    whole, edges = _whole_days(since, until, zone)
    found: dict[str, Counter[str]] = {}
    if whole is not None:
        t = CoverageDayRollupRow
        rolled = (
            select(t.unit, t.outcome, func.sum(t.n))
            .where(t.unit.in_(codes), *_on_days(t.day, whole))
            .group_by(t.unit, t.outcome)
        )
        for unit, outcome, n in session.execute(rolled):
            found.setdefault(unit, Counter())[outcome] += int(n)
    for start, end in edges:
        for unit, cut in register_by_unit(session, codes, start, end).items():
            counted = found.setdefault(unit, Counter())
            counted.update({ISSUED: cut.issued, RATED: cut.rated, ABANDONED: cut.abandoned})
    return {unit: _tally(c) for unit, c in found.items() if c[ISSUED]}


def coverage_of_spans(
    session: Session, unit: str, spans: Sequence[tuple[datetime, datetime]]
) -> list[Tally]:
    """The unit's receipts issued in each ``[since, until)`` of ``spans`` (the dashboard's
    headline periods: today, week, month, quarter, year), each from the day totals (a year is
    ~1,000 rows) and its cut days from the register."""
    return [coverage_by_unit(session, [unit], s, u).get(unit, Tally()) for s, u in spans]


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
