"""When a scanned session is abandoned (a scan that ends without a face), with an explicit clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hailong.contract.messages import AbandonedMessage, KioskPolicy
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Score, Stage
from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.domain.screen import Screen
from kiosk.domain.session import RatingSession, SaveAbandoned, SaveRating, Tick
from tests.kiosk.conftest import kiosk_settings, signed_url

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
CODE_7 = "000.00.20.H41-261125-0007"


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def make(tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings) -> Any:
    def build(policy: KioskPolicy | None = None, **kiosk: Any) -> RatingSession:
        settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt, **kiosk)
        return RatingSession(
            settings.kiosk,
            receipt_keys.keyring(),
            lambda _code, _stage: False,
            policy=policy or KioskPolicy(),
        )

    return build


def _abandoned(session: RatingSession, seq: int = 1) -> list[AbandonedMessage]:
    """The abandoned sessions asked for since the last call (and nothing else was asked)."""
    effects = session.take_effects()
    assert all(isinstance(e, SaveAbandoned) for e in effects)
    records = [e.build(seq) for e in effects if isinstance(e, SaveAbandoned)]
    assert [r.id for r in records] == [e.session_id for e in effects]
    return records


def test_the_idle_reset_abandons_at_the_bound_not_before(make: Any, keyring: KeyRing) -> None:
    session = make(idle_reset_seconds=30)
    session.submit_code(signed_url(keyring), _at(5))
    assert session.tick(_at(34.999)) is Tick.WARN  # just before the bound: still the citizen's
    assert _abandoned(session) == []
    assert session.tick(_at(35)) is Tick.RESET  # at the bound
    session.end(_at(35), "timeout")
    (record,) = _abandoned(session, seq=4)
    assert (record.reason, record.seq, record.kind) == ("timeout", 4, "abandoned")
    assert (record.scanned_at, record.ended_at) == (_at(5), _at(35))
    assert record.receipt.code == CODE_7
    assert record.receipt.verified
    assert (record.counter, record.officer, record.procedure) == ("Q1", "CB001", "1.001193")
    assert (record.unit, record.kiosk, record.stage) == (
        "000.00.20.H41",
        "kiosk-q1",
        Stage.RECEPTION,
    )
    session.reset()
    session.end(_at(36), "timeout")  # past the bound, nothing left to abandon
    assert _abandoned(session) == []


def test_a_touch_keeps_the_session_alive(make: Any, keyring: KeyRing) -> None:
    session = make(idle_reset_seconds=30)
    session.submit_code(signed_url(keyring), T0)
    session.touch(_at(29))
    assert session.tick(_at(58)) is Tick.WARN
    assert session.tick(_at(59)) is Tick.RESET  # 30 s after the last touch
    session.end(_at(59), "timeout")
    (record,) = _abandoned(session)
    assert (record.scanned_at, record.ended_at) == (T0, _at(59))


def test_the_next_scan_abandons_the_session_it_replaces(make: Any, keyring: KeyRing) -> None:
    session = make()
    session.submit_code(signed_url(keyring, sequence=7), T0)
    assert session.submit_code(signed_url(keyring, sequence=8), _at(12)) is Screen.RATING
    (record,) = _abandoned(session)
    assert (record.reason, record.receipt.code, record.ended_at) == ("next_scan", CODE_7, _at(12))
    assert session.subject is not None
    assert session.subject.dossier_code == "000.00.20.H41-261125-0008"


@pytest.mark.parametrize("scan", ["junk", "forged", "typed"])
def test_any_next_scan_ends_it_even_one_refused_or_typed(
    make: Any, keyring: KeyRing, scan: str
) -> None:
    session = make()
    session.submit_code(signed_url(keyring), T0)
    text = {
        "junk": "hello",
        "forged": signed_url(keyring, sequence=9)[:-3] + "AAA",
        "typed": "000.00.20.H41-261125-0009",
    }[scan]
    session.submit_code(text, _at(3))
    (record,) = _abandoned(session)
    assert record.reason == "next_scan"


def test_the_same_slip_read_twice_is_not_abandoned(make: Any, keyring: KeyRing) -> None:
    """A scanner that reads a slip twice is one citizen, not an abandoned session."""
    session = make()
    session.submit_code(signed_url(keyring), T0)
    assert session.submit_code(signed_url(keyring), _at(1)) is Screen.RATING
    assert _abandoned(session) == []


def test_a_typed_code_left_unrated_is_abandoned_unverified(make: Any, keyring: KeyRing) -> None:
    session = make(idle_reset_seconds=30)
    session.submit_code(CODE_7, T0)
    session.end(_at(30), "timeout")
    (record,) = _abandoned(session)
    assert not record.receipt.verified
    assert (record.counter, record.officer, record.procedure) == ("Q1", None, None)


@pytest.mark.parametrize("why", ["timeout", "closed", "next_scan"])
def test_a_tapped_face_is_never_abandoned(make: Any, keyring: KeyRing, why: str) -> None:
    session = make(idle_reset_seconds=30, policy=KioskPolicy(survey_share=1.0))
    session.draw = lambda: 0.0
    session.submit_code(signed_url(keyring), T0)
    session.choose_score(Score.DISSATISFIED, _at(1))  # reasons, comment and survey follow
    if why == "next_scan":
        session.submit_code(signed_url(keyring, sequence=8), _at(2))
    else:
        assert session.tick(_at(31)) is Tick.SAVE_AND_RESET
        session.end(_at(31), why)  # type: ignore[arg-type]
    effects = session.take_effects()
    assert effects
    assert all(isinstance(e, SaveRating) for e in effects)
    assert effects[-1].close  # type: ignore[union-attr]


def test_a_rated_session_leaves_nothing_to_abandon(make: Any, keyring: KeyRing) -> None:
    session = make()
    session.submit_code(signed_url(keyring), T0)
    assert session.choose_score(Score.SATISFIED, _at(1)) is Screen.SAVING
    session.take_effects()
    session.stored(_at(1))
    session.end(_at(2), "closed")
    session.submit_code(signed_url(keyring, sequence=8), _at(3))  # on the thank-you screen
    assert session.take_effects() == []


def test_the_kiosk_closing_the_session_says_so(make: Any, keyring: KeyRing) -> None:
    session = make()
    session.submit_code(signed_url(keyring), T0)
    session.end(_at(4), "closed")
    (record,) = _abandoned(session)
    assert record.reason == "closed"
    session.end(_at(5))  # the old call, without a reason, records nothing
    assert _abandoned(session) == []


def test_walk_ins_and_refusals_make_no_abandoned_session(make: Any, keyring: KeyRing) -> None:
    session = make(policy=KioskPolicy(allow_walk_in=True), idle_reset_seconds=30)
    session.walk_in(T0)  # no receipt: nothing coverage could count
    session.end(_at(30), "timeout")
    session.reset()
    session.submit_code("junk", _at(31))  # never reached the faces
    session.end(_at(61), "timeout")
    assert session.take_effects() == []


def test_a_clock_stepped_back_never_ends_it_before_its_scan(make: Any, keyring: KeyRing) -> None:
    session = make()
    session.submit_code(signed_url(keyring), _at(10))
    session.end(_at(2), "closed")
    (record,) = _abandoned(session)
    assert record.ended_at == record.scanned_at == _at(10)
