"""One citizen's visit to the kiosk, as a state machine (pure: the clock and the store are injected).

ATTRACT ─scan/code─▶ RATING ─face─▶ [REASONS ─▶ COMMENT] ─▶ [INVITE ─▶ SURVEY × 5] ─▶ SAVING ─▶ THANKS
   │ refused: stays on ATTRACT with the reason          already rated: MESSAGE ─▶ ATTRACT

REASONS and COMMENT follow a low score (``policy.reasons_at_or_below``); SURVEY (the five SIPAS
factors, asked in plain words: ``kiosk.domain.wording``) follows for the share of citizens
``policy.survey_share`` picks. INVITE comes first and says "5 câu ngắn nữa — bỏ qua được": one tap
starts the questions, one tap skips them all (the rating is closed as it stands, nothing is
abandoned). Each question is answered with a face, skipped, or, where the factor may not concern
the citizen, answered "Không áp dụng" (kept apart from a skip: it reaches the hub, and counts in
no factor's MĐHL).

The session does no I/O: what must be written is said as :class:`SaveRating` effects, which the
caller takes (:meth:`RatingSession.take_effects`) and carries out on the outbox. The rating exists
from the tap on a face: that tap asks for the rating to be written *open* (held on disk, not
published), every later answer (a reason ticked, a comment sent, a survey face) for it to be
rewritten in place, and the end of the flow for it to be *closed* (final, publishable). The flow
ends by finishing it, by an idle reset, by a new scan on any later screen (that scan belongs to the
next citizen) or by the staff screen; each closes the rating with the answers given so far (never an
unsent comment or phone number: sending is the consent to keep it). So a citizen's face is counted
once whatever happens next, and low scores, which get the extra screens, are not the ones lost.

SAVING is the moment the controller closes the rating; only once that is on disk does THANKS show.

A session that reached the faces from a receipt (scanned or typed) and ended before any face was
tapped is *abandoned*, and said as a :class:`SaveAbandoned` effect: by the idle reset
(``timeout``), by a new scan, typed code or walk-in replacing it (``next_scan``; a second read of
the same receipt is the same citizen and ends nothing) or by the kiosk (``closed``: the staff
screen, the kiosk stopping; see :meth:`RatingSession.end`). The unit counts it beside its ratings,
so a high rate built on few of its receipts shows. A tapped face is never abandoned, and a walk-in
(no receipt) that ends without a face is nothing to count.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from enum import Enum
from uuid import UUID

from hailong.contract.clock import UNIT_ZONE, unit_day
from hailong.contract.dossier_codes import CodeBook, compile_pattern
from hailong.contract.messages import (
    AbandonedMessage,
    AbandonReason,
    KioskPolicy,
    RatingMessage,
    ReceiptRef,
)
from hailong.contract.receipt import (
    KeyRing,
    LegacyReceipt,
    ReceiptRefused,
    SignedReceipt,
    check,
    parse_scan,
)
from hailong.contract.scale import Channel, Factor, Score, Stage
from hailong.settings import KioskSection
from kiosk.domain.screen import Screen
from kiosk.domain.wording import question

WARN_BEFORE_RESET_S = 10.0


class Tick(Enum):
    """What the passing of time asks the controller to do."""

    NOTHING = "nothing"
    WARN = "warn"  # "Ông/bà vẫn đang đánh giá chứ?"
    RESET = "reset"
    SAVE_AND_RESET = "save_and_reset"  # a face was tapped, then the citizen left: close it


class StaleAction(RuntimeError):
    """An answer for a screen that is no longer shown (a late second tap, a timer that raced a
    reset): ignored, never an error for the citizen."""


@dataclass(frozen=True)
class SaveRating:
    """An effect: write this citizen's rating, with every answer given so far, to the outbox.

    ``close`` False: the rating is held open (durable, not published) for later answers to
    complete in place. True: the flow has ended and the rating is final, ready to publish. Each
    effect carries the whole rating, so a write that failed is made good by the next one for the
    same ``rating_id`` (the outbox inserts what it does not hold yet), and an effect for a rating the
    outbox has already closed changes nothing.
    """

    rating_id: UUID
    build: Callable[[int], RatingMessage]  # the rating, given the seq the outbox allocates
    close: bool


@dataclass(frozen=True)
class SaveAbandoned:
    """An effect: record that a scanned session ended without a face. Written closed (final at
    once) and published like a rating, in the same sequence; it never marks the receipt rated:
    the citizen may come back and rate it."""

    session_id: UUID
    build: Callable[[int], AbandonedMessage]  # the record, given the seq the outbox allocates


Effect = SaveRating | SaveAbandoned


class NotApplicable(Enum):
    """The survey answer "Không áp dụng": neither a score nor a skip."""

    ANSWER = "not_applicable"


NOT_APPLICABLE_ANSWER = NotApplicable.ANSWER


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
    not_applicable: list[Factor] = field(default_factory=list)


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
    # Receipt key ids the hub revoked (the retained unit config): refused from the next scan on.
    revoked_keys: Callable[[], Iterable[str]] = lambda: ()
    # The unit's own dossier code patterns (the retained unit config): a typed code in one of
    # them is taken like a national one (hailong.contract.dossier_codes).
    dossier_patterns: Callable[[], Iterable[str]] = lambda: ()
    # The unit's clock (the retained unit config's time_zone): the day a slip's age counts from.
    time_zone: Callable[[], tzinfo] = lambda: UNIT_ZONE
    screen: Screen = Screen.ATTRACT
    subject: Subject | None = None
    notice: Notice | None = None  # the reason shown on ATTRACT, COMMENT or MESSAGE
    lang: str = "vi"
    answers: Answers = field(default_factory=Answers)
    survey_index: int = 0
    _survey: bool = False
    # The rating of this citizen's face from the tap until it is closed (None before a tap).
    _rating_id: UUID | None = None
    _open: bool = False
    # Writes asked for and not yet taken by the caller (see take_effects).
    _effects: list[Effect] = field(default_factory=list)
    _started: datetime | None = None
    _last_touch: datetime | None = None
    _entered: datetime | None = None
    _last_unverified: datetime | None = None
    # The faces were opened by the hub's offer at the return, not by a scan (see offer_return).
    _offered: bool = False

    # -- getting to the faces ------------------------------------------------------------------

    def touch(self, now: datetime) -> None:
        """Any tap or key press: the citizen is still there."""
        self._last_touch = now

    @property
    def rating_open(self) -> bool:
        """A face was tapped and its rating is not closed yet."""
        return self._open

    def take_effects(self) -> list[Effect]:
        """The writes asked for since the last call, oldest first, each returned once."""
        effects, self._effects = self._effects, []
        return effects

    def submit_code(self, text: str, now: datetime) -> Screen:
        """A scan or a typed code. On a screen after the face it is the next citizen's: the
        current citizen's rating is closed with its answers first, whatever the scan turns out to
        be. On the faces it replaces a session nobody rated (abandoned, ``next_scan``), unless it
        is the same receipt read again."""
        self._end_open(now)
        self.touch(now)
        leaving = self._abandoned("next_scan", now)
        screen = self._scan(text, now)
        if leaving is not None:
            again = self.subject is not None and self.subject.dossier_code == leaving[1]
            if not (screen is Screen.RATING and again):  # not the same slip read twice
                self._effects.append(leaving[0])
        return screen

    def _scan(self, text: str, now: datetime) -> Screen:
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
        self._end_open(now)
        self._abandon("next_scan", now)
        self.touch(now)
        if not self.policy.allow_walk_in:
            self.notice = WALK_IN_REFUSED
            return self._go(Screen.ATTRACT, now)
        if self._too_soon(now):
            self.notice = WALK_IN_TOO_SOON
            return self._go(Screen.ATTRACT, now)
        return self._start_rating(Subject(None, False, self.kiosk.counter, None, None), now)

    def offer_return(self, receipt: str, now: datetime) -> Screen:
        """The hub's offer (docs/return-offers.md): the officer just handed this dossier's result
        back at this kiosk's counter, so its rating opens as if the slip had been scanned.

        Only on an idle kiosk (ATTRACT, no refusal shown, no rating open): the caller keeps the
        offer until then (:mod:`kiosk.domain.return_offers`), since nobody is interrupted. The
        receipt is checked exactly like a scan; a refused one raises
        :class:`~hailong.contract.receipt.ReceiptRefused` (counted like a scan's refusal, shown to
        nobody: nobody asked). The stage is the return, whatever this kiosk has heard yet; at the
        return the slip's receiving officer is not shown (the hub knows who handed it back). An
        already rated return shows "already rated", as a scan would. Nothing is ever stored until
        the citizen taps a face: an offer nobody answers is not an abandoned session (nobody
        scanned anything; the hub's ``return_offers`` says an offer was made).
        """
        if self.screen is not Screen.ATTRACT or self.notice is not None or self._open:
            raise StaleAction(f"an offer waits for an idle kiosk, not {self.screen}")
        try:
            scanned = self._subject_from(receipt)
        except ReceiptRefused as refused:
            self.on_refused(refused.reason)
            raise
        subject = replace(scanned, stage=Stage.RETURN, officer=None)
        self.touch(now)
        if subject.dossier_code and self.already_rated(subject.dossier_code, Stage.RETURN):
            self.notice = ALREADY_RATED
            return self._go(Screen.MESSAGE, now)
        if not subject.verified and self._too_soon(now):
            raise StaleAction("an unverified offer too soon after the last unverified rating")
        screen = self._start_rating(subject, now)
        self._offered = True
        return screen

    # -- answering -----------------------------------------------------------------------------

    def choose_score(self, score: Score, now: datetime) -> Screen:
        """The face: from here on the rating exists. Asks for it to be written at once, open if
        more screens follow, closed if none do."""
        self._expect(Screen.RATING)
        self.touch(now)
        self.answers.score = score
        self._rating_id = uuid.uuid4()
        self._open = True
        if self.subject is not None and not self.subject.verified:
            # The interval runs from the rating, however its flow ends.
            self._last_unverified = now
        self._survey = self.draw() < self.policy.survey_share
        if score <= self.policy.reasons_at_or_below:
            return self._answered(self._go(Screen.REASONS, now), now)
        return self._answered(self._after_comment(now), now)

    def toggle_reason(self, code: str, now: datetime) -> None:
        self._expect(Screen.REASONS)
        self.touch(now)
        reasons = self.answers.reasons
        if code in reasons:
            reasons.remove(code)
        else:
            reasons.append(code)
        self._answered(self.screen, now)

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
        return self._answered(self._after_comment(now), now)

    def start_survey(self, now: datetime) -> Screen:
        """The invitation accepted: the first question."""
        self._expect(Screen.SURVEY_INVITE)
        self.touch(now)
        self.survey_index = 0
        return self._go(Screen.SURVEY, now)

    def skip_survey(self, now: datetime) -> Screen:
        """The invitation declined with one tap: the rating is closed as it stands."""
        self._expect(Screen.SURVEY_INVITE)
        self.touch(now)
        return self._answered(self._go(Screen.SAVING, now), now)

    def factor_not_applicable(self, now: datetime) -> Screen:
        """The question does not concern this citizen ("Không áp dụng"), where it may not."""
        return self.answer_factor(NOT_APPLICABLE_ANSWER, now)

    def answer_factor(self, score: Score | NotApplicable | None, now: datetime) -> Screen:
        """One survey question answered with a face, "does not apply", or skipped (None)."""
        self._expect(Screen.SURVEY)
        self.touch(now)
        factor = list(Factor)[self.survey_index]
        if isinstance(score, NotApplicable):
            if not question(factor).may_not_apply:  # no such button on this question
                raise StaleAction(f"{factor} is asked of every citizen")
            if factor not in self.answers.not_applicable:
                self.answers.not_applicable.append(factor)
        elif score is not None:
            self.answers.factors[factor] = score
        self.survey_index += 1
        if self.survey_index >= len(Factor):
            return self._answered(self._go(Screen.SAVING, now), now)
        if score is None:  # a skipped question changes nothing on disk
            return self._go(Screen.SURVEY, now)
        return self._answered(self._go(Screen.SURVEY, now), now)

    @property
    def survey_factor(self) -> Factor:
        return list(Factor)[min(self.survey_index, len(Factor) - 1)]

    # -- saving --------------------------------------------------------------------------------

    def rating_builder(self, now: datetime) -> Callable[[int], RatingMessage]:
        """How to build the rating, as answered so far, once the outbox gives it a sequence number.

        The answers are copied now: a builder taken before a later answer keeps what it saw.
        """
        if self.subject is None or self.answers.score is None:
            raise RuntimeError("no face has been tapped in this session")
        subject, started = self.subject, self._started or now
        answers = Answers(
            self.answers.score,
            list(self.answers.reasons),
            self.answers.comment,
            self.answers.callback_phone,
            dict(self.answers.factors),
            list(self.answers.not_applicable),
        )
        if self._rating_id is None:
            self._rating_id = uuid.uuid4()
        rating_id = self._rating_id
        receipt = (
            ReceiptRef(code=subject.dossier_code, verified=subject.verified)
            if subject.dossier_code
            else None
        )
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
                not_applicable=tuple(answers.not_applicable) or None,
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

    def end(self, now: datetime, why: AbandonReason | None = None) -> None:
        """The flow stops here (an idle reset, the staff screen, the kiosk shutting down): the
        open rating, if any, is closed with the answers given so far. ``why`` the flow stopped
        (``timeout``, ``closed``): a session still on the faces from a receipt is recorded as
        abandoned for that reason (None records nothing). Take the effects, then :meth:`reset`."""
        if self._open:
            self._close(now)
        elif why is not None:
            self._abandon(why, now)

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
            return Tick.SAVE_AND_RESET if self._open else Tick.RESET
        if idle >= self.kiosk.idle_reset_seconds - WARN_BEFORE_RESET_S:
            return Tick.WARN
        return Tick.NOTHING

    def reset(self) -> None:
        """Back to the start, forgetting everything about the last citizen (language too),
        including writes not taken yet: take the effects first (see :meth:`end`)."""
        self._forget()
        self._effects = []

    def _forget(self) -> None:
        """The citizen's state gone; the writes asked for on their behalf kept for the caller."""
        self.screen = Screen.ATTRACT
        self.subject = None
        self.notice = None
        self.lang = "vi"
        self.answers = Answers()
        self.survey_index = 0
        self._survey = False
        self._rating_id = None
        self._open = False
        self._started = self._last_touch = self._entered = None
        self._offered = False

    # -- helpers -------------------------------------------------------------------------------

    def _too_soon(self, now: datetime) -> bool:
        """Ratings without a signed receipt (walk-ins, typed codes) are rate-limited, so nobody
        can stuff the box by typing made-up codes; a signed receipt is limited by being rated."""
        last = self._last_unverified
        return bool(last and (now - last).total_seconds() < self.policy.unverified_min_interval_s)

    def _after_comment(self, now: datetime) -> Screen:
        if self._survey:
            self.survey_index = 0
            return self._go(Screen.SURVEY_INVITE, now)
        return self._go(Screen.SAVING, now)

    def _answered(self, screen: Screen, now: datetime) -> Screen:
        """An answer was given and ``screen`` comes next: rewrite the open rating in place, or
        close it where the flow ends (SAVING)."""
        if screen is Screen.SAVING:
            self._close(now)
        elif self._open:  # (a screen drawn for a picture has no rating behind it)
            self._effects.append(SaveRating(self._require_id(), self.rating_builder(now), False))
        return screen

    def _close(self, now: datetime) -> None:
        self._effects.append(SaveRating(self._require_id(), self.rating_builder(now), True))
        self._open = False

    def _abandon(self, why: AbandonReason, now: datetime) -> None:
        leaving = self._abandoned(why, now)
        if leaving is not None:
            self._effects.append(leaving[0])

    def _abandoned(self, why: AbandonReason, now: datetime) -> tuple[SaveAbandoned, str] | None:
        """The record (and its dossier code) of the session on the faces, as abandoned now, if it
        came from a receipt and no face was tapped; None otherwise. Only what the slip said and
        when: nothing of the citizen."""
        subject = self.subject
        if (
            self.screen is not Screen.RATING
            or subject is None
            or subject.dossier_code is None
            or self.answers.score is not None
            or self._open
            or self._offered  # nobody scanned: an offer left alone is no citizen's abandonment
        ):
            return None
        code = subject.dossier_code
        session_id = uuid.uuid4()
        scanned_at = self._started or now
        ended_at = max(now, scanned_at)  # a clock stepped back never makes it end before it began
        receipt = ReceiptRef(code=code, verified=subject.verified)
        kiosk = self.kiosk

        def build(seq: int) -> AbandonedMessage:
            return AbandonedMessage(
                kind="abandoned",
                id=session_id,
                unit=kiosk.unit,
                kiosk=kiosk.id,
                seq=seq,
                receipt=receipt,
                stage=subject.stage,
                counter=subject.counter,
                officer=subject.officer,
                procedure=subject.procedure,
                reason=why,
                scanned_at=scanned_at,
                ended_at=ended_at,
            )

        return SaveAbandoned(session_id, build), code

    def _end_open(self, now: datetime) -> None:
        """A new citizen begins on a screen after the face: the last one's rating is closed and
        nothing of them (language included) carries over."""
        if self._open:
            self._close(now)
            self._forget()

    def _require_id(self) -> UUID:
        if self._rating_id is None:
            raise RuntimeError("no face has been tapped in this session")
        return self._rating_id

    def _expect(self, screen: Screen) -> None:
        if self.screen is not screen:
            raise StaleAction(f"expected the {screen} screen, not {self.screen}")

    def _go(self, screen: Screen, now: datetime) -> Screen:
        self.screen = screen
        self._entered = now
        return screen

    def _start_rating(self, subject: Subject, now: datetime) -> Screen:
        lang = self.lang
        self._forget()
        self.lang = lang
        self.subject = subject
        self._started = now
        self.touch(now)
        return self._go(Screen.RATING, now)

    def _subject_from(self, text: str) -> Subject:
        book = CodeBook(self.kiosk.unit, tuple(map(compile_pattern, self.dossier_patterns())))
        scanned = parse_scan(text, book)
        if isinstance(scanned, SignedReceipt):
            keyring = self.keyring.with_revoked(self.revoked_keys())
            today = unit_day(datetime.now(UTC), self.time_zone())  # the unit's day, as on codes
            claims = check(scanned, keyring, self.kiosk.unit, today=today)
            if isinstance(claims, LegacyReceipt):  # an old HMAC slip: its code only, as if typed
                code = str(claims.code)
                return Subject(code, False, self.kiosk.counter, None, None, self.stage_of(code))
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
