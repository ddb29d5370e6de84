"""The kiosk's single window: a stack of screens, a "still there?" banner and a thin staff footer."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.session import Screen
from kiosk.ui.followup import CommentScreen, ReasonsScreen, SurveyScreen
from kiosk.ui.maintenance import MaintenanceScreen
from kiosk.ui.screens import AttractScreen, MessageScreen, RatingScreen, _label

NORMAL_STYLE = "KioskWindow { background: #fafafa; }"
# High contrast: white and yellow on black, thick outlines on every control.
CONTRAST_STYLE = (
    "KioskWindow, QStackedWidget, QWidget { background: #000000; color: #ffffff; }"
    "QLabel { color: #ffff00 !important; }"
    "QPushButton, QLineEdit, QCheckBox { background: #000000; color: #ffffff;"
    " border: 3px solid #ffff00; }"
)


class KioskWindow(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Hài Lòng")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet(NORMAL_STYLE)
        self.attract = AttractScreen()
        self.rating = RatingScreen()
        self.reasons = ReasonsScreen()
        self.comment = CommentScreen()
        self.survey = SurveyScreen()
        self.message = MessageScreen()
        self.maintenance = MaintenanceScreen()
        self.stack = QStackedWidget()
        for screen in (
            self.attract,
            self.rating,
            self.reasons,
            self.comment,
            self.survey,
            self.message,
            self.maintenance,
        ):
            self.stack.addWidget(screen)
        self.banner = _label(
            "Ông/bà vẫn đang đánh giá chứ? Chạm vào màn hình để tiếp tục. / "
            "Are you still rating? Touch the screen to continue.",
            bold=True,
            colour="#ffffff",
        )
        self.banner.setStyleSheet("background: #e65100; color: white; font-weight: bold;")
        self.banner.setVisible(False)
        self.unit_label = QLabel("")
        self.link_label = QLabel("")
        self.staff_button = QPushButton("⚙")
        self.staff_button.setAccessibleName("Bảo trì / Maintenance")
        self.staff_button.setFlat(True)
        for label in (self.unit_label, self.link_label):
            # Staff-only footer: let it be clipped rather than widen the window on small screens.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.link_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        footer = QHBoxLayout()
        footer.addWidget(self.unit_label, 1)
        footer.addWidget(self.link_label, 1)
        footer.addWidget(self.staff_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        layout.addLayout(footer)
        self.current = Screen.ATTRACT
        self.in_maintenance = False
        self.large_text = False
        self.high_contrast = False

    def show_screen(self, screen: Screen) -> None:
        self.current = screen
        self.in_maintenance = False
        widget = {
            Screen.ATTRACT: self.attract,
            Screen.RATING: self.rating,
            Screen.REASONS: self.reasons,
            Screen.COMMENT: self.comment,
            Screen.SURVEY: self.survey,
            Screen.SAVING: self.message,
            Screen.THANKS: self.message,
            Screen.MESSAGE: self.message,
        }[screen]
        self.stack.setCurrentWidget(widget)
        if screen is Screen.ATTRACT:
            self.attract.code_input.setFocus()
        else:
            self.setFocus()

    def show_maintenance(self) -> None:
        self.in_maintenance = True
        self.stack.setCurrentWidget(self.maintenance)

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

    def set_accessibility(self, *, large_text: bool, high_contrast: bool) -> None:
        """Large text and high contrast, chosen by one citizen and reset for the next."""
        changed = (large_text, high_contrast) != (self.large_text, self.high_contrast)
        self.large_text, self.high_contrast = large_text, high_contrast
        self.setStyleSheet(CONTRAST_STYLE if high_contrast else NORMAL_STYLE)
        if changed:
            self.apply_scale(self.width(), self.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.apply_scale(self.width(), self.height())

    def apply_scale(self, width: int, height: int) -> None:
        """Size text and targets for a screen of this size (fonts set minimum widths, so a
        window about to shrink must be rescaled first)."""
        unit = max(12, min(height // 28, width // 45))
        if self.large_text:
            unit = int(unit * 1.3)
        for screen in (
            self.attract,
            self.rating,
            self.reasons,
            self.comment,
            self.survey,
            self.message,
            self.maintenance,
        ):
            screen.rescale(unit)
        for label in (self.unit_label, self.link_label, self.staff_button):
            font = label.font()
            font.setPixelSize(max(10, int(unit * 0.6)))
            label.setFont(font)
        font = self.banner.font()
        font.setPixelSize(int(unit * 0.9))
        self.banner.setFont(font)
