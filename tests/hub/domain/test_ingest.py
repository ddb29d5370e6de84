"""Classifying incoming messages and attributing ratings, without a broker or database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hailong.contract import topics
from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Stage
from hailong.settings import Unit
from hub.domain.ingest import (
    RATED_NOTICE_WINDOW,
    Accepted,
    ReceiptFacts,
    Rejected,
    attribute,
    classify,
    worth_announcing,
)
from tests.hailong.contract.test_messages import make_rating

TOPIC = topics.ratings("000.00.20.H41", "kiosk-q1")


def test_valid_rating_is_accepted() -> None:
    rating = make_rating()
    verdict = classify(TOPIC, rating.to_bytes())
    assert isinstance(verdict, Accepted)
    assert verdict.rating == rating


def test_spoofed_kiosk_is_rejected_with_identity() -> None:
    rating = make_rating(kiosk="kiosk-q2")
    verdict = classify(TOPIC, rating.to_bytes())
    assert isinstance(verdict, Rejected)
    assert "arrived on 000.00.20.H41/kiosk-q1" in verdict.reason
    assert verdict.identity == (rating.id, rating.seq)


def test_wrong_version_keeps_identity_for_the_ack() -> None:
    rating = make_rating()
    data = json.loads(rating.to_bytes())
    data["v"] = 2
    verdict = classify(TOPIC, json.dumps(data).encode())
    assert isinstance(verdict, Rejected)
    assert verdict.reason == "unsupported contract version 2"
    assert verdict.identity == (rating.id, rating.seq)


def test_garbage_and_foreign_topics_are_rejected() -> None:
    garbage = classify(TOPIC, b"\x00\x01 not json")
    assert isinstance(garbage, Rejected)
    assert garbage.identity is None
    assert isinstance(classify("other/topic", make_rating().to_bytes()), Rejected)
    status = topics.status("000.00.20.H41", "kiosk-q1")
    assert isinstance(classify(status, make_rating().to_bytes()), Rejected)


FACTS = ReceiptFacts("000.00.20.H41-261125-0001", "2.000815", "Q2", "CB003")


def test_typed_code_is_attributed_from_the_register(unit: Unit) -> None:
    rating = make_rating(
        receipt=ReceiptRef(code=FACTS.code, verified=False),
        counter="Q1",
        officer=None,
        procedure=None,
    )
    result = attribute(rating, FACTS, unit)
    assert (result.counter, result.officer, result.procedure) == ("Q2", "CB003", "2.000815")
    assert result.field == "chung-thuc"
    assert result.receipt_known


def test_verified_receipt_fields_win(unit: Unit) -> None:
    rating = make_rating()  # verified, Q1 / CB001 / 1.001193
    result = attribute(rating, FACTS, unit)
    assert (result.counter, result.officer, result.procedure) == ("Q1", "CB001", "1.001193")
    assert result.field == "ho-tich"


def test_unknown_code_keeps_what_the_kiosk_knew(unit: Unit) -> None:
    rating = make_rating(
        receipt=ReceiptRef(code=FACTS.code, verified=False), officer=None, procedure=None
    )
    result = attribute(rating, None, unit)
    assert (result.counter, result.procedure, result.field) == ("Q1", None, None)
    assert not result.receipt_known


def test_the_register_decides_the_stage_and_the_returning_officer(unit: Unit) -> None:
    rating = make_rating()  # rated 2026-11-25 09:30 +07:00, as the reception stage
    returned_before = ReceiptFacts(
        "000.00.20.H41-261125-0001",
        "1.001193",
        "Q1",
        "CB001",
        returned_at=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),  # 09:00 in Hà Nội
        returned_by="CB002",
    )
    attributed = attribute(rating, returned_before, unit)
    assert (attributed.stage, attributed.officer) == (Stage.RETURN, "CB002")
    returned_later = ReceiptFacts(
        "000.00.20.H41-261125-0001",
        "1.001193",
        "Q1",
        "CB001",
        returned_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
        returned_by="CB002",
    )
    attributed = attribute(rating, returned_later, unit)
    assert (attributed.stage, attributed.officer) == (Stage.RECEPTION, "CB001")


def test_only_fresh_ratings_are_worth_announcing() -> None:
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert worth_announcing(now - RATED_NOTICE_WINDOW, now)
    assert worth_announcing(now + timedelta(seconds=5), now)  # a kiosk clock slightly ahead
    assert not worth_announcing(now - RATED_NOTICE_WINDOW - timedelta(seconds=1), now)
    assert not worth_announcing(now - timedelta(days=2), now)  # an outage's backlog
