"""The channel rollups (revision 0016): after any mix of kiosk, button-box, online and paper
ratings, assisted or not, counted or not, both tables equal a GROUP BY over the counted ratings,
the reads through the plan equal a plain count for any bounds, and the migration's backfill
counts what was stored before it exactly as ``store_batch`` does (SQLite and PostgreSQL; the
hypothesis mix on SQLite)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import RatingMessage
from hailong.contract.scale import Channel, Score
from hailong.settings import Unit
from hub.domain.channels import channel_split
from hub.domain.ingest import Attribution
from hub.store.db import _alembic_config, make_engine, session_factory
from hub.store.models import ChannelMonthRollupRow, ChannelRollupRow, RatingRow
from hub.store.ratings import store_batch
from hub.store.rollups import LOCAL_ZONE, Scope, channel_counts, channel_counts_of_units
from tests.hailong.contract.test_messages import make_rating

HANOI = timezone(timedelta(hours=7))
UNITS = ("000.00.20.H41", "000.00.21.H41")
START = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 22:00 local on the 29th: over a month's end


@dataclasses.dataclass(frozen=True)
class Given:
    """One rating of the mix."""

    minutes: int  # after START
    unit: int  # index into UNITS
    channel: Channel
    assisted: bool
    score: Score
    counted: bool


def _item(i: int, given: Given) -> tuple[RatingMessage, Attribution]:
    rating = make_rating(
        seq=i + 1,
        unit=UNITS[given.unit],
        receipt=None,  # walk-ins: every one is stored, whatever the mix
        score=given.score,
        channel=given.channel,
        rated_at=START + timedelta(minutes=given.minutes),
    )
    keyed = given.channel is Channel.PAPER
    attribution = Attribution(
        "Q1",
        "CB001",
        None,
        None,
        receipt_known=False,
        counted=given.counted,
        entered_by="nhap-lieu" if keyed or given.assisted else None,
        assisted=given.assisted,
    )
    return rating, attribution


def _store(sessions: sessionmaker[Session], mix: list[Given], batch: int = 7) -> None:
    items = [_item(i, given) for i, given in enumerate(mix)]
    now = START + timedelta(days=60)
    for first in range(0, len(items), batch):
        with sessions.begin() as session:
            store_batch(session, items[first : first + batch], now)


def _table(session: Session, model: Any) -> Counter[tuple[Any, ...]]:
    names = [c.name for c in model.__table__.primary_key.columns]
    found: Counter[tuple[Any, ...]] = Counter()
    for row in session.scalars(select(model)):
        key = tuple(getattr(row, name) for name in names)
        found[(*key[:3], bool(key[3]), key[4])] += row.n
    return found


def _grouped(session: Session) -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """The GROUP BY over the counted ratings, per local day and per local month."""
    days: Counter[tuple[Any, ...]] = Counter()
    months: Counter[tuple[Any, ...]] = Counter()
    for row in session.scalars(select(RatingRow).where(RatingRow.counted.is_(True))):
        day = row.rated_at.astimezone(LOCAL_ZONE).date()
        rest = (row.channel, bool(row.assisted), row.score)
        days[(row.unit, day, *rest)] += 1
        months[(row.unit, day.replace(day=1), *rest)] += 1
    return days, months


def _assert_rollups_match(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        days, months = _grouped(session)
        assert _table(session, ChannelRollupRow) == days
        assert _table(session, ChannelMonthRollupRow) == months


def _plain(
    session: Session, code: str, since: datetime | None, until: datetime | None
) -> Counter[tuple[str, bool, int]]:
    found: Counter[tuple[str, bool, int]] = Counter()
    for row in session.scalars(
        select(RatingRow).where(RatingRow.counted.is_(True), RatingRow.unit == code)
    ):
        if (since is None or row.rated_at >= since) and (until is None or row.rated_at < until):
            found[(row.channel, bool(row.assisted), row.score)] += 1
    return found


# A fixed mix: every channel, assisted paper and assisted kiosk, uncounted ones, two units, from
# late November over December into January, at times near local midnights.
FIXED = [
    Given(
        minutes=(i * 617) % (60 * 24 * 45),
        unit=i % 2 if i % 5 else 0,
        channel=list(Channel)[i % 4],
        assisted=i % 8 == 3 or i % 11 == 0,
        score=list(Score)[(i * 3) % 5],
        counted=i % 9 != 4,
    )
    for i in range(160)
]
BOUNDS = [
    (None, None),
    (datetime(2026, 11, 30, 17, 0, tzinfo=UTC), datetime(2026, 12, 31, 17, 0, tzinfo=UTC)),
    (datetime(2026, 12, 3, 10, 0, tzinfo=HANOI), datetime(2027, 1, 7, 8, 30, tzinfo=HANOI)),
    (datetime(2026, 12, 15, 9, 0, tzinfo=HANOI), None),
    (None, datetime(2026, 12, 2, 12, 0, tzinfo=HANOI)),
]


def test_the_channel_rollups_equal_a_group_by_over_the_ratings(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store(sessions, FIXED)
    _assert_rollups_match(sessions)
    with sessions() as session:
        assert {channel for _, _, channel, _, _ in _table(session, ChannelRollupRow)} == {
            c.value for c in Channel
        }
        for since, until in BOUNDS:
            many = channel_counts_of_units(session, [*UNITS, "nobody"], since, until)
            assert many["nobody"] == Counter()
            for code in UNITS:
                assert many[code] == _plain(session, code, since, until), (since, until)
    engine.dispose()


def test_a_scope_reads_its_unit_and_refuses_an_officer(tmp_path: Any, unit: Unit) -> None:
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    _store(sessions, FIXED)
    code = unit.unit.code
    assert code == UNITS[0]
    since, until = BOUNDS[2]
    with sessions() as session:
        found = channel_counts(session, Scope(unit, since, until))
        assert found == _plain(session, code, since, until)
        split = channel_split(found)
        assert split.total.n == sum(found.values())
        assert sum(line.n for line in split.channels) == split.total.n
        assert split.assisted.n == sum(n for (_, helped, _), n in found.items() if helped)
        with pytest.raises(ValueError, match="per unit"):
            channel_counts(session, Scope(unit, officer="CB001"))


_given = st.builds(
    Given,
    minutes=st.integers(0, 60 * 24 * 40),
    unit=st.integers(0, 1),
    channel=st.sampled_from(list(Channel)),
    assisted=st.booleans(),
    score=st.sampled_from(list(Score)),
    counted=st.booleans(),
)


@settings(max_examples=25, deadline=None)
@given(mix=st.lists(_given, max_size=40), batch=st.integers(1, 12))
def test_any_mix_keeps_the_channel_rollups_equal_to_a_group_by(
    mix: list[Given], batch: int
) -> None:
    engine = make_engine("sqlite://")
    try:
        sessions = session_factory(engine)
        _store(sessions, mix, batch)
        _assert_rollups_match(sessions)
    finally:
        engine.dispose()


def test_the_upgrade_to_0016_counts_the_ratings_already_stored(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store(sessions, FIXED[:90])
    with sessions() as session:
        kept = (_table(session, ChannelRollupRow), _table(session, ChannelMonthRollupRow))
    assert sum(kept[0].values()) == sum(1 for g in FIXED[:90] if g.counted)
    with engine.begin() as connection:  # back to 0015 (only the channel rollups go), then up
        command.downgrade(_alembic_config(connection), "0015")
    tables = inspect(engine).get_table_names()
    assert "channel_rollups" not in tables
    assert "channel_month_rollups" not in tables
    assert "rating_rollups" in tables
    engine.dispose()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with sessions() as session:
        assert (_table(session, ChannelRollupRow), _table(session, ChannelMonthRollupRow)) == kept
    _assert_rollups_match(sessions)
    assert min(day for _, day, *_ in kept[0]) == date(2026, 11, 29)
    engine.dispose()
