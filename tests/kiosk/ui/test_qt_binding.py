"""Guards against a Qt binding that corrupts reference counts (PySide6 6.12.0 under Python 3.11).

That release returned None from void methods without a new reference: each paint call took one
reference from None, and a kiosk died with "deallocating None" after some thousands of repaints.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from pytestqt.qtbot import QtBot

from hailong.contract.scale import Score
from kiosk.ui.faces import FaceButton


def test_painting_does_not_take_references_from_none(qtbot: QtBot) -> None:
    image = QImage(200, 200, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(1000):
        painter.setBrush(QColor("#2e7d32"))
        painter.drawEllipse(QRectF(0, 0, 50, 50))
        painter.drawEllipse(QPointF(25, 25), 5.0, 6.0)
    drift = sys.getrefcount(None) - before
    painter.end()
    assert drift > -100, f"the Qt binding lost {-drift} references to None"


def test_a_face_repainted_many_times_keeps_none_alive(qtbot: QtBot) -> None:
    face = FaceButton(Score.SATISFIED)
    qtbot.addWidget(face)
    face.resize(240, 300)
    before = sys.getrefcount(None)
    for _ in range(300):
        face.grab()
    assert sys.getrefcount(None) - before > -100
