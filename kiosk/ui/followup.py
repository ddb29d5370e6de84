"""After the faces: reasons for dissatisfaction, a comment with an optional call-back, the survey."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hailong.contract.messages import ReasonInfo
from hailong.contract.scale import Factor, Score
from kiosk.i18n import languages
from kiosk.ui.faces import FaceButton
from kiosk.ui.keyboard import OnScreenKeyboard
from kiosk.ui.screens import HORIZONTAL, VERTICAL, Bilingual, FacePanel
from kiosk.ui.theme import label, px


class ReasonsScreen(QWidget):
    """Tick any reasons (each counts against a SIPAS factor), then continue."""

    toggled = Signal(str)
    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = Bilingual(
            "Xin ông/bà cho biết lý do chưa hài lòng (chọn một hoặc nhiều)",
            "Please tell us why you were not satisfied (choose one or more)",
        )
        self.grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        self.reasons: tuple[ReasonInfo, ...] = ()
        self.columns = 2
        self.next_button = QPushButton("Tiếp tục / Continue")
        self.next_button.clicked.connect(self.done.emit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.grid, 1)
        layout.addWidget(self.next_button)

    def set_reasons(self, reasons: tuple[ReasonInfo, ...]) -> None:
        for button in self.buttons.values():
            self.grid.removeWidget(button)
            button.deleteLater()
        self.buttons = {}
        self.reasons = reasons
        for reason in reasons:
            button = QPushButton(f"{reason.name}\n{reason.name_en}")
            button.setCheckable(True)
            button.setProperty("role", "reason")
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            button.clicked.connect(lambda _checked=False, c=reason.code: self.toggled.emit(c))
            self.buttons[reason.code] = button
        self._place()

    def set_lang(self, lang: str) -> None:
        self.title.set_lang(lang)
        for reason in self.reasons:
            first, second = languages().pair(reason.name, reason.name_en, lang)
            self.buttons[reason.code].setText(f"{first}\n{second}")

    def _place(self) -> None:
        for index, button in enumerate(self.buttons.values()):
            self.grid.removeWidget(button)
            self.grid.addWidget(button, index // self.columns, index % self.columns)

    def orient(self, *, portrait: bool) -> None:
        """Two columns of reasons in landscape, one in portrait."""
        self.columns = 1 if portrait else 2
        self._place()

    def show_ticked(self, ticked: list[str]) -> None:
        for code, button in self.buttons.items():
            button.setChecked(code in ticked)

    def rescale(self, unit: int) -> None:
        self.title.rescale(int(unit * 1.2))
        rows = -(-len(self.buttons) // self.columns)
        for button in (*self.buttons.values(), self.next_button):
            px(button, int(unit * 0.85))
            button.setMinimumHeight(int(unit * (2.4 if rows > 4 else 3.0)))


class CommentScreen(QWidget):
    """An optional comment and phone number; the number is kept only with explicit consent."""

    done = Signal(str, str, bool)

    def __init__(self) -> None:
        super().__init__()
        self.title = Bilingual("Ý kiến của ông/bà (không bắt buộc)", "Your comment (optional)")
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Ý kiến / comment")
        self.phone = QLineEdit()
        self.phone.setPlaceholderText("Số điện thoại / phone")
        self.consent = QCheckBox("Đồng ý được gọi lại / Call me back")
        self.consent_note = label(
            "Số điện thoại chỉ được lưu khi ông/bà đồng ý, để cán bộ liên hệ lại. / "
            "The number is kept only with your consent, for a call back.",
            "muted",
        )
        self.error = label("", "error")
        self.text_keys = OnScreenKeyboard("text")
        self.phone_keys = OnScreenKeyboard("phone")
        self.text_keys.target = self.comment
        self.phone_keys.target = self.phone
        self.send_button = QPushButton("Gửi / Send")
        self.skip_button = QPushButton("Bỏ qua / Skip")
        self.send_button.clicked.connect(self._send)
        self.skip_button.clicked.connect(lambda: self.done.emit("", "", False))
        self.phone_keys.setVisible(False)
        # One keyboard at a time: the one for the field being filled.
        self.comment.installEventFilter(self)
        self.phone.installEventFilter(self)
        self.fields = QBoxLayout(HORIZONTAL)
        self.fields.addWidget(self.comment, 3)
        self.fields.addWidget(self.phone, 2)
        keys = QHBoxLayout()
        keys.addWidget(self.text_keys)
        keys.addWidget(self.phone_keys)
        buttons = QHBoxLayout()
        buttons.addWidget(self.skip_button)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.fields)
        self.consent_row = QBoxLayout(HORIZONTAL)
        self.consent_row.addWidget(self.consent)
        self.consent_row.addWidget(self.consent_note, 1)
        layout.addLayout(self.consent_row)
        layout.addWidget(self.error)
        layout.addLayout(keys, 1)
        layout.addLayout(buttons)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.FocusIn:
            phone = watched is self.phone
            self.phone_keys.setVisible(phone)
            self.text_keys.setVisible(not phone)
        return False

    def _send(self) -> None:
        self.done.emit(self.comment.text(), self.phone.text(), self.consent.isChecked())

    def clear(self) -> None:
        self.comment.clear()
        self.phone.clear()
        self.consent.setChecked(False)
        self.error.setText("")
        self.phone_keys.setVisible(False)
        self.text_keys.setVisible(True)

    def orient(self, *, portrait: bool) -> None:
        direction = VERTICAL if portrait else HORIZONTAL
        self.fields.setDirection(direction)
        self.consent_row.setDirection(direction)

    def rescale(self, unit: int) -> None:
        self.title.rescale(int(unit * 1.2))
        for widget in (self.comment, self.phone, self.send_button, self.skip_button):
            px(widget, int(unit * 0.9))
            widget.setMinimumHeight(int(unit * 2.2))
        px(self.consent, int(unit * 0.85))
        px(self.consent_note, int(unit * 0.65))
        px(self.error, int(unit * 0.8))
        self.text_keys.rescale(unit)
        self.phone_keys.rescale(unit)


class SurveyScreen(QWidget):
    """One SIPAS factor at a time, answered with the same faces (or skipped)."""

    answered = Signal(int)  # 0 = skipped

    def __init__(self) -> None:
        super().__init__()
        self.progress = label("", "muted")
        self.question = Bilingual("", "")
        self.panel = FacePanel()
        self.panel.chosen.connect(self.answered.emit)
        self.skip_button = QPushButton("Bỏ qua / Skip")
        self.skip_button.clicked.connect(lambda: self.answered.emit(0))
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.question)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.skip_button, alignment=Qt.AlignmentFlag.AlignHCenter)

    @property
    def faces(self) -> dict[Score, FaceButton]:
        return self.panel.faces

    def set_faces(self, count: int) -> None:
        self.panel.set_faces(count)

    def show_question(self, factor: Factor, index: int, total: int, lang: str) -> None:
        self.progress.setText(f"Câu hỏi / Question {index + 1}/{total}")
        self.question.set_text(
            f"Ông/bà đánh giá thế nào về: {factor.label_vi}?",
            f"How would you rate: {factor.label_en.lower()}?",
            lang,
        )
        self.panel.set_lang(lang)

    def orient(self, *, portrait: bool) -> None:
        self.panel.orient(portrait=portrait)

    def rescale(self, unit: int) -> None:
        px(self.progress, int(unit * 0.8))
        self.question.rescale(int(unit * 1.2))
        px(self.skip_button, int(unit * 0.9))
        self.skip_button.setMinimumHeight(int(unit * 2.2))
        self.skip_button.setMinimumWidth(int(unit * 8))
        self.panel.rescale(unit)
