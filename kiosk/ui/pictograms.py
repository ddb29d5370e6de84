"""Pictograms for the reasons screen, painted with QPainter (no image files, nothing copied).

A citizen who reads poorly finds "the clock" or "the chair" before reading the sentence beside it.
Each pictogram is drawn in a 100 x 100 box with thick strokes and few shapes, so it stays readable
at the 60-pixel size an 800x480 screen gives it and in high contrast (one ink colour on the
background, one accent for the "something is wrong" mark). The names are those of
:data:`hailong.contract.pictograms.PICTOGRAMS`; a name this build does not know draws the neutral
pictogram (:func:`hailong.contract.pictograms.icon_for` decides which one a reason gets).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from hailong.contract.pictograms import NEUTRAL


@dataclass(frozen=True)
class Inks:
    """The colours one pictogram is drawn in."""

    ink: QColor  # the strokes
    fill: QColor  # paper, seat, the disc behind the drawing
    accent: QColor  # the mark that says "wrong", "late", "more"


NORMAL_INKS = Inks(QColor("#1a237e"), QColor("#ffffff"), QColor("#d84315"))
CONTRAST_INKS = Inks(QColor("#ffff00"), QColor("#000000"), QColor("#ffffff"))


def _pen(painter: QPainter, colour: QColor, width: float = 7.0) -> None:
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)


def _badge(painter: QPainter, inks: Inks, centre: QPointF, radius: float = 17) -> None:
    """The accent disc a mark (a cross, a plus, a question mark) sits in."""
    _pen(painter, inks.fill, 4)
    painter.setBrush(inks.accent)
    painter.drawEllipse(centre, radius, radius)


def _officer(painter: QPainter, inks: Inks) -> None:
    """A person behind a desk, frowning."""
    _pen(painter, inks.ink)
    painter.setBrush(inks.fill)
    painter.drawEllipse(QPointF(50, 34), 19, 19)
    shoulders = QPainterPath(QPointF(18, 84))
    shoulders.cubicTo(QPointF(18, 56), QPointF(82, 56), QPointF(82, 84))
    painter.drawPath(shoulders)
    painter.drawLine(QPointF(8, 86), QPointF(92, 86))  # the desk
    painter.setBrush(inks.ink)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QPointF(43, 31), 3, 3)
    painter.drawEllipse(QPointF(57, 31), 3, 3)
    _pen(painter, inks.accent, 5)
    frown = QPainterPath(QPointF(42, 45))
    frown.quadTo(QPointF(50, 37), QPointF(58, 45))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(frown)


def _sheet(painter: QPainter, inks: Inks, rect: QRectF, lines: int = 3) -> None:
    _pen(painter, inks.ink, 6)
    painter.setBrush(inks.fill)
    painter.drawRect(rect)
    for row in range(lines):
        y = rect.top() + rect.height() * (row + 1) / (lines + 1)
        painter.drawLine(QPointF(rect.left() + 8, y), QPointF(rect.right() - 8, y))


def _papers(painter: QPainter, inks: Inks) -> None:
    """A pile of forms with a "+": papers beyond the rules."""
    _sheet(painter, inks, QRectF(30, 8, 46, 58), 0)
    _sheet(painter, inks, QRectF(20, 18, 46, 58), 0)
    _sheet(painter, inks, QRectF(10, 28, 46, 58))
    _badge(painter, inks, QPointF(72, 74), 19)
    _pen(painter, inks.fill, 6)
    painter.drawLine(QPointF(72, 63), QPointF(72, 85))
    painter.drawLine(QPointF(61, 74), QPointF(83, 74))


def _arrow_head(painter: QPainter, tip: QPointF, back: QPointF, colour: QColor) -> None:
    dx, dy = tip.x() - back.x(), tip.y() - back.y()
    length = max(1.0, (dx * dx + dy * dy) ** 0.5)
    ux, uy = dx / length, dy / length
    wing = QPointF(-uy * 9, ux * 9)
    base = QPointF(tip.x() - ux * 15, tip.y() - uy * 15)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawPolygon(QPolygonF([tip, base + wing, base - wing]))


def _trips(painter: QPainter, inks: Inks) -> None:
    """Two arrows chasing each other round: again and again."""
    _pen(painter, inks.ink, 8)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    box = QRectF(16, 16, 68, 68)
    painter.drawArc(box, 20 * 16, 140 * 16)
    painter.drawArc(box, 200 * 16, 140 * 16)
    # Each arc ends (counter-clockwise) at 160 and 340 degrees: the heads point on round.
    _arrow_head(painter, QPointF(16, 38), QPointF(26, 18), inks.ink)
    _arrow_head(painter, QPointF(84, 62), QPointF(74, 82), inks.ink)
    painter.setBrush(inks.accent)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QPointF(50, 50), 9, 9)


def _clock(painter: QPainter, inks: Inks) -> None:
    """A clock past its hour, with the late part of the dial marked."""
    painter.setBrush(inks.fill)
    _pen(painter, inks.ink, 7)
    painter.drawEllipse(QPointF(50, 52), 38, 38)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(inks.accent)
    late = QPainterPath(QPointF(50, 52))
    late.arcTo(QRectF(18, 20, 64, 64), 90, -100)
    late.closeSubpath()
    painter.drawPath(late)
    _pen(painter, inks.ink, 7)
    painter.drawLine(QPointF(50, 52), QPointF(50, 26))
    painter.drawLine(QPointF(50, 52), QPointF(70, 58))
    painter.setBrush(inks.ink)
    painter.drawEllipse(QPointF(50, 52), 3, 3)


def _wrong_result(painter: QPainter, inks: Inks) -> None:
    """A result paper with a cross on it."""
    _sheet(painter, inks, QRectF(14, 8, 54, 72))
    _badge(painter, inks, QPointF(70, 72), 20)
    _pen(painter, inks.fill, 6)
    painter.drawLine(QPointF(62, 64), QPointF(78, 80))
    painter.drawLine(QPointF(78, 64), QPointF(62, 80))


def _information(painter: QPainter, inks: Inks) -> None:
    """The information sign: an "i" in a circle, hard to find (a magnifier over it)."""
    painter.setBrush(inks.fill)
    _pen(painter, inks.ink, 7)
    painter.drawEllipse(QPointF(42, 42), 32, 32)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(inks.ink)
    painter.drawEllipse(QPointF(42, 26), 5.5, 5.5)
    painter.drawRoundedRect(QRectF(37, 36, 10, 26), 3, 3)
    _pen(painter, inks.accent, 11)
    painter.drawLine(QPointF(66, 66), QPointF(88, 88))


def _seat(painter: QPainter, inks: Inks) -> None:
    """A chair for waiting."""
    _pen(painter, inks.ink, 9)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawLine(QPointF(26, 12), QPointF(30, 90))  # back and back leg
    painter.drawLine(QPointF(72, 56), QPointF(72, 90))  # front leg
    painter.setBrush(inks.fill)
    _pen(painter, inks.ink, 6)
    painter.drawRoundedRect(QRectF(28, 48, 50, 12), 4, 4)  # the seat
    _pen(painter, inks.accent, 7)
    painter.drawLine(QPointF(14, 24), QPointF(88, 84))  # none to be had


def _unanswered(painter: QPainter, inks: Inks) -> None:
    """A speech bubble with a question mark: said, never answered."""
    bubble = QPainterPath()
    bubble.addRoundedRect(QRectF(8, 10, 84, 60), 16, 16)
    tail = QPainterPath(QPointF(26, 66))
    tail.lineTo(QPointF(20, 92))
    tail.lineTo(QPointF(46, 68))
    painter.setBrush(inks.fill)
    _pen(painter, inks.ink, 7)
    painter.drawPath(bubble.united(tail))
    _pen(painter, inks.accent, 8)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    mark = QPainterPath(QPointF(38, 30))
    mark.cubicTo(QPointF(38, 14), QPointF(64, 14), QPointF(62, 30))
    mark.cubicTo(QPointF(61, 38), QPointF(50, 38), QPointF(50, 48))
    painter.drawPath(mark)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(inks.accent)
    painter.drawEllipse(QPointF(50, 60), 5, 5)


def _queue(painter: QPainter, inks: Inks) -> None:
    """Three people in a row: a long wait."""
    for index, x in enumerate((22, 50, 78)):
        colour = inks.accent if index == 2 else inks.ink
        _pen(painter, colour, 6)
        painter.setBrush(inks.fill)
        painter.drawEllipse(QPointF(x, 36), 11, 11)
        body = QPainterPath(QPointF(x - 15, 84))
        body.cubicTo(QPointF(x - 15, 54), QPointF(x + 15, 54), QPointF(x + 15, 84))
        painter.drawPath(body)


def _money(painter: QPainter, inks: Inks) -> None:
    """A banknote: money asked for."""
    painter.setBrush(inks.fill)
    _pen(painter, inks.ink, 7)
    painter.drawRoundedRect(QRectF(8, 24, 84, 52), 6, 6)
    painter.drawEllipse(QPointF(50, 50), 14, 14)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(inks.accent)
    painter.drawEllipse(QPointF(22, 38), 5, 5)
    painter.drawEllipse(QPointF(78, 62), 5, 5)


def _neutral(painter: QPainter, inks: Inks) -> None:
    """Three dots in a circle: a reason no pictogram says."""
    painter.setBrush(inks.fill)
    _pen(painter, inks.ink, 7)
    painter.drawEllipse(QPointF(50, 50), 38, 38)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(inks.ink)
    for x in (32, 50, 68):
        painter.drawEllipse(QPointF(x, 50), 6.5, 6.5)


DRAWINGS: dict[str, Callable[[QPainter, Inks], None]] = {
    "officer": _officer,
    "papers": _papers,
    "trips": _trips,
    "clock": _clock,
    "wrong-result": _wrong_result,
    "information": _information,
    "seat": _seat,
    "unanswered": _unanswered,
    "queue": _queue,
    "money": _money,
    NEUTRAL: _neutral,
}


def paint_pictogram(painter: QPainter, box: QRectF, name: str, inks: Inks = NORMAL_INKS) -> None:
    """Draw pictogram ``name`` (the neutral one if unknown) centred in ``box``, square."""
    draw = DRAWINGS.get(name, _neutral)
    side = min(box.width(), box.height())
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.translate(box.center().x() - side / 2, box.center().y() - side / 2)
    painter.scale(side / 100, side / 100)
    draw(painter, inks)
    painter.restore()
