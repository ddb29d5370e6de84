"""The follow-up desk on a real database (SQLite and PostgreSQL): who reaches which follow-up,
the page and the feed an officer and a head get, an action taken through the version check, and
the officers a follow-up may be given to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score
from hailong.settings import Unit
from hub.domain.followup import Action, Actor, Assignee, FollowUpError, NotPermitted, State
from hub.domain.ingest import Attribution
from hub.followups.desk import FollowUpDesk, NotFound, may_see_phone
from hub.store.db import make_engine, session_factory
from hub.store.followups import Conflict
from hub.store.models import FollowUpEventRow
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
HEAD = Actor("head", "head")
LAN = Actor("lan", "officer", "CB001")
MINH = Actor("minh", "officer", "CB002")
# Logins as the web's accounts would give them: "ghost" is an officer the catalogue lost.
LOGINS = [Assignee("lan", "CB001"), Assignee("minh", "CB002"), Assignee("ghost", "CB999")]
_seq = iter(range(1, 1_000_000))


@pytest.fixture
def desk(database_url: str, unit: Unit) -> FollowUpDesk:
    sessions = session_factory(make_engine(database_url))
    return FollowUpDesk(unit, sessions, lambda: NOW, lambda: LOGINS)


def _store(sessions: sessionmaker[Session], score: Score, **fields: object) -> str:
    seq = next(_seq)
    rating = make_rating(
        seq=seq,
        score=score,
        rated_at=NOW - timedelta(minutes=10 - seq % 10),
        receipt=ReceiptRef(code=f"000.00.20.H41-261125-{seq:04d}", verified=True),
        **fields,
    )
    attribution = Attribution("Q1", "CB001", "1.001193", "ho-tich", True)
    with sessions.begin() as session:
        store_batch(session, [(rating, attribution)], NOW - timedelta(minutes=1))
    return str(rating.id)


def _events(desk: FollowUpDesk) -> int:
    with desk.sessions() as session:
        return session.scalar(select(func.count()).select_from(FollowUpEventRow)) or 0


def test_an_officer_reaches_only_what_is_assigned_to_them(desk: FollowUpDesk) -> None:
    complaint = _store(desk.sessions, Score.VERY_DISSATISFIED, callback_phone="0912345678")
    happy = _store(desk.sessions, Score.VERY_SATISFIED)
    page = desk.page(HEAD)
    assert [item.rating_id for item in page.items] == [complaint]
    assert (page.tally[State.OPEN], page.older, page.as_of) == (1, None, NOW)
    assert desk.page(LAN).items == []
    for viewer, rating_id in ((HEAD, happy), (LAN, complaint), (HEAD, "not-a-rating")):
        with pytest.raises(NotFound):
            desk.view(viewer, rating_id)
    with pytest.raises(NotFound):  # typing the id of an open follow-up does nothing either
        desk.act(LAN, complaint, Action.ASSIGN, version=0, assignee="lan")
    desk.act(HEAD, complaint, Action.ASSIGN, version=0, assignee="lan", note="Gọi lại")
    item, follow_up = desk.view(LAN, complaint)
    assert (follow_up.state, follow_up.assignee_officer, item.version) == (
        State.ASSIGNED,
        "CB001",
        1,
    )
    assert [i.rating_id for i in desk.page(LAN).items] == [complaint]
    assert may_see_phone(LAN, item)
    with pytest.raises(NotFound):
        desk.view(MINH, complaint)
    with pytest.raises(NotPermitted):
        desk.act(LAN, complaint, Action.CLOSE, version=1, note="Tự đóng")
    desk.act(LAN, complaint, Action.ANSWER, version=1, note="Đã gọi lại")
    desk.act(HEAD, complaint, Action.CLOSE, version=2)
    closed, _ = desk.view(LAN, complaint)
    assert closed.state is State.CLOSED
    assert not may_see_phone(LAN, closed)  # the officer's call is over
    assert may_see_phone(HEAD, closed)
    assert _events(desk) == 3


def test_a_stale_version_or_an_unknown_officer_changes_nothing(desk: FollowUpDesk) -> None:
    complaint = _store(desk.sessions, Score.DISSATISFIED)
    desk.act(HEAD, complaint, Action.ASSIGN, version=0, assignee="lan")
    with pytest.raises(Conflict):  # a form made before the assignment
        desk.act(HEAD, complaint, Action.ASSIGN, version=0, assignee="minh")
    for nobody in ("ghost", "head"):
        with pytest.raises(FollowUpError, match="There is no such officer"):
            desk.act(HEAD, complaint, Action.ASSIGN, version=1, assignee=nobody)
    assert _events(desk) == 1
    assert desk.assignable() == LOGINS[:2]  # the catalogue has no CB999


def test_the_feed_brings_arrivals_and_changes_after_its_cursor(desk: FollowUpDesk) -> None:
    start = NOW - timedelta(minutes=2)
    quiet = desk.changes(HEAD, NOW)
    assert (quiet.items, quiet.tally, quiet.cursor) == ([], None, NOW)
    complaint = _store(desk.sessions, Score.DISSATISFIED, comment="Chờ quá lâu")
    _store(desk.sessions, Score.SATISFIED)
    arrived = desk.changes(HEAD, start)
    assert [item.rating_id for item in arrived.items] == [complaint]
    assert arrived.tally is not None
    assert arrived.tally[State.OPEN] == 1
    assert arrived.cursor == NOW - timedelta(minutes=1)  # when it was received
    assert desk.changes(LAN, start).items == []  # not Lan's until assigned
    desk.act(HEAD, complaint, Action.ASSIGN, version=0, assignee="lan")
    for viewer in (HEAD, LAN):
        changed = desk.changes(viewer, arrived.cursor)
        assert [(i.rating_id, i.state) for i in changed.items] == [(complaint, State.ASSIGNED)]
        assert changed.cursor == NOW  # the desk's clock stamped the action
