"""A face button: a large drawn face with its word, because bare smileys are read differently.

Faces are painted (no image files), so they stay sharp at any screen size and in high contrast.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QSizePolicy, QWidget

from hailong.contract.scale import Score
from kiosk.i18n import languages
from kiosk.ui.theme import fitted_font

# Red to green, each readable on white and distinct for the common colour-vision deficiencies
# thanks to the mouth shape carrying the meaning as well.
FACE_COLOURS = {
    Score.VERY_DISSATISFIED: "#c62828",
    Score.DISSATISFIED: "#ef6c00",
    Score.NEUTRAL: "#f9a825",
    Score.SATISFIED: "#7cb342",
    Score.VERY_SATISFIED: "#2e7d32",
}
# Mouth curvature from frown (-1) to broad smile (+1).
_SMILE = {
    Score.VERY_DISSATISFIED: -1.0,
    Score.DISSATISFIED: -0.5,
    Score.NEUTRAL: 0.0,
    Score.SATISFIED: 0.5,
    Score.VERY_SATISFIED: 1.0,
}


class FaceButton(QAbstractButton):
    """One answer: a large face with its word in the citizen's language, the other beneath.

    Tall buttons (a row of faces, landscape) put the word under the face; wide ones (a column of
    faces, portrait) put it beside the face.
    """

    def __init__(self, score: Score, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score = score
        self.lang = "vi"
        self.setText(score.label_vi)
        self.setAccessibleName(f"{score.label_vi} / {score.label_en}")
        self.setMinimumSize(80, 64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_lang(self, lang: str) -> None:
        if lang != self.lang:
            self.lang = lang
            self.update()

    def words(self) -> tuple[str, str]:
        """The label in the citizen's language first."""
        return languages().pair(self.score.label_vi, self.score.label_en, self.lang)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        colour = QColor(FACE_COLOURS[self.score])
        background = colour.lighter(185) if not self.isDown() else colour.lighter(140)
        painter.setPen(QPen(colour, 4))
        painter.setBrush(background)
        radius = min(24.0, rect.height() / 4)
        painter.drawRoundedRect(rect, radius, radius)
        if rect.width() > rect.height() * 1.6:
            face_box = QRectF(rect.left() + 8, rect.top(), rect.height(), rect.height())
            words_box = QRectF(face_box.right() + 8, rect.top(), 0, rect.height())
            words_box.setRight(rect.right() - 8)
        else:
            text_height = rect.height() * 0.30
            face_box = rect.adjusted(0, 8, 0, -text_height)
            words_box = QRectF(rect.left(), rect.bottom() - text_height, rect.width(), text_height)
        paint_face(painter, face_box, self.score)
        self._draw_words(painter, words_box)
        painter.end()

    def _draw_words(self, painter: QPainter, box: QRectF) -> None:
        flags = int(
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap
        )
        first, second = self.words()
        top = QRectF(box.left() + 6, box.top(), box.width() - 12, box.height() * 0.64)
        bottom = QRectF(box.left() + 6, top.bottom(), box.width() - 12, box.height() * 0.36)
        painter.setPen(QColor("#111111"))
        painter.setFont(
            fitted_font(self.font(), top, first, flags, bold=True, largest=int(top.height() / 2.6))
        )
        painter.drawText(top, flags, first)
        painter.setPen(QColor("#333333"))
        painter.setFont(
            fitted_font(
                self.font(), bottom, second, flags, bold=False, largest=int(bottom.height() / 2.6)
            )
        )
        painter.drawText(bottom, flags, second)


def paint_face(painter: QPainter, box: QRectF, score: Score) -> None:
    """A round face in the score's colour, its mouth from frown to smile."""
    colour = QColor(FACE_COLOURS[score])
    size = min(box.width(), box.height()) * 0.9
    centre = box.center()
    face = QRectF(centre.x() - size / 2, centre.y() - size / 2, size, size)
    painter.setPen(QPen(QColor("#222222"), max(2.0, size / 30)))
    painter.setBrush(colour)
    painter.drawEllipse(face)
    painter.setBrush(QColor("#222222"))
    eye = size * 0.09
    for dx in (-0.18, 0.18):
        painter.drawEllipse(
            QPointF(centre.x() + dx * size, centre.y() - 0.12 * size), eye / 2, eye / 1.6
        )
    smile = _SMILE[score]
    mouth_y = centre.y() + 0.2 * size
    half = 0.24 * size
    path = QPainterPath(QPointF(centre.x() - half, mouth_y - smile * 0.06 * size))
    path.quadTo(
        QPointF(centre.x(), mouth_y + smile * 0.2 * size),
        QPointF(centre.x() + half, mouth_y - smile * 0.06 * size),
    )
    painter.setBrush(Qt.BrushStyle.NoBrush)
    pen = QPen(QColor("#222222"), max(3.0, size / 18))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawPath(path)
