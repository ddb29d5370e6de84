"""Abandoned sessions through the hub's batch commit, on real SQLite and PostgreSQL: judged by the
receipt register, stored once, acknowledged after the commit; bad ones dead-lettered alone."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.clock import unit_day
from hailong.contract.messages import AbandonedMessage, AckOutcome, ReceiptRef
from hailong.contract.scale import Stage
from hailong.settings import Unit
from hub.batch_commit import Acks, BatchCommit, classify_fast
from hub.domain.abandoned import AcceptedAbandoned
from hub.domain.ingest import IngestRules, Rejected
from hub.ingest_counters import IngestCounters
from hub.store.abandoned import abandoned_sessions
from hub.store.db import make_engine, session_factory
from hub.store.gaps import find_gaps
from hub.store.models import AbandonedSessionRow, DeadLetterRow, RatingRow, ReceiptRow
from hub.store.ratings import DeadLetterLimits
from tests.conftest import UNIT_CODE
from tests.hailong.contract.test_abandoned_message import make_abandoned
from tests.hailong.contract.test_messages import make_rating

TOPIC = topics.ratings(UNIT_CODE, "kiosk-q1")


class Hub:
    """The ingest's batch commit on a database, its acks collected."""

    def __init__(self, sessions: sessionmaker[Session], unit: Unit) -> None:
        self.sessions = sessions
        self.acks: list[AckOutcome] = []
        self.counters = IngestCounters()
        self.commit = BatchCommit(
            sessions,
            self.counters,
            DeadLetterLimits(),
            rules=lambda now, *_unit: IngestRules(unit, now),
            publish_acks=self._collect,
            stopping=threading.Event(),
        )

    def _collect(self, acks: Acks) -> None:
        for outcomes in acks.values():
            self.acks.extend(outcomes)

    def ingest(self, *payloads: bytes, topic: str = TOPIC) -> dict[uuid.UUID, AckOutcome]:
        self.acks.clear()
        assert self.commit.ingest_until_committed([(topic, p) for p in payloads])
        return {ack.id: ack for ack in self.acks}

    def rows(self) -> list[AbandonedSessionRow]:
        with self.sessions() as session:
            return list(session.scalars(select(AbandonedSessionRow).order_by("seq")))

    def dead_letter_codes(self) -> list[str]:
        with self.sessions() as session:
            return sorted(session.scalars(select(DeadLetterRow.code)))


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def code(now: datetime) -> str:
    """A receipt the register holds: issued ten minutes ago at Q1 by CB002 (not the kiosk's
    claim), for procedure 1.001193."""
    return f"{UNIT_CODE}-{unit_day(now):%y%m%d}-0001"


@pytest.fixture
def hub(database_url: str, unit: Unit, now: datetime, code: str) -> Hub:
    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        session.add(
            ReceiptRow(
                dossier_code=code,
                unit=UNIT_CODE,
                procedure="1.001193",
                counter="Q1",
                officer="CB002",
                key_id="k1",
                url=f"https://hub/r/{code}",
                issued_at=now - timedelta(minutes=10),
            )
        )
    return Hub(sessions, unit)


def _left(now: datetime, code: str, **changes: Any) -> AbandonedMessage:
    fields: dict[str, Any] = {
        "receipt": ReceiptRef(code=code, verified=True),
        "scanned_at": now - timedelta(minutes=2),
        "ended_at": now - timedelta(minutes=1),
    }
    fields.update(changes)
    return make_abandoned(**fields)


def test_stored_attributed_from_the_register_then_a_resend_is_a_duplicate(
    hub: Hub, now: datetime, code: str
) -> None:
    record = _left(now, code, seq=1, reason="next_scan")
    acks = hub.ingest(record.to_bytes())
    assert acks[record.id].outcome == "stored"
    (row,) = hub.rows()
    assert (row.id, row.unit, row.kiosk, row.seq, row.dossier_code) == (
        str(record.id),
        UNIT_CODE,
        "kiosk-q1",
        1,
        code,
    )
    # The register says who served: CB002, whatever the kiosk claimed (CB001).
    assert (row.counter, row.officer, row.procedure, row.field) == (
        "Q1",
        "CB002",
        "1.001193",
        "ho-tich",
    )
    assert (row.receipt_known, row.receipt_verified, row.stage, row.reason) == (
        True,
        True,
        "reception",
        "next_scan",
    )
    assert (row.scanned_at, row.ended_at) == (record.scanned_at, record.ended_at)
    assert row.received_at.tzinfo is not None
    assert hub.counters.stored == 0  # no rating was stored
    again = hub.ingest(record.to_bytes())
    assert again[record.id].outcome == "duplicate"
    assert len(hub.rows()) == 1


def test_a_session_abandoned_then_rated_keeps_both(hub: Hub, now: datetime, code: str) -> None:
    first = _left(now, code, seq=1)
    second = _left(now, code, seq=2, reason="closed")  # the same slip, left twice
    rating = make_rating(seq=3, receipt=ReceiptRef(code=code, verified=True), rated_at=now)
    acks = hub.ingest(first.to_bytes(), second.to_bytes(), rating.to_bytes())
    assert [acks[m.id].outcome for m in (first, second, rating)] == ["stored"] * 3
    with hub.sessions() as session:
        assert session.scalar(select(RatingRow.dossier_code)) == code
        listed = abandoned_sessions(
            session, since=now - timedelta(hours=1), until=now, units=[UNIT_CODE]
        )
        assert [a.id for a in listed] == sorted([str(first.id), str(second.id)])
        assert abandoned_sessions(session, since=now, until=now + timedelta(hours=1)) == []
        # One sequence for both kinds: 1, 2 (abandoned) and 3 (rated) leave no gap.
        (kiosk,) = find_gaps(session, UNIT_CODE)
        assert (kiosk.highest, kiosk.missing) == (3, 0)


def test_the_same_id_with_other_content_is_a_conflict(hub: Hub, now: datetime, code: str) -> None:
    record = _left(now, code, seq=1)
    hub.ingest(record.to_bytes())
    changed = record.model_copy(update={"reason": "closed"})
    acks = hub.ingest(changed.to_bytes())
    assert acks[record.id].outcome == "rejected"
    assert (acks[record.id].reason or "").startswith("conflict: abandoned session")
    assert hub.rows()[0].reason == "timeout"  # the stored one stands
    assert hub.dead_letter_codes() == ["conflict"]


def _wire(record: AbandonedMessage, **changes: Any) -> bytes:
    data = json.loads(record.to_bytes())
    data.update(changes)
    return json.dumps(data).encode()


def test_bad_ones_are_dead_lettered_and_cost_no_other(hub: Hub, now: datetime, code: str) -> None:
    good = _left(now, code, seq=9)
    backwards = _left(now, code, seq=1)
    outside = _left(now, code, seq=2)
    stolen = _left(now, code, seq=3, kiosk="kiosk-q2")  # arrives on kiosk-q1's topic
    other_unit = _left(
        now, code, seq=4, receipt=ReceiptRef(code="000.00.20.H42-261125-0001", verified=False)
    )
    too_new = _left(
        now, code, seq=5, receipt=ReceiptRef(code=f"{UNIT_CODE}-991231-0001", verified=False)
    )
    future = _left(now, code, seq=6, ended_at=now + timedelta(minutes=11))
    payloads = {
        backwards.id: _wire(backwards, ended_at=(now - timedelta(minutes=3)).isoformat()),
        outside.id: _wire(outside, scanned_at=(now - timedelta(days=401)).isoformat()),
        stolen.id: stolen.to_bytes(),
        other_unit.id: other_unit.to_bytes(),
        too_new.id: too_new.to_bytes(),
        future.id: future.to_bytes(),
        good.id: good.to_bytes(),
    }
    acks = hub.ingest(*payloads.values(), b'{"v": 1, "kind": "abandoned"}')
    assert acks.pop(good.id).outcome == "stored"
    assert {key: ack.outcome for key, ack in acks.items()} == {
        key: "rejected" for key in payloads if key != good.id
    }
    assert [row.seq for row in hub.rows()] == [9]
    assert hub.dead_letter_codes() == sorted(
        [
            "bounds",
            "stale",
            "topic_mismatch",
            "receipt_other_unit",
            "receipt_not_issued_yet",
            "future",
            "malformed",
        ]
    )
    with hub.sessions() as session:  # refused ones arrived: their seqs are no gap
        seqs = set(session.scalars(select(DeadLetterRow.seq)))
        assert seqs == {1, 2, 3, 4, 5, 6, None}


def test_an_unknown_code_is_kept_unverified_with_the_kiosks_word(hub: Hub, now: datetime) -> None:
    yesterday = unit_day(now) - timedelta(days=1)
    typed = f"{UNIT_CODE}-{yesterday:%y%m%d}-0042"  # a past day the hub numbered nothing on
    record = _left(
        now, typed, seq=1, receipt=ReceiptRef(code=typed, verified=True), stage=Stage.RETURN
    )
    assert hub.ingest(record.to_bytes())[record.id].outcome == "stored"
    (row,) = hub.rows()
    assert (row.receipt_known, row.receipt_verified, row.officer, row.stage) == (
        False,
        False,
        "CB001",
        "reception",  # only the register's returns make a return stage
    )


def test_the_slow_path_knows_them_and_ratings_are_unchanged(now: datetime, code: str) -> None:
    record = _left(now, code)
    assert isinstance(classify_fast(TOPIC, record.to_bytes()), AcceptedAbandoned)
    status = topics.status(UNIT_CODE, "kiosk-q1")
    assert isinstance(classify_fast(status, record.to_bytes()), Rejected)
    assert isinstance(classify_fast("nope", record.to_bytes()), Rejected)
