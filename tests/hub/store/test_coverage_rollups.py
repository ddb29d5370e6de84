"""The coverage rollups, kept as receipts, ratings and abandoned sessions are stored, always equal
the ``GROUP BY`` over the register they replaced (:func:`hub.store.coverage.register_tallies`,
itself held to :func:`hub.domain.coverage.tally` in test_coverage.py): after any mix and order of
events (hypothesis, on SQLite; one seeded mix on PostgreSQL), for whole days and for bounds that
cut days; after revision 0015's backfill; and when a rating and an abandoned session of the same
receipts are stored by two transactions at once (PostgreSQL's row locks)."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
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
    register_tallies,
)
from hub.store.db import _alembic_config, make_engine, session_factory
from hub.store.models import (
    AbandonedSessionRow,
    Base,
    CoverageDayRollupRow,
    CoverageRollupRow,
    ReceiptRow,
)
from hub.store.ratings import store_batch
from hub.store.rollups import Scope
from tests.hailong.contract.test_abandoned_message import make_abandoned
from tests.hailong.contract.test_messages import make_rating

HANOI = timezone(timedelta(hours=7))
HOME = "000.00.20.H41"
OTHER = "000.00.21.H41"
UNITS = (HOME, OTHER)
START = datetime(2026, 11, 9, 6, tzinfo=HANOI)  # receipts from 06:00 on 9 November, local
NOW = datetime(2026, 11, 20, tzinfo=UTC)
CODES = 8
# Bounds at local midnights, and bounds that cut days (the register counts those parts).
PERIODS: list[tuple[datetime | None, datetime | None]] = [
    (None, None),
    (datetime(2026, 11, 10, tzinfo=HANOI), datetime(2026, 11, 12, tzinfo=HANOI)),
    (datetime(2026, 11, 9, 13, 30, tzinfo=HANOI), datetime(2026, 11, 11, 9, 15, tzinfo=HANOI)),
    (datetime(2026, 11, 10, 16, 59, tzinfo=UTC), None),
    (None, datetime(2026, 11, 10, 8, 5, tzinfo=HANOI)),
]

Event = tuple[Any, ...]


def _code(i: int) -> str:
    return f"{UNITS[i % 2]}-2611{9 + i // 3:02d}-{i + 1:04d}"


def _issue(session: Session, i: int, hours: int, group: int, _seq: int = 0) -> None:
    """Receipt ``i`` into the register through the ORM, as the register's issue does."""
    if session.get(ReceiptRow, _code(i)) is not None:
        return
    session.add(
        ReceiptRow(
            dossier_code=_code(i),
            unit=UNITS[i % 2],
            procedure=("1.001193", "2.000815")[group % 2],
            counter=("Q1", "Q2")[group // 2 % 2],
            officer=("CB001", "CB002", "CB003")[group % 3],
            key_id="k1",
            url=f"https://hub/r/{_code(i)}",
            issued_at=(START + timedelta(hours=hours)).astimezone(UTC),
        )
    )


def _rate(session: Session, i: int, stage: Stage, counted: bool, stray: bool, seq: int) -> None:
    """A rating of receipt ``i`` (``stray``: sent under the other unit) through ``store_batch``."""
    unit = UNITS[(i + stray) % 2]
    rating = make_rating(
        id=uuid.uuid4(),
        unit=unit,
        seq=seq,
        receipt=ReceiptRef(code=_code(i), verified=True),
        stage=stage,
        rated_at=START + timedelta(days=3),
    )
    attribution = Attribution("Q1", "CB001", "1.001193", None, True, stage, counted=counted)
    store_batch(session, [(rating, attribution)], NOW)


def _abandon(session: Session, i: int, stage: Stage, core: bool, seq: int) -> None:
    """An abandoned session of receipt ``i``: through ``store_abandoned`` (the ingest), or an ORM
    row."""
    at = START + timedelta(days=2)
    if core:
        record = make_abandoned(
            id=uuid.uuid4(),
            unit=UNITS[i % 2],
            seq=seq,
            receipt=ReceiptRef(code=_code(i), verified=True),
            scanned_at=at,
            ended_at=at + timedelta(seconds=40),
        )
        attribution = Attribution("Q1", "CB001", "1.001193", None, True, stage)
        store_abandoned(session, [(record, attribution)], NOW)
        return
    session.add(
        AbandonedSessionRow(
            id=str(uuid.uuid4()),
            unit=UNITS[i % 2],
            kiosk="kiosk-q1",
            seq=seq,
            dossier_code=_code(i),
            receipt_verified=True,
            receipt_known=True,
            stage=stage.value,
            counter="Q1",
            officer=None,
            procedure=None,
            field=None,
            reason="timeout",
            scanned_at=at,
            ended_at=at + timedelta(seconds=40),
            received_at=at + timedelta(seconds=41),
        )
    )


def _apply(sessions: sessionmaker[Session], events: Sequence[Event]) -> None:
    """Each event in a transaction of its own, in order."""
    steps: dict[str, Callable[..., None]] = {"issue": _issue, "rate": _rate, "abandon": _abandon}
    for seq, (kind, *args) in enumerate(events, start=1):
        with sessions.begin() as session:
            steps[kind](session, *args, seq)


def _assert_rollups_equal_register(sessions: sessionmaker[Session], unit: Unit) -> None:
    with sessions() as session:
        negative = session.scalar(select(func.count()).where(CoverageRollupRow.n < 0))
        assert negative == 0
        totals = []
        for table in (CoverageDayRollupRow, CoverageRollupRow):  # the day totals = the fine sums
            keys = (table.unit, table.outcome)
            summed = session.execute(select(*keys, func.sum(table.n)).group_by(*keys))
            totals.append(Counter({(u, o): int(n) for u, o, n in summed}))
        assert totals[0] == totals[1]
        for since, until in PERIODS:
            expected = register_tallies(session, HOME, since, until)
            assert coverage_tallies(session, Scope(unit, since, until)) == expected
            officer = register_tallies(session, HOME, since, until, "CB002")
            assert coverage_tallies(session, Scope(unit, since, until, "CB002")) == officer
            per_unit = {
                u: sum(register_tallies(session, u, since, until).values(), Tally()) for u in UNITS
            }
            found = coverage_by_unit(session, [*UNITS, "000.00.99.H41"], since, until)
            assert found == {u: t for u, t in per_unit.items() if t.issued}
        spans = [(s or START - timedelta(days=1), u or NOW) for s, u in PERIODS]
        expected_spans = [
            sum(register_tallies(session, HOME, s, u).values(), Tally()) for s, u in spans
        ]
        assert coverage_of_spans(session, HOME, spans) == expected_spans


_events = st.one_of(
    st.tuples(
        st.just("issue"),
        st.integers(0, CODES - 1),
        st.integers(0, 80),
        st.integers(0, 11),
    ),
    st.tuples(
        st.just("rate"),
        st.integers(0, CODES - 1),
        st.sampled_from([Stage.RECEPTION, Stage.RETURN]),
        st.booleans(),
        st.sampled_from([False, False, False, True]),
    ),
    st.tuples(
        st.just("abandon"),
        st.integers(0, CODES - 1),
        st.sampled_from([Stage.RECEPTION, Stage.RECEPTION, Stage.RETURN]),
        st.booleans(),
    ),
)


@pytest.fixture(scope="module")
def sqlite_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    path: Path = tmp_path_factory.mktemp("coverage") / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    yield session_factory(engine)
    engine.dispose()


def _empty(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(_events, max_size=30))
def test_the_rollups_equal_the_register_after_any_mix(
    sqlite_sessions: sessionmaker[Session], unit: Unit, events: list[Event]
) -> None:
    _empty(sqlite_sessions)
    _apply(sqlite_sessions, events)
    _assert_rollups_equal_register(sqlite_sessions, unit)


def _seeded_mix(seed: int, n: int) -> list[Event]:
    """``n`` events drawn like the hypothesis strategy's, from a fixed seed."""
    chance = random.Random(seed)
    events: list[Event] = []
    for _ in range(n):
        i = chance.randrange(CODES)
        kind = chance.choice(("issue", "issue", "rate", "abandon"))
        if kind == "issue":
            events.append((kind, i, chance.randrange(81), chance.randrange(12)))
        elif kind == "rate":
            stage = chance.choice((Stage.RECEPTION, Stage.RETURN))
            events.append((kind, i, stage, chance.random() < 0.8, chance.random() < 0.2))
        else:
            stage = chance.choice((Stage.RECEPTION, Stage.RECEPTION, Stage.RETURN))
            events.append((kind, i, stage, chance.random() < 0.5))
    return events


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_rollups_equal_the_register_on_postgresql(database_url: str, unit: Unit) -> None:
    sessions = session_factory(make_engine(database_url))
    _apply(sessions, _seeded_mix(17, 60))
    _assert_rollups_equal_register(sessions, unit)


def test_the_upgrade_to_0015_counts_the_register(database_url: str, unit: Unit) -> None:
    """Back to 0014 (the rollups and flags go), then up again: the backfill counts what the
    writers counted; and :func:`rebuild_coverage` does the same from the register."""
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _apply(sessions, _seeded_mix(5, 50))
    _assert_rollups_equal_register(sessions, unit)

    def snapshot() -> tuple[set[Any], set[Any], set[Any]]:
        with sessions() as session:
            receipts = session.execute(
                select(ReceiptRow.dossier_code, ReceiptRow.rated, ReceiptRow.abandoned)
            )
            fine = session.execute(
                select(CoverageRollupRow.__table__).where(CoverageRollupRow.n != 0)
            )
            daily = session.execute(
                select(CoverageDayRollupRow.__table__).where(CoverageDayRollupRow.n != 0)
            )
            return set(receipts), set(fine), set(daily)

    kept = snapshot()
    assert kept[1]
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0014")
    engine.dispose()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    assert snapshot() == kept
    with sessions.begin() as session:
        rebuild_coverage(session)
    assert snapshot() == kept
    _assert_rollups_equal_register(sessions, unit)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("rating_first", [True, False])
def test_a_rating_and_an_abandoned_session_stored_at_once_count_once(
    database_url: str, unit: Unit, rating_first: bool
) -> None:
    """One transaction holds the receipts' row locks while the other waits for them: whichever
    commits first, each receipt ends rated, not also abandoned; none is lost."""
    sessions = session_factory(make_engine(database_url))
    codes = range(0, CODES, 2)  # HOME's receipts
    _apply(sessions, [("issue", i, 3 * i, i) for i in codes])

    def rate(session: Session) -> None:
        for i in codes:
            _rate(session, i, Stage.RECEPTION, True, False, seq=100 + i)

    def abandon(session: Session) -> None:
        for i in codes:
            _abandon(session, i, Stage.RECEPTION, True, seq=200 + i)

    first, second = (rate, abandon) if rating_first else (abandon, rate)
    failed: list[BaseException] = []

    def later() -> None:
        try:
            with sessions.begin() as session:
                second(session)
        except BaseException as exc:
            failed.append(exc)

    with sessions.begin() as session:
        first(session)
        worker = threading.Thread(target=later)
        worker.start()
        worker.join(timeout=0.5)  # it waits for this transaction's row locks
    worker.join()
    assert failed == []
    with sessions() as session:
        totals = coverage_by_unit(session, [HOME], None, None)
    assert totals == {HOME: Tally(len(codes), len(codes), 0)}
    _assert_rollups_equal_register(sessions, unit)
