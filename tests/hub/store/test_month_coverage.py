"""The monthly coverage rollups (revision 0020): kept by the same writers as the daily ones, they
equal the receipts counted per local issue month (a receipt at 23:59:59 on the last day of a
month counts in that month, one at 00:00 local the next day in the next, though both are the
same UTC day); the reads that take whole months from them equal the ``GROUP BY`` over the
register for bounds on local midnights, across months and cutting days; and revision 0020's data
step and :func:`~hub.store.coverage.rebuild_coverage` give the same rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Stage
from hailong.settings import Unit
from hub.domain.coverage import Tally
from hub.domain.ingest import Attribution
from hub.store.abandoned import store_abandoned
from hub.store.coverage import (
    coverage_by_unit,
    coverage_of_spans,
    coverage_tallies,
    rebuild_coverage,
    register_by_unit,
    register_tallies,
)
from hub.store.db import _alembic_config, make_engine, session_factory
from hub.store.models import (
    CoverageDayRollupRow,
    CoverageMonthRollupRow,
    CoverageRollupRow,
    CoverageUnitMonthRollupRow,
    ReceiptRow,
)
from hub.store.ratings import store_batch
from hub.store.rollups import Scope
from tests.hailong.contract.test_abandoned_message import make_abandoned
from tests.hailong.contract.test_messages import make_rating

HANOI = timezone(timedelta(hours=7))
HOME = "000.00.20.H41"
OTHER = "000.00.21.H41"
NOW = datetime(2027, 1, 10, tzinfo=UTC)
# Issue times, local: either side of two months' ends, and spread over four months.
LAST_SECOND = datetime(2026, 10, 31, 23, 59, 59, tzinfo=HANOI)  # 16:59:59 UTC, 31 October
FIRST_SECOND = datetime(2026, 11, 1, 0, 0, tzinfo=HANOI)  # 17:00 UTC, 31 October
ISSUED = [
    LAST_SECOND,
    FIRST_SECOND,
    datetime(2026, 11, 30, 23, 30, tzinfo=HANOI),
    datetime(2026, 12, 1, 0, 30, tzinfo=HANOI),
    *(datetime(2026, 9, 28, 8, tzinfo=HANOI) + timedelta(hours=37 * i) for i in range(40)),
]
PERIODS: list[tuple[datetime | None, datetime | None]] = [
    (None, None),
    (datetime(2026, 10, 1, tzinfo=HANOI), datetime(2027, 1, 1, tzinfo=HANOI)),  # a quarter
    (FIRST_SECOND, datetime(2026, 12, 1, tzinfo=HANOI)),  # one month: November
    (datetime(2026, 9, 30, 13, 30, tzinfo=HANOI), datetime(2026, 12, 2, 9, 15, tzinfo=HANOI)),
    (datetime(2026, 10, 31, 12, tzinfo=HANOI), datetime(2026, 11, 1, 12, tzinfo=HANOI)),
    (datetime(2026, 10, 15, tzinfo=HANOI), None),
    (None, FIRST_SECOND),
]


def _code(i: int) -> str:
    return f"{(HOME, OTHER)[i % 2]}-26{i:04d}"


def _fill(sessions: sessionmaker[Session]) -> None:
    """Receipts (the ORM's issue), then counted and uncounted reception ratings through
    ``store_batch`` and abandoned sessions through ``store_abandoned``, each in its own
    transaction as the ingest stores them."""
    with sessions.begin() as session:
        for i, at in enumerate(ISSUED):
            session.add(
                ReceiptRow(
                    dossier_code=_code(i),
                    unit=(HOME, OTHER)[i % 2],
                    procedure=("1.001193", "2.000815")[i % 3 % 2],
                    counter=("Q1", "Q2")[i // 2 % 2],
                    officer=("CB001", "CB002", "CB003")[i % 3],
                    key_id="k1",
                    url=f"https://hub/r/{_code(i)}",
                    issued_at=at.astimezone(UTC),
                )
            )
    for i, at in enumerate(ISSUED):
        unit = (HOME, OTHER)[i % 2]
        ref = ReceiptRef(code=_code(i), verified=True)
        with sessions.begin() as session:
            if i % 4 in (0, 1):  # rated (every fourth of them not counted)
                rating = make_rating(
                    id=uuid.uuid4(), unit=unit, seq=i + 1, receipt=ref, rated_at=at
                )
                counted = i % 8 != 1
                attribution = Attribution(
                    "Q1", "CB001", "1.001193", None, True, Stage.RECEPTION, counted=counted
                )
                store_batch(session, [(rating, attribution)], NOW)
            if i % 3 == 0:  # abandoned (some of them rated as well: those count as rated)
                record = make_abandoned(
                    id=uuid.uuid4(),
                    unit=unit,
                    seq=1000 + i,
                    receipt=ref,
                    scanned_at=at,
                    ended_at=at + timedelta(seconds=40),
                )
                attribution = Attribution("Q1", "CB001", "1.001193", None, True, Stage.RECEPTION)
                store_abandoned(session, [(record, attribution)], NOW)


def _rows(session: Session, model: Any) -> Counter[tuple[Any, ...]]:
    table = model.__table__
    names = [c.name for c in table.primary_key.columns]
    found = session.execute(select(table).where(table.c.n != 0))
    return Counter({tuple(row._mapping[n] for n in names): row.n for row in found})


def _by_month(daily: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """Daily rows (unit, day, ...) summed per (unit, first of the day's month, ...)."""
    months: Counter[tuple[Any, ...]] = Counter()
    for (unit, day, *rest), n in daily.items():
        months[(unit, day.replace(day=1), *rest)] += n
    return months


def _snapshot(sessions: sessionmaker[Session]) -> tuple[Counter[Any], Counter[Any]]:
    with sessions() as session:
        return _rows(session, CoverageMonthRollupRow), _rows(session, CoverageUnitMonthRollupRow)


def _assert_months_equal_register(sessions: sessionmaker[Session], unit: Unit) -> None:
    with sessions() as session:
        fine, totals = (
            _rows(session, CoverageMonthRollupRow),
            _rows(session, CoverageUnitMonthRollupRow),
        )
        assert fine == _by_month(_rows(session, CoverageRollupRow))
        assert totals == _by_month(_rows(session, CoverageDayRollupRow))
        issued: Counter[tuple[str, date]] = Counter()
        for receipt in session.scalars(select(ReceiptRow)):
            issued[(receipt.unit, receipt.issued_at.astimezone(HANOI).date().replace(day=1))] += 1
        assert {(u, m): n for (u, m, o), n in totals.items() if o == "issued"} == issued
        # The two receipts 1 second apart, the same UTC day: October's and November's.
        october, november = date(2026, 10, 1), date(2026, 11, 1)
        assert LAST_SECOND.astimezone(UTC).date() == FIRST_SECOND.astimezone(UTC).date()
        in_oct = sum(1 for i, at in enumerate(ISSUED) if i % 2 == 0 and at.month == 10)
        assert totals[(HOME, october, "issued")] == in_oct
        assert issued[(OTHER, november)] == sum(
            1 for i, at in enumerate(ISSUED) if i % 2 == 1 and (at.year, at.month) == (2026, 11)
        )
        assert {o for (_, _, o) in totals} == {"issued", "rated", "abandoned"}
        for since, until in PERIODS:
            expected = register_tallies(session, HOME, since, until)
            assert coverage_tallies(session, Scope(unit, since, until)) == expected, (since, until)
            mine = register_tallies(session, HOME, since, until, "CB002")
            assert coverage_tallies(session, Scope(unit, since, until, "CB002")) == mine
            per_unit = register_by_unit(session, [HOME, OTHER], since, until)
            found = coverage_by_unit(session, [HOME, OTHER, "000.00.99.H41"], since, until)
            assert found == {u: t for u, t in per_unit.items() if t.issued}, (since, until)
        spans = [(s or ISSUED[4], u or NOW) for s, u in PERIODS]
        assert coverage_of_spans(session, HOME, spans) == [
            register_by_unit(session, [HOME], s, u).get(HOME, Tally()) for s, u in spans
        ]


def test_the_month_rollups_equal_the_register(database_url: str, unit: Unit) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _fill(sessions)
    _assert_months_equal_register(sessions, unit)
    kept = _snapshot(sessions)
    with sessions.begin() as session:  # the bulk loaders' recount gives the same rows
        rebuild_coverage(session)
    assert _snapshot(sessions) == kept
    engine.dispose()


def test_the_upgrade_to_0020_sums_the_days_already_counted(database_url: str, unit: Unit) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _fill(sessions)
    kept = _snapshot(sessions)
    assert kept[0]
    assert kept[1]
    with engine.begin() as connection:  # back to 0019 (only the 0020 tables go), then up
        command.downgrade(_alembic_config(connection), "0019")
    tables = inspect(engine).get_table_names()
    assert "coverage_month_rollups" not in tables
    assert "coverage_unit_month_rollups" not in tables
    engine.dispose()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    assert _snapshot(sessions) == kept
    _assert_months_equal_register(sessions, unit)
    engine.dispose()
