"""Storing ratings on a real SQLite database: idempotent on the rating id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.domain.ingest import Attribution
from hub.store.db import make_engine, session_factory
from hub.store.models import DeadLetterRow, RatingRow
from hub.store.ratings import store_batch, store_dead_letter
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ATTR = Attribution("Q1", "CB001", "1.001193", "ho-tich", receipt_known=True)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return session_factory(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RatingRow)) or 0)


def test_new_ratings_are_stored(sessions: sessionmaker[Session]) -> None:
    ratings = [make_rating(seq=i) for i in range(1, 4)]
    with sessions.begin() as session:
        outcomes = store_batch(session, [(r, ATTR) for r in ratings], NOW)
    assert [o.outcome for o in outcomes] == ["stored"] * 3
    assert _count(sessions) == 3
    with sessions() as session:
        row = session.get(RatingRow, str(ratings[0].id))
        assert row is not None
        assert (row.field, row.score, row.receipt_verified) == ("ho-tich", 4, True)


def test_duplicates_across_and_within_batches(sessions: sessionmaker[Session]) -> None:
    first, second = make_rating(seq=1), make_rating(seq=2)
    with sessions.begin() as session:
        store_batch(session, [(first, ATTR)], NOW)
    with sessions.begin() as session:
        outcomes = store_batch(session, [(first, ATTR), (second, ATTR), (second, ATTR)], NOW)
    assert [o.outcome for o in outcomes] == ["duplicate", "stored", "duplicate"]
    assert _count(sessions) == 2


def test_dead_letters_keep_the_payload(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        store_dead_letter(session, "hailong/v1/x/y/ratings", b"\xff garbage", "not UTF-8 JSON", NOW)
    with sessions() as session:
        row = session.scalars(select(DeadLetterRow)).one()
    assert (row.payload, row.reason) == (b"\xff garbage", "not UTF-8 JSON")
