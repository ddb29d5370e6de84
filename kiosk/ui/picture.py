"""The attract screen's picture: a receipt's QR code, an arrow, the faces. It explains the kiosk
to someone who reads little, before any text does."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from hailong.contract.scale import FACE_SETS
from kiosk.ui.faces import paint_face

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
        cell = code.width() / _MODULES
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#111111"))
        for row in range(_MODULES):
            for column in range(_MODULES):
                if _qr_like(row, column):
                    painter.drawRect(
                        QRectF(code.left() + column * cell, code.top() + row * cell, cell, cell)
                    )
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
