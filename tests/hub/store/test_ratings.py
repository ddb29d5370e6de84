"""Storing ratings on a real SQLite database: idempotent on the rating id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import RatingMessage, ReceiptRef
from hailong.contract.scale import Factor, Score, Stage
from hub.domain.ingest import Attribution
from hub.store.db import SchemaError, make_engine, session_factory
from hub.store.models import DeadLetterRow, RatingRow
from hub.store.ratings import store_batch, store_dead_letter
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ATTR = Attribution("Q1", "CB001", "1.001193", "ho-tich", receipt_known=True)
RETURN_ATTR = Attribution(
    "Q1", "CB002", "1.001193", "ho-tich", receipt_known=True, stage=Stage.RETURN
)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return session_factory(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))


def _rating(seq: int, **overrides: object) -> RatingMessage:
    """A rating of its own receipt (one rating per receipt and stage)."""
    receipt = ReceiptRef(code=f"000.00.20.H41-261125-{seq:04d}", verified=True)
    return make_rating(seq=seq, receipt=receipt, **overrides)


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RatingRow)) or 0)


def test_new_ratings_are_stored(sessions: sessionmaker[Session]) -> None:
    ratings = [_rating(i) for i in range(1, 4)]
    with sessions.begin() as session:
        outcomes = store_batch(session, [(r, ATTR) for r in ratings], NOW)
    assert [o.outcome for o in outcomes] == ["stored"] * 3
    assert _count(sessions) == 3
    with sessions() as session:
        row = session.get(RatingRow, str(ratings[0].id))
        assert row is not None
        assert (row.field, row.score, row.receipt_verified) == ("ho-tich", 4, True)


def test_duplicates_across_and_within_batches(sessions: sessionmaker[Session]) -> None:
    first, second = _rating(1), _rating(2)
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


def test_survey_answers_and_consented_phone_are_kept(sessions: sessionmaker[Session]) -> None:
    rating = _rating(
        1,
        score=Score.DISSATISFIED,
        reasons=("late",),
        factors={Factor.OFFICER: Score.NEUTRAL, Factor.RESULT: Score.DISSATISFIED},
        callback_phone="0912345678",
    )
    with sessions.begin() as session:
        store_batch(session, [(rating, ATTR)], NOW)
    with sessions() as session:
        row = session.get(RatingRow, str(rating.id))
        assert row is not None
        assert (row.reasons, row.factors, row.callback_phone) == (
            ["late"],
            {"officer": 3, "result": 2},
            "0912345678",
        )


def test_a_second_rating_of_a_receipt_is_kept_aside_not_counted(
    sessions: sessionmaker[Session],
) -> None:
    first = _rating(1)
    again_elsewhere = _rating(1, kiosk="kiosk-q2", score=Score.VERY_DISSATISFIED)
    same_batch = _rating(1, kiosk="kiosk-q3")
    return_stage = _rating(1, stage=Stage.RETURN)
    with sessions.begin() as session:
        store_batch(session, [(first, ATTR)], NOW)
    with sessions.begin() as session:
        outcomes = store_batch(
            session,
            [(again_elsewhere, ATTR), (return_stage, RETURN_ATTR), (same_batch, ATTR)],
            NOW,
        )
    assert [o.outcome for o in outcomes] == ["already_rated", "stored", "already_rated"]
    assert outcomes[0].reason is not None
    assert str(first.id) in outcomes[0].reason
    assert _count(sessions) == 2
    with sessions() as session:
        kept = session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id)).all()
    assert [row.topic for row in kept] == [
        "hailong/v1/000.00.20.H41/kiosk-q2/ratings",
        "hailong/v1/000.00.20.H41/kiosk-q3/ratings",
    ]
    assert b'"score":1' in kept[0].payload


def test_walk_ins_without_a_receipt_never_collide(sessions: sessionmaker[Session]) -> None:
    walk_ins = [make_rating(seq=i, receipt=None) for i in range(1, 4)]
    with sessions.begin() as session:
        outcomes = store_batch(session, [(r, ATTR) for r in walk_ins], NOW)
    assert [o.outcome for o in outcomes] == ["stored"] * 3


def test_an_older_database_is_refused_at_start_naming_the_missing_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE receipts DROP COLUMN origin")
    engine.dispose()
    with pytest.raises(SchemaError, match=r"missing receipts\.origin"):
        make_engine(url)
