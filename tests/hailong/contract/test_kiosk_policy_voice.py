"""``KioskPolicy.always_speak``: sent only when on, so a kiosk older than the field keeps working."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from hailong.contract.messages import KioskPolicy, UnitConfigMessage, decode_unit_config


def _config(policy: KioskPolicy) -> UnitConfigMessage:
    return UnitConfigMessage(
        unit="000.00.20.H41",
        name="UBND",
        counters=(),
        officers=(),
        procedures=(),
        fields=(),
        policy=policy,
    )


@pytest.mark.parametrize("off", [None, False])
def test_off_is_never_sent(off: bool | None) -> None:
    policy = KioskPolicy(always_speak=off)
    assert policy.always_speak is None
    sent = json.loads(_config(policy).to_bytes())
    assert "always_speak" not in sent["policy"]


def test_on_is_sent_and_read_back() -> None:
    payload = _config(KioskPolicy(always_speak=True)).to_bytes()
    assert json.loads(payload)["policy"]["always_speak"] is True
    assert decode_unit_config(payload).policy.always_speak is True


def test_a_policy_from_before_the_field_is_still_valid() -> None:
    old = KioskPolicy.model_validate({"faces": 3, "survey_share": 0.2})
    assert old.always_speak is None


@pytest.mark.parametrize("bad", ["yes please", 2, [True]])
def test_anything_but_a_boolean_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        KioskPolicy.model_validate({"always_speak": bad})
