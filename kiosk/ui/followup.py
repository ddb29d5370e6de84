"""After the faces: reasons for dissatisfaction, a comment with an optional call-back, the
invitation to the survey and the survey."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hailong.contract.messages import ReasonInfo
from hailong.contract.pictograms import icon_for
from hailong.contract.scale import Factor, Score
from kiosk.domain.wording import (
    NOT_APPLICABLE,
    QUESTIONS,
    SKIP_QUESTION,
    SURVEY_INVITE,
    SURVEY_SKIP_ALL,
    SURVEY_START,
    SURVEY_WHY,
    question,
    step,
)
from kiosk.i18n import languages
from kiosk.ui.faces import FaceButton
from kiosk.ui.followup_parts import Card, PlainButton, ProgressDots, ReasonButton, SurveyPage
from kiosk.ui.keyboard import OnScreenKeyboard
from kiosk.ui.screens import HORIZONTAL, VERTICAL, Bilingual, FacePanel
from kiosk.ui.theme import label, px


class ReasonsScreen(QWidget):
    """Tick any reasons (each counts against a SIPAS factor), then continue. Each reason carries
    its pictogram (``hailong.contract.pictograms.icon_for``), so it is found before it is read."""

    toggled = Signal(str)
    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = Bilingual(
            "Xin ông/bà cho biết lý do chưa hài lòng (chọn một hoặc nhiều)",
            "Please tell us why you were not satisfied (choose one or more)",
        )
        self.grid = QGridLayout()
        self.buttons: dict[str, ReasonButton] = {}
        self.reasons: tuple[ReasonInfo, ...] = ()
        self.columns = 2
        self.lang = "vi"
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
            button = ReasonButton(icon_for(reason.code, reason.icon))
            button.clicked.connect(lambda _checked=False, c=reason.code: self.toggled.emit(c))
            self.buttons[reason.code] = button
        self._place()
        self.set_lang(self.lang)

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        self.title.set_lang(lang)
        for reason in self.reasons:
            first, second = languages().pair(reason.name, reason.name_en, lang)
            self.buttons[reason.code].set_words(first, second)

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
        for button in self.buttons.values():
            # A floor the screen can always give (large text on 800x480 included); the rows
            # share what is left above it.
            px(button, int(unit * 0.95))
            button.setMinimumHeight(int(unit * (2.0 if rows > 4 else 2.4)))
        px(self.next_button, int(unit * 0.85))
        self.next_button.setMinimumHeight(int(unit * 2.2))


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


class SurveyInviteScreen(SurveyPage):
    """Between the rating and the survey: "5 câu ngắn nữa — bỏ qua được", one tap to start, one
    to skip them all. On the survey's own background, so it is not taken for the faces again."""

    start = Signal()
    skip = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.dots = ProgressDots()
        self.dots.show_step(-1, len(QUESTIONS))
        self.title = Bilingual(*SURVEY_INVITE)
        self.why = Bilingual(*SURVEY_WHY, role="body")
        self.start_button = PlainButton("start", "primary")
        self.skip_button = PlainButton("skip", "quiet")
        self.start_button.clicked.connect(self.start.emit)
        self.skip_button.clicked.connect(self.skip.emit)
        self.card = Card()
        inside = QVBoxLayout(self.card)
        inside.addWidget(self.dots)
        inside.addWidget(self.title)
        inside.addWidget(self.why)
        self.buttons = QBoxLayout(HORIZONTAL)
        self.buttons.addWidget(self.skip_button)
        self.buttons.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.card, 3)
        layout.addLayout(self.buttons)
        layout.addStretch(1)
        self.set_lang("vi")

    def set_lang(self, lang: str) -> None:
        self.title.set_text(*SURVEY_INVITE, lang)
        self.why.set_text(*SURVEY_WHY, lang)
        self.start_button.set_words(*languages().pair(*SURVEY_START, lang))
        self.skip_button.set_words(*languages().pair(*SURVEY_SKIP_ALL, lang))

    def orient(self, *, portrait: bool) -> None:
        self.buttons.setDirection(VERTICAL if portrait else HORIZONTAL)

    def rescale(self, unit: int) -> None:
        self.dots.setFixedHeight(int(unit * 1.4))
        self.title.rescale(int(unit * 1.5))
        self.why.rescale(int(unit * 0.95))
        for button in (self.start_button, self.skip_button):
            px(button, int(unit * 1.0))
            button.setMinimumHeight(int(unit * 3.0))
            button.setMaximumHeight(int(unit * 3.0))


class SurveyScreen(SurveyPage):
    """One SIPAS factor at a time, asked in plain words (``kiosk.domain.wording``) on a card,
    answered with smaller labelled faces, skipped, or, where the factor may not concern the
    citizen, answered "Không áp dụng". Its background, card and progress dots set it apart from
    the rating screen the citizen has just left."""

    answered = Signal(int)  # 0 = skipped
    not_applicable = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.progress = label("", "muted")
        self.dots = ProgressDots()
        self.question = Bilingual("", "")
        self.card = Card()
        inside = QVBoxLayout(self.card)
        inside.addWidget(self.question)
        self.panel = FacePanel()
        self.panel.chosen.connect(self.answered.emit)
        self.skip_button = PlainButton("skip", "quiet")
        self.skip_button.clicked.connect(lambda: self.answered.emit(0))
        self.not_applicable_button = PlainButton("not_applicable", "outline")
        self.not_applicable_button.clicked.connect(self.not_applicable.emit)
        self.others = QBoxLayout(HORIZONTAL)
        self.others.addWidget(self.skip_button)
        self.others.addStretch(1)
        self.others.addWidget(self.not_applicable_button)
        head = QHBoxLayout()
        head.addWidget(self.dots, 3)
        head.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.card)
        layout.addWidget(self.panel, 1)
        layout.addLayout(self.others)
        self.portrait = False

    @property
    def faces(self) -> dict[Score, FaceButton]:
        return self.panel.faces

    def set_faces(self, count: int) -> None:
        self.panel.set_faces(count)

    def show_question(self, factor: Factor, index: int, total: int, lang: str) -> None:
        asked = question(factor)
        self.dots.show_step(index, total)
        self.progress.setText(languages().pair(*step(index, total), lang)[0])
        self.question.set_text(asked.vi, asked.en, lang)
        self.skip_button.set_words(*languages().pair(*SKIP_QUESTION, lang))
        self.not_applicable_button.set_words(*languages().pair(*NOT_APPLICABLE, lang))
        self.not_applicable_button.setVisible(asked.may_not_apply)
        self.panel.set_lang(lang)

    def orient(self, *, portrait: bool) -> None:
        self.portrait = portrait
        self.panel.orient(portrait=portrait)
        self.others.setDirection(VERTICAL if portrait else HORIZONTAL)

    def rescale(self, unit: int) -> None:
        px(self.progress, int(unit * 0.8))
        self.dots.setFixedHeight(int(unit * 1.2))
        self.question.rescale(int(unit * 1.25))
        for button in (self.skip_button, self.not_applicable_button):
            px(button, int(unit * 0.85))
            button.setMinimumHeight(int(unit * 2.2))
            button.setMaximumHeight(int(unit * 2.2))
        self.panel.rescale(int(unit * 0.8))
        # Smaller faces than the rating's (a question, not the verdict), yet tall enough in
        # landscape for the word to stand under the face.
        for face in self.panel.faces.values():
            face.setMinimumHeight(int(unit * (2.6 if self.portrait else 5.6)))
            face.setMaximumHeight(int(unit * (3.2 if self.portrait else 6.2)))
            face.setMaximumWidth(int(unit * (30 if self.portrait else 9)))
        # Stacked in portrait, "Bỏ qua câu này" and "Không áp dụng" still stand well apart.
        self.others.setSpacing(int(unit * (1.5 if self.portrait else 0.5)))
