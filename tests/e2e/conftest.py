"""The end-to-end tests' kiosk: the real window on a real Mosquitto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hailong.settings import ReceiptKeys
from kiosk.app import Kiosk, build_kiosk
from tests.conftest import Broker
from tests.kiosk.conftest import kiosk_settings


def start_kiosk(
    qtbot: QtBot, tmp_path: Path, broker: Broker, receipt_keys: ReceiptKeys, kiosk_id: str
) -> Kiosk:
    settings = kiosk_settings(
        tmp_path,
        receipt_keys,
        broker.mqtt_settings(kiosk_id),
        kiosk_id=kiosk_id,
        thanks_seconds=0.5,
        resend_after_seconds=1.0,
    )
    built = build_kiosk(settings)
    built.controller.session.draw = lambda: 1.0  # the unit's survey share never picks this citizen
    qtbot.addWidget(built.window)
    built.window.resize(1280, 800)
    built.window.show()
    qtbot.waitExposed(built.window)
    return built


@pytest.fixture
def kiosk(
    qtbot: QtBot, tmp_path: Path, broker: Broker, receipt_keys: ReceiptKeys
) -> Iterator[Kiosk]:
    built = start_kiosk(qtbot, tmp_path, broker, receipt_keys, "kiosk-q1")
    yield built
    built.close()
