"""The real kiosk widgets off-screen: scan or type, tap a face, thanks, back to the start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hailong.contract.messages import decode_rating
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Score
from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.app import LANGUAGES, SCREEN_SIZES, Kiosk, build_kiosk, render_screenshots
from kiosk.domain.session import Screen
from tests.kiosk.conftest import kiosk_settings, signed_url


@pytest.fixture
def kiosk(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> Iterator[Kiosk]:
    settings = kiosk_settings(
        tmp_path, receipt_keys, offline_mqtt, idle_reset_seconds=1.5, thanks_seconds=0.5
    )
    built = build_kiosk(settings, start_uplink=False)
    qtbot.addWidget(built.window)
    built.window.resize(1280, 800)
    built.window.show()
    qtbot.waitExposed(built.window)
    yield built
    built.close()


def _scan(qtbot: QtBot, kiosk: Kiosk, text: str) -> None:
    """A keyboard-wedge scanner: the whole text at machine speed, then Enter, to the focus."""
    target = QApplication.focusWidget() or kiosk.window
    for char in text:
        if char.isprintable():
            qtbot.keyClicks(target, char)
        else:  # control characters arrive as key events carrying that text
            event = QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, char)
            QApplication.sendEvent(target, event)
    qtbot.keyClick(target, Qt.Key.Key_Return)


def test_scan_rate_thanks_and_reset(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing) -> None:
    _scan(qtbot, kiosk, signed_url(keyring))
    assert kiosk.window.current is Screen.RATING
    assert "1.001193" in kiosk.window.rating.procedure.text()
    assert "Mã hồ sơ: 000.00.20.H41-261125-0007" in kiosk.window.rating.details.text()
    qtbot.mouseClick(kiosk.window.rating.faces[Score.VERY_SATISFIED], Qt.MouseButton.LeftButton)
    assert kiosk.window.current is Screen.THANKS
    assert "Cảm ơn" in kiosk.window.message.headline.text()
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    rating = decode_rating(pending[1])
    assert (rating.score, rating.receipt and rating.receipt.verified) == (5, True)
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=3000)
    assert kiosk.window.attract.code_input.text() == ""


def test_scan_works_on_the_rating_screen_too(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing) -> None:
    _scan(qtbot, kiosk, signed_url(keyring, sequence=1))
    assert kiosk.window.current is Screen.RATING
    _scan(qtbot, kiosk, signed_url(keyring, sequence=2))
    assert kiosk.controller.session.subject is not None
    assert kiosk.controller.session.subject.dossier_code == "000.00.20.H41-261125-0002"


def test_typed_code_then_continue_button(qtbot: QtBot, kiosk: Kiosk) -> None:
    kiosk.window.attract.code_input.setText("000.00.20.H41-261125-0042")
    qtbot.mouseClick(kiosk.window.attract.continue_button, Qt.MouseButton.LeftButton)
    assert kiosk.window.current is Screen.RATING
    assert "000.00.20.H41-261125-0042" in kiosk.window.rating.procedure.text()


def test_forged_receipt_is_refused_on_screen(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing) -> None:
    forged = signed_url(keyring)[:-3] + "AAA"
    _scan(qtbot, kiosk, forged)
    assert kiosk.window.current is Screen.ATTRACT
    assert "Giấy hẹn không hợp lệ" in kiosk.window.attract.error.text()
    assert kiosk.outbox.depth() == 0


@pytest.mark.parametrize("junk", ["hello world!", "x" * 4096, "\x07\x1b[2J 000 \x00"])
def test_scanner_junk_gets_a_message_and_the_kiosk_stays_usable(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, junk: str
) -> None:
    _scan(qtbot, kiosk, junk)
    assert kiosk.window.current is Screen.ATTRACT
    assert kiosk.window.attract.error.text() != ""
    _scan(qtbot, kiosk, signed_url(keyring))
    assert kiosk.window.current is Screen.RATING


def test_second_scan_of_a_rated_receipt_says_already_rated(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    _scan(qtbot, kiosk, signed_url(keyring))
    qtbot.mouseClick(kiosk.window.rating.faces[Score.SATISFIED], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=3000)
    _scan(qtbot, kiosk, signed_url(keyring))
    assert kiosk.window.current is Screen.MESSAGE
    assert "đã được đánh giá" in kiosk.window.message.headline.text()
    assert kiosk.outbox.depth() == 1


def test_idle_rating_screen_returns_to_start_without_storing(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    _scan(qtbot, kiosk, signed_url(keyring))
    assert kiosk.window.current is Screen.RATING
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=4000)
    assert kiosk.outbox.depth() == 0


def test_a_full_disk_shows_a_message_and_keeps_the_kiosk_usable(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(_build: object) -> None:
        raise OSError(28, "No space left on device")

    _scan(qtbot, kiosk, signed_url(keyring))
    monkeypatch.setattr(kiosk.outbox, "append", disk_full)
    qtbot.mouseClick(kiosk.window.rating.faces[Score.SATISFIED], Qt.MouseButton.LeftButton)
    assert kiosk.window.current is Screen.MESSAGE
    assert "chưa lưu được" in kiosk.window.message.headline.text()
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=3000)


def test_screenshots_of_every_screen(
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    unit,  # type: ignore[no-untyped-def]
) -> None:
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt)
    paths = render_screenshots(settings, tmp_path / "shots", unit.to_message())
    scenes = {p.name.split("-vi-")[0] for p in paths if "-vi-" in p.name}
    assert len(scenes) >= 11
    assert len(paths) == len(scenes) * len(LANGUAGES) * len(SCREEN_SIZES)
    assert all(p.stat().st_size > 5000 for p in paths)
