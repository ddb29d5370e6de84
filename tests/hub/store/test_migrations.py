"""The migrations build exactly the schema the models describe, old databases are adopted, and
revision 0002 counts the ratings already stored into the rollups exactly as ``store_batch`` does.
Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Factor, Score, Stage
from hub.domain.ingest import Attribution
from hub.store.db import _alembic_config, make_engine, session_factory
from hub.store.models import (
    Base,
    FactorMonthRollupRow,
    FactorRollupRow,
    HourMonthRollupRow,
    HourRollupRow,
    RatingMonthRollupRow,
    RatingRollupRow,
    ReasonMonthRollupRow,
    ReasonRollupRow,
)
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

# The tables of the versions made before migrations existed (revision 0001).
FIRST_TABLES = ("dead_letters", "dossier_sequences", "kiosk_status", "ratings", "receipts")
ROLLUPS = (
    RatingRollupRow,
    FactorRollupRow,
    ReasonRollupRow,
    HourRollupRow,
    RatingMonthRollupRow,
    FactorMonthRollupRow,
    ReasonMonthRollupRow,
    HourMonthRollupRow,
)
MONTH_ROLLUPS = ROLLUPS[4:]


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_database_made_before_migrations_is_adopted(database_url: str) -> None:
    old = create_engine(database_url)
    # How the first versions created their tables: revision 0001's schema, without Alembic's mark.
    with old.begin() as connection:
        command.upgrade(_alembic_config(connection), "0001")
        connection.execute(text("DROP TABLE alembic_version"))
    assert set(inspect(old).get_table_names()) == set(FIRST_TABLES)
    old.dispose()
    engine = make_engine(database_url)
    assert "alembic_version" in inspect(engine).get_table_names()
    assert "rating_rollups" in inspect(engine).get_table_names()
    make_engine(database_url)  # opening again is a no-op


def _snapshot(sessions: sessionmaker[Session]) -> dict[str, set[tuple[object, ...]]]:
    with sessions() as session:
        return {
            model.__tablename__: {
                tuple(getattr(row, c.name) for c in model.__table__.columns)
                for row in session.scalars(select(model))
            }
            for model in ROLLUPS
        }


def _store_thirty(sessions: sessionmaker[Session]) -> None:
    """30 ratings 3 hours apart from 03:00 local on 25/11, in batches of 7, as the hub stores them."""
    hanoi = timezone(timedelta(hours=7))
    attribution = Attribution("Q1", "CB001", "1.001193", "ho-tich", receipt_known=True)
    nobody = Attribution(None, None, None, None, receipt_known=False)
    ratings = [
        (
            make_rating(
                seq=i + 1,
                receipt=ReceiptRef(code=f"000.00.20.H41-261125-{i + 1:04d}", verified=True),
                score=list(Score)[i % 5],
                rated_at=datetime(2026, 11, 24, 20, 0, tzinfo=UTC) + timedelta(hours=3 * i),
                reasons=("late", "rude")[: i % 3],
                factors={Factor.OFFICER: Score.SATISFIED} if i % 2 else {},
                stage=Stage.RETURN if i % 4 == 0 else Stage.RECEPTION,
            ),
            attribution if i % 3 else nobody,
        )
        for i in range(30)
    ]
    now = datetime(2026, 11, 30, tzinfo=hanoi)
    for start in range(0, len(ratings), 7):
        with sessions.begin() as session:
            store_batch(session, ratings[start : start + 7], now)


def test_the_upgrade_to_0002_counts_the_stored_ratings(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store_thirty(sessions)
    kept = _snapshot(sessions)
    assert sum(n for *_, n in kept["rating_rollups"]) == 30
    with engine.begin() as connection:  # back to 0001 (the rollups go), then up again
        command.downgrade(_alembic_config(connection), "0001")
    assert "rating_rollups" not in inspect(engine).get_table_names()
    engine.dispose()
    engine = make_engine(database_url)
    assert _snapshot(session_factory(engine)) == kept


def test_the_upgrade_to_0005_counts_the_stored_ratings_per_hour(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store_thirty(sessions)
    kept = _snapshot(sessions)
    # 3 h apart from 03:00 local: 8 a day, one per hour 03, 06, ..., 21; 30 = 3 days of 8, then 6.
    hours = {(day.day, hour): n for _, day, hour, _, n in kept["hour_rollups"]}
    assert hours[(25, 3)] == hours[(28, 18)] == 1
    assert (28, 21) not in hours
    assert list(hours.values()) == [1] * 30
    with engine.begin() as connection:  # back to 0004 (only the hour rollups go), then up again
        command.downgrade(_alembic_config(connection), "0004")
    assert "hour_rollups" not in inspect(engine).get_table_names()
    assert "rating_rollups" in inspect(engine).get_table_names()
    engine.dispose()
    engine = make_engine(database_url)
    assert _snapshot(session_factory(engine)) == kept


def _store_across_months(sessions: sessionmaker[Session]) -> None:
    """60 ratings 19 hours apart from 21/11/2026 (local), into January 2027, in batches of 9."""
    attribution = Attribution("Q1", "CB001", "1.001193", "ho-tich", receipt_known=False)
    ratings = [
        (
            make_rating(
                seq=i + 1,
                receipt=None,  # walk-ins: one receipt could be rated only once
                score=list(Score)[i % 5],
                rated_at=datetime(2026, 11, 20, 20, 0, tzinfo=UTC) + timedelta(hours=19 * i),
                reasons=("late", "rude")[: i % 3],
                factors={Factor.ACCESS: list(Score)[i % 4]} if i % 2 else {},
            ),
            attribution,
        )
        for i in range(60)
    ]
    now = datetime(2027, 1, 10, tzinfo=UTC)
    for start in range(0, len(ratings), 9):
        with sessions.begin() as session:
            store_batch(session, ratings[start : start + 9], now)


def test_the_upgrade_to_0006_sums_the_daily_rollups_per_month(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store_across_months(sessions)
    kept = _snapshot(sessions)
    months = {(row[1].year, row[1].month) for row in kept["rating_month_rollups"]}
    assert months == {(2026, 11), (2026, 12), (2027, 1)}
    for model in MONTH_ROLLUPS:  # each monthly table holds what its daily one does
        daily = model.__tablename__.replace("_month", "")
        assert _total(kept[model.__tablename__]) == _total(kept[daily]) > 0, daily
    with engine.begin() as connection:  # back to 0005 (only the month rollups go), then up again
        command.downgrade(_alembic_config(connection), "0005")
    tables = inspect(engine).get_table_names()
    assert "rating_month_rollups" not in tables
    assert "hour_rollups" in tables
    engine.dispose()
    engine = make_engine(database_url)
    assert _snapshot(session_factory(engine)) == kept


def _total(rows: set[tuple[object, ...]]) -> int:
    return sum(int(str(row[-1])) for row in rows)


def test_the_upgrade_to_0008_keeps_stored_ratings_counted_and_unflagged(database_url: str) -> None:
    """Every rating stored before the register's authority was counted into the rollups, so it
    stays counted: figures already published do not move; a downgrade drops the new columns."""
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store_across_months(sessions)
    kept = _snapshot(sessions)
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0007")
    columns = {c["name"] for c in inspect(engine).get_columns("ratings")}
    assert not columns & {"counted", "suspect", "claim_mismatch"}
    engine.dispose()
    engine = make_engine(database_url)  # up to the head again
    with engine.connect() as connection:
        flags = connection.execute(
            text("SELECT counted, suspect, claim_mismatch, count(*) FROM ratings GROUP BY 1, 2, 3")
        ).all()
    assert [(bool(c), bool(s), m, n) for c, s, m, n in flags] == [(True, False, None, 60)]
    assert _snapshot(session_factory(engine)) == kept
