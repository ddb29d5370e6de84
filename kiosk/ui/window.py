"""The kiosk's single window: a stack of screens and a thin footer for staff."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.session import Screen
from kiosk.ui.screens import AttractScreen, MessageScreen, RatingScreen


class KioskWindow(QWidget):
    def __init__(self, *, allow_walk_in: bool) -> None:
        super().__init__()
        self.setWindowTitle("Hài Lòng")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet("KioskWindow { background: #fafafa; }")
        self.attract = AttractScreen(allow_walk_in)
        self.rating = RatingScreen()
        self.message = MessageScreen()
        self.stack = QStackedWidget()
        for screen in (self.attract, self.rating, self.message):
            self.stack.addWidget(screen)
        self.unit_label = QLabel("")
        self.link_label = QLabel("")
        for label in (self.unit_label, self.link_label):
            # Staff-only footer: let it be clipped rather than widen the window on small screens.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.link_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        footer = QHBoxLayout()
        footer.addWidget(self.unit_label, 1)
        footer.addWidget(self.link_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack, 1)
        layout.addLayout(footer)
        self.current = Screen.ATTRACT

    def show_screen(self, screen: Screen) -> None:
        self.current = screen
        widget = {
            Screen.ATTRACT: self.attract,
            Screen.RATING: self.rating,
            Screen.THANKS: self.message,
            Screen.MESSAGE: self.message,
        }[screen]
        self.stack.setCurrentWidget(widget)
        if screen is Screen.ATTRACT:
            self.attract.code_input.setFocus()
        else:
            self.setFocus()

    def show_link(self, *, online: bool, depth: int) -> None:
        if online:
            text, colour = "● Đã kết nối / online", "#2e7d32"
        else:
            text, colour = (
                "○ Ngoại tuyến, đánh giá vẫn được lưu / offline, ratings are kept",
                "#8d6e63",
            )
        self.link_label.setText(f"{text} · {depth}")
        self.link_label.setStyleSheet(f"color: {colour};")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.apply_scale(self.width(), self.height())

    def apply_scale(self, width: int, height: int) -> None:
        """Size text and targets for a screen of this size (fonts set minimum widths, so a
        window about to shrink must be rescaled first)."""
        unit = max(12, min(height // 28, width // 45))
        self.attract.rescale(unit)
        self.rating.rescale(unit)
        self.message.rescale(unit)
        for label in (self.unit_label, self.link_label):
            font = label.font()
            font.setPixelSize(max(10, int(unit * 0.6)))
            label.setFont(font)
