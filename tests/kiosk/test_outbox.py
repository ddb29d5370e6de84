"""The outbox on a real SQLite file: gap-free sequence, delete only on ack, survives a restart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hailong.contract.messages import AckOutcome, RatedReceipt, ReceiptRef
from hailong.contract.scale import Stage
from kiosk.outbox import Outbox
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _append(outbox: Outbox, code: str | None = None) -> uuid.UUID:
    receipt = ReceiptRef(code=code, verified=True) if code else None
    rating = outbox.append(lambda seq: make_rating(seq=seq, receipt=receipt))
    return rating.id


def test_sequence_numbers_are_gap_free_and_survive_reopening(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    ids = [_append(outbox) for _ in range(3)]
    outbox.acknowledge([AckOutcome(id=i, seq=n + 1, outcome="stored") for n, i in enumerate(ids)])
    assert outbox.depth() == 0
    outbox.close()
    reopened = Outbox(tmp_path / "outbox.db")
    rating = reopened.append(lambda seq: make_rating(seq=seq))
    assert rating.seq == 4  # numbering continues after every rating left the outbox


def test_pending_ratings_survive_a_restart(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    first = _append(outbox, "000.00.20.H41-261125-0001")
    outbox.close()
    reopened = Outbox(tmp_path / "outbox.db")
    assert reopened.depth() == 1
    assert [i for i, _ in reopened.due(NOW, 30)] == [first]
    assert reopened.has_rated("000.00.20.H41-261125-0001", Stage.RECEPTION)
    assert not reopened.has_rated("000.00.20.H41-261125-0001", Stage.RETURN)


def test_only_acknowledged_ratings_leave(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    a, b, c = (_append(outbox) for _ in range(3))
    removed = outbox.acknowledge(
        [
            AckOutcome(id=a, seq=1, outcome="stored"),
            AckOutcome(id=b, seq=2, outcome="duplicate"),
            AckOutcome(id=uuid.uuid4(), seq=99, outcome="stored"),  # not ours: ignored
        ]
    )
    assert removed == 2
    assert [i for i, _ in outbox.due(NOW, 30)] == [c]


def test_rejected_ratings_are_kept_but_not_resent(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    rejected = _append(outbox)
    outbox.acknowledge([AckOutcome(id=rejected, seq=1, outcome="rejected", reason="bad")])
    assert (outbox.depth(), outbox.rejected_count()) == (0, 1)
    assert outbox.due(NOW, 0) == []


def test_sent_ratings_become_due_again_after_resend_after(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    rating_id = _append(outbox)
    outbox.mark_sent([rating_id], NOW)
    assert outbox.due(NOW + timedelta(seconds=10), 30) == []
    assert [i for i, _ in outbox.due(NOW + timedelta(seconds=31), 30)] == [rating_id]


def test_unit_config_is_cached(tmp_path: Path, unit) -> None:  # type: ignore[no-untyped-def]
    outbox = Outbox(tmp_path / "outbox.db")
    assert outbox.load_unit_config() is None
    outbox.save_unit_config(unit.to_message().to_bytes())
    assert outbox.load_unit_config() == unit.to_message()
    outbox.save_unit_config(b"corrupt")
    assert outbox.load_unit_config() is None


def test_already_rated_ack_leaves_the_outbox_and_notices_mark_receipts(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    rating = _append(outbox, "000.00.20.H41-261125-0003")
    reason = "already rated: 000.00.20.H41-261125-0003 reception by rating x"
    removed = outbox.acknowledge(
        [AckOutcome(id=rating, seq=1, outcome="already_rated", reason=reason)]
    )
    assert (removed, outbox.depth()) == (1, 0)
    outbox.mark_rated(
        [
            RatedReceipt(code="000.00.20.H41-261125-0009", stage=Stage.RETURN),
            RatedReceipt(code="000.00.20.H41-261125-0009", stage=Stage.RETURN),  # repeated
        ]
    )
    outbox.mark_rated([])
    assert outbox.has_rated("000.00.20.H41-261125-0009", Stage.RETURN)
    assert not outbox.has_rated("000.00.20.H41-261125-0009", Stage.RECEPTION)
