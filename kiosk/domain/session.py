"""One citizen's visit to the kiosk, as a state machine (pure: the clock and the store are injected).

ATTRACT ─scan/code─▶ RATING ─face─▶ [REASONS ─▶ COMMENT] ─▶ [SURVEY × 5] ─▶ SAVING ─▶ THANKS ─▶ ATTRACT
   │ refused: stays on ATTRACT with the reason          already rated: MESSAGE ─▶ ATTRACT

REASONS and COMMENT follow a low score (``policy.reasons_at_or_below``); SURVEY (the five SIPAS
factors) follows for the share of citizens ``policy.survey_share`` picks.

What is kept when a citizen walks away: nothing before a face is tapped (there is no rating yet).
After the tap the score is an answer in itself, so an idle reset saves the rating with the answers
given so far (ticked reasons, survey answers; never an unsent comment or phone number). SAVING is
the moment the controller writes the rating to the outbox; only then does THANKS show.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum

from hailong.contract.messages import KioskPolicy, RatingMessage, ReceiptRef
from hailong.contract.receipt import KeyRing, ReceiptRefused, SignedReceipt, parse_scan, verify
from hailong.contract.scale import Channel, Factor, Score, Stage
from hailong.settings import KioskSection

WARN_BEFORE_RESET_S = 10.0


class Screen(StrEnum):
    ATTRACT = "attract"
    RATING = "rating"
    REASONS = "reasons"
    COMMENT = "comment"
    SURVEY = "survey"
    SAVING = "saving"
    THANKS = "thanks"
    MESSAGE = "message"


class Tick(Enum):
    """What the passing of time asks the controller to do."""

    NOTHING = "nothing"
    WARN = "warn"  # "Ông/bà vẫn đang đánh giá chứ?"
    RESET = "reset"
    SAVE_AND_RESET = "save_and_reset"  # a face was tapped, then the citizen left


class StaleAction(RuntimeError):
    """An answer for a screen that is no longer shown (a late second tap, a timer that raced a
    reset): ignored, never an error for the citizen."""


@dataclass(frozen=True)
class Notice:
    """A sentence for the citizen, Vietnamese first."""

    vi: str
    en: str


ALREADY_RATED = Notice(
    "Hồ sơ này đã được đánh giá. Cảm ơn ông/bà!",
    "This dossier has already been rated. Thank you!",
)
WALK_IN_REFUSED = Notice(
    "Vui lòng quét mã QR trên giấy hẹn hoặc nhập mã hồ sơ.",
    "Please scan the QR code on your receipt or type the dossier code.",
)
WALK_IN_TOO_SOON = Notice(
    "Vui lòng chờ một chút trước khi đánh giá tiếp.",
    "Please wait a moment before rating again.",
)
NOT_SAVED = Notice(
    "Máy chưa lưu được đánh giá. Vui lòng báo cán bộ.",
    "The kiosk could not save your rating. Please tell an officer.",
)
BAD_PHONE = Notice(
    "Số điện thoại chưa đúng (8–15 chữ số).",
    "The phone number is not valid (8–15 digits).",
)
NO_CONSENT = Notice(
    "Vui lòng đánh dấu đồng ý để cán bộ gọi lại, hoặc xóa số điện thoại.",
    "Please tick the consent box for a call back, or clear the phone number.",
)


@dataclass(frozen=True)
class Subject:
    """What the citizen is rating: the dossier (if any) and who served it where."""

    dossier_code: str | None
    verified: bool
    counter: str | None
    officer: str | None
    procedure: str | None
    stage: Stage = Stage.RECEPTION


@dataclass
class Answers:
    """Everything the citizen has said so far in this session."""

    score: Score | None = None
    reasons: list[str] = field(default_factory=list)
    comment: str | None = None
    callback_phone: str | None = None
    factors: dict[Factor, Score] = field(default_factory=dict)


@dataclass
class RatingSession:
    kiosk: KioskSection
    keyring: KeyRing
    already_rated: Callable[[str, Stage], bool]
    policy: KioskPolicy = field(default_factory=KioskPolicy)
    # Decides whether this citizen is offered the survey (``random.random() < share``).
    draw: Callable[[], float] = lambda: 1.0
    # Which stage a receipt is at: return once the hub said its result was handed back.
    stage_of: Callable[[str], Stage] = lambda _code: Stage.RECEPTION
    # Told the reason code of every refused scan, so refusals are counted for the admin.
    on_refused: Callable[[str], object] = lambda _reason: None
    screen: Screen = Screen.ATTRACT
    subject: Subject | None = None
    notice: Notice | None = None  # the reason shown on ATTRACT, COMMENT or MESSAGE
    lang: str = "vi"
    answers: Answers = field(default_factory=Answers)
    survey_index: int = 0
    _survey: bool = False
    _started: datetime | None = None
    _last_touch: datetime | None = None
    _entered: datetime | None = None
    _last_unverified: datetime | None = None

    # -- getting to the faces ------------------------------------------------------------------

    def touch(self, now: datetime) -> None:
        """Any tap or key press: the citizen is still there."""
        self._last_touch = now

    def submit_code(self, text: str, now: datetime) -> Screen:
        self.touch(now)
        try:
            subject = self._subject_from(text)
        except ReceiptRefused as refused:
            self.on_refused(refused.reason)
            self.notice = Notice(refused.message_vi, refused.message_en)
            return self._go(Screen.ATTRACT, now)
        if subject.dossier_code and self.already_rated(subject.dossier_code, subject.stage):
            self.notice = ALREADY_RATED
            return self._go(Screen.MESSAGE, now)
        if not subject.verified and self._too_soon(now):
            self.notice = WALK_IN_TOO_SOON
            return self._go(Screen.ATTRACT, now)
        return self._start_rating(subject, now)

    def walk_in(self, now: datetime) -> Screen:
        """A rating without a receipt, where the unit allows it, at most one per interval."""
        self.touch(now)
        if not self.policy.allow_walk_in:
            self.notice = WALK_IN_REFUSED
            return self._go(Screen.ATTRACT, now)
        if self._too_soon(now):
            self.notice = WALK_IN_TOO_SOON
            return self._go(Screen.ATTRACT, now)
        return self._start_rating(Subject(None, False, self.kiosk.counter, None, None), now)

    # -- answering -----------------------------------------------------------------------------

    def choose_score(self, score: Score, now: datetime) -> Screen:
        self._expect(Screen.RATING)
        self.touch(now)
        self.answers.score = score
        self._survey = self.draw() < self.policy.survey_share
        if score <= self.policy.reasons_at_or_below:
            return self._go(Screen.REASONS, now)
        return self._after_comment(now)

    def toggle_reason(self, code: str, now: datetime) -> None:
        self._expect(Screen.REASONS)
        self.touch(now)
        reasons = self.answers.reasons
        if code in reasons:
            reasons.remove(code)
        else:
            reasons.append(code)

    def reasons_done(self, now: datetime) -> Screen:
        self._expect(Screen.REASONS)
        self.touch(now)
        self.notice = None
        return self._go(Screen.COMMENT, now)

    def comment_done(self, comment: str, phone: str, consent: bool, now: datetime) -> Screen:
        """Keep the comment; keep the phone number only with explicit consent."""
        self._expect(Screen.COMMENT)
        self.touch(now)
        phone = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
        if phone and not consent:
            self.notice = NO_CONSENT
            return self.screen
        if phone and not 8 <= len(phone.lstrip("+")) <= 15:
            self.notice = BAD_PHONE
            return self.screen
        self.notice = None
        self.answers.comment = comment.strip()[:1000] or None
        self.answers.callback_phone = phone or None
        return self._after_comment(now)

    def answer_factor(self, score: Score | None, now: datetime) -> Screen:
        """One survey question answered (or skipped with None)."""
        self._expect(Screen.SURVEY)
        self.touch(now)
        factor = list(Factor)[self.survey_index]
        if score is not None:
            self.answers.factors[factor] = score
        self.survey_index += 1
        if self.survey_index >= len(Factor):
            return self._go(Screen.SAVING, now)
        return self._go(Screen.SURVEY, now)

    @property
    def survey_factor(self) -> Factor:
        return list(Factor)[min(self.survey_index, len(Factor) - 1)]

    # -- saving --------------------------------------------------------------------------------

    def rating_builder(self, now: datetime) -> Callable[[int], RatingMessage]:
        """How to build the rating once the outbox gives it a sequence number."""
        if self.subject is None or self.answers.score is None:
            raise RuntimeError("no face has been tapped in this session")
        subject, answers, started = self.subject, self.answers, self._started or now
        receipt = (
            ReceiptRef(code=subject.dossier_code, verified=subject.verified)
            if subject.dossier_code
            else None
        )
        rating_id = uuid.uuid4()
        duration_ms = min(3_600_000, max(0, int((now - started).total_seconds() * 1000)))
        kiosk, lang = self.kiosk, self.lang
        score = answers.score

        def build(seq: int) -> RatingMessage:
            return RatingMessage(
                id=rating_id,
                unit=kiosk.unit,
                kiosk=kiosk.id,
                seq=seq,
                receipt=receipt,
                stage=subject.stage,
                counter=subject.counter,
                officer=subject.officer,
                procedure=subject.procedure,
                score=score,
                reasons=tuple(answers.reasons),
                factors=dict(answers.factors),
                comment=answers.comment,
                callback_phone=answers.callback_phone,
                lang=lang,
                channel=Channel.KIOSK,
                rated_at=now,
                duration_ms=duration_ms,
            )

        return build

    def stored(self, now: datetime) -> Screen:
        """The outbox committed the rating: thank the citizen."""
        if self.subject is not None and not self.subject.verified:
            self._last_unverified = now
        self.notice = None
        return self._go(Screen.THANKS, now)

    def store_failed(self, now: datetime) -> Screen:
        self.notice = NOT_SAVED
        return self._go(Screen.MESSAGE, now)

    # -- time ----------------------------------------------------------------------------------

    def tick(self, now: datetime) -> Tick:
        if self.screen is Screen.SAVING:
            return Tick.NOTHING
        idle = (now - (self._last_touch or now)).total_seconds()
        if self.screen is Screen.ATTRACT:
            if self.notice and idle >= self.kiosk.idle_reset_seconds:
                return Tick.RESET
            return Tick.NOTHING
        if self.screen in (Screen.THANKS, Screen.MESSAGE):
            shown = (now - (self._entered or now)).total_seconds()
            return Tick.RESET if shown >= self.kiosk.thanks_seconds else Tick.NOTHING
        if idle >= self.kiosk.idle_reset_seconds:
            return Tick.SAVE_AND_RESET if self.answers.score is not None else Tick.RESET
        if idle >= self.kiosk.idle_reset_seconds - WARN_BEFORE_RESET_S:
            return Tick.WARN
        return Tick.NOTHING

    def reset(self) -> None:
        """Back to the start, forgetting everything about the last citizen (language too)."""
        self.screen = Screen.ATTRACT
        self.subject = None
        self.notice = None
        self.lang = "vi"
        self.answers = Answers()
        self.survey_index = 0
        self._survey = False
        self._started = self._last_touch = self._entered = None

    # -- helpers -------------------------------------------------------------------------------

    def _too_soon(self, now: datetime) -> bool:
        """Ratings without a signed receipt (walk-ins, typed codes) are rate-limited, so nobody
        can stuff the box by typing made-up codes; a signed receipt is limited by being rated."""
        last = self._last_unverified
        return bool(last and (now - last).total_seconds() < self.policy.unverified_min_interval_s)

    def _after_comment(self, now: datetime) -> Screen:
        if self._survey:
            self.survey_index = 0
            return self._go(Screen.SURVEY, now)
        return self._go(Screen.SAVING, now)

    def _expect(self, screen: Screen) -> None:
        if self.screen is not screen:
            raise StaleAction(f"expected the {screen} screen, not {self.screen}")

    def _go(self, screen: Screen, now: datetime) -> Screen:
        self.screen = screen
        self._entered = now
        return screen

    def _start_rating(self, subject: Subject, now: datetime) -> Screen:
        lang = self.lang
        self.reset()
        self.lang = lang
        self.subject = subject
        self._started = now
        self.touch(now)
        return self._go(Screen.RATING, now)

    def _subject_from(self, text: str) -> Subject:
        scanned = parse_scan(text)
        if isinstance(scanned, SignedReceipt):
            claims = verify(scanned, self.keyring, self.kiosk.unit)
            code = str(claims.code)
            stage = self.stage_of(code)
            # At the return the officer rated is the one who handed the result back (the hub
            # knows who); the receiving officer on the slip is not shown.
            officer = claims.officer if stage is Stage.RECEPTION else None
            return Subject(code, True, claims.counter, officer, claims.procedure, stage)
        if scanned.code.unit != self.kiosk.unit:
            raise ReceiptRefused("wrong_unit", scanned.code.unit)
        code = str(scanned.code)
        return Subject(code, False, self.kiosk.counter, None, None, self.stage_of(code))
