"""The kiosk's screens. They only display and emit signals; the controller decides what happens.

Sizes derive from the window height (``scale``), so one layout serves 800x480 up to 1920x1080.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hailong.contract.scale import Score
from kiosk.ui.faces import FaceButton

INK = "#1a237e"
ERROR = "#b71c1c"


def _label(text: str = "", *, bold: bool = False, colour: str = "#111111") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setProperty("bold", bold)
    label.setStyleSheet(f"color: {colour}; font-weight: {'bold' if bold else 'normal'};")
    return label


def _px(label: QWidget, size: int) -> None:
    font = label.font()
    font.setPixelSize(max(10, size))
    label.setFont(font)


class AttractScreen(QWidget):
    """Invites a rating: scan the QR on the receipt, or type the dossier code."""

    submitted = Signal(str)
    walk_in = Signal()

    def __init__(self, allow_walk_in: bool) -> None:
        super().__init__()
        self.title = _label("Xin mời ông/bà đánh giá mức độ hài lòng", bold=True, colour=INK)
        self.title_en = _label("Please rate the service you received", colour="#37474f")
        self.instruction = _label("Quét mã QR trên giấy hẹn hoặc nhập mã hồ sơ")
        self.instruction_en = _label(
            "Scan the QR code on your receipt or type the dossier code", colour="#546e7a"
        )
        self.code_input = QLineEdit()
        self.code_input.setPlaceholderText("000.00.20.H41-261125-0001")
        self.code_input.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_input.returnPressed.connect(self._submit)
        self.continue_button = QPushButton("Tiếp tục / Continue")
        self.continue_button.clicked.connect(self._submit)
        self.walk_in_button = QPushButton("Đánh giá không có giấy hẹn / Rate without a receipt")
        self.walk_in_button.clicked.connect(self.walk_in.emit)
        self.walk_in_button.setVisible(allow_walk_in)
        self.error = _label("", bold=True, colour=ERROR)
        row = QHBoxLayout()
        row.addWidget(self.code_input, 3)
        row.addWidget(self.continue_button, 1)
        layout = QVBoxLayout(self)
        for widget in (self.title, self.title_en, self.instruction, self.instruction_en):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(self.walk_in_button)

    def _submit(self) -> None:
        self.submitted.emit(self.code_input.text())

    def show_error(self, vi: str | None, en: str | None) -> None:
        self.error.setText(f"{vi}\n{en}" if vi else "")

    def clear(self) -> None:
        self.code_input.clear()
        self.show_error(None, None)

    def rescale(self, unit: int) -> None:
        _px(self.title, int(unit * 1.6))
        _px(self.title_en, int(unit * 0.9))
        _px(self.instruction, int(unit * 1.1))
        _px(self.instruction_en, int(unit * 0.8))
        _px(self.error, int(unit * 0.9))
        for widget in (self.code_input, self.continue_button, self.walk_in_button):
            _px(widget, int(unit * 1.0))
            widget.setMinimumHeight(int(unit * 2.4))


class RatingScreen(QWidget):
    """Shows what is being rated and five faces to tap."""

    rated = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.question = _label("Ông/bà có hài lòng với sự phục vụ không?", bold=True, colour=INK)
        self.question_en = _label("How satisfied are you with the service?", colour="#37474f")
        self.procedure = _label("", bold=True)
        self.details = _label("", colour="#37474f")
        self.faces = {score: FaceButton(score) for score in Score}
        faces = QGridLayout()
        for column, score in enumerate(sorted(Score, reverse=True)):
            button = self.faces[score]
            button.clicked.connect(lambda _checked=False, s=score: self.rated.emit(int(s)))
            faces.addWidget(button, 0, column)
        layout = QVBoxLayout(self)
        for widget in (self.question, self.question_en, self.procedure, self.details):
            layout.addWidget(widget)
        layout.addLayout(faces, 1)

    def show_subject(self, procedure: str, details: str) -> None:
        self.procedure.setText(procedure)
        self.details.setText(details)

    def rescale(self, unit: int) -> None:
        _px(self.question, int(unit * 1.4))
        _px(self.question_en, int(unit * 0.85))
        _px(self.procedure, int(unit * 1.0))
        _px(self.details, int(unit * 0.8))
        for button in self.faces.values():
            button.setMinimumHeight(int(unit * 7))


class MessageScreen(QWidget):
    """Thanks, "already rated", or a problem: a big sentence, then back to the start by itself."""

    back = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.headline = _label("", bold=True, colour=INK)
        self.headline_en = _label("", colour="#37474f")
        self.back_button = QPushButton("Về màn hình đầu / Back to start")
        self.back_button.clicked.connect(self.back.emit)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.headline)
        layout.addWidget(self.headline_en)
        layout.addStretch(1)
        layout.addWidget(self.back_button, alignment=Qt.AlignmentFlag.AlignHCenter)

    def show_text(self, vi: str, en: str, *, colour: str = INK) -> None:
        self.headline.setText(vi)
        self.headline.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.headline_en.setText(en)

    def rescale(self, unit: int) -> None:
        _px(self.headline, int(unit * 2.0))
        _px(self.headline_en, int(unit * 1.1))
        _px(self.back_button, int(unit * 0.9))
        self.back_button.setMinimumHeight(int(unit * 2.4))
        self.back_button.setMinimumWidth(int(unit * 16))
