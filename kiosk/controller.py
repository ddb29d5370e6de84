"""Connects the citizen's session (domain) to the screens, the outbox and the uplink.

Everything here runs on the Qt thread. The uplink calls back from the MQTT thread through Qt
signals, which Qt queues onto this thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QKeyEvent, Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy.exc import SQLAlchemyError

from hailong.contract.messages import UnitConfigMessage
from hailong.contract.scale import Score
from hailong.settings import KioskSettings
from kiosk.domain.scanner import ScanDetector
from kiosk.domain.session import RatingSession, Screen, Subject
from kiosk.outbox import Outbox
from kiosk.ui.screens import ERROR
from kiosk.ui.window import KioskWindow
from kiosk.uplink import Uplink

log = logging.getLogger(__name__)
THANKS = ("Cảm ơn ông/bà đã đánh giá!", "Thank you for your feedback!")
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class KioskController(QObject):
    link_changed = Signal()
    config_arrived = Signal(object)

    def __init__(
        self,
        settings: KioskSettings,
        window: KioskWindow,
        outbox: Outbox,
        uplink: Uplink | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self.settings, self.window, self.outbox, self.uplink = settings, window, outbox, uplink
        self.clock = clock
        self.session = RatingSession(settings.kiosk, settings.receipts.keyring(), outbox.has_rated)
        self.catalogue: UnitConfigMessage | None = outbox.load_unit_config()
        self.scanner = ScanDetector()
        window.attract.submitted.connect(self.submit_code)
        window.attract.walk_in.connect(self.walk_in)
        window.rating.rated.connect(lambda score: self.rate(Score(score)))
        window.message.back.connect(self.reset)
        self.link_changed.connect(self._show_link)
        self.config_arrived.connect(self._use_config)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.tick)
        self._timer.start(250)
        self._show_unit()
        self._show_link()
        self.render()

    # -- citizen actions ---------------------------------------------------------------------

    def submit_code(self, text: str) -> None:
        self.session.submit_code(text, self.clock())
        self.render()

    def walk_in(self) -> None:
        self.session.walk_in(self.clock())
        self.render()

    def rate(self, score: Score) -> None:
        now = self.clock()
        build = self.session.rate(score, now)
        try:
            self.outbox.append(build)
        except (SQLAlchemyError, OSError):
            log.exception("could not store a rating in the outbox")
            self.session.store_failed(now)
        else:
            self.session.stored(now)
            if self.uplink:
                self.uplink.notify_new()
        self.render()
        self._show_link()

    def reset(self) -> None:
        self.session.reset()
        self.render()

    def tick(self) -> None:
        if self.session.tick(self.clock()):
            self.render()

    # -- scanner on any screen ---------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        # A key event visits the window, the focused widget and its parents: count it once.
        if watched is not (QApplication.focusWidget() or self.window):
            return False
        self.session.touch(self.clock())
        now = time.monotonic()
        if event.key() in _ENTER_KEYS:
            scanned = self.scanner.enter(now)
            if scanned is not None:
                self.window.attract.code_input.clear()
                self.submit_code(scanned)
                return True
            return False
        self.scanner.key(event.text(), now)
        return False

    # -- drawing ----------------------------------------------------------------------------

    def render(self) -> None:
        session, window = self.session, self.window
        screen = session.screen
        if screen is Screen.ATTRACT:
            notice = session.notice
            window.attract.show_error(notice.vi if notice else None, notice.en if notice else None)
            if notice is None:
                window.attract.code_input.clear()
        elif screen is Screen.RATING and session.subject is not None:
            window.rating.show_subject(*self.describe(session.subject))
        elif screen is Screen.THANKS:
            window.message.show_text(*THANKS)
        elif screen is Screen.MESSAGE and session.notice is not None:
            colour = ERROR if session.notice.vi.startswith("Máy") else "#1a237e"
            window.message.show_text(session.notice.vi, session.notice.en, colour=colour)
        window.show_screen(screen)

    def describe(self, subject: Subject) -> tuple[str, str]:
        """Names, not codes, where the unit's configuration has arrived."""
        catalogue = self.catalogue
        procedures = {p.code: p.name for p in catalogue.procedures} if catalogue else {}
        counters = {c.code: c.name for c in catalogue.counters} if catalogue else {}
        officers = {o.code: o.name for o in catalogue.officers} if catalogue else {}
        if subject.procedure:
            name = procedures.get(subject.procedure, subject.procedure)
            procedure = f"Thủ tục / Procedure: {name}"
        else:
            procedure = "Hồ sơ / Dossier: " + (subject.dossier_code or "—")
        parts = []
        if subject.counter:
            parts.append(f"Quầy / Counter: {counters.get(subject.counter, subject.counter)}")
        if subject.officer:
            parts.append(f"Cán bộ / Officer: {officers.get(subject.officer, subject.officer)}")
        if subject.dossier_code and subject.procedure:
            parts.append(f"Mã hồ sơ: {subject.dossier_code}")
        return procedure, "   ·   ".join(parts)

    def _show_unit(self) -> None:
        name = self.catalogue.name if self.catalogue else self.settings.kiosk.unit
        self.window.unit_label.setText(f"{name} · {self.settings.kiosk.id}")

    def _show_link(self) -> None:
        online = bool(self.uplink and self.uplink.connected)
        self.window.show_link(online=online, depth=self.outbox.depth())

    def _use_config(self, config: UnitConfigMessage) -> None:
        self.catalogue = config
        self._show_unit()
