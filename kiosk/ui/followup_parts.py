"""Painted parts of the screens after the faces: reason buttons with pictograms, the survey's
progress dots, its question card and its plain buttons.

They paint themselves (like the faces) so a pictogram, a tick or a dot looks the same on every
platform style; each asks :func:`high_contrast` at paint time and draws yellow and white on black
then, as the window's high-contrast style sheet does for ordinary widgets.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QAbstractButton, QFrame, QSizePolicy, QWidget

from kiosk.ui.pictograms import CONTRAST_INKS, NORMAL_INKS, Inks, paint_pictogram
from kiosk.ui.theme import CONTRAST, fitted_font

_WRAP = int(Qt.TextFlag.TextWordWrap)
SURVEY_PAGE = QColor("#dbe7f3")  # the survey's background: not the rating screen's near-white


def _size_of(font: QFont) -> int:
    """The font's own pixel size (16 when it is set in points): the largest the words may be."""
    return font.pixelSize() if font.pixelSize() > 0 else 16


def high_contrast(widget: QWidget) -> bool:
    """Whether the citizen chose high contrast (the window wears the contrast style sheet)."""
    return widget.window().styleSheet() == CONTRAST


def paint_tick(
    painter: QPainter, centre: QPointF, radius: float, disc: QColor, ink: QColor
) -> None:
    """A round badge with a tick: ticked is said by a shape, not by a colour alone."""
    painter.setPen(QPen(ink, max(2.0, radius / 6)))
    painter.setBrush(disc)
    painter.drawEllipse(centre, radius, radius)
    pen = QPen(ink, max(3.0, radius / 3.2))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath(QPointF(centre.x() - radius * 0.5, centre.y()))
    path.lineTo(QPointF(centre.x() - radius * 0.12, centre.y() + radius * 0.4))
    path.lineTo(QPointF(centre.x() + radius * 0.55, centre.y() - radius * 0.4))
    painter.drawPath(path)


class ReasonButton(QAbstractButton):
    """A reason to tick: its pictogram, then its words in the citizen's language (bold) and the
    other language beneath; ticked, it turns amber with a thick border and a tick badge."""

    def __init__(self, icon: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon_name = icon
        self.pair = ("", "")
        self.setCheckable(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(48)

    def set_words(self, first: str, second: str) -> None:
        self.pair = (first, second)
        self.setText(f"{first}\n{second}".strip())
        self.setAccessibleName(f"{first} / {second}")
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(200, self.minimumHeight())

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        contrast, ticked = high_contrast(self), self.isChecked()
        rect = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        if contrast:
            back, border, text = (
                (QColor("#ffff00"), QColor("#ffffff"), QColor("#000000"))
                if ticked
                else (QColor("#000000"), QColor("#ffff00"), QColor("#ffffff"))
            )
            inks = Inks(text, back, text) if ticked else CONTRAST_INKS
        else:
            back = QColor("#ffe082") if ticked else QColor("#ffffff")
            border = QColor("#e65100") if ticked else QColor("#90a4ae")
            text, inks = QColor("#111111"), NORMAL_INKS
        if self.isDown():
            back = back.darker(110)
        painter.setPen(QPen(border, 5 if ticked else 2))
        painter.setBrush(back)
        painter.drawRoundedRect(rect, 10, 10)
        side = rect.height() - 12
        picture = QRectF(rect.left() + 8, rect.top() + 6, side, side)
        if not contrast:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#e8eaf6") if not ticked else QColor("#fff3e0"))
            painter.drawRoundedRect(picture, 8, 8)
        paint_pictogram(painter, picture.adjusted(4, 4, -4, -4), self.icon_name, inks)
        badge = side * 0.2 if ticked else 0.0
        words = QRectF(picture.right() + 10, rect.top() + 4, 0, rect.height() - 8)
        words.setRight(rect.right() - 8 - 2 * badge)
        self._words(painter, words, text)
        if ticked:
            centre = QPointF(rect.right() - badge - 6, rect.top() + badge + 6)
            paint_tick(painter, centre, badge, QColor("#e65100") if not contrast else text, back)
        painter.end()

    def _words(self, painter: QPainter, box: QRectF, colour: QColor) -> None:
        first, second = self.pair
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter) | _WRAP
        top = QRectF(box.left(), box.top(), box.width(), box.height() * (0.62 if second else 1))
        painter.setPen(colour)
        painter.setFont(
            fitted_font(self.font(), top, first, flags, bold=True, largest=_size_of(self.font()))
        )
        painter.drawText(top, flags, first)
        if second:
            bottom = QRectF(box.left(), top.bottom(), box.width(), box.height() - top.height())
            small = QFont(self.font())
            small.setPixelSize(max(10, int(self.font().pixelSize() * 0.8)))
            painter.setFont(
                fitted_font(small, bottom, second, flags, bold=False, largest=_size_of(small))
            )
            painter.drawText(bottom, flags, second)


class ProgressDots(QWidget):
    """Where the citizen is in the survey: answered dots filled, the current one ringed."""

    def __init__(self, total: int = 5) -> None:
        super().__init__()
        self.total, self.index = total, 0
        self.setMinimumHeight(18)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def show_step(self, index: int, total: int) -> None:
        self.index, self.total = index, total
        self.setAccessibleName(f"{index + 1}/{total}")
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        ink = QColor("#ffff00") if high_contrast(self) else QColor("#1a237e")
        radius = self.height() * 0.3
        gap = radius * 3.2
        start = self.width() / 2 - gap * (self.total - 1) / 2
        for dot in range(self.total):
            centre = QPointF(start + dot * gap, self.height() / 2)
            painter.setPen(QPen(ink, max(2.0, radius / 3)))
            if dot < self.index:
                painter.setBrush(ink)
                painter.drawEllipse(centre, radius * 0.8, radius * 0.8)
            elif dot == self.index:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(centre, radius * 1.25, radius * 1.25)
                painter.setBrush(ink)
                painter.drawEllipse(centre, radius * 0.55, radius * 0.55)
            else:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(centre, radius * 0.8, radius * 0.8)
        painter.end()


class Card(QFrame):
    """A white card with a blue rim on the survey's page (black with a yellow rim in contrast)."""

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        contrast = high_contrast(self)
        painter.setPen(QPen(QColor("#ffff00" if contrast else "#5c8fc7"), 3))
        painter.setBrush(QColor("#000000" if contrast else "#ffffff"))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(2, 2, -2, -2), 16, 16)
        painter.end()


class SurveyPage(QWidget):
    """A screen on the survey's own background, so it is not taken for the rating screen."""

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#000000") if high_contrast(self) else SURVEY_PAGE)
        painter.end()


Mark = Literal["start", "skip", "not_applicable", "none"]
Look = Literal["primary", "quiet", "outline"]


class PlainButton(QAbstractButton):
    """A labelled button with a drawn mark: ▶ start, » skip, ⊘ does not apply.

    ``primary`` is a filled green call to act, ``quiet`` a grey one easy to pass over, ``outline``
    a white one with a dark rim: "Bỏ qua câu này" (quiet) and "Không áp dụng" (outline) never look
    alike, and stand at opposite ends of their row.
    """

    def __init__(self, mark: Mark, look: Look) -> None:
        super().__init__()
        self.mark, self.look = mark, look
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(40)

    def set_words(self, first: str, second: str = "") -> None:
        self.setText(f"{first} / {second}" if second else first)
        self.setAccessibleName(self.text())
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        metrics = QFontMetricsF(self.font())
        width = metrics.horizontalAdvance(self.text()) + self.minimumHeight() * 1.6 + 24
        return QSize(int(width), self.minimumHeight())

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        back, rim, ink = self._colours()
        if self.isDown():
            back = back.darker(115)
        painter.setPen(QPen(rim, 3))
        painter.setBrush(back)
        painter.drawRoundedRect(rect, rect.height() / 2.4, rect.height() / 2.4)
        mark_side = rect.height() * 0.5 if self.mark != "none" else 0.0
        flags = int(Qt.AlignmentFlag.AlignCenter) | _WRAP
        words = rect.adjusted(16 + mark_side * 1.3, 2, -16, -2)
        font = fitted_font(
            self.font(),
            words,
            self.text(),
            flags,
            bold=self.look == "primary",
            largest=_size_of(self.font()),
        )
        painter.setFont(font)
        needed = QFontMetricsF(font).boundingRect(words, flags, self.text())
        if mark_side:
            centre = QPointF(needed.left() - mark_side * 0.8, rect.center().y())
            self._mark(painter, centre, mark_side / 2, ink)
        painter.setPen(ink)
        painter.drawText(words, flags, self.text())
        painter.end()

    def _colours(self) -> tuple[QColor, QColor, QColor]:
        if high_contrast(self):
            if self.look == "primary":
                return QColor("#ffff00"), QColor("#ffffff"), QColor("#000000")
            return QColor("#000000"), QColor("#ffff00"), QColor("#ffffff")
        if self.look == "primary":
            return QColor("#2e7d32"), QColor("#1b5e20"), QColor("#ffffff")
        if self.look == "quiet":
            return QColor("#eceff1"), QColor("#b0bec5"), QColor("#37474f")
        return QColor("#ffffff"), QColor("#4a148c"), QColor("#4a148c")

    def _mark(self, painter: QPainter, centre: QPointF, radius: float, ink: QColor) -> None:
        pen = QPen(ink, max(2.5, radius / 3.5))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        x, y, r = centre.x(), centre.y(), radius
        if self.mark == "start":
            painter.setBrush(ink)
            path = QPainterPath(QPointF(x - r * 0.6, y - r))
            path.lineTo(QPointF(x + r, y))
            path.lineTo(QPointF(x - r * 0.6, y + r))
            path.closeSubpath()
            painter.drawPath(path)
        elif self.mark == "skip":
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for dx in (-r * 0.55, r * 0.35):
                chevron = QPainterPath(QPointF(x + dx - r * 0.4, y - r * 0.75))
                chevron.lineTo(QPointF(x + dx + r * 0.35, y))
                chevron.lineTo(QPointF(x + dx - r * 0.4, y + r * 0.75))
                painter.drawPath(chevron)
        elif self.mark == "not_applicable":
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, r, r)
            painter.drawLine(QPointF(x - r * 0.7, y + r * 0.7), QPointF(x + r * 0.7, y - r * 0.7))
