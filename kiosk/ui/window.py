"""The kiosk's single window: a stack of screens, a "still there?" banner and a thin staff footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QResizeEvent, QScreen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.screen import Screen
from kiosk.i18n import languages
from kiosk.ui.screens import AttractScreen
from kiosk.ui.speak import SpeakBar
from kiosk.ui.theme import CONTRAST, NORMAL, label, px, set_role

if TYPE_CHECKING:  # imported by complete(), after the start screen is drawn
    from kiosk.ui.followup import CommentScreen, ReasonsScreen, SurveyInviteScreen, SurveyScreen
    from kiosk.ui.maintenance import MaintenanceScreen
    from kiosk.ui.screens import MessageScreen, RatingScreen

STILL_THERE = (
    "Ông/bà vẫn đang đánh giá chứ? Chạm vào màn hình để tiếp tục.",
    "Are you still rating? Touch the screen to continue.",
)


class _Scalable(Protocol):
    def rescale(self, unit: int) -> None: ...


class _Turning(_Scalable, Protocol):
    def orient(self, *, portrait: bool) -> None: ...


class KioskWindow(QWidget):
    """The window, built in two steps: the start screen and the frame around it, then (in
    :meth:`complete`) every other screen. A kiosk starting up draws the first before it has loaded
    what the others need (kiosk/launch.py); everything else asks for a complete window."""

    rating: RatingScreen
    reasons: ReasonsScreen
    comment: CommentScreen
    invite: SurveyInviteScreen
    survey: SurveyScreen
    message: MessageScreen
    maintenance: MaintenanceScreen

    def __init__(self, *, complete: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("Hài Lòng")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet(NORMAL)
        self.attract = AttractScreen()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.attract)
        self.is_complete = False
        self.banner = label("")
        self.banner.setObjectName("banner")
        self.banner.setVisible(False)
        # ♪ on every citizen screen, and the no-sound sign (kiosk/ui/speak.py).
        self.voice_bar = SpeakBar()
        self.unit_label = QLabel("")
        self.link_label = QLabel("")
        self.staff_button = QPushButton("⚙")
        self.staff_button.setAccessibleName("Bảo trì / Maintenance")
        self.staff_button.setFlat(True)
        for footer_label in (self.unit_label, self.link_label):
            # Staff-only footer: let it be clipped rather than widen the window on small screens.
            footer_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.link_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        footer = QHBoxLayout()
        # The bottom-left corner, the same on every screen: easy to find again by touch.
        footer.addWidget(self.voice_bar)
        footer.addWidget(self.unit_label, 1)
        footer.addWidget(self.link_label, 1)
        footer.addWidget(self.staff_button)
        layout = QVBoxLayout(self)
        # The screen decides the window's size, not the layout's minimum: wrapped sentences ask for
        # their height at the narrowest width, which would push a full-screen window off-screen.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        layout.addLayout(footer)
        self.current = Screen.ATTRACT
        self.in_maintenance = False
        self.large_text = False
        self.high_contrast = False
        self.portrait: bool | None = None
        # Full-screen kiosks refuse to close (Alt+F4, a window manager's close): the only way out
        # is the maintenance screen behind the staff PIN.
        self.locked = False
        self._followed: QScreen | None = None  # the screen show_full_screen keeps the window on
        if complete:
            self.complete()

    def complete(self) -> None:
        """Build every screen but the start screen, sized and turned like it (once)."""
        if self.is_complete:
            return
        from kiosk.ui.followup import CommentScreen, ReasonsScreen, SurveyInviteScreen, SurveyScreen
        from kiosk.ui.maintenance import MaintenanceScreen
        from kiosk.ui.screens import MessageScreen, RatingScreen

        self.rating = RatingScreen()
        self.reasons = ReasonsScreen()
        self.comment = CommentScreen()
        self.invite = SurveyInviteScreen()
        self.survey = SurveyScreen()
        self.message = MessageScreen()
        self.maintenance = MaintenanceScreen()
        for screen in self._others():
            self.stack.addWidget(screen)
        self.is_complete = True
        if self.portrait is not None:  # already sized: bring the new screens to the same size
            self.portrait = None
            self.apply_scale(self.width(), self.height())

    def _others(self) -> tuple[QWidget, ...]:
        return (
            self.rating,
            self.reasons,
            self.comment,
            self.invite,
            self.survey,
            self.message,
            self.maintenance,
        )

    def set_lang(self, lang: str) -> None:
        self.banner.setText(" / ".join(languages().pair(*STILL_THERE, lang)))
        self.voice_bar.set_lang(lang)

    def show_screen(self, screen: Screen) -> None:
        self.current = screen
        self.in_maintenance = False
        widget = self.attract if screen is Screen.ATTRACT else self._widget_of(screen)
        self.stack.setCurrentWidget(widget)
        self.voice_bar.show_button(screen is not Screen.ATTRACT)  # the start screen has its own ♪
        if screen is Screen.ATTRACT:
            self.attract.code_input.setFocus()
        else:
            self.setFocus()

    def _widget_of(self, screen: Screen) -> QWidget:
        widget: QWidget = {
            Screen.ATTRACT: self.attract,
            Screen.RATING: self.rating,
            Screen.REASONS: self.reasons,
            Screen.COMMENT: self.comment,
            Screen.SURVEY_INVITE: self.invite,
            Screen.SURVEY: self.survey,
            Screen.SAVING: self.message,
            Screen.THANKS: self.message,
            Screen.MESSAGE: self.message,
        }[screen]
        return widget

    def show_full_screen(self) -> None:
        """Full screen whether or not a window manager is there to honour the request.

        ``showFullScreen()`` only asks: under X11 without a window manager (or a compositor that
        ignores the hint) the window keeps whatever size it had, often Qt's small default. So the
        window first takes its screen's whole geometry itself, and follows the screen when it
        changes (a display plugged in late, a compositor turning the output)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            self.setGeometry(screen.geometry())
            if self._followed is not screen:
                if self._followed is not None:
                    self._followed.geometryChanged.disconnect(self._screen_resized)
                screen.geometryChanged.connect(self._screen_resized)
                self._followed = screen
        self.showFullScreen()

    def _screen_resized(self) -> None:
        if self._followed is not None:
            self.setGeometry(self._followed.geometry())

    def show_maintenance(self) -> None:
        self.in_maintenance = True
        self.stack.setCurrentWidget(self.maintenance)
        self.voice_bar.setVisible(False)

    def show_link(self, *, online: bool, depth: int) -> None:
        text = "● Đã kết nối / online" if online else "○ Ngoại tuyến / offline"
        self.link_label.setText(f"{text} · {depth}")
        set_role(self.link_label, "online" if online else "offline")

    def set_accessibility(self, *, large_text: bool, high_contrast: bool) -> None:
        """Large text and high contrast, chosen by one citizen and reset for the next."""
        if high_contrast != self.high_contrast:
            self.setStyleSheet(CONTRAST if high_contrast else NORMAL)
        rescale = large_text != self.large_text
        self.large_text, self.high_contrast = large_text, high_contrast
        if rescale:
            self.apply_scale(self.width(), self.height())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self.locked:
            event.ignore()
        else:
            super().closeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.apply_scale(self.width(), self.height())

    def apply_scale(self, width: int, height: int) -> None:
        """Size text and targets for a screen of this size, and arrange for its orientation
        (fonts set minimum widths, so a window about to shrink must be rescaled first)."""
        portrait = height > width
        turning: tuple[_Turning, ...] = (self.attract,)
        scaling: tuple[_Scalable, ...] = (self.attract,)
        if self.is_complete:
            turning += (self.rating, self.reasons, self.comment, self.invite, self.survey)
            turning += (self.maintenance,)
            scaling = (*turning, self.message)
        if portrait != self.portrait:
            self.portrait = portrait
            for screen in turning:
                screen.orient(portrait=portrait)
        if portrait:
            unit = max(12, min(height // 42, width // 26))
        else:
            unit = max(12, min(height // 28, width // 45))
        if self.large_text:
            unit = int(unit * 1.3)
        for page in scaling:
            page.rescale(unit)
        for widget in (self.unit_label, self.link_label, self.staff_button):
            px(widget, int(unit * 0.6))
        px(self.banner, int(unit * 0.9))
        self.voice_bar.rescale(unit)
