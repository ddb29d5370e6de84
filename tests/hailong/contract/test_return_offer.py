"""The return offer on the wire: its schema, its lifetime bounds, and who may take it when."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract import topics
from hailong.contract.messages import ContractError
from hailong.contract.receipt import MAX_SCAN_LENGTH
from hailong.contract.return_offer import (
    MAX_OFFER_SECONDS,
    ReturnOfferMessage,
    decode_return_offer,
    offer_refusal,
)

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
URL = "https://hailong.example.gov.vn/r/000.00.20.H41-261125-0007?p=1.001193&c=Q1&o=CB001&k=k1&s=x"


def make_offer(**overrides: object) -> ReturnOfferMessage:
    fields: dict[str, object] = {
        "id": uuid.UUID(int=7),
        "unit": "000.00.20.H41",
        "kiosk": "kiosk-q1",
        "counter": "Q1",
        "receipt": URL,
        "offered_at": T0,
        "expires_at": T0 + timedelta(seconds=180),
    }
    fields.update(overrides)
    return ReturnOfferMessage.model_validate(fields)


def test_an_offer_round_trips_with_the_contract_version() -> None:
    offer = make_offer()
    payload = offer.to_bytes()
    assert json.loads(payload)["v"] == 1
    assert decode_return_offer(payload) == offer


def test_the_topic_is_per_kiosk() -> None:
    assert topics.offers("000.00.20.H41", "kiosk-q1") == "hailong/v1/000.00.20.H41/kiosk-q1/offers"
    with pytest.raises(topics.TopicError):
        topics.offers("000.00.20.H41", "kiosk/#")


@pytest.mark.parametrize(
    ("seconds", "valid"),
    [(0, False), (-1, False), (1, True), (MAX_OFFER_SECONDS, True), (MAX_OFFER_SECONDS + 1, False)],
    ids=["zero", "negative", "one-second", "the-most", "past-the-most"],
)
def test_an_offer_stands_more_than_zero_and_at_most_ten_minutes(seconds: int, valid: bool) -> None:
    payload = make_offer().model_dump(mode="json")
    payload["expires_at"] = (T0 + timedelta(seconds=seconds)).isoformat()
    raw = json.dumps(payload).encode()
    if valid:
        assert decode_return_offer(raw).expires_at == T0 + timedelta(seconds=seconds)
    else:
        with pytest.raises(ContractError):
            decode_return_offer(raw)


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("v", 2),
        ("receipt", ""),
        ("receipt", "x" * (MAX_SCAN_LENGTH + 1)),
        ("kiosk", "kiosk/#"),
        ("offered_at", "2026-11-25T02:00:00"),  # no offset
        ("score", 5),  # an offer never carries a score
    ],
    ids=["version-2", "empty-receipt", "receipt-too-long", "wildcard-kiosk", "naive-time", "score"],
)
def test_a_bad_offer_is_refused_as_a_whole(change: str, value: object) -> None:
    payload = make_offer().model_dump(mode="json")
    payload[change] = value
    with pytest.raises(ContractError):
        decode_return_offer(json.dumps(payload).encode())


def test_a_receipt_of_the_longest_scan_is_taken() -> None:
    assert len(make_offer(receipt="x" * MAX_SCAN_LENGTH).receipt) == MAX_SCAN_LENGTH


def test_only_its_kiosk_takes_an_offer_and_only_before_it_expires() -> None:
    offer = make_offer()
    assert offer_refusal(offer, "kiosk-q1", T0) is None
    assert offer_refusal(offer, "kiosk-q1", T0 - timedelta(hours=1)) is None  # a clock behind
    last = offer.expires_at - timedelta(microseconds=1)
    assert offer_refusal(offer, "kiosk-q1", last) is None
    assert offer_refusal(offer, "kiosk-q1", offer.expires_at) == "expired"
    assert offer_refusal(offer, "kiosk-q1", T0 + timedelta(minutes=10)) == "expired"
    assert offer_refusal(offer, "kiosk-q2", T0) == "other_kiosk"


@given(st.binary(max_size=2048))
def test_any_bytes_decode_to_an_offer_or_a_contract_error(payload: bytes) -> None:
    with contextlib.suppress(ContractError):
        decode_return_offer(payload)


@given(
    seconds=st.integers(min_value=1, max_value=MAX_OFFER_SECONDS),
    receipt=st.text(min_size=1, max_size=MAX_SCAN_LENGTH),
)
def test_any_valid_offer_round_trips(seconds: int, receipt: str) -> None:
    offer = make_offer(receipt=receipt, expires_at=T0 + timedelta(seconds=seconds))
    assert decode_return_offer(offer.to_bytes()) == offer
