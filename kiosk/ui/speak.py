"""The ♪ control that reads the screen aloud, and the sign that says when no sound can come out.

One bar, in the bottom-left corner of every citizen screen (the window's footer), so that a citizen
who found it once finds it again by touch (the start screen keeps its own ♪ among its options, and
there the bar shows only the sign). The footer row costs no height the screens need: on the start
screen, the tightest, the sign is no taller than the footer's staff button. With no output device, or a player that went silent, the sign "Không có âm thanh / No
sound" stays up beside the button: a ♪ must never seem to do nothing. The sign's icon is painted
(a speaker, crossed out), so it needs no emoji font.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QWidget

from kiosk.i18n import languages
from kiosk.ui.theme import label, px

LISTEN = ("♪ Nghe đọc", "♪ Listen")  # short: it shares the footer on a 480-pixel-wide screen
NO_SOUND = ("Không có âm thanh", "No sound")


class NoSoundIcon(QWidget):
    """A loudspeaker with a cross where its sound waves would be.

    Drawn once per size into a pixmap: the sign sits in the footer of every screen, so every
    screen switch repaints it, and drawing the antialiased shapes each time cost about a
    millisecond here (five on a Raspberry Pi's core) of each tap's time to the next screen.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._drawn: QPixmap | None = None

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        ratio = self.devicePixelRatioF()
        drawn = self._drawn
        if (
            drawn is None
            or drawn.devicePixelRatio() != ratio
            or drawn.deviceIndependentSize().toSize() != self.size()
        ):
            drawn = self._drawn = self._draw(ratio)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, drawn)
        painter.end()

    def _draw(self, ratio: float) -> QPixmap:
        pixmap = QPixmap(self.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height())
        box = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        ink = QColor("#b71c1c")
        painter.setPen(QPen(ink, max(1.5, side / 14)))
        painter.setBrush(ink)
        x, y, s = box.left(), box.top(), side
        painter.drawPolygon(
            QPolygonF(
                [
                    QPointF(x + 0.08 * s, y + 0.36 * s),
                    QPointF(x + 0.26 * s, y + 0.36 * s),
                    QPointF(x + 0.50 * s, y + 0.14 * s),
                    QPointF(x + 0.50 * s, y + 0.86 * s),
                    QPointF(x + 0.26 * s, y + 0.64 * s),
                    QPointF(x + 0.08 * s, y + 0.64 * s),
                ]
            )
        )
        pen = QPen(ink, max(2.0, side / 9))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(x + 0.64 * s, y + 0.34 * s), QPointF(x + 0.92 * s, y + 0.66 * s))
        painter.drawLine(QPointF(x + 0.64 * s, y + 0.66 * s), QPointF(x + 0.92 * s, y + 0.34 * s))
        painter.end()
        return pixmap


class SpeakBar(QWidget):
    """♪, then the no-sound sign (shown only when there is no sound)."""

    speak = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.button = QPushButton(LISTEN[0])
        self.button.setAccessibleName(" / ".join(LISTEN))
        self.button.clicked.connect(self.speak.emit)
        self.icon = NoSoundIcon()
        self.no_sound = label(" / ".join(NO_SOUND), "error")
        self.no_sound.setAccessibleName(" / ".join(NO_SOUND))
        self.no_sound.setWordWrap(False)  # one line, beside the footer's small print
        # Never clipped: the footer's staff labels give way first.
        self.no_sound.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self.button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        self.sign = QWidget()
        sign = QHBoxLayout(self.sign)
        sign.setContentsMargins(0, 0, 0, 0)
        sign.addWidget(self.icon)
        sign.addWidget(self.no_sound)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.sign)
        self.sign.setVisible(False)
        self._sound = True
        self._button = True

    def set_lang(self, lang: str) -> None:
        self.button.setText(languages().pair(*LISTEN, lang)[0])
        self.no_sound.setText(
            " / ".join(part for part in languages().pair(*NO_SOUND, lang) if part)
        )

    def show_sound(self, available: bool) -> None:
        """Sound works (sign hidden) or not (sign shown, whatever the screen)."""
        self._sound = available
        self.sign.setVisible(not available)
        self._update()

    def show_button(self, showing: bool) -> None:
        """The bar's ♪ (hidden on a screen that has its own)."""
        self._button = showing
        self.button.setVisible(showing)
        self._update()

    @property
    def sound(self) -> bool:
        return self._sound

    def _update(self) -> None:
        """No empty row: the bar takes room only when it has something to show."""
        self.setVisible(self._button or not self._sound)

    def rescale(self, unit: int) -> None:
        px(self.button, int(unit * 0.8))
        self.button.setMinimumHeight(int(unit * 2.0))
        px(self.no_sound, int(unit * 0.7))
        self.icon.setFixedSize(int(unit * 1.1), int(unit * 1.1))
