"""The kiosk's main screens. They only display and emit signals; the controller decides.

Sizes derive from the window (``rescale(unit)``), so one layout serves 800x480 up to 1920x1080.
Every sentence is shown in two languages; the citizen's choice decides which comes first.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hailong.contract.scale import FACE_SETS, Score
from kiosk.ui.faces import FaceButton
from kiosk.ui.keyboard import OnScreenKeyboard

INK = "#1a237e"
ERROR = "#b71c1c"


def _label(text: str = "", *, bold: bool = False, colour: str = "#111111") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet(f"color: {colour}; font-weight: {'bold' if bold else 'normal'};")
    return label


def _px(widget: QWidget, size: int) -> None:
    font = widget.font()
    font.setPixelSize(max(10, size))
    widget.setFont(font)


class Bilingual(QWidget):
    """A sentence in the citizen's language, large, with the other language small beneath it."""

    def __init__(self, vi: str, en: str, *, colour: str = INK) -> None:
        super().__init__()
        self.primary = _label(vi, bold=True, colour=colour)
        self.secondary = _label(en, colour="#455a64")
        self._pair = (vi, en)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.primary)
        layout.addWidget(self.secondary)

    def set_text(self, vi: str, en: str, lang: str = "vi") -> None:
        self._pair = (vi, en)
        self.set_lang(lang)

    def set_lang(self, lang: str) -> None:
        vi, en = self._pair
        first, second = (en, vi) if lang == "en" else (vi, en)
        self.primary.setText(first)
        self.secondary.setText(second)
        self.secondary.setVisible(bool(second))

    def text(self) -> str:
        """Both languages as shown, the citizen's first (what a screen reader would say)."""
        return f"{self.primary.text()}\n{self.secondary.text()}".strip()

    def set_colour(self, colour: str) -> None:
        self.primary.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def rescale(self, size: int) -> None:
        _px(self.primary, size)
        _px(self.secondary, int(size * 0.62))


class AttractScreen(QWidget):
    """Invites a rating: scan the QR on the receipt, or type the dossier code."""

    submitted = Signal(str)
    walk_in = Signal()
    language = Signal()
    large_text = Signal()
    contrast = Signal()
    speak = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = Bilingual(
            "Xin mời ông/bà đánh giá mức độ hài lòng", "Please rate the service you received"
        )
        self.instruction = Bilingual(
            "▣ Quét mã QR trên giấy hẹn vào máy quét, hoặc nhập mã hồ sơ",
            "Scan the QR code on your receipt, or type the dossier code",
            colour="#263238",
        )
        self.code_input = QLineEdit()
        self.code_input.setPlaceholderText("000.00.20.H41-261125-0001")
        self.code_input.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_input.returnPressed.connect(self._submit)
        self.continue_button = QPushButton("Tiếp tục / Continue")
        self.continue_button.clicked.connect(self._submit)
        self.keys = OnScreenKeyboard("code")
        self.keys.target = self.code_input
        self.keys.setVisible(False)
        self.type_button = QPushButton("⌨ Nhập mã / Type the code")
        self.type_button.clicked.connect(lambda: self.keys.setVisible(not self.keys.isVisible()))
        self.walk_in_button = QPushButton("Đánh giá không có giấy hẹn / Rate without a receipt")
        self.walk_in_button.clicked.connect(self.walk_in.emit)
        self.walk_in_button.setVisible(False)
        self.error = _label("", bold=True, colour=ERROR)
        self.language_button = QPushButton("English")
        self.language_button.clicked.connect(self.language.emit)
        self.large_button = QPushButton("A+ Chữ to")
        self.large_button.clicked.connect(self.large_text.emit)
        self.contrast_button = QPushButton("◐ Tương phản")
        self.contrast_button.clicked.connect(self.contrast.emit)
        self.speak_button = QPushButton("🔊 Nghe hướng dẫn")
        self.speak_button.clicked.connect(self.speak.emit)
        options = QHBoxLayout()
        for button in (
            self.language_button,
            self.large_button,
            self.contrast_button,
            self.speak_button,
        ):
            options.addWidget(button)
        row = QHBoxLayout()
        row.addWidget(self.code_input, 3)
        row.addWidget(self.continue_button, 1)
        tools = QHBoxLayout()
        tools.addWidget(self.type_button)
        tools.addWidget(self.walk_in_button)
        layout = QVBoxLayout(self)
        layout.addLayout(options)
        layout.addWidget(self.title)
        layout.addWidget(self.instruction)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(self.keys)
        layout.addLayout(tools)

    def _submit(self) -> None:
        self.submitted.emit(self.code_input.text())

    def show_error(self, vi: str | None, en: str | None, lang: str = "vi") -> None:
        if not vi:
            self.error.setText("")
            return
        self.error.setText(f"{en}\n{vi}" if lang == "en" else f"{vi}\n{en}")

    def clear(self) -> None:
        self.code_input.clear()
        self.keys.setVisible(False)
        self.show_error(None, None)

    def set_lang(self, lang: str) -> None:
        self.title.set_lang(lang)
        self.instruction.set_lang(lang)
        self.language_button.setText("Tiếng Việt" if lang == "en" else "English")

    def rescale(self, unit: int) -> None:
        self.title.rescale(int(unit * 1.6))
        self.instruction.rescale(int(unit * 1.1))
        _px(self.error, int(unit * 0.9))
        for widget in (self.code_input, self.continue_button):
            _px(widget, int(unit * 1.0))
            widget.setMinimumHeight(int(unit * 2.6))
        for button in (
            self.type_button,
            self.walk_in_button,
            self.language_button,
            self.large_button,
            self.contrast_button,
            self.speak_button,
        ):
            _px(button, int(unit * 0.8))
            button.setMinimumHeight(int(unit * 2.2))
        self.keys.rescale(unit)


class RatingScreen(QWidget):
    """Shows what is being rated and the faces to tap (5, 4 or 3, as the unit configures)."""

    rated = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.question = Bilingual(
            "Ông/bà có hài lòng với sự phục vụ không?", "How satisfied are you with the service?"
        )
        self.procedure = _label("", bold=True)
        self.details = _label("", colour="#37474f")
        self.faces_row = QHBoxLayout()
        self.faces: dict[Score, FaceButton] = {}
        layout = QVBoxLayout(self)
        for widget in (self.question, self.procedure, self.details):
            layout.addWidget(widget)
        layout.addLayout(self.faces_row, 1)
        self.set_faces(5)

    def set_faces(self, count: int) -> None:
        if len(self.faces) == count:
            return
        for button in self.faces.values():
            self.faces_row.removeWidget(button)
            button.deleteLater()
        self.faces = {score: FaceButton(score) for score in FACE_SETS[count]}
        for score, button in self.faces.items():
            button.clicked.connect(lambda _checked=False, s=score: self.rated.emit(int(s)))
            self.faces_row.addWidget(button)

    def show_subject(self, procedure: str, details: str) -> None:
        self.procedure.setText(procedure)
        self.details.setText(details)

    def rescale(self, unit: int) -> None:
        self.question.rescale(int(unit * 1.4))
        _px(self.procedure, int(unit * 1.0))
        _px(self.details, int(unit * 0.8))
        for button in self.faces.values():
            button.setMinimumHeight(int(unit * 7))


class MessageScreen(QWidget):
    """Thanks, "already rated", or a problem: a big sentence, then back to the start by itself."""

    back = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.headline = Bilingual("", "")
        self.back_button = QPushButton("Về màn hình đầu / Back to start")
        self.back_button.clicked.connect(self.back.emit)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.headline)
        layout.addStretch(1)
        layout.addWidget(self.back_button, alignment=Qt.AlignmentFlag.AlignHCenter)

    def show_text(self, vi: str, en: str, lang: str = "vi", *, colour: str = INK) -> None:
        self.headline.set_text(vi, en, lang)
        self.headline.set_colour(colour)

    def rescale(self, unit: int) -> None:
        self.headline.rescale(int(unit * 2.0))
        _px(self.back_button, int(unit * 0.9))
        self.back_button.setMinimumHeight(int(unit * 2.4))
        self.back_button.setMinimumWidth(int(unit * 16))
