"""A button box beside the kiosk, on real parts: the real kiosk app off-screen and a simulated
device on a real pty, read by the real serial link in its own thread.

Scans reach the kiosk as a USB scan does; a press rates exactly once on the rating screen and
nowhere else; the light follows; pulling the cable and plugging it back in is survived.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from firmware_bridge.protocol import InfoRequest
from firmware_bridge.simulator import DeviceSimulator
from hailong.contract.messages import AckOutcome, RatingMessage, decode_rating
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Score
from hailong.settings import MqttSettings, ReceiptKeys, SerialDevice
from kiosk.app import Kiosk, build_kiosk
from kiosk.domain.screen import Screen
from tests.kiosk.conftest import kiosk_settings, signed_url

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def kiosk(
    qtbot: QtBot,
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    sim: DeviceSimulator,
) -> Iterator[Kiosk]:
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt, thanks_seconds=0.5)
    settings = settings.model_copy(
        update={"serial": SerialDevice(port=sim.port, idle_after_seconds=30)}
    )
    built = build_kiosk(settings, start_uplink=False)
    qtbot.addWidget(built.window)
    built.window.resize(1280, 800)
    built.window.show()
    assert built.serial is not None
    qtbot.waitUntil(lambda: built.serial is not None and built.serial.link.state == "connected")
    yield built
    built.close()


def stored(kiosk: Kiosk) -> list[RatingMessage]:
    return [
        decode_rating(payload) for _id, payload in kiosk.outbox.due(kiosk.controller.clock(), 0)
    ]


def test_a_serial_scan_reaches_the_kiosk_like_a_usb_scan(
    qtbot: QtBot, kiosk: Kiosk, sim: DeviceSimulator, keyring: KeyRing
) -> None:
    url = signed_url(keyring)
    sim.scan(url)
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.RATING)
    assert kiosk.controller.last_scan == url
    assert (
        "Mã\u00a0hồ\u00a0sơ:\u00a0000.00.20.H41-261125-0007" in kiosk.window.rating.details.text()
    )


def test_a_press_on_the_rating_screen_rates_exactly_once(
    qtbot: QtBot, kiosk: Kiosk, sim: DeviceSimulator, keyring: KeyRing
) -> None:
    sim.scan(signed_url(keyring))
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.RATING)
    serial = kiosk.serial
    assert serial is not None
    sim.press(4)
    sim.press(4)  # a double press: the first leaves the rating screen
    qtbot.waitUntil(lambda: kiosk.outbox.depth() == 1)
    qtbot.waitUntil(lambda: serial.ignored["not_rating"] == 1)
    (rating,) = stored(kiosk)
    assert rating.score == Score.SATISFIED
    assert rating.receipt is not None
    assert rating.receipt.verified
    assert kiosk.window.current is Screen.THANKS
    qtbot.waitUntil(lambda: sim.lights[-1:] == ["buffered"])


def test_the_hubs_ack_lights_accepted(
    qtbot: QtBot, kiosk: Kiosk, sim: DeviceSimulator, keyring: KeyRing
) -> None:
    serial = kiosk.serial
    assert serial is not None
    sim.scan(signed_url(keyring))
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.RATING)
    sim.press(5)
    qtbot.waitUntil(lambda: sim.lights[-1:] == ["buffered"])
    (rating,) = stored(kiosk)
    ack = AckOutcome(id=rating.id, seq=rating.seq, outcome="stored")
    # The uplink calls from its own thread; the light changes on the Qt thread.
    caller = threading.Thread(target=serial.acked, args=((ack,),))
    caller.start()
    caller.join()
    qtbot.waitUntil(lambda: sim.lights[-1:] == ["accepted"])


def test_a_press_on_the_idle_screen_invents_no_rating(
    qtbot: QtBot, kiosk: Kiosk, sim: DeviceSimulator
) -> None:
    assert kiosk.window.current is Screen.ATTRACT
    for level in (5, 1, 3):
        sim.press(level)
    serial = kiosk.serial
    assert serial is not None
    qtbot.waitUntil(lambda: serial.ignored["not_rating"] == 3)
    assert kiosk.outbox.depth() == 0
    assert kiosk.window.current is Screen.ATTRACT


def test_a_refused_scan_lights_fault_and_buzzes(
    qtbot: QtBot, kiosk: Kiosk, sim: DeviceSimulator, keyring: KeyRing
) -> None:
    sim.scan(signed_url(keyring)[:-3] + "AAA")  # a forged signature
    # qtbot.waitUntil, not sim.wait_for: the Qt thread must run to handle the queued scan.
    qtbot.waitUntil(lambda: sim.lights[-1:] == ["fault"] and bool(sim.buzzes))
    assert kiosk.window.current is Screen.ATTRACT
    assert "Giấy hẹn không hợp lệ" in kiosk.window.attract.error.text()


def test_unplug_and_replug_while_the_kiosk_runs(
    qtbot: QtBot, kiosk: Kiosk, sim: DeviceSimulator, keyring: KeyRing
) -> None:
    serial = kiosk.serial
    assert serial is not None
    sim.unplug()
    qtbot.waitUntil(lambda: serial.link.state == "disconnected", timeout=5000)
    infos = sim.received.count(InfoRequest())
    sim.replug()
    qtbot.waitUntil(lambda: serial.link.state == "connected", timeout=5000)
    qtbot.waitUntil(lambda: sim.received.count(InfoRequest()) > infos)
    assert serial.link.reconnects == 1
    sim.scan(signed_url(keyring, sequence=9))
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.RATING)
    sim.press(5)
    qtbot.waitUntil(lambda: kiosk.outbox.depth() == 1)
    assert [r.score for r in stored(kiosk)] == [Score.VERY_SATISFIED]
