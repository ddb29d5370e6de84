"""Abandoned sessions in the kiosk's outbox: one sequence with the ratings, durable at once,
published and acknowledged like them, never marking a receipt rated."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hailong.contract.messages import (
    AbandonedMessage,
    AckOutcome,
    RatingMessage,
    decode_kiosk_record,
)
from hailong.contract.scale import Score, Stage
from kiosk.outbox import Outbox
from tests.hailong.contract.test_abandoned_message import make_abandoned
from tests.hailong.contract.test_messages import make_rating

CODE = "000.00.20.H41-261125-0001"
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def _left(outbox: Outbox, key: uuid.UUID | None = None) -> AbandonedMessage:
    key = key or uuid.uuid4()
    return outbox.save_abandoned(key, lambda seq: make_abandoned(id=key, seq=seq))


def test_ratings_and_abandoned_sessions_share_one_sequence(outbox: Outbox) -> None:
    first = outbox.append(lambda seq: make_rating(seq=seq))
    left = _left(outbox)
    rating_id = uuid.uuid4()
    held = outbox.save(rating_id, lambda seq: make_rating(id=rating_id, seq=seq), close=False)
    after = _left(outbox)  # closes the open rating first: publication keeps to seq order
    assert [first.seq, left.seq, held.seq, after.seq] == [1, 2, 3, 4]
    due = [decode_kiosk_record(d.payload) for d in outbox.due_batch(NOW, 0)]
    assert [type(r) for r in due] == [
        RatingMessage,
        AbandonedMessage,
        RatingMessage,
        AbandonedMessage,
    ]
    assert outbox.depth() == 4
    assert outbox.oldest_pending_seq() == 1


def test_a_second_write_of_the_same_session_changes_nothing(outbox: Outbox) -> None:
    key = uuid.uuid4()
    first = _left(outbox, key)
    again = outbox.save_abandoned(key, lambda seq: make_abandoned(id=key, seq=seq, reason="closed"))
    assert again == first
    assert outbox.depth() == 1


def test_a_build_under_another_id_is_refused_whole(outbox: Outbox) -> None:
    with pytest.raises(ValueError, match="saved as"):
        outbox.save_abandoned(uuid.uuid4(), lambda seq: make_abandoned(seq=seq))
    assert outbox.depth() == 0
    assert _left(outbox).seq == 1  # the refused write took no number


def test_it_never_marks_its_receipt_rated(outbox: Outbox) -> None:
    _left(outbox)
    assert not outbox.has_rated(CODE, Stage.RECEPTION)
    outbox.append(lambda seq: make_rating(seq=seq, score=Score.SATISFIED))
    assert outbox.has_rated(CODE, Stage.RECEPTION)  # the rating does


def test_acknowledged_like_a_rating_and_kept_when_rejected(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    stored, rejected = _left(box), _left(box)
    box.acknowledge(
        [
            AckOutcome(id=stored.id, seq=stored.seq, outcome="stored"),
            AckOutcome(id=rejected.id, seq=rejected.seq, outcome="rejected", reason="old hub"),
        ]
    )
    assert (box.depth(), box.rejected_count()) == (0, 1)
    box.close()
    reopened = Outbox(tmp_path / "outbox.db")  # durable, and numbering goes on after reopening
    assert reopened.rejected_count() == 1
    assert _left(reopened).seq == 3
    reopened.close()
