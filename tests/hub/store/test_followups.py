"""Follow-ups in the database: dissatisfied ratings listed without a row until someone acts, the
trail written and read back, counts, the live feed, pages, and a stale write refused. Each test
runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score
from hub.domain.followup import Action, Actor, Assignee, FollowUp, State, act
from hub.domain.ingest import Attribution
from hub.store import followups
from hub.store.db import _alembic_config, make_engine, session_factory
from hub.store.followups import Conflict, Cursor
from hub.store.models import FollowUpEventRow, FollowUpRow
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

UNIT = "000.00.20.H41"
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
HEAD = Actor("truong", "head")
LAN = Actor("lan", "officer", "CB001")
TO_LAN = Assignee("lan", "CB001")
TO_MINH = Assignee("minh", "CB002")
ATTRIBUTION = Attribution("Q1", "CB001", "1.001193", "ho-tich", True)
_seq = iter(range(1, 1_000_000))


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    return session_factory(make_engine(database_url))


def _store(
    sessions: sessionmaker[Session],
    *scores: Score,
    rated_at: datetime = NOW,
    received_at: datetime = NOW,
    unit: str = UNIT,
    **fields: object,
) -> list[str]:
    """Store one rating per score (a minute apart, the last newest); their ids, in that order."""
    items = []
    for i, score in enumerate(scores):
        seq = next(_seq)
        rating = make_rating(
            seq=seq,
            unit=unit,
            score=score,
            rated_at=rated_at + timedelta(minutes=i),
            receipt=ReceiptRef(code=f"{UNIT}-261125-{seq:04d}", verified=True),
            **fields,
        )
        items.append((rating, ATTRIBUTION))
    with sessions.begin() as session:
        store_batch(session, items, received_at)
    return [str(rating.id) for rating, _ in items]


def _act(
    sessions: sessionmaker[Session],
    rating_id: str,
    actor: Actor,
    action: Action,
    at: datetime = NOW,
    **kwargs: object,
) -> FollowUp:
    with sessions.begin() as session:
        found = followups.load(session, UNIT, 2, rating_id)
        assert found is not None
        item, before = found
        after = act(before, actor, action, at, **kwargs)  # type: ignore[arg-type]
        followups.record(session, item, before, after)
    return after


def _ids(items: list[followups.FollowUpItem]) -> list[str]:
    return [item.rating_id for item in items]


def test_dissatisfied_ratings_are_open_follow_ups_newest_first(
    sessions: sessionmaker[Session],
) -> None:
    bad = _store(sessions, Score.VERY_DISSATISFIED, Score.SATISFIED, Score.DISSATISFIED)
    _store(sessions, Score.VERY_DISSATISFIED, unit="000.00.20.H42")  # another unit
    (neutral,) = _store(sessions, Score.NEUTRAL, rated_at=NOW + timedelta(minutes=10))
    with sessions() as session:
        listed = followups.list_follow_ups(session, UNIT, 2)
        assert _ids(listed) == [bad[2], bad[0]]
        assert {item.state for item in listed} == {State.OPEN}
        assert [item.version for item in listed] == [0, 0]
        at_or_below_neutral = followups.list_follow_ups(session, UNIT, 3)
        assert _ids(at_or_below_neutral) == [neutral, bad[2], bad[0]]
        assert _ids(followups.list_follow_ups(session, UNIT, 2, state=State.OPEN)) == [
            bad[2],
            bad[0],
        ]
        assert followups.list_follow_ups(session, UNIT, 2, state=State.CLOSED) == []
        assert followups.counts(session, UNIT, 2) == {
            State.OPEN: 2,
            State.ASSIGNED: 0,
            State.ANSWERED: 0,
            State.CLOSED: 0,
        }


def test_the_whole_trail_is_written_and_read_back(sessions: sessionmaker[Session]) -> None:
    (rating_id,) = _store(
        sessions, Score.DISSATISFIED, comment="Cán bộ thiếu nhiệt tình", callback_phone="0912345678"
    )
    later = NOW + timedelta(hours=1)
    _act(sessions, rating_id, HEAD, Action.ASSIGN, later, note="Gọi lại hôm nay", assignee=TO_LAN)
    _act(sessions, rating_id, LAN, Action.ANSWER, later + timedelta(minutes=5), note="Đã gọi lại")
    closed = _act(sessions, rating_id, HEAD, Action.CLOSE, later + timedelta(minutes=9))
    with sessions() as session:
        found = followups.load(session, UNIT, 2, rating_id)
        assert found is not None
        item, follow_up = found
        assert follow_up == closed
        assert (item.state, item.assignee, item.assignee_officer, item.version) == (
            State.CLOSED,
            "lan",
            "CB001",
            3,
        )
        assert (item.comment, item.callback_phone) == ("Cán bộ thiếu nhiệt tình", "0912345678")
        assert item.updated_at == later + timedelta(minutes=9)
        assert [(e.actor, e.action, e.at) for e in follow_up.events] == [
            ("truong", Action.ASSIGN, later),
            ("lan", Action.ANSWER, later + timedelta(minutes=5)),
            ("truong", Action.CLOSE, later + timedelta(minutes=9)),
        ]
        row = session.get(FollowUpRow, rating_id)
        assert row is not None
        assert row.opened_at == NOW  # when the rating arrived
        assert session.scalar(select(func.count()).select_from(FollowUpEventRow)) == 3


def test_lists_by_state_and_an_officers_own(sessions: sessionmaker[Session]) -> None:
    a, b, c, d = _store(sessions, *[Score.DISSATISFIED] * 4)
    _act(sessions, a, HEAD, Action.ASSIGN, assignee=TO_LAN)
    _act(sessions, b, HEAD, Action.ASSIGN, assignee=TO_MINH)
    _act(sessions, c, HEAD, Action.ASSIGN, assignee=TO_LAN)
    _act(sessions, c, LAN, Action.ANSWER, note="Đã gọi lại")
    with sessions() as session:
        assert _ids(followups.list_follow_ups(session, UNIT, 2, state=State.ASSIGNED)) == [b, a]
        assert _ids(followups.list_follow_ups(session, UNIT, 2, state=State.ANSWERED)) == [c]
        assert _ids(followups.list_follow_ups(session, UNIT, 2, state=State.OPEN)) == [d]
        assert _ids(followups.list_follow_ups(session, UNIT, 2)) == [d, c, b, a]
        assert _ids(followups.list_follow_ups(session, UNIT, 2, assignee="lan")) == [c, a]
        lans = followups.list_follow_ups(session, UNIT, 2, assignee="lan", state=State.ASSIGNED)
        assert _ids(lans) == [a]
        assert followups.counts(session, UNIT, 2) == {
            State.OPEN: 1,
            State.ASSIGNED: 2,
            State.ANSWERED: 1,
            State.CLOSED: 0,
        }
        assert followups.counts(session, UNIT, 2, assignee="lan") == {
            State.OPEN: 0,
            State.ASSIGNED: 1,
            State.ANSWERED: 1,
            State.CLOSED: 0,
        }


def test_pages_follow_each_other_without_gaps_or_repeats(sessions: sessionmaker[Session]) -> None:
    ids = _store(sessions, *[Score.VERY_DISSATISFIED] * 5)
    ids += _store(sessions, *[Score.VERY_DISSATISFIED] * 3)  # same rated_at as the first three
    seen: list[str] = []
    cursor = None
    with sessions() as session:
        while True:
            page = followups.list_follow_ups(session, UNIT, 2, before=cursor, limit=3)
            seen += _ids(page)
            if len(page) < 3:
                break
            cursor = Cursor.decode(Cursor(page[-1].rated_at, page[-1].rating_id).encode())
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen)) == 8
    assert Cursor.decode("nonsense") is None
    assert Cursor.decode("20261125T030000.000000_") is None


def test_the_feed_gives_new_arrivals_and_changes(sessions: sessionmaker[Session]) -> None:
    (old,) = _store(sessions, Score.DISSATISFIED)
    since = NOW + timedelta(seconds=1)
    with sessions() as session:
        assert followups.changes(session, UNIT, 2, since=since, now=since) == []
    arrived = NOW + timedelta(seconds=2)
    (new,) = _store(sessions, Score.VERY_DISSATISFIED, received_at=arrived)
    _store(sessions, Score.SATISFIED, received_at=arrived)
    # Made three days ago, delivered now: outside the feed's window (shown on the next load).
    _store(sessions, Score.DISSATISFIED, rated_at=NOW - timedelta(days=3), received_at=arrived)
    _act(sessions, old, HEAD, Action.ASSIGN, NOW + timedelta(seconds=3), assignee=TO_LAN)
    with sessions() as session:
        changed = followups.changes(session, UNIT, 2, since=since, now=arrived)
        assert _ids(changed) == [new, old]  # oldest change first
        assert changed[1].state is State.ASSIGNED
        assert changed[1].changed_at == NOW + timedelta(seconds=3)
        mine = followups.changes(session, UNIT, 2, since=since, now=arrived, assignee="lan")
        assert _ids(mine) == [old]
        theirs = followups.changes(session, UNIT, 2, since=since, now=arrived, assignee="minh")
        assert theirs == []
        later = NOW + timedelta(seconds=3)
        assert followups.changes(session, UNIT, 2, since=later, now=arrived) == []


def test_a_stale_write_is_refused(sessions: sessionmaker[Session]) -> None:
    (rating_id,) = _store(sessions, Score.DISSATISFIED)
    with sessions() as session:
        found = followups.load(session, UNIT, 2, rating_id)
    assert found is not None
    item, before = found
    first = act(before, HEAD, Action.ASSIGN, NOW, assignee=TO_LAN)
    second = act(before, HEAD, Action.ASSIGN, NOW, assignee=TO_MINH)
    with sessions.begin() as session:
        followups.record(session, item, before, first)
    with pytest.raises(Conflict), sessions.begin() as session:  # both made the row
        followups.record(session, item, before, second)
    answered = act(first, LAN, Action.ANSWER, NOW, note="Đã gọi")
    closed = act(first, HEAD, Action.CLOSE, NOW, note="Trùng")
    with sessions.begin() as session:
        followups.record(session, item, first, answered)
    with pytest.raises(Conflict), sessions.begin() as session:  # both read version 1
        followups.record(session, item, first, closed)
    with sessions() as session:
        found = followups.load(session, UNIT, 2, rating_id)
        assert found is not None
        assert found[1] == answered
    with pytest.raises(ValueError, match="appended"), sessions.begin() as session:
        followups.record(session, item, answered, answered)


def test_what_is_not_a_follow_up_is_not_loaded(sessions: sessionmaker[Session]) -> None:
    (satisfied,) = _store(sessions, Score.SATISFIED)
    (foreign,) = _store(sessions, Score.VERY_DISSATISFIED, unit="000.00.20.H42")
    (neutral,) = _store(sessions, Score.NEUTRAL)
    with sessions() as session:
        assert followups.load(session, UNIT, 2, satisfied) is None
        assert followups.load(session, UNIT, 2, foreign) is None
        assert followups.load(session, UNIT, 2, "' OR '1'='1") is None
        assert followups.load(session, UNIT, 3, neutral) is not None
    # Acted on while the unit asked up to Neutral, it stays a follow-up if the unit lowers that.
    with sessions.begin() as session:
        found = followups.load(session, UNIT, 3, neutral)
        assert found is not None
        item, before = found
        followups.record(
            session, item, before, act(before, HEAD, Action.ASSIGN, NOW, assignee=TO_LAN)
        )
    with sessions() as session:
        assert followups.load(session, UNIT, 2, neutral) is not None
        assert neutral in _ids(followups.list_follow_ups(session, UNIT, 2))


def test_the_migration_goes_down_and_up_again(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    (rating_id,) = _store(sessions, Score.DISSATISFIED)
    _act(sessions, rating_id, HEAD, Action.ASSIGN, assignee=TO_LAN)
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0003")
    tables = set(inspect(engine).get_table_names())
    assert not tables & {"follow_ups", "follow_up_events"}
    assert "ratings" in tables
    engine.dispose()
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        listed = followups.list_follow_ups(session, UNIT, 2)
    assert [(i.rating_id, i.state) for i in listed] == [(rating_id, State.OPEN)]
