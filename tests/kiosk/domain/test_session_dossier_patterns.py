"""A kiosk takes a typed code in one of the unit's own patterns (learnt from the unit config)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from hailong.contract.receipt import DossierCode, KeyRing, ReceiptClaims, sign
from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.domain.screen import Screen
from kiosk.domain.session import RatingSession
from tests.conftest import UNIT_CODE
from tests.kiosk.conftest import BASE_URL, kiosk_settings

T0 = datetime(2026, 6, 9, 3, 0, tzinfo=UTC)
IGATE = "G09.20-{yyyymmdd}-{seq:7}"
CODE = "G09.20-20260609-0092637"


def _session(
    tmp_path: Path, receipt_keys: ReceiptKeys, mqtt: MqttSettings, patterns: list[str]
) -> RatingSession:
    settings = kiosk_settings(tmp_path, receipt_keys, mqtt)
    return RatingSession(
        settings.kiosk,
        receipt_keys.keyring(),
        lambda _code, _stage: False,
        dossier_patterns=lambda: patterns,
    )


def test_a_typed_variant_is_taken_once_the_unit_config_has_its_pattern(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> None:
    patterns: list[str] = []
    session = _session(tmp_path, receipt_keys, offline_mqtt, patterns)
    assert session.submit_code(CODE, T0) is Screen.ATTRACT
    assert session.notice is not None
    assert "không đúng định dạng" in session.notice.vi
    patterns.append(IGATE)  # the retained unit config arrived
    assert session.submit_code(f" {CODE.lower()} ", T0) is Screen.RATING
    subject = session.subject
    assert subject is not None
    assert (subject.dossier_code, subject.verified, subject.counter) == (CODE, False, "Q1")


def test_a_registered_variant_slip_verifies_and_another_units_variant_is_refused(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, keyring: KeyRing
) -> None:
    session = _session(tmp_path, receipt_keys, offline_mqtt, [IGATE, "{unit}-{yyyymmdd}-{seq:7}"])
    code = DossierCode(UNIT_CODE, date(2026, 6, 9), 92637, IGATE)
    url = sign(ReceiptClaims(code, "1.000894", "Q2", "CB003"), keyring).url(BASE_URL)
    assert session.submit_code(url, T0) is Screen.RATING
    subject = session.subject
    assert subject is not None
    assert (subject.dossier_code, subject.verified, subject.officer) == (CODE, True, "CB003")
    other = "000.00.99.H99-20260609-0000001"
    assert session.submit_code(other, T0) is Screen.ATTRACT
    assert session.notice is not None
    assert "đơn vị khác" in session.notice.vi
