"""kiosk.ui.after_paint: a follow-up (the uplink's wake-up after a tap) runs once the next screen
has been painted, never before it; without a paint it still runs (the fallback)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from kiosk.ui.after_paint import AfterPaint

NEVER_MS = 600_000  # a fallback that cannot fire during the test


def _shown(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(120, 80)
    widget.show()
    qtbot.waitExposed(widget)
    QApplication.processEvents()  # the first paint is behind us
    return widget


def test_runs_after_the_paint_has_finished_not_before(qtbot: QtBot) -> None:
    widget = _shown(qtbot)
    calls: list[str] = []
    waker = AfterPaint(widget, lambda: calls.append("ran"), fallback_ms=NEVER_MS)
    waker.arm()
    QApplication.processEvents()
    assert calls == []  # armed, but nothing was painted yet
    assert waker.armed
    widget.repaint()  # the paint itself
    assert calls == []  # not inside the paint: once it is over
    QApplication.processEvents()
    assert calls == ["ran"]
    assert not waker.armed


def test_runs_once_however_often_armed_and_again_when_rearmed(qtbot: QtBot) -> None:
    widget = _shown(qtbot)
    calls: list[str] = []
    waker = AfterPaint(widget, lambda: calls.append("ran"), fallback_ms=30)
    waker.arm()
    waker.arm()
    widget.repaint()
    widget.repaint()
    QApplication.processEvents()
    qtbot.wait(100)  # past the fallback: it was stopped
    assert calls == ["ran"]
    waker.arm()
    widget.update()
    qtbot.waitUntil(lambda: len(calls) == 2)
    assert calls == ["ran", "ran"]


def test_without_a_paint_the_fallback_runs_it(qtbot: QtBot) -> None:
    widget = QWidget()  # never shown: never painted
    qtbot.addWidget(widget)
    calls: list[str] = []
    waker = AfterPaint(widget, lambda: calls.append("ran"), fallback_ms=10)
    waker.arm()
    qtbot.waitUntil(lambda: calls == ["ran"])
    assert not waker.armed
