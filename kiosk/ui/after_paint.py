"""Run something once the next screen has been drawn, so it does not compete with the drawing.

A tap's work (the outbox commit, the screen switch) is followed by a repaint that Qt delivers at a
low priority, after every posted event and zero-delay timer. Waking another thread (the uplink,
which reads the outbox and publishes) or any other follow-up at the tap itself makes it run
*before* or *during* that repaint: on a kiosk with one slow core (a Raspberry Pi, or the bench's
CPU quota, bench/kiosk_pi.py) it pushed the tap-to-next-screen time past 50 ms. Waiting for the
widget's next paint event, then for the event loop to come back (a zero-delay timer started from
inside the paint runs after the paint has finished and reached the screen), puts the follow-up
after the citizen sees the next screen. A fallback timer runs it anyway if no paint comes (a
hidden or minimised window, a test without a shown window): nothing waits for ever.

:func:`after_first_paint` is the same wait for a widget's very first paint, without the fallback
(what the kiosk defers until its start screen shows, kiosk/launch.py and kiosk/app.py);
:func:`after_next_paint` the one-off use of :class:`AfterPaint`.

One object per widget and follow-up, armed again for each use: creating one per use would leave
an object per tap behind wherever the event loop never runs deferred deletions (a loop of
``processEvents``, as in the benches), and showing a widget walks all its children.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

# Without a paint (a hidden window), the follow-up runs after this long at the latest.
FALLBACK_MS = 250


class AfterPaint(QObject):
    """Calls ``then`` on the Qt thread once ``widget`` has next been painted after :meth:`arm`
    (or ``fallback_ms`` later if it is not). Arming it again before then changes nothing: the
    follow-up runs once. A child of ``widget``, so it goes with it."""

    def __init__(
        self, widget: QWidget, then: Callable[[], object], fallback_ms: int = FALLBACK_MS
    ) -> None:
        super().__init__(widget)
        self._widget = widget
        self._then = then
        self._armed = False
        self._fallback = QTimer(self)
        self._fallback.setSingleShot(True)
        self._fallback.setInterval(fallback_ms)
        self._fallback.timeout.connect(self._run)
        self._soon = QTimer(self)  # zero delay: the next turn of the event loop
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self._run)

    @property
    def armed(self) -> bool:
        return self._armed

    def arm(self) -> None:
        if self._armed:
            return
        self._armed = True
        self._widget.installEventFilter(self)
        self._fallback.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and self._armed and not self._soon.isActive():
            self._soon.start()  # started inside the paint: runs once it has finished
        return False

    def _run(self) -> None:
        if not self._armed:
            return
        self._armed = False
        self._fallback.stop()
        self._soon.stop()
        self._widget.removeEventFilter(self)
        self._then()


class _FirstPaint(QObject):
    """Removes itself at the widget's first paint and queues ``then``."""

    def __init__(self, widget: QObject, then: Callable[[], object]) -> None:
        super().__init__(widget)
        self._then = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            # Queued: runs once this paint has finished and reached the screen.
            QTimer.singleShot(0, self._then)
        return False


def after_first_paint(widget: QObject, then: Callable[[], object]) -> None:
    """Call ``then`` on the Qt thread once ``widget`` has been painted the first time."""
    _FirstPaint(widget, then)


def after_next_paint(
    widget: QWidget, then: Callable[[], object], fallback_ms: int = FALLBACK_MS
) -> None:
    """Call ``then`` once ``widget`` has next been painted (``fallback_ms`` later at the latest):
    for a window already on the screen, whose next paint may not come at all."""
    AfterPaint(widget, then, fallback_ms).arm()
