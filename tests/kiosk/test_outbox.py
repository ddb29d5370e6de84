"""The outbox on a real SQLite file: gap-free sequence, delete only on ack, survives a restart."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

import kiosk.outbox as outbox_module
from hailong.contract.messages import (
    AckOutcome,
    RatedReceipt,
    RatingMessage,
    ReceiptRef,
    decode_rating,
)
from hailong.contract.scale import Score, Stage
from kiosk.outbox import Outbox, OutboxError
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


# -- open ratings: written at the tap, completed in place, published only once closed ----------


def _builder(rating_id: uuid.UUID, **answers: object) -> Callable[[int], RatingMessage]:
    def build(seq: int) -> RatingMessage:
        return make_rating(id=rating_id, seq=seq, **answers)

    return build


def _states(path: Path) -> list[tuple[int, str]]:
    """What another reader of the file sees (a second connection, as after a crash)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return list(conn.execute("SELECT seq, state FROM outbox ORDER BY seq"))


def test_an_open_rating_is_on_disk_holds_its_seq_and_is_not_published(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    box = Outbox(path)
    tapped = uuid.uuid4()
    rating = box.save(tapped, _builder(tapped, score=Score.DISSATISFIED), close=False)
    assert (rating.id, rating.seq) == (tapped, 1)
    assert _states(path) == [(1, "open")]  # committed, before anything else happens
    assert (box.depth(), box.open_count(), box.due(NOW, 0)) == (0, 1, [])
    assert box.oldest_pending_seq() == 1  # the hub's gap report: on its way, not lost
    assert box.has_rated("000.00.20.H41-261125-0001", Stage.RECEPTION)  # from the tap
    # An ack for it (it was never sent: forged, or a bug) takes nothing away.
    assert box.acknowledge([AckOutcome(id=tapped, seq=1, outcome="stored")]) == 0
    assert box.open_count() == 1


def test_later_answers_rewrite_it_in_place_and_the_close_publishes_it_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.db"
    box = Outbox(path)
    tapped = uuid.uuid4()
    box.save(tapped, _builder(tapped, score=Score.DISSATISFIED), close=False)
    box.save(tapped, _builder(tapped, score=Score.DISSATISFIED, reasons=("late",)), close=False)
    closed = box.save(
        tapped,
        _builder(tapped, score=Score.DISSATISFIED, reasons=("late",), comment="chậm"),
        close=True,
    )
    assert closed.seq == 1  # the seq given at the tap
    assert _states(path) == [(1, "pending")]
    ((due_id, payload),) = box.due(NOW, 0)
    assert due_id == tapped
    assert decode_rating(payload) == closed
    assert (box.depth(), box.open_count()) == (1, 0)
    # A closed rating is final: a late write changes nothing (one id, one content).
    late = box.save(tapped, _builder(tapped, score=Score.VERY_SATISFIED), close=False)
    assert late == closed
    assert decode_rating(box.due(NOW, 0)[0][1]).score is Score.DISSATISFIED
    assert (box.depth(), box.open_count()) == (1, 0)
    # A next rating gets the next number.
    assert box.append(lambda seq: make_rating(seq=seq)).seq == 2


def test_a_first_write_that_closes_inserts_a_publishable_rating(tmp_path: Path) -> None:
    """The write at the tap failed (say): the close carries every answer and inserts it."""
    box = Outbox(tmp_path / "outbox.db")
    tapped = uuid.uuid4()
    rating = box.save(tapped, _builder(tapped, reasons=("late",)), close=True)
    assert [(i, decode_rating(p).reasons) for i, p in box.due(NOW, 0)] == [(tapped, ("late",))]
    assert (rating.seq, box.depth()) == (1, 1)


def test_a_new_rating_closes_one_left_open_so_seqs_publish_in_order(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    box = Outbox(path)
    first, second = uuid.uuid4(), uuid.uuid4()
    box.save(first, _builder(first, score=Score.VERY_DISSATISFIED), close=False)
    box.save(second, _builder(second), close=False)  # its close was lost, say
    assert _states(path) == [(1, "pending"), (2, "open")]
    assert [i for i, _ in box.due(NOW, 0)] == [first]
    box.append(lambda seq: make_rating(seq=seq))
    assert _states(path) == [(1, "pending"), (2, "pending"), (3, "pending")]
    assert (box.depth(), box.open_count()) == (3, 0)


def test_a_rating_left_open_by_a_crash_is_closed_on_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    box = Outbox(path)
    before = box.append(lambda seq: make_rating(seq=seq))
    tapped = uuid.uuid4()
    box.save(tapped, _builder(tapped, score=Score.DISSATISFIED, reasons=("late",)), close=False)
    box._engine.dispose()  # no close(): the process died here
    reopened = Outbox(path)
    assert (reopened.depth(), reopened.open_count()) == (2, 0)
    due = [(i, decode_rating(p)) for i, p in reopened.due(NOW, 0)]
    assert [i for i, _ in due] == [before.id, tapped]
    assert (due[1][1].seq, due[1][1].reasons) == (2, ("late",))
    assert reopened.append(lambda seq: make_rating(seq=seq)).seq == 3


def test_close_open_on_a_clean_stop(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    assert box.close_open() == 0
    tapped = uuid.uuid4()
    box.save(tapped, _builder(tapped), close=False)
    assert (box.close_open(), box.depth(), box.close_open()) == (1, 1, 0)


def test_a_builder_for_another_id_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    with pytest.raises(ValueError, match="saved as"):
        box.save(uuid.uuid4(), _builder(uuid.uuid4()), close=False)
    assert (box.open_count(), box.depth()) == (0, 0)
    assert box.append(lambda seq: make_rating(seq=seq)).seq == 1  # no number was used up


# The schema every kiosk in the field has (what the outbox before open ratings created).
OLD_SCHEMA = """
CREATE TABLE outbox (
    id VARCHAR(36) NOT NULL, seq INTEGER NOT NULL, payload BLOB NOT NULL,
    created_at DATETIME NOT NULL, last_sent_at DATETIME, state VARCHAR(10) NOT NULL,
    reject_reason TEXT, PRIMARY KEY (id), UNIQUE (seq)
);
CREATE TABLE rated_receipts (
    dossier_code VARCHAR(40) NOT NULL, stage VARCHAR(16) NOT NULL,
    PRIMARY KEY (dossier_code, stage)
);
CREATE TABLE returned_receipts (dossier_code VARCHAR(40) NOT NULL, PRIMARY KEY (dossier_code));
CREATE TABLE kiosk_state ("key" VARCHAR(40) NOT NULL, value BLOB NOT NULL, PRIMARY KEY ("key"));
"""


def test_an_outbox_from_a_kiosk_in_the_field_opens_and_keeps_its_ratings(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    old = [make_rating(seq=seq) for seq in (7, 8, 9)]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(OLD_SCHEMA)
        conn.execute("PRAGMA journal_mode=WAL")
        for rating, state in zip(old, ("pending", "rejected", "pending"), strict=True):
            conn.execute(
                "INSERT INTO outbox (id, seq, payload, created_at, state) VALUES (?, ?, ?, ?, ?)",
                (str(rating.id), rating.seq, rating.to_bytes(), "2026-11-25 02:30:00", state),
            )
        conn.execute("INSERT INTO kiosk_state VALUES ('last_seq', ?)", (b"9",))
        conn.execute("INSERT INTO rated_receipts VALUES ('000.00.20.H41-261125-0001', 'reception')")
        conn.commit()
    box = Outbox(path)
    assert (box.depth(), box.rejected_count(), box.open_count()) == (2, 1, 0)
    assert [i for i, _ in box.due(NOW, 0)] == [old[0].id, old[2].id]
    assert box.has_rated("000.00.20.H41-261125-0001", Stage.RECEPTION)
    tapped = uuid.uuid4()
    assert box.save(tapped, _builder(tapped), close=False).seq == 10  # numbering continues
    assert box.oldest_pending_seq() == 7
    box.save(tapped, _builder(tapped), close=True)
    assert [r.seq for r in box.due_batch(NOW, 0)] == [7, 9, 10]
    box.close()


def test_a_full_disk_is_the_outboxs_own_error_and_costs_nothing_committed(tmp_path: Path) -> None:
    """Callers (the screen, the uplink, the button box) catch ``OutboxError``, not the storage
    library's errors; what was committed before stays."""
    path = tmp_path / "outbox.db"
    outbox = Outbox(path)
    first = _append(outbox)
    with sqlite3.connect(path) as conn:
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    outbox._engine.dispose()
    event.listen(
        outbox._engine, "connect", lambda dbapi, _r: dbapi.execute(f"PRAGMA max_page_count={pages}")
    )
    big = "x" * 1000
    committed = [first]

    def fill() -> None:
        for _ in range(50):  # free room inside the file, then it may not grow by a page
            committed.append(outbox.append(lambda seq: make_rating(seq=seq, comment=big)).id)

    with pytest.raises(OutboxError, match="outbox append") as raised:
        fill()
    assert isinstance(raised.value.__cause__, SQLAlchemyError)
    outbox.close()
    assert [i for i, _ in Outbox(path).due(NOW, 30)] == committed
