"""Fuzz the parsers the outside world reaches that the unit tests do not fuzz already.

Already fuzzed elsewhere: ``decode_rating`` on raw bytes (tests/hailong/contract/test_messages.py),
``parse_scan`` and the dossier codes (tests/hailong/contract/test_receipt.py), MQTT topics
(test_topics.py), the scanner's key timing (tests/kiosk/domain/test_scanner.py) and the serial
frames (tests/firmware_bridge/test_protocol.py). Here: the hub's whole ingest classification of a
message on any topic, every other MQTT decoder (a kiosk reads acks, config, rated and returned
receipts; the hub reads statuses) on payloads that are *almost* valid, ``peek_identity``, and the
receipt verdict ``describe_scan`` on arbitrary text.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hailong.contract import messages, topics
from hailong.contract.messages import ContractError
from hailong.contract.receipt import KeyRing
from hub.domain.ingest import Accepted, Rejected, classify
from hub.receipts.verification import describe_scan
from tests.hailong.contract.test_messages import make_rating

UNIT = "000.00.20.H41"
TOPIC = topics.ratings(UNIT, "kiosk-q1")
FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip

# JSON the way a sloppy or hostile publisher writes it (finite numbers; infinities: see below).
NASTY_TEXT = st.sampled_from(
    ["", "\x00", "' OR 1=1--", "<script>x</script>", "NaN", "-1", "1e999", "9" * 5000,
     "2026-02-30T25:00:00+07:00", "00000000-0000-0000-0000-000000000000", UNIT, "kiosk-q1"]
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | NASTY_TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
TOPICS = st.one_of(
    st.just(TOPIC),
    st.just(topics.ratings(UNIT, "kiosk-q2")),
    st.just(topics.status(UNIT, "kiosk-q1")),
    st.text(max_size=80),
    st.lists(st.sampled_from(["hailong", "v1", UNIT, "kiosk-q1", "ratings", "+", "#", "", "..", "\x00"]),
             max_size=7).map("/".join),
)  # fmt: skip


def _valid_rating() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(make_rating(id=uuid.UUID(int=7)).to_bytes())
    return data


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    """``base`` with some fields replaced, dropped or added: past the JSON check, into validation."""
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["replace", "drop", "add", "nest"]))
        keys = list(data)
        if action == "replace" and keys:
            data[draw(st.sampled_from(keys))] = draw(JSON)
        elif action == "drop" and keys:
            data.pop(draw(st.sampled_from(keys)))
        elif action == "add":
            data[draw(st.text(max_size=10))] = draw(JSON)
        elif action == "nest":
            nested = [k for k in keys if isinstance(data[k], dict) and data[k]]
            if nested:
                inner = data[draw(st.sampled_from(nested))]
                inner[draw(st.sampled_from(list(inner)))] = draw(JSON)
    encoded = json.dumps(data, ensure_ascii=draw(st.booleans())).encode()
    return encoded if draw(st.integers(0, 9)) else encoded[: draw(st.integers(0, len(encoded)))]


PAYLOADS = st.one_of(
    st.binary(max_size=400),
    JSON.map(lambda value: json.dumps(value).encode()),
    mutated(_valid_rating()),
    st.just(make_rating().to_bytes()),
    st.builds(lambda n: b'{"v": 1, "id": "' + b"x" * n + b'"}', st.integers(0, 40_000)),
)


@FUZZ
@given(TOPICS, PAYLOADS)
@example(TOPIC, make_rating().to_bytes())
@example(TOPIC, b'{"id": "00000000-0000-4000-8000-000000000007", "seq": "12", "v": 9}')
def test_ingest_classifies_any_message_without_raising(topic: str, payload: bytes) -> None:
    verdict = classify(topic, payload)
    assert isinstance(verdict, Accepted | Rejected)
    if isinstance(verdict, Rejected):
        assert verdict.reason
        assert verdict.identity is None or isinstance(verdict.identity[1], int)


@FUZZ
@given(PAYLOADS)
def test_peek_identity_is_best_effort_only(payload: bytes) -> None:
    identity = messages.peek_identity(payload)
    assert identity is None or (isinstance(identity[0], uuid.UUID) and isinstance(identity[1], int))


def test_an_infinite_seq_is_rejected_not_raised() -> None:
    payload = b'{"id": "00000000-0000-4000-8000-000000000007", "seq": 1e999}'
    assert isinstance(classify(TOPIC, payload), Rejected)


@pytest.mark.parametrize("depth", [16_000, 100_000])  # within and beyond the size limit
def test_deeply_nested_json_is_rejected_not_raised(depth: int) -> None:
    assert isinstance(classify(TOPIC, b"[" * depth), Rejected)


def _valid(decoder: Callable[[bytes], Any], message: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(decoder(json.dumps(message).encode()).to_bytes())
    return data


NOW = "2026-11-25T09:30:00+07:00"
BASES: dict[str, tuple[Callable[[bytes], Any], dict[str, Any]]] = {
    "ack": (messages.decode_ack, {"v": 1, "results": [
        {"id": str(uuid.UUID(int=7)), "seq": 1, "outcome": "stored"}]}),
    "rated": (messages.decode_rated, {"v": 1, "receipts": [
        {"code": "000.00.20.H41-261125-0001", "stage": "reception"}]}),
    "returned": (messages.decode_returned, {"v": 1, "receipts": [
        {"code": "000.00.20.H41-261125-0001", "returned_at": NOW}]}),
}  # fmt: skip
DECODERS = {
    "ack": messages.decode_ack,
    "rated": messages.decode_rated,
    "returned": messages.decode_returned,
    "unit_config": messages.decode_unit_config,
    "kiosk_status": messages.decode_kiosk_status,
}


@st.composite
def decoder_inputs(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(DECODERS)))
    payload = st.binary(max_size=300) | JSON.map(lambda v: json.dumps({"v": 1, "x": v}).encode())
    if name in BASES:
        payload |= mutated(_valid(*BASES[name]))
    return name, draw(payload)


@FUZZ
@given(decoder_inputs())
def test_every_mqtt_decoder_raises_only_contract_error(case: tuple[str, bytes]) -> None:
    name, payload = case
    with contextlib.suppress(ContractError):  # anything else fails the test
        DECODERS[name](payload)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing({"k1": b"k" * 32}, active="k1")


@FUZZ
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(max_size=3000),
        st.builds(
            "{}?p={}&c={}&o={}&k={}&s={}".format,
            st.sampled_from(
                [
                    "https://hailong.example.gov.vn/r/000.00.20.H41-261125-0001",
                    "http://x/r/",
                    "",
                    "/r/%00",
                    "javascript:",
                ]
            ),
            *[st.text(max_size=30)] * 5,
        ),
        NASTY_TEXT,
    ),
    st.dates(date(1900, 1, 1), date(2200, 1, 1)),
)
def test_the_receipt_verdict_is_given_for_any_text(ring: KeyRing, text: str, today: date) -> None:
    accepted, message = describe_scan(text, ring, UNIT, today=today)
    assert isinstance(accepted, bool)
    assert message.count("\n") >= 1  # Vietnamese, then English
