"""The attract screen's pictures: a receipt's QR code, an arrow, the faces, which explain the kiosk
to someone who reads little before any text does; and an arrow toward the scanner (where it
stands is the kiosk's ``scanner_position``), since a citizen holding a slip cannot see where the
scanner's window is."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QVBoxLayout, QWidget

from hailong.contract.scale import FACE_SETS
from kiosk.i18n import languages
from kiosk.ui.faces import paint_face
from kiosk.ui.theme import label, px

_MODULES = 21  # a version-1 QR code is 21 x 21 modules


def _qr_like(row: int, column: int) -> bool:
    """A fixed pattern that reads as "a QR code" to a person (finder squares and noise)."""
    for top, left in ((0, 0), (0, _MODULES - 7), (_MODULES - 7, 0)):
        r, c = row - top, column - left
        if 0 <= r < 7 and 0 <= c < 7:
            ring = max(abs(r - 3), abs(c - 3))
            return ring != 2
    return (row * 7 + column * 13 + row * column) % 5 < 2


class AttractPicture(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(60)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        side = min(area.height(), area.width() / 5.2)
        top = area.center().y() - side / 2
        left = area.center().x() - side * 2.6
        self._slip(painter, QRectF(left, top, side * 0.8, side))
        self._arrow(painter, QRectF(left + side * 0.95, top, side * 0.6, side))
        faces = FACE_SETS[5]
        face_side = side * 0.62
        for index, score in enumerate(faces):
            x = left + side * 1.7 + index * face_side * 1.08
            box = QRectF(x, top + (side - face_side) / 2, face_side, face_side)
            paint_face(painter, box, score)
        painter.end()

    def _slip(self, painter: QPainter, box: QRectF) -> None:
        painter.setPen(QPen(QColor("#607d8b"), 2))
        painter.setBrush(QColor("#ffffff"))
        painter.drawRect(box)
        code = QRectF(box.left() + box.width() * 0.12, box.top() + box.height() * 0.08, 0, 0)
        code.setWidth(box.width() * 0.76)
        code.setHeight(code.width())
        _paint_qr(painter, code)
        painter.setPen(QPen(QColor("#90a4ae"), max(1.0, box.height() / 40)))
        for line in range(3):
            y = code.bottom() + box.height() * (0.08 + line * 0.07)
            painter.drawLine(
                QPointF(box.left() + box.width() * 0.12, y),
                QPointF(box.right() - box.width() * 0.12, y),
            )

    def _arrow(self, painter: QPainter, box: QRectF) -> None:
        y = box.center().y()
        shaft = box.height() * 0.08
        head = box.height() * 0.2
        points = [
            QPointF(box.left(), y - shaft),
            QPointF(box.right() - head, y - shaft),
            QPointF(box.right() - head, y - head),
            QPointF(box.right(), y),
            QPointF(box.right() - head, y + head),
            QPointF(box.right() - head, y + shaft),
            QPointF(box.left(), y + shaft),
        ]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#1a237e"))
        painter.drawPolygon(QPolygonF(points))


# Which way the arrow points for each scanner position (x right, y down, as Qt draws).
_DIRECTIONS: dict[str, tuple[float, float]] = {
    "bottom": (0.0, 1.0),
    "top": (0.0, -1.0),
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "bottom-left": (-math.sqrt(0.5), math.sqrt(0.5)),
    "bottom-right": (math.sqrt(0.5), math.sqrt(0.5)),
}
POINTER_COLOUR = "#e65100"  # the banner's orange: seen on the light theme and on high contrast


def scanner_direction(position: str) -> tuple[float, float] | None:
    """The unit vector from the screen toward the scanner; None when there is nothing to show."""
    return _DIRECTIONS.get(position)


class ScannerArrow(QWidget):
    """A small QR code with a thick arrow from it toward the scanner: "the slip goes there"."""

    def __init__(self) -> None:
        super().__init__()
        self.direction: tuple[float, float] = _DIRECTIONS["bottom"]

    def point(self, direction: tuple[float, float]) -> None:
        self.direction = direction
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        side = min(box.width(), box.height())
        dx, dy = self.direction
        centre = box.center()
        # The arrow runs across the box along the direction, tail behind the centre.
        reach = side * 0.46 * (math.sqrt(2) if dx and dy else 1.0)
        tail = QPointF(centre.x() - dx * reach * 0.55, centre.y() - dy * reach * 0.55)
        head = QPointF(centre.x() + dx * reach, centre.y() + dy * reach)
        _paint_arrow(painter, tail, head, side)
        code = side * 0.36
        qr = QRectF(tail.x() - code / 2, tail.y() - code / 2, code, code)
        painter.setPen(QPen(QColor("#607d8b"), 1))
        painter.setBrush(QColor("#ffffff"))
        painter.drawRect(qr.adjusted(-code * 0.1, -code * 0.1, code * 0.1, code * 0.1))
        _paint_qr(painter, qr)
        painter.end()


def _paint_arrow(painter: QPainter, tail: QPointF, head: QPointF, side: float) -> None:
    """A filled arrow from ``tail`` to ``head``: shaft and a wide head, drawn in one polygon."""
    length = math.hypot(head.x() - tail.x(), head.y() - tail.y())
    if length <= 0:
        return
    ux, uy = (head.x() - tail.x()) / length, (head.y() - tail.y()) / length
    nx, ny = -uy, ux
    shaft, wing, head_length = side * 0.09, side * 0.24, min(side * 0.34, length * 0.6)
    neck = QPointF(head.x() - ux * head_length, head.y() - uy * head_length)

    def at(base: QPointF, across: float) -> QPointF:
        return QPointF(base.x() + nx * across, base.y() + ny * across)

    points = [
        at(tail, shaft),
        at(neck, shaft),
        at(neck, wing),
        head,
        at(neck, -wing),
        at(neck, -shaft),
        at(tail, -shaft),
    ]
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(POINTER_COLOUR))
    painter.drawPolygon(QPolygonF(points))


def _paint_qr(painter: QPainter, code: QRectF) -> None:
    cell = code.width() / _MODULES
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#111111"))
    for row in range(_MODULES):
        for column in range(_MODULES):
            if _qr_like(row, column):
                painter.drawRect(
                    QRectF(code.left() + column * cell, code.top() + row * cell, cell, cell)
                )


SCAN_HERE = ("Đưa mã QR vào máy quét ở đây", "Hold the QR code to the scanner here")


class ScannerHint(QWidget):
    """The arrow toward the scanner and "hold the QR code here", laid out for the edge it points
    to: under or over the content the arrow stands in the middle with the words before it; in a
    bottom corner the arrow is the outer end of the row; on a side the words are under it."""

    def __init__(self) -> None:
        super().__init__()
        self.arrow = ScannerArrow()
        self.primary = label(SCAN_HERE[0], "strong")
        self.secondary = label(SCAN_HERE[1], "muted")
        self.words = QWidget()
        words = QVBoxLayout(self.words)
        words.setContentsMargins(0, 0, 0, 0)
        words.addWidget(self.primary)
        words.addWidget(self.secondary)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.position = "none"
        self.set_position("bottom")

    def set_position(self, position: str) -> None:
        """Point toward ``position`` (a ``scanner_position``); "none" hides the hint."""
        self.position = position
        direction = scanner_direction(position)
        self.setVisible(direction is not None)
        if direction is None:
            return
        self.arrow.point(direction)
        self.grid.removeWidget(self.arrow)
        self.grid.removeWidget(self.words)
        for index in range(3):
            self.grid.setColumnStretch(index, 0)
        centre, left, right = (
            Qt.AlignmentFlag.AlignHCenter,
            Qt.AlignmentFlag.AlignLeft,
            Qt.AlignmentFlag.AlignRight,
        )
        if position in ("left", "right"):
            arrow_at, words_at, align = (0, 0), (1, 0), centre
        elif position == "bottom-left":
            arrow_at, words_at, align = (0, 0), (0, 1), left
        elif position == "bottom-right":
            arrow_at, words_at, align = (0, 1), (0, 0), right
        else:  # the arrow in the middle, the words before it, an empty column as wide after it
            arrow_at, words_at, align = (0, 1), (0, 0), right
            self.grid.setColumnStretch(0, 1)
            self.grid.setColumnStretch(2, 1)
        self.grid.addWidget(self.arrow, *arrow_at, alignment=Qt.AlignmentFlag.AlignCenter)
        self.grid.addWidget(self.words, *words_at)
        for text in (self.primary, self.secondary):
            text.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)

    def set_lang(self, lang: str) -> None:
        first, second = languages().pair(*SCAN_HERE, lang)
        self.primary.setText(first)
        self.secondary.setText(second)

    def rescale(self, unit: int) -> None:
        side = self.position in ("left", "right")
        corner = self.position.startswith("bottom-")
        self.arrow.setFixedSize(int(unit * (3.6 if side else 3.0)), int(unit * 3.0))
        px(self.primary, int(unit * 0.9))
        px(self.secondary, int(unit * 0.65))
        # Beside the content a narrow column; in a corner one line of words when it fits.
        self.words.setMinimumWidth(int(unit * (19 if corner else 5)))
        self.setMaximumWidth(int(unit * 7.5) if side else 16777215)
