"""UtcDateTime: every instant goes in as UTC and comes out aware in UTC, a naive one is refused.
Each test runs on SQLite (which keeps no zone) and on PostgreSQL in a session whose time zone is
not UTC (so the driver hands back +07:00 values)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, func, insert, select
from sqlalchemy.exc import StatementError

from hub.store.types import NaiveDatetimeError, UtcDateTime

INSTANTS = Table(
    "instants",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime()),
)
HANOI = timezone(timedelta(hours=7))
NEW_YORK = timezone(timedelta(hours=-5))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    options = {"options": "-c timezone=Asia/Ho_Chi_Minh"} if "postgresql" in database_url else {}
    engine = create_engine(database_url, connect_args=options)
    INSTANTS.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _store(engine: Engine, *instants: datetime | None) -> list[datetime | None]:
    with engine.begin() as connection:
        connection.execute(insert(INSTANTS), [{"at": at} for at in instants])
    return _stored(engine)


def _stored(engine: Engine) -> list[datetime | None]:
    with engine.connect() as connection:
        return list(connection.scalars(select(INSTANTS.c.at).order_by(INSTANTS.c.id)))


@pytest.mark.parametrize(
    ("stored", "utc"),
    [
        # The first and last years the hub could hold, with offsets that move them across the year.
        (datetime(2000, 1, 1, 0, 0, tzinfo=HANOI), datetime(1999, 12, 31, 17, 0, tzinfo=UTC)),
        (
            datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
            datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        ),
        (
            datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=NEW_YORK),
            datetime(2100, 1, 1, 4, 59, 59, 999999, tzinfo=UTC),
        ),
        (
            datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC),
            datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC),
        ),
    ],
)
def test_an_instant_comes_back_in_utc(engine: Engine, stored: datetime, utc: datetime) -> None:
    (back,) = _store(engine, stored)
    assert back == utc
    assert back is not None
    assert back.tzinfo is UTC
    assert back.isoformat() == utc.isoformat()  # the same wall clock, not only the same instant


def test_none_stays_none(engine: Engine) -> None:
    assert _store(engine, None) == [None]


def test_a_naive_datetime_is_refused_on_the_way_in(engine: Engine) -> None:
    with pytest.raises(StatementError, match="2026-11-25T03:00:00 has no time zone") as caught:
        _store(engine, datetime(2026, 11, 25, 3, 0))
    assert isinstance(caught.value.orig, NaiveDatetimeError)
    assert _stored(engine) == []  # nothing was written


def test_a_naive_bound_is_refused_in_a_comparison(engine: Engine) -> None:
    _store(engine, datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    with engine.connect() as connection, pytest.raises(StatementError) as caught:
        connection.execute(select(INSTANTS.c.id).where(INSTANTS.c.at >= datetime(2026, 11, 25)))
    assert isinstance(caught.value.orig, NaiveDatetimeError)


def test_a_bound_in_another_zone_compares_as_the_same_instant(engine: Engine) -> None:
    """SQLite compares the stored text: a +07:00 bound written as its wall clock would be seven
    hours off. Converted on the way in, Hà Nội's midnight is 17:00 UTC the day before."""
    _store(
        engine,
        datetime(2026, 11, 24, 16, 59, 59, tzinfo=UTC),  # 23:59:59 on the 24th in Hà Nội
        datetime(2026, 11, 24, 17, 0, tzinfo=UTC),  # midnight of the 25th in Hà Nội
        datetime(2026, 11, 25, 8, 0, tzinfo=HANOI),
    )
    midnight = datetime(2026, 11, 25, tzinfo=HANOI)
    with engine.connect() as connection:
        after = connection.scalars(select(INSTANTS.c.id).where(INSTANTS.c.at >= midnight))
        assert list(after) == [2, 3]
        latest = connection.scalar(select(func.max(INSTANTS.c.at)))
    assert latest == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert latest is not None
    assert latest.tzinfo is UTC  # an aggregate keeps the column's type
