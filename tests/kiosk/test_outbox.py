"""The outbox on a real SQLite file: gap-free sequence, delete only on ack, survives a restart."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import kiosk.outbox as outbox_module
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


def _written(path: Path) -> set[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return set(conn.execute("SELECT dossier_code, stage FROM rated_receipts"))


def test_rated_notices_count_at_once_and_are_written_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "RATED_WRITE_AT", 3)
    path = tmp_path / "outbox.db"
    outbox = Outbox(path)
    codes = [f"000.00.20.H41-261125-{n:04d}" for n in range(1, 5)]
    outbox.mark_rated([RatedReceipt(code=codes[0], stage=Stage.RECEPTION)])
    assert outbox.has_rated(codes[0], Stage.RECEPTION)  # refused here at once...
    assert _written(path) == set()  # ...before any write
    outbox.mark_rated([RatedReceipt(code=c, stage=Stage.RECEPTION) for c in codes[1:3]])
    assert len(_written(path)) == 3  # the third one made the write due
    outbox.mark_rated([RatedReceipt(code=codes[3], stage=Stage.RETURN)])
    outbox.close()  # closing writes what is left
    assert (codes[3], "return") in _written(path)
    reopened = Outbox(path)
    assert all(reopened.has_rated(c, Stage.RECEPTION) for c in codes[:3])
    assert reopened.has_rated(codes[3], Stage.RETURN)


# -- windows over a large backlog (the uplink's due_batch, chunked id lists) ---------------------


def test_due_batch_walks_pending_ratings_in_seq_order_after_a_cursor(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    ids = [_append(outbox) for _ in range(6)]
    outbox.acknowledge([AckOutcome(id=ids[1], seq=2, outcome="rejected", reason="bad")])
    outbox.mark_sent([ids[2]], NOW)  # in flight: not due until resend_after has passed
    first = outbox.due_batch(NOW, 30, limit=2)
    assert [(r.seq, r.id) for r in first] == [(1, ids[0]), (4, ids[3])]
    rest = outbox.due_batch(NOW, 30, after_seq=first[-1].seq, limit=2)
    assert [r.seq for r in rest] == [5, 6]
    assert outbox.due_batch(NOW, 30, after_seq=6) == []
    later = outbox.due_batch(NOW + timedelta(seconds=30), 30)
    assert [r.seq for r in later] == [1, 3, 4, 5, 6]  # overdue again; the rejected one never
    assert later[0].payload == outbox.due(NOW, 30)[0][1]


def test_due_compares_send_times_as_instants_whatever_the_offset(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    rating_id = _append(outbox)
    hanoi = timezone(timedelta(hours=7))
    outbox.mark_sent([rating_id], NOW.astimezone(hanoi))
    assert outbox.due(NOW + timedelta(seconds=29, microseconds=999_999), 30) == []
    assert [i for i, _ in outbox.due((NOW + timedelta(seconds=30)).astimezone(hanoi), 30)] == [
        rating_id
    ]


def test_long_id_lists_are_marked_and_acknowledged_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many ids an ack or a window carries, SQLite's limit on bound variables is kept."""
    monkeypatch.setattr("kiosk.outbox._IDS_PER_STATEMENT", 3)
    outbox = Outbox(tmp_path / "outbox.db")
    ids = [_append(outbox) for _ in range(8)]
    outbox.mark_sent(iter(ids), NOW)
    assert outbox.due(NOW, 30) == []
    verdicts = (AckOutcome(id=i, seq=n + 1, outcome="stored") for n, i in enumerate(ids[:7]))
    assert outbox.acknowledge(verdicts) == 7  # a generator is read once, all of it
    assert [i for i, _ in outbox.due(NOW, 0)] == [ids[7]]


def test_the_pending_count_follows_every_commit_and_survives_reopening(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    ratings = [box.append(lambda seq: make_rating(seq=seq)) for _ in range(4)]
    assert box.depth() == 4
    box.acknowledge(
        [
            AckOutcome(id=ratings[0].id, seq=1, outcome="stored"),
            AckOutcome(id=ratings[1].id, seq=2, outcome="rejected", reason="bad"),
            AckOutcome(id=ratings[0].id, seq=1, outcome="duplicate"),  # an ack seen twice
            AckOutcome(id=uuid.uuid4(), seq=99, outcome="stored"),  # not ours
        ]
    )
    assert box.depth() == 2
    box.close()
    assert Outbox(tmp_path / "outbox.db").depth() == 2


def test_acks_commit_without_waiting_for_the_disk_but_appends_still_do(tmp_path: Path) -> None:
    """Losing an applied ack in a power cut costs a resend; losing a rating is not allowed."""
    box = Outbox(tmp_path / "outbox.db")
    rating = box.append(lambda seq: make_rating(seq=seq))
    box.mark_sent([rating.id], datetime.now(UTC))
    box.acknowledge([AckOutcome(id=rating.id, seq=1, outcome="stored")])
    with box._engine.connect() as conn:  # the pooled connection the next append uses
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
