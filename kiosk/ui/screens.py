"""The kiosk's main screens. They only display and emit signals; the controller decides.

Sizes derive from the window (``rescale(unit)``), so one layout serves 800x480 up to 1920x1080.
Every sentence is shown in two languages; the citizen's choice decides which comes first.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hailong.contract.scale import FACE_SETS, Score
from kiosk.i18n import languages
from kiosk.ui.faces import FaceButton
from kiosk.ui.keyboard import OnScreenKeyboard
from kiosk.ui.picture import AttractPicture, ScannerHint
from kiosk.ui.theme import label, px, set_role

HORIZONTAL = QBoxLayout.Direction.LeftToRight
VERTICAL = QBoxLayout.Direction.TopToBottom


class Bilingual(QWidget):
    """A sentence in the citizen's language, large, with the other language small beneath it."""

    def __init__(self, vi: str, en: str, *, role: str = "title") -> None:
        super().__init__()
        self.primary = label(vi, role)
        self.secondary = label(en, "muted")
        self._pair = (vi, en)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.primary)
        layout.addWidget(self.secondary)

    def set_text(self, vi: str, en: str, lang: str = "vi") -> None:
        self._pair = (vi, en)
        self.set_lang(lang)

    def set_lang(self, lang: str) -> None:
        first, second = languages().pair(*self._pair, lang)
        self.primary.setText(first)
        self.secondary.setText(second)
        self.secondary.setVisible(bool(second))

    def text(self) -> str:
        """Both languages as shown, the citizen's first (what a screen reader would say)."""
        return f"{self.primary.text()}\n{self.secondary.text()}".strip()

    def set_role(self, role: str) -> None:
        set_role(self.primary, role)

    def rescale(self, size: int) -> None:
        px(self.primary, size)
        px(self.secondary, int(size * 0.62))


# What the start screen tells a citizen without a slip: with walk-ins allowed, and without.
NO_SLIP_ASK = (
    "Không có giấy hẹn? Xin hỏi cán bộ tại quầy.",
    "No receipt? Please ask the officer at the counter.",
)
NO_SLIP_WALK_IN = (
    "Không có giấy hẹn? Bấm nút bên dưới để đánh giá, hoặc hỏi cán bộ tại quầy.",
    "No receipt? Press the button below to rate, or ask the officer at the counter.",
)
WALK_IN_BUTTON = ("Đánh giá không cần giấy hẹn", "Rate without a receipt")


class AttractScreen(QWidget):
    """Invites a rating: the picture first, then scan the QR on the receipt or type the code.

    A citizen without a slip is told what to do (ask the officer; where the unit allows walk-ins,
    the button that rates without one), and an arrow at the screen's edge shows where the scanner
    stands (``scanner_position``), since a slip held to the screen is never read.
    """

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
        self.picture = AttractPicture()
        self.instruction = Bilingual(
            "Quét mã QR trên giấy hẹn vào máy quét, hoặc nhập mã hồ sơ",
            "Scan the QR code on your receipt, or type the dossier code",
            role="body",
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
        self.type_button.clicked.connect(self._toggle_keys)
        # Both languages, one a line: the way without a slip must read in either at a glance.
        self.walk_in_button = QPushButton("\n".join(WALK_IN_BUTTON))
        self.walk_in_button.clicked.connect(self.walk_in.emit)
        self.walk_in_button.setVisible(False)
        self.no_slip = Bilingual(*NO_SLIP_ASK, role="body")
        self.scanner_hint = ScannerHint()
        self._lang = "vi"
        self.error = label("", "error")
        self.error.setVisible(False)
        self.language_button = QPushButton("English")
        self.language_button.clicked.connect(self.language.emit)
        self.large_button = QPushButton("A+ Chữ to")
        self.large_button.clicked.connect(self.large_text.emit)
        self.contrast_button = QPushButton("◐ Tương phản")
        self.contrast_button.clicked.connect(self.contrast.emit)
        self.speak_button = QPushButton("♪ Nghe hướng dẫn")
        self.speak_button.clicked.connect(self.speak.emit)
        self.options = QGridLayout()
        self.code_row = QBoxLayout(HORIZONTAL)
        self.code_row.addWidget(self.code_input, 3)
        self.code_row.addWidget(self.continue_button, 1)
        self.tools = QBoxLayout(HORIZONTAL)
        self.tools.addWidget(self.type_button)
        self.tools.addWidget(self.walk_in_button)
        # The content in a column; the scanner hint around it, on the edge nearest the scanner.
        self.body = QWidget()
        self.frame = QGridLayout(self)
        self.frame.setContentsMargins(0, 0, 0, 0)
        self.frame.addWidget(self.body, 1, 1)
        self.frame.setRowStretch(1, 1)
        self.frame.setColumnStretch(1, 1)
        layout = QVBoxLayout(self.body)
        layout.addLayout(self.options)
        layout.addWidget(self.title)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.instruction)
        layout.addLayout(self.code_row)
        layout.addWidget(self.error)
        layout.addWidget(self.keys)
        layout.addWidget(self.no_slip)
        layout.addLayout(self.tools)
        self.set_scanner_position("bottom")
        self.orient(portrait=False)

    def set_walk_in(self, allowed: bool) -> None:
        """Show the walk-in button, and the sentence that leads to it, only where the unit allows."""
        self.walk_in_button.setVisible(allowed)
        self.no_slip.set_text(*(NO_SLIP_WALK_IN if allowed else NO_SLIP_ASK), self._lang)

    def set_scanner_position(self, position: str) -> None:
        """Put the scanner hint on the edge (or corner) where the scanner stands."""
        self.frame.removeWidget(self.scanner_hint)
        self.scanner_hint.set_position(position)
        if self.keys.isVisibleTo(self):
            self.scanner_hint.setVisible(False)  # it comes back with the keyboard closed
        cell, align = {
            "top": ((0, 1), None),  # the full width: the arrow stands in its middle
            "left": ((1, 0), Qt.AlignmentFlag.AlignVCenter),
            "right": ((1, 2), Qt.AlignmentFlag.AlignVCenter),
            "bottom-left": ((2, 1), Qt.AlignmentFlag.AlignLeft),
            "bottom-right": ((2, 1), Qt.AlignmentFlag.AlignRight),
        }.get(position, ((2, 1), None))
        if align is None:
            self.frame.addWidget(self.scanner_hint, *cell)
        else:
            self.frame.addWidget(self.scanner_hint, *cell, alignment=align)

    def _option_buttons(self) -> tuple[QPushButton, ...]:
        return (self.language_button, self.large_button, self.contrast_button, self.speak_button)

    def _toggle_keys(self) -> None:
        self.show_keys(not self.keys.isVisible())

    def show_keys(self, showing: bool) -> None:
        """Room for the keyboard on small screens: picture, instruction, the no-slip sentence
        and the scanner hint give way to it (a citizen typing has the code already)."""
        self.keys.setVisible(showing)
        self.picture.setVisible(not showing)
        self.instruction.setVisible(not showing)
        self.no_slip.setVisible(not showing)
        self.scanner_hint.setVisible(not showing and self.scanner_hint.position != "none")

    def _submit(self) -> None:
        self.submitted.emit(self.code_input.text())

    def show_error(self, vi: str | None, en: str | None, lang: str = "vi") -> None:
        self.error.setVisible(bool(vi))  # no empty line's height taken from a small screen
        if not vi:
            self.error.setText("")
            return
        self.error.setText("\n".join(languages().pair(vi, en or "", lang)))

    def clear(self) -> None:
        self.code_input.clear()
        self.show_keys(False)
        self.show_error(None, None)

    def set_lang(self, lang: str) -> None:
        self._lang = lang
        self.title.set_lang(lang)
        self.instruction.set_lang(lang)
        self.no_slip.set_lang(lang)
        self.scanner_hint.set_lang(lang)
        catalogue = languages()
        self.walk_in_button.setText("\n".join(catalogue.pair(*WALK_IN_BUTTON, lang)))
        self.language_button.setText(catalogue.name(catalogue.next(lang)))
        for button, vi, en in (
            (self.large_button, "A+ Chữ to", "A+ Large text"),
            (self.contrast_button, "◐ Tương phản", "◐ High contrast"),
            (self.speak_button, "♪ Nghe hướng dẫn", "♪ Listen"),
        ):
            button.setText(catalogue.pair(vi, en, lang)[0])

    def orient(self, *, portrait: bool) -> None:
        """Options in one row (landscape) or two (portrait); the code field above its button."""
        for button in self._option_buttons():
            self.options.removeWidget(button)
        columns = 2 if portrait else 4
        for index, button in enumerate(self._option_buttons()):
            self.options.addWidget(button, index // columns, index % columns)
        self.code_row.setDirection(VERTICAL if portrait else HORIZONTAL)
        self.tools.setDirection(VERTICAL if portrait else HORIZONTAL)

    def rescale(self, unit: int) -> None:
        self.title.rescale(int(unit * 1.6))
        self.instruction.rescale(int(unit * 1.1))
        px(self.error, int(unit * 0.9))
        self.no_slip.rescale(int(unit * 0.85))
        self.scanner_hint.rescale(unit)
        for widget in (self.code_input, self.continue_button):
            px(widget, int(unit * 1.0))
            widget.setMinimumHeight(int(unit * 2.6))
        for button in (self.type_button, self.walk_in_button, *self._option_buttons()):
            px(button, int(unit * 0.8))
            button.setMinimumHeight(int(unit * 2.2))
        self.walk_in_button.setMinimumHeight(int(unit * 2.6))  # two lines
        self.keys.rescale(unit)


class FacePanel(QWidget):
    """The faces (5, 4 or 3, as the unit configures): a row in landscape, a column in portrait."""

    chosen = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.row = QBoxLayout(HORIZONTAL, self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.faces: dict[Score, FaceButton] = {}
        self.portrait = False
        self.set_faces(5)

    def set_faces(self, count: int) -> None:
        if len(self.faces) == count:
            return
        for button in self.faces.values():
            self.row.removeWidget(button)
            button.deleteLater()
        self.faces = {score: FaceButton(score) for score in FACE_SETS[count]}
        for score, button in self.faces.items():
            button.clicked.connect(lambda _checked=False, s=score: self.chosen.emit(int(s)))
            self.row.addWidget(button)

    def set_lang(self, lang: str) -> None:
        for button in self.faces.values():
            button.set_lang(lang)

    def orient(self, *, portrait: bool) -> None:
        self.portrait = portrait
        self.row.setDirection(VERTICAL if portrait else HORIZONTAL)

    def rescale(self, unit: int) -> None:
        for button in self.faces.values():
            px(button, unit)
            button.setMinimumHeight(int(unit * (2.2 if self.portrait else 7)))


class RatingScreen(QWidget):
    """Shows what is being rated and the faces to tap."""

    rated = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.question = Bilingual(
            "Ông/bà có hài lòng với sự phục vụ không?", "How satisfied are you with the service?"
        )
        self.procedure = label("", "strong")
        self.details = label("", "body")
        self.panel = FacePanel()
        self.panel.chosen.connect(self.rated.emit)
        layout = QVBoxLayout(self)
        for widget in (self.question, self.procedure, self.details):
            layout.addWidget(widget)
        layout.addWidget(self.panel, 1)

    @property
    def faces(self) -> dict[Score, FaceButton]:
        return self.panel.faces

    def set_faces(self, count: int) -> None:
        self.panel.set_faces(count)

    def set_lang(self, lang: str) -> None:
        self.question.set_lang(lang)
        self.panel.set_lang(lang)

    def show_subject(self, procedure: str, details: str) -> None:
        self.procedure.setText(procedure)
        self.details.setText(details)

    def orient(self, *, portrait: bool) -> None:
        self.panel.orient(portrait=portrait)

    def rescale(self, unit: int) -> None:
        self.question.rescale(int(unit * 1.4))
        px(self.procedure, int(unit * 1.0))
        px(self.details, int(unit * 0.8))
        self.panel.rescale(unit)


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

    def show_text(self, vi: str, en: str, lang: str = "vi", *, problem: bool = False) -> None:
        self.headline.set_text(vi, en, lang)
        self.headline.set_role("error" if problem else "title")

    def rescale(self, unit: int) -> None:
        self.headline.rescale(int(unit * 2.0))
        px(self.back_button, int(unit * 0.9))
        self.back_button.setMinimumHeight(int(unit * 2.4))
