"""A button held down on a box beside the kiosk: the citizen's ♪. On real parts: the real kiosk
app off-screen, a simulated device on a real pty read by the real serial link in its thread, and
the real prompt player with a speaker that writes down what it plays.

A hold reads the screen and switches the voice on for that citizen; it never rates, on any screen;
a short press still does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from firmware_bridge.protocol import HOLD_MS
from firmware_bridge.simulator import DeviceSimulator
from hailong.contract.messages import decode_rating
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import FACE_SETS, Score
from hailong.settings import MqttSettings, ReceiptKeys, SerialDevice
from kiosk.app import Kiosk, build_kiosk
from kiosk.domain.screen import Screen
from kiosk.serial_input import SerialInput
from tests.kiosk.conftest import kiosk_settings, signed_url
from tests.kiosk.ui.test_voice import RecordingPlayer

pytestmark = pytest.mark.timeout(60)

FACES = ["faces_row-vi.wav", *(f"face-{int(score)}-vi.wav" for score in FACE_SETS[5])]


@pytest.fixture
def kiosk(
    qtbot: QtBot,
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    sim: DeviceSimulator,
) -> Iterator[Kiosk]:
    settings = kiosk_settings(
        tmp_path, receipt_keys, offline_mqtt, idle_reset_seconds=60, thanks_seconds=30
    )
    settings = settings.model_copy(
        update={"serial": SerialDevice(port=sim.port, idle_after_seconds=30)}
    )
    built = build_kiosk(settings, start_uplink=False)
    qtbot.addWidget(built.window)
    built.window.resize(1280, 800)
    built.window.show()
    qtbot.waitUntil(lambda: built.serial is not None and built.serial.link.state == "connected")
    yield built
    built.close()


@pytest.fixture
def recorder(kiosk: Kiosk) -> RecordingPlayer:
    player = RecordingPlayer()
    kiosk.controller.use_voice(player)
    kiosk.player = player  # closed with the kiosk
    return player


def _serial(kiosk: Kiosk) -> SerialInput:
    assert kiosk.serial is not None
    return kiosk.serial


def test_a_hold_turns_the_voice_on_and_a_short_press_still_rates(
    qtbot: QtBot, kiosk: Kiosk, recorder: RecordingPlayer, sim: DeviceSimulator, keyring: KeyRing
) -> None:
    serial = _serial(kiosk)
    sim.push(3, held_ms=HOLD_MS + 500)  # a citizen holds a button at the start screen
    qtbot.waitUntil(lambda: serial.holds == 1)
    assert recorder.names() == ["attract-vi.wav", "scanner_bottom-vi.wav"]
    assert kiosk.outbox.depth() == 0
    assert not serial.ignored  # a hold is no ignored press: it did what it is for

    sim.scan(signed_url(keyring))  # every next screen speaks for this citizen
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.RATING)
    assert recorder.names() == [
        "attract-vi.wav",
        "scanner_bottom-vi.wav",
        "rating-vi.wav",
        *FACES,
    ]

    sim.hold(5)  # held on the rating screen: the faces again, and no rating
    qtbot.waitUntil(lambda: serial.holds == 2)
    assert recorder.names()[-7:] == ["rating-vi.wav", *FACES]
    assert kiosk.outbox.depth() == 0
    assert kiosk.window.current is Screen.RATING

    sim.push(4, held_ms=200)  # a short press rates, and the thanks is read
    qtbot.waitUntil(lambda: kiosk.outbox.depth() == 1)
    ((_id, payload),) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    rating = decode_rating(payload)
    assert rating.score == Score.SATISFIED
    assert rating.receipt is not None
    assert rating.receipt.verified
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.THANKS)
    assert recorder.names()[-1] == "thanks-vi.wav"


def test_holds_on_every_button_of_the_rating_screen_store_nothing(
    qtbot: QtBot, kiosk: Kiosk, recorder: RecordingPlayer, sim: DeviceSimulator, keyring: KeyRing
) -> None:
    serial = _serial(kiosk)
    sim.scan(signed_url(keyring, sequence=8))
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.RATING)
    assert recorder.names() == []  # silent until asked
    for level in (1, 2, 3, 4, 5):
        sim.hold(level)
    qtbot.waitUntil(lambda: serial.holds == 5)
    assert kiosk.outbox.depth() == 0
    assert kiosk.window.current is Screen.RATING
    assert recorder.names()[:6] == ["rating-vi.wav", *FACES[:5]]
    assert kiosk.controller.guided  # the voice stays on for this citizen
