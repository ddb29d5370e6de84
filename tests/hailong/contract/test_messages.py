"""The rating/ack/config payloads: round trips, and every malformed payload refused with a reason."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract import messages
from hailong.contract.messages import (
    AckMessage,
    AckOutcome,
    ContractError,
    RatingMessage,
    ReceiptRef,
)
from hailong.contract.scale import Score


def make_rating(**overrides: object) -> RatingMessage:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "unit": "000.00.20.H41",
        "kiosk": "kiosk-q1",
        "seq": 1,
        "receipt": ReceiptRef(code="000.00.20.H41-261125-0001", verified=True),
        "counter": "Q1",
        "officer": "CB001",
        "procedure": "1.001193",
        "score": Score.SATISFIED,
        "rated_at": datetime(2026, 11, 25, 9, 30, tzinfo=timezone(timedelta(hours=7))),
        "duration_ms": 12_000,
    }
    fields.update(overrides)
    return RatingMessage.model_validate(fields)


def test_rating_round_trips() -> None:
    rating = make_rating()
    assert messages.decode_rating(rating.to_bytes()) == rating


@given(
    score=st.sampled_from(list(Score)),
    seq=st.integers(min_value=1, max_value=messages.INT32_MAX),
    comment=st.none() | st.text(max_size=1000),
)
def test_any_valid_rating_round_trips(score: Score, seq: int, comment: str | None) -> None:
    rating = make_rating(score=score, seq=seq, comment=comment)
    assert messages.decode_rating(rating.to_bytes()) == rating


def _payload(**changes: object) -> bytes:
    data = json.loads(make_rating().to_bytes())
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("payload", "reason_part"),
    [
        (b"not json", "not UTF-8 JSON"),
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[1, 2]", "not a JSON object"),
        (_payload(v=2), "unsupported contract version 2"),
        (_payload(v=None), "unsupported contract version"),
        (_payload(score=6), "score"),
        (_payload(score=0), "score"),
        (_payload(seq=0), "seq"),
        (_payload(kiosk="a/b"), "kiosk"),
        (_payload(rated_at="2026-11-25T09:30:00"), "time zone"),
        (_payload(extra="field"), "extra"),
        (_payload(comment="x" * 1001), "comment"),
        (b"{" + b" " * 20_000 + b"}", "exceeds"),
    ],
)
def test_malformed_rating_is_refused_with_reason(payload: bytes, reason_part: str) -> None:
    with pytest.raises(ContractError) as excinfo:
        messages.decode_rating(payload)
    assert reason_part in excinfo.value.reason


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_anything_but_contract_error(payload: bytes) -> None:
    with contextlib.suppress(ContractError):
        messages.decode_rating(payload)


def test_peek_identity_reads_id_of_invalid_rating() -> None:
    rating = make_rating()
    bad = _payload(id=str(rating.id), seq=7, score=9)
    assert messages.peek_identity(bad) == (rating.id, 7)
    assert messages.peek_identity(b"garbage") is None


def test_ack_round_trips() -> None:
    ack = AckMessage(
        results=(
            AckOutcome(id=uuid.uuid4(), seq=1, outcome="stored"),
            AckOutcome(id=uuid.uuid4(), seq=2, outcome="rejected", reason="score: too big"),
        )
    )
    assert messages.decode_ack(ack.to_bytes()) == ack


def test_unit_config_round_trips(unit) -> None:  # type: ignore[no-untyped-def]
    message = unit.to_message()
    decoded = messages.decode_unit_config(message.to_bytes())
    assert decoded == message
    assert any(p.name == "Đăng ký khai sinh" for p in decoded.procedures)


def test_kiosk_status_round_trips() -> None:
    status = messages.KioskStatusMessage(
        kiosk="kiosk-q1", online=True, buffer_depth=3, version="0.1.0", at=datetime.now(UTC)
    )
    assert messages.decode_kiosk_status(status.to_bytes()) == status


_outcomes = st.builds(
    AckOutcome,
    id=st.uuids(),
    seq=st.integers(min_value=1, max_value=messages.INT32_MAX),
    outcome=st.sampled_from(["stored", "duplicate", "already_rated", "rejected"]),
    reason=st.none() | st.text(max_size=100),
)


@given(items=st.lists(_outcomes, max_size=400), limit=st.integers(min_value=2500, max_value=20_000))
def test_packed_payloads_fit_the_limit_and_keep_every_item_in_order(
    items: list[AckOutcome], limit: int
) -> None:
    payloads = messages.packed(items, lambda chunk: AckMessage(results=chunk), limit=limit)
    assert all(len(p) <= limit for p in payloads)
    decoded = [messages.decode_ack(p) for p in payloads]
    assert [r for ack in decoded for r in ack.results] == items
    assert all(ack.results for ack in decoded)


def test_a_thousand_outcomes_need_several_contract_sized_acks() -> None:
    items = [AckOutcome(id=uuid.uuid4(), seq=n, outcome="stored") for n in range(1, 1001)]
    payloads = messages.packed(items, lambda chunk: AckMessage(results=chunk))
    assert len(payloads) > 1
    assert all(len(p) <= messages.MAX_PAYLOAD_BYTES for p in payloads)


def test_an_item_too_big_for_any_payload_is_refused() -> None:
    item = AckOutcome(id=uuid.uuid4(), seq=1, outcome="rejected", reason="x" * 1000)
    with pytest.raises(ContractError, match="cannot fit"):
        messages.packed([item], lambda chunk: AckMessage(results=chunk), limit=500)


# -- bounds and strict types (issue 15, finding 2: values the databases could not store) ----------


def _status(**changes: object) -> bytes:
    data: dict[str, object] = {"v": 1, "kiosk": "kiosk-q1", "online": True}
    data.update(changes)
    return json.dumps(data).encode()


def _refusal(decode: object, payload: bytes) -> ContractError:
    assert callable(decode)
    with pytest.raises(ContractError) as caught:
        decode(payload)
    return caught.value


@pytest.mark.parametrize(
    ("changes", "code", "reason_part"),
    [
        ({"seq": 2**31}, "bounds", "seq"),  # one past PostgreSQL's integer
        ({"seq": 2**63}, "bounds", "seq"),  # one past SQLite's integer
        ({"seq": 2**64 + 1}, "bounds", "seq"),
        ({"seq": 0}, "bounds", "seq"),
        ({"seq": "12"}, "malformed", "seq"),
        ({"seq": 12.0}, "malformed", "seq"),
        ({"seq": True}, "malformed", "seq"),
        ({"score": "5"}, "malformed", "score"),
        ({"score": True}, "malformed", "score"),
        ({"score": 5.0}, "malformed", "score"),
        ({"factors": {"officer": "4"}}, "malformed", "factors"),
        ({"duration_ms": 3_600_001}, "bounds", "duration_ms"),
        ({"duration_ms": -1}, "bounds", "duration_ms"),
        ({"duration_ms": "5"}, "malformed", "duration_ms"),
        ({"receipt": {"code": "000.00.20.H41-261125-0001", "verified": "true"}}, "malformed", ""),
        ({"receipt": {"code": "000.00.20.H41-261125-0001", "verified": 1}}, "malformed", ""),
        ({"rated_at": "0001-01-01T00:00:00+07:00"}, "bounds", "rated_at"),
        ({"rated_at": "9999-12-31T23:59:59-07:00"}, "bounds", "rated_at"),
        ({"rated_at": "1999-12-31T23:59:59+00:00"}, "bounds", "rated_at"),
        ({"rated_at": "2100-01-01T00:00:00+00:00"}, "bounds", "rated_at"),
        ({"rated_at": 1_764_000_000}, "malformed", "rated_at"),  # seconds since 1970
        ({"rated_at": "1764000000"}, "malformed", "rated_at"),
        ({"rated_at": "2026-11-25"}, "malformed", "rated_at"),
        ({"counter": 1}, "malformed", "counter"),  # no int coerced into a string
        ({"reasons": ["thai-do"] * 33}, "bounds", "reasons"),
        ({"v": True}, "version", "version"),
        ({"v": 1.0}, "version", "version"),
    ],
)
def test_out_of_bounds_and_wrongly_typed_ratings_are_refused(
    changes: dict[str, object], code: str, reason_part: str
) -> None:
    refused = _refusal(messages.decode_rating, _payload(**changes))
    assert refused.code == code
    assert reason_part in refused.reason


@pytest.mark.parametrize(
    "changes",
    [
        {"seq": messages.INT32_MAX},
        {"rated_at": "2000-01-01T00:00:00+00:00"},
        {"rated_at": "2099-12-31T23:59:59.999999+00:00"},
        {"rated_at": "2026-11-25T09:30:00Z"},
        {"duration_ms": 3_600_000},
        {"duration_ms": 0},
        {"reasons": ["thai-do"] * 32},
    ],
)
def test_values_at_the_bounds_are_accepted(changes: dict[str, object]) -> None:
    rating = messages.decode_rating(_payload(**changes))
    assert messages.decode_rating(rating.to_bytes()) == rating


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"buffer_depth": 2**64}, "bounds"),  # finding 1: killed the hub's ingest thread
        ({"buffer_depth": 2**31}, "bounds"),
        ({"buffer_depth": -1}, "bounds"),
        ({"buffer_depth": "3"}, "malformed"),
        ({"at": "0001-01-01T00:00:00+07:00"}, "bounds"),  # finding 1: overflowed in UTC
        ({"at": "9999-12-31T23:59:59-07:00"}, "bounds"),
        ({"last_ack_at": "0001-01-01T00:00:00+00:00"}, "bounds"),
        ({"last_scan_at": 0}, "malformed"),
        ({"refusals": {"bad_signature": 2**31}}, "bounds"),
        ({"refusals": {"bad_signature": True}}, "malformed"),
        ({"oldest_pending_seq": 2**63}, "bounds"),
        ({"oldest_pending_seq": 0}, "bounds"),
        ({"online": "true"}, "malformed"),
        ({"version": "v" * 201}, "bounds"),
    ],
)
def test_out_of_bounds_statuses_are_refused(changes: dict[str, object], code: str) -> None:
    assert _refusal(messages.decode_kiosk_status, _status(**changes)).code == code


def test_a_status_at_the_bounds_is_accepted() -> None:
    payload = _status(
        buffer_depth=messages.INT32_MAX,
        refusals={"bad_signature": messages.INT32_MAX},
        oldest_pending_seq=messages.INT32_MAX,
        at="2099-12-31T23:59:59+00:00",
    )
    assert messages.decode_kiosk_status(payload).buffer_depth == messages.INT32_MAX


def test_payload_level_refusals_carry_their_code() -> None:
    assert _refusal(messages.decode_rating, b"x" * (16 * 1024 + 1)).code == "oversize"
    assert _refusal(messages.decode_rating, b"[" * 5000).code == "malformed"
    assert _refusal(messages.decode_rating, b"[" * 5000).reason == "JSON nested too deeply"
    # A lone surrogate reads as text in Python's json, but no database can store it.
    assert _refusal(messages.decode_rating, _payload(comment="\ud800")).code == "malformed"


@pytest.mark.parametrize("seq", [2**31, 2**63, 0, "12", True, 1.5])
def test_peek_identity_only_returns_a_seq_within_the_bounds(seq: object) -> None:
    data = json.loads(make_rating().to_bytes())
    data.update(seq=seq, score=9)
    assert messages.peek_identity(json.dumps(data).encode()) is None


def test_the_kiosk_built_messages_are_within_the_bounds() -> None:
    """What a kiosk builds in Python (datetimes, enums) passes the same validators."""
    rating = make_rating(rated_at=datetime.now(UTC), score=Score.VERY_SATISFIED, seq=7)
    assert messages.decode_rating(rating.to_bytes()) == rating
    with pytest.raises(ValueError, match="time zone"):
        make_rating(rated_at=datetime(2026, 11, 25, 9, 30))
