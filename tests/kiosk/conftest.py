"""Kiosk settings pointing into a temp folder, signed receipts to scan, a button box on a pty."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from firmware_bridge.simulator import DeviceSimulator
from hailong.contract.receipt import DossierCode, KeyRing, ReceiptClaims, sign
from hailong.settings import KioskSection, KioskSettings, MqttSettings, ReceiptKeys
from tests.conftest import UNIT_CODE

BASE_URL = "https://hailong.example.gov.vn"


def signed_url(keyring: KeyRing, sequence: int = 7, procedure: str = "1.001193") -> str:
    claims = ReceiptClaims(
        DossierCode(UNIT_CODE, date(2026, 11, 25), sequence), procedure, "Q1", "CB001"
    )
    return sign(claims, keyring).url(BASE_URL)


def kiosk_settings(
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    mqtt: MqttSettings,
    kiosk_id: str = "kiosk-q1",
    counter: str = "Q1",
    **kiosk: object,
) -> KioskSettings:
    section = KioskSection(
        id=kiosk_id,
        unit=UNIT_CODE,
        counter=counter,
        outbox_path=tmp_path / f"outbox-{kiosk_id}.db",
        **kiosk,  # type: ignore[arg-type]
    )
    return KioskSettings(kiosk=section, mqtt=mqtt, receipts=receipt_keys.public())


@pytest.fixture
def offline_mqtt(tmp_path: Path) -> MqttSettings:
    """Credentials for a broker that is not there: the kiosk must work regardless."""
    password = tmp_path / "kiosk.password"
    password.write_text("unused\n")
    return MqttSettings(host="127.0.0.1", port=1, username="kiosk-q1", password_file=password)


@pytest.fixture
def sim() -> Iterator[DeviceSimulator]:
    """A button box on a pseudo-terminal, its heartbeat every 0.2 s."""
    with DeviceSimulator(heartbeat_seconds=0.2) as device:
        yield device
