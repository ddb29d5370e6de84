"""The abandoned-session payload: round trip, bounds, and how it is told from a rating."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract import messages
from hailong.contract.messages import (
    INT32_MAX,
    AbandonedMessage,
    ContractError,
    RatingMessage,
    ReceiptRef,
)
from hailong.contract.scale import Stage
from tests.hailong.contract.test_messages import make_rating

HANOI = timezone(timedelta(hours=7))
SCANNED = datetime(2026, 11, 25, 9, 30, tzinfo=HANOI)


def make_abandoned(**overrides: object) -> AbandonedMessage:
    fields: dict[str, object] = {
        "kind": "abandoned",
        "id": uuid.uuid4(),
        "unit": "000.00.20.H41",
        "kiosk": "kiosk-q1",
        "seq": 2,
        "receipt": ReceiptRef(code="000.00.20.H41-261125-0001", verified=True),
        "counter": "Q1",
        "officer": "CB001",
        "procedure": "1.001193",
        "reason": "timeout",
        "scanned_at": SCANNED,
        "ended_at": SCANNED + timedelta(seconds=45),
    }
    fields.update(overrides)
    return AbandonedMessage.model_validate(fields)


def _wire(**changes: Any) -> bytes:
    data = json.loads(make_abandoned().to_bytes())
    data.update(changes)
    return json.dumps(data).encode()


def test_an_abandoned_session_round_trips_as_a_kiosk_record() -> None:
    record = make_abandoned()
    payload = record.to_bytes()
    assert json.loads(payload)["kind"] == "abandoned"
    assert messages.decode_kiosk_record(payload) == record
    assert messages.decode_abandoned(payload) == record
    assert messages.says_abandoned(payload)
    assert messages.peek_identity(payload) == (record.id, 2)


def test_a_rating_is_still_a_rating() -> None:
    rating = make_rating()
    assert messages.decode_kiosk_record(rating.to_bytes()) == rating
    assert not messages.says_abandoned(rating.to_bytes())


def test_a_hub_that_knows_only_ratings_refuses_it_as_malformed() -> None:
    """An older hub decodes everything as a rating: it must never take this for one."""
    with pytest.raises(ContractError) as refused:
        messages.decode_rating(make_abandoned().to_bytes())
    assert refused.value.code == "malformed"


def test_a_rating_cannot_claim_another_kind() -> None:
    data = json.loads(make_rating().to_bytes())
    data["kind"] = "rating"
    with pytest.raises(ContractError) as refused:
        messages.decode_kiosk_record(json.dumps(data).encode())
    assert (refused.value.code, refused.value.reason.split(":")[0]) == ("malformed", "kind")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"reason": "bored"}, "malformed"),  # the reasons are a closed list
        ({"receipt": None}, "malformed"),  # no receipt, no abandoned session
        ({"score": 4}, "malformed"),  # it has no score
        ({"comment": "x"}, "malformed"),  # nor anything of the citizen
        ({"seq": 0}, "bounds"),
        ({"seq": INT32_MAX + 1}, "bounds"),
        ({"seq": "3"}, "malformed"),
        ({"scanned_at": "1999-12-31T23:59:59+00:00"}, "bounds"),
        ({"ended_at": "2100-01-01T00:00:00+00:00"}, "bounds"),
        ({"ended_at": "2026-11-25T09:30:00"}, "malformed"),  # no offset
        ({"ended_at": "2026-11-25T02:29:59Z"}, "bounds"),  # one second before its scan
        ({"v": 2}, "version"),
    ],
)
def test_out_of_contract_values_are_refused(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(ContractError) as refused:
        messages.decode_kiosk_record(_wire(**changes))
    assert refused.value.code == code


def test_the_bounds_themselves_are_accepted() -> None:
    assert messages.decode_kiosk_record(_wire(seq=1)).seq == 1
    assert messages.decode_kiosk_record(_wire(seq=INT32_MAX)).seq == INT32_MAX
    same = messages.decode_kiosk_record(_wire(ended_at="2026-11-25T02:30:00Z"))
    assert isinstance(same, AbandonedMessage)
    assert same.ended_at == same.scanned_at  # ended at its scan: allowed


@given(
    seq=st.integers(min_value=1, max_value=INT32_MAX),
    reason=st.sampled_from(["timeout", "next_scan", "closed"]),
    stage=st.sampled_from(list(Stage)),
    verified=st.booleans(),
    scanned=st.datetimes(
        min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)
    ),
    seconds=st.integers(min_value=0, max_value=86_400),
)
def test_any_valid_abandoned_session_round_trips(
    seq: int, reason: str, stage: Stage, verified: bool, scanned: datetime, seconds: int
) -> None:
    record = make_abandoned(
        seq=seq,
        reason=reason,
        stage=stage,
        receipt=ReceiptRef(code="000.00.20.H41-261125-0001", verified=verified),
        scanned_at=scanned,
        ended_at=min(scanned + timedelta(seconds=seconds), datetime(2099, 12, 31, tzinfo=UTC)),
    )
    decoded = messages.decode_kiosk_record(record.to_bytes())
    assert decoded == record
    assert not isinstance(decoded, RatingMessage)


@given(st.binary(max_size=300))
def test_says_abandoned_never_raises(payload: bytes) -> None:
    assert messages.says_abandoned(payload) in (True, False)
