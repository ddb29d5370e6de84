"""Full screen without a window manager: the kiosk takes its screen's geometry itself, on Qt's
offscreen platform (which, like a bare X server, has no window manager to size the window)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.app import Kiosk, build_kiosk
from tests.kiosk.conftest import kiosk_settings


@pytest.fixture
def kiosk(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> Iterator[Kiosk]:
    built = build_kiosk(kiosk_settings(tmp_path, receipt_keys, offline_mqtt), start_uplink=False)
    qtbot.addWidget(built.window)
    yield built
    built.close()


def test_the_full_screen_window_covers_its_screen(qtbot: QtBot, kiosk: Kiosk) -> None:
    window = kiosk.window
    window.resize(320, 200)  # the small size a window gets when nobody sizes it
    window.show_full_screen()
    screen = QGuiApplication.primaryScreen()
    # At once, before any platform answers: a plain showFullScreen() is still 320×200 here, and
    # stays so where nothing honours the request (QT_QPA_PLATFORM=minimal, X11 without a WM).
    assert window.geometry() == screen.geometry()
    qtbot.waitExposed(window)
    assert window.isFullScreen()
    assert window.geometry() == screen.geometry()
    # Text and targets were scaled for the screen, not for the small window.
    assert window.portrait is (screen.geometry().height() > screen.geometry().width())


def test_it_follows_the_screen_once_shown(qtbot: QtBot, kiosk: Kiosk) -> None:
    window = kiosk.window
    window.show_full_screen()
    qtbot.waitExposed(window)
    window.resize(300, 300)  # as a late display or a turned output would leave it
    screen = window.screen()
    screen.geometryChanged.emit(screen.geometry())
    assert window.geometry() == screen.geometry()
    window.show_full_screen()  # shown again: still one connection, same geometry
    assert window.geometry() == screen.geometry()
