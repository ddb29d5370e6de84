"""Ratings of codes in the unit's own patterns through the hub's batch commit, on real SQLite and
PostgreSQL: a registered one is attributed from the register, an unknown one kept unverified, one
dated after today refused, and one in no pattern of the unit refused as malformed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hailong.contract import topics
from hailong.contract.clock import unit_day
from hailong.contract.messages import AckOutcome, ReceiptRef
from hailong.contract.receipt import KeyRing
from hailong.settings import Unit
from hailong.settings.unit import ReceiptCodes
from hub.batch_commit import Acks, BatchCommit
from hub.domain.ingest import IngestRules
from hub.ingest_counters import IngestCounters
from hub.receipts.issuing import register_receipt
from hub.store.db import make_engine, session_factory
from hub.store.models import DeadLetterRow, RatingRow
from hub.store.ratings import DeadLetterLimits
from tests.conftest import UNIT_CODE
from tests.hailong.contract.test_messages import make_rating

IGATE = "G09.20-{yyyymmdd}-{seq:7}"


def test_variant_codes_are_judged_by_the_register_and_their_date(
    database_url: str, unit: Unit, keyring: KeyRing
) -> None:
    igate = unit.model_copy(update={"receipt_codes": ReceiptCodes(external_patterns=(IGATE,))})
    sessions = session_factory(make_engine(database_url))
    now = datetime.now(UTC).replace(microsecond=0)
    today = unit_day(now)
    registered = f"G09.20-{today:%Y%m%d}-0092637"
    register_receipt(
        sessions,
        igate,
        keyring,
        "https://hub.example",
        code=registered,
        counter="Q2",
        officer="CB003",
        procedure="1.000894",
        now=now - timedelta(minutes=5),
    )
    acks: list[AckOutcome] = []

    def collect(by_kiosk: Acks) -> None:
        for outcomes in by_kiosk.values():
            acks.extend(outcomes)

    def commit_for(held_against: Unit) -> BatchCommit:
        return BatchCommit(
            sessions,
            IngestCounters(),
            DeadLetterLimits(),
            rules=lambda at, *_unit: IngestRules(held_against, at),
            publish_acks=collect,
            stopping=threading.Event(),
        )

    codes = {
        "known": registered,
        "unknown": f"G09.20-{today - timedelta(days=1):%Y%m%d}-9999999",
        "future": f"G09.20-{today + timedelta(days=1):%Y%m%d}-0000001",
    }
    ratings = {
        name: make_rating(
            seq=i + 1,
            receipt=ReceiptRef(code=code, verified=False),
            officer=None,
            procedure=None,
            rated_at=now - timedelta(minutes=3 - i * 2),  # two minutes apart: no pacing
        )
        for i, (name, code) in enumerate(codes.items())
    }
    topic = topics.ratings(UNIT_CODE, "kiosk-q1")
    assert commit_for(igate).ingest_until_committed(
        [(topic, r.to_bytes()) for r in ratings.values()]
    )
    outcome = {ack.id: ack.outcome for ack in acks}
    assert [outcome[r.id] for r in ratings.values()] == ["stored", "stored", "rejected"]
    with sessions() as session:
        rows = {row.dossier_code: row for row in session.scalars(select(RatingRow))}
        dead = list(session.scalars(select(DeadLetterRow.code)))
    known = rows[registered]
    assert (known.receipt_known, known.counter, known.officer, known.counted) == (
        True,
        "Q2",
        "CB003",
        True,
    )
    assert (rows[codes["unknown"]].receipt_known, rows[codes["unknown"]].counted) == (False, False)
    assert dead == ["receipt_not_issued_yet"]
    # The same spelling at a unit without the pattern cannot be read at all.
    acks.clear()
    national_only = igate.model_copy(update={"receipt_codes": ReceiptCodes()})
    again = make_rating(seq=4, receipt=ReceiptRef(code=codes["unknown"], verified=False))
    assert commit_for(national_only).ingest_until_committed([(topic, again.to_bytes())])
    assert [ack.outcome for ack in acks] == ["rejected"]
    with sessions() as session:
        assert sorted(session.scalars(select(DeadLetterRow.code))) == [
            "receipt_malformed",
            "receipt_not_issued_yet",
        ]
