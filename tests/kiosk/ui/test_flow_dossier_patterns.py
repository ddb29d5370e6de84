"""The real kiosk widgets off-screen: a code printed in the province's own spelling, typed on the
code keypad, is taken once the unit config names its pattern, and rated like any typed code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hailong.contract.messages import decode_rating
from hailong.contract.scale import Score
from hailong.settings import MqttSettings, ReceiptKeys, Unit
from kiosk.app import Kiosk, build_kiosk
from kiosk.domain.screen import Screen
from tests.kiosk.conftest import kiosk_settings

CODE = "G09.20-20260609-0092637"


@pytest.fixture
def kiosk(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> Iterator[Kiosk]:
    built = build_kiosk(kiosk_settings(tmp_path, receipt_keys, offline_mqtt), start_uplink=False)
    qtbot.addWidget(built.window)
    built.window.resize(1280, 800)
    built.window.show()
    qtbot.waitExposed(built.window)
    yield built
    built.close()


def _type_code(qtbot: QtBot, kiosk: Kiosk, text: str) -> None:
    attract = kiosk.window.attract
    attract.code_input.clear()
    if not attract.keys.isVisible():
        qtbot.mouseClick(attract.type_button, Qt.MouseButton.LeftButton)
    for char in text:
        qtbot.mouseClick(attract.keys.keys[char], Qt.MouseButton.LeftButton)
    assert attract.code_input.text() == text
    qtbot.mouseClick(attract.continue_button, Qt.MouseButton.LeftButton)


def test_a_typed_variant_code_is_rated_once_the_unit_config_has_its_pattern(
    qtbot: QtBot, kiosk: Kiosk, unit: Unit
) -> None:
    window = kiosk.window
    # No survey draw: the face alone closes the rating.
    national_only = unit.to_message()
    national_only = national_only.model_copy(
        update={"policy": national_only.policy.model_copy(update={"survey_share": 0.0})}
    )
    kiosk.controller.use_config(national_only)
    _type_code(qtbot, kiosk, CODE)
    assert window.current is Screen.ATTRACT
    assert "không đúng định dạng" in window.attract.error.text()
    config = national_only.model_copy(update={"dossier_patterns": ("G09.20-{yyyymmdd}-{seq:7}",)})
    kiosk.controller.use_config(config)
    _type_code(qtbot, kiosk, CODE)
    assert window.current is Screen.RATING
    assert CODE in window.rating.procedure.text()
    qtbot.mouseClick(window.rating.faces[Score.VERY_SATISFIED], Qt.MouseButton.LeftButton)
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    rating = decode_rating(pending[1])
    assert rating.receipt is not None
    assert (rating.receipt.code, rating.receipt.verified, rating.counter) == (CODE, False, "Q1")
