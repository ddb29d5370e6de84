"""One citizen's session, driven with an explicit clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Score, Stage
from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.domain.session import ALREADY_RATED, WALK_IN_REFUSED, RatingSession, Screen
from tests.kiosk.conftest import kiosk_settings, signed_url

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _session(
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    mqtt: MqttSettings,
    rated: set[tuple[str, Stage]] | None = None,
    **kiosk: object,
) -> RatingSession:
    settings = kiosk_settings(tmp_path, receipt_keys, mqtt, **kiosk)
    seen = rated if rated is not None else set()
    return RatingSession(settings.kiosk, receipt_keys.keyring(), lambda c, s: (c, s) in seen)


def test_signed_receipt_leads_to_rating_with_attribution(
    tmp_path: Path, receipt_keys: ReceiptKeys, keyring: KeyRing, offline_mqtt: MqttSettings
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt)
    assert session.submit_code(signed_url(keyring), T0) is Screen.RATING
    subject = session.subject
    assert subject is not None
    assert (subject.verified, subject.procedure, subject.officer) == (True, "1.001193", "CB001")
    build = session.rate(Score.SATISFIED, T0 + timedelta(seconds=12))
    rating = build(5)
    assert rating.seq == 5
    assert rating.receipt is not None
    assert rating.receipt.verified
    assert rating.duration_ms == 12_000
    assert session.stored(T0) is Screen.THANKS


def test_forged_signature_is_refused_with_a_clear_message(
    tmp_path: Path, receipt_keys: ReceiptKeys, keyring: KeyRing, offline_mqtt: MqttSettings
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt)
    forged = signed_url(keyring).replace("p=1.001193", "p=1.000894")
    assert session.submit_code(forged, T0) is Screen.ATTRACT
    assert session.notice is not None
    assert "chữ ký không đúng" in session.notice.vi


def test_typed_code_is_unverified_and_uses_the_kiosk_counter(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt)
    assert session.submit_code(" 000.00.20.h41-261125-0042 ", T0) is Screen.RATING
    subject = session.subject
    assert subject is not None
    assert (subject.dossier_code, subject.verified, subject.counter) == (
        "000.00.20.H41-261125-0042",
        False,
        "Q1",
    )


def test_other_units_code_and_junk_are_refused(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt)
    assert session.submit_code("000.00.99.H99-261125-0042", T0) is Screen.ATTRACT
    assert session.notice is not None
    assert "đơn vị khác" in session.notice.vi
    for junk in ("hello", "\x00\x1b[2J", "x" * 4096):
        assert session.submit_code(junk, T0) is Screen.ATTRACT
        assert session.notice is not None


def test_already_rated_receipt_shows_a_friendly_message(
    tmp_path: Path, receipt_keys: ReceiptKeys, keyring: KeyRing, offline_mqtt: MqttSettings
) -> None:
    rated = {("000.00.20.H41-261125-0007", Stage.RECEPTION)}
    session = _session(tmp_path, receipt_keys, offline_mqtt, rated)
    assert session.submit_code(signed_url(keyring), T0) is Screen.MESSAGE
    assert session.notice == ALREADY_RATED


def test_walk_in_follows_configuration(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> None:
    refused = _session(tmp_path, receipt_keys, offline_mqtt)
    assert refused.walk_in(T0) is Screen.ATTRACT
    assert refused.notice == WALK_IN_REFUSED
    allowed = _session(tmp_path, receipt_keys, offline_mqtt, allow_walk_in=True)
    assert allowed.walk_in(T0) is Screen.RATING
    rating = allowed.rate(Score.NEUTRAL, T0)(1)
    assert rating.receipt is None
    assert rating.counter == "Q1"


def test_idle_resets_every_screen_and_stores_nothing(
    tmp_path: Path, receipt_keys: ReceiptKeys, keyring: KeyRing, offline_mqtt: MqttSettings
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt, idle_reset_seconds=30)
    session.submit_code(signed_url(keyring), T0)
    assert not session.tick(T0 + timedelta(seconds=29))
    session.touch(T0 + timedelta(seconds=29))
    assert not session.tick(T0 + timedelta(seconds=58))
    assert session.tick(T0 + timedelta(seconds=60))
    assert session.screen is Screen.ATTRACT
    assert session.subject is None
    with pytest.raises(RuntimeError):
        session.rate(Score.SATISFIED, T0)
    # A refusal message on the start screen is cleared after the idle time too.
    session.submit_code("junk", T0)
    assert session.tick(T0 + timedelta(seconds=31))
    assert session.notice is None


def test_thanks_returns_to_start(
    tmp_path: Path, receipt_keys: ReceiptKeys, keyring: KeyRing, offline_mqtt: MqttSettings
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt, thanks_seconds=5)
    session.submit_code(signed_url(keyring), T0)
    session.rate(Score.VERY_SATISFIED, T0)
    session.stored(T0)
    assert not session.tick(T0 + timedelta(seconds=4))
    assert session.tick(T0 + timedelta(seconds=5))
    assert session.screen is Screen.ATTRACT
