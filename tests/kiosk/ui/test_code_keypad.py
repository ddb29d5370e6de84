"""The kiosk's code keypad holds every character a dossier code may hold, so any unit's or
province's code can be typed (F, I, J, O, R, W were missing), and stays usable on the smallest
screens the kiosk supports."""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hailong.contract.clock import unit_day
from hailong.contract.dossier_codes import PatternError, compile_pattern
from hailong.contract.messages import decode_rating
from hailong.contract.scale import Score
from hailong.settings import MqttSettings, ReceiptKeys, Unit
from kiosk.app import Kiosk, build_kiosk
from kiosk.domain.screen import Screen
from kiosk.ui.keyboard import BACKSPACE, LAYOUTS
from tests.kiosk.conftest import kiosk_settings

PATTERN = "FIJ.ORW-{yyyymmdd}-{seq:5}"  # a province's spelling, in the letters once missing
SMALL_SCREENS = ((800, 480), (480, 800))
MIN_KEY_PX = 36  # a fingertip's target on a 7-inch 800x480 panel (about 7 mm)


def _literal_chars() -> set[str]:
    """The characters the code pattern language takes as literal text (what a printed code may
    hold beside its unit code, date and sequence), asked of the contract itself."""
    accepted = set()
    for char in string.printable:
        try:
            compile_pattern(f"{char}{{unit}}-{{yymmdd}}-{{seq:4}}")
        except PatternError:
            continue
        accepted.add(char)
    return accepted


def test_the_code_keypad_has_every_character_a_code_may_hold() -> None:
    keys = {key for row in LAYOUTS["code"] for key in row}
    assert _literal_chars() == set(string.digits + string.ascii_uppercase + ".-")
    assert keys - {BACKSPACE} == _literal_chars()
    assert sum(len(row) for row in LAYOUTS["code"]) == len(keys)  # each key once
    assert max(len(row) for row in LAYOUTS["code"]) <= 10  # as wide as the digits' row


@pytest.fixture
def kiosk(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> Iterator[Kiosk]:
    built = build_kiosk(kiosk_settings(tmp_path, receipt_keys, offline_mqtt), start_uplink=False)
    qtbot.addWidget(built.window)
    yield built
    built.close()


def _show_at(qtbot: QtBot, kiosk: Kiosk, size: tuple[int, int]) -> None:
    """The window at ``size`` with the keypad open, laid out as the device shows it (as the
    screenshot mode fits it: scale first, then size, letting the layouts settle)."""
    window = kiosk.window
    window.show()
    qtbot.waitExposed(window)
    attract = window.attract
    if not attract.keys.isVisible():
        qtbot.mouseClick(attract.type_button, Qt.MouseButton.LeftButton)
    window.apply_scale(*size)
    QApplication.processEvents()
    window.resize(*size)
    QApplication.processEvents()
    qtbot.waitUntil(lambda: window.size().width() == size[0] and attract.keys.isVisible())


@pytest.mark.parametrize("size", SMALL_SCREENS)
def test_a_code_in_the_letters_once_missing_is_typed_and_rated(
    qtbot: QtBot, kiosk: Kiosk, unit: Unit, size: tuple[int, int]
) -> None:
    config = unit.to_message()
    policy = config.policy.model_copy(update={"survey_share": 0.0})
    kiosk.controller.use_config(
        config.model_copy(update={"policy": policy, "dossier_patterns": (PATTERN,)})
    )
    _show_at(qtbot, kiosk, size)
    window, attract = kiosk.window, kiosk.window.attract
    # Every key inside the window, none on another, each big enough for a finger.
    inside = QRect(0, 0, *size)
    boxes = {}
    for key, button in attract.keys.keys.items():
        box = QRect(button.mapTo(window, button.rect().topLeft()), button.size())
        assert inside.contains(box), (key, box)
        assert min(box.width(), box.height()) >= MIN_KEY_PX, (key, box)
        boxes[key] = box
    overlapping = [(a, b) for a in boxes for b in boxes if a < b and boxes[a].intersects(boxes[b])]
    assert overlapping == []
    code = f"FIJ.ORW-{unit_day(datetime.now(UTC)):%Y%m%d}-00042"
    attract.code_input.clear()
    for char in code + "Q":  # a slip of the finger, taken back
        qtbot.mouseClick(attract.keys.keys[char], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(attract.keys.keys[BACKSPACE], Qt.MouseButton.LeftButton)
    assert attract.code_input.text() == code
    qtbot.mouseClick(attract.continue_button, Qt.MouseButton.LeftButton)
    assert window.current is Screen.RATING
    qtbot.mouseClick(window.rating.faces[Score.SATISFIED], Qt.MouseButton.LeftButton)
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    rating = decode_rating(pending[1])
    assert rating.receipt is not None
    assert (rating.receipt.code, rating.receipt.verified) == (code, False)
