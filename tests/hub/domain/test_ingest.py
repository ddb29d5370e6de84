"""Classifying incoming messages and attributing ratings, without a broker or database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hailong.contract import topics
from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Stage
from hailong.settings import Unit
from hub.domain.ingest import (
    RATED_NOTICE_WINDOW,
    Accepted,
    IngestRules,
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


def test_the_register_wins_over_a_verified_claim_and_the_claim_is_flagged(unit: Unit) -> None:
    """Issue 15, finding 4: a kiosk's ``verified: true`` with its own counter, officer and
    procedure used to win over the register (the old code kept Q1 / CB001 / 1.001193)."""
    rating = make_rating()  # claims verified, Q1 / CB001 / 1.001193; the register says Q2 / CB003
    result = attribute(rating, FACTS, unit)
    assert (result.counter, result.officer, result.procedure) == ("Q2", "CB003", "2.000815")
    assert result.field == "chung-thuc"
    assert result.claim_mismatch == ("counter", "officer", "procedure")
    assert result.counted
    assert result.receipt_known


def test_an_honest_claim_is_not_flagged(unit: Unit) -> None:
    honest = make_rating(counter="Q2", officer="CB003", procedure="2.000815")
    assert attribute(honest, FACTS, unit).claim_mismatch == ()
    # A typed code: the kiosk's own counter is where it stands, not a claim about the receipt.
    typed = make_rating(
        receipt=ReceiptRef(code=FACTS.code, verified=False), officer=None, procedure=None
    )
    assert attribute(typed, FACTS, unit).claim_mismatch == ()


def test_unknown_code_keeps_what_the_kiosk_knew(unit: Unit) -> None:
    rating = make_rating(
        receipt=ReceiptRef(code=FACTS.code, verified=False), officer=None, procedure=None
    )
    result = attribute(rating, None, unit)
    assert (result.counter, result.procedure, result.field) == ("Q1", None, None)
    assert not result.receipt_known
    assert not result.counted  # unverified: out of the headline figures (count_unverified)
    assert result.claim_mismatch == ()


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


# -- the hub's rules beyond the contract (issue 15) -------------------------------------------------

HUB_NOW = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # 09:30 in Hà Nội, make_rating's rated_at


def _rules(unit: Unit) -> IngestRules:
    return IngestRules(unit, HUB_NOW, timedelta(minutes=10), timedelta(days=400))


def _verdict(unit: Unit, **changes: object) -> Accepted | Rejected:
    return classify(TOPIC, make_rating(**changes).to_bytes(), _rules(unit))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"rated_at": HUB_NOW + timedelta(minutes=10, microseconds=1)}, "future"),
        ({"rated_at": HUB_NOW + timedelta(days=3652)}, "future"),  # ten years ahead
        ({"rated_at": HUB_NOW - timedelta(days=400, microseconds=1)}, "stale"),
        ({"rated_at": datetime(2000, 1, 1, tzinfo=UTC)}, "stale"),
        ({"channel": "online"}, "channel"),
        ({"channel": "paper"}, "channel"),  # keyed on the hub's paper-form page only
        ({"reasons": ("thai-do", "bribe")}, "unknown_reason"),
        ({"kiosk": "kiosk-q2"}, "topic_mismatch"),
    ],
)
def test_the_hubs_rules_refuse_with_a_code_and_keep_the_identity(
    unit: Unit, changes: dict[str, object], code: str
) -> None:
    verdict = _verdict(unit, **changes)
    assert isinstance(verdict, Rejected)
    assert verdict.code == code
    assert verdict.reason
    assert verdict.identity is not None


@pytest.mark.parametrize(
    "changes",
    [
        {"rated_at": HUB_NOW + timedelta(minutes=10)},
        {"rated_at": HUB_NOW - timedelta(days=400)},
        {"reasons": ("thai-do", "tre-hen")},
        {"channel": "button_box"},
    ],
)
def test_ratings_at_the_edges_of_the_rules_are_accepted(
    unit: Unit, changes: dict[str, object]
) -> None:
    assert isinstance(_verdict(unit, **changes), Accepted)


def test_rules_are_taken_from_the_catalogue_passed_in(unit: Unit) -> None:
    without_reasons = unit.model_copy(update={"reasons": ()})
    rules = IngestRules(without_reasons, HUB_NOW)
    verdict = classify(TOPIC, make_rating(reasons=("thai-do",)).to_bytes(), rules)
    assert isinstance(verdict, Rejected)
    assert verdict.code == "unknown_reason"


def test_without_rules_only_the_contract_and_the_topic_are_checked() -> None:
    assert isinstance(classify(TOPIC, make_rating(channel="online").to_bytes()), Accepted)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"x" * (16 * 1024 + 1), "oversize"),
        (b"not json", "malformed"),
        (b"{" * 20, "malformed"),
        (json.dumps({**json.loads(make_rating().to_bytes()), "v": 2}).encode(), "version"),
        (json.dumps({**json.loads(make_rating().to_bytes()), "seq": 2**63}).encode(), "bounds"),
    ],
)
def test_contract_refusals_carry_the_contracts_code(unit: Unit, payload: bytes, code: str) -> None:
    verdict = classify(TOPIC, payload, _rules(unit))
    assert isinstance(verdict, Rejected)
    assert verdict.code == code


def test_foreign_topics_are_refused_as_topic(unit: Unit) -> None:
    for topic in ("other/topic", topics.status("000.00.20.H41", "kiosk-q1")):
        verdict = classify(topic, make_rating().to_bytes(), _rules(unit))
        assert isinstance(verdict, Rejected)
        assert verdict.code == "topic"
