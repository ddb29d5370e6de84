"""One citizen's visit to the kiosk, as a state machine (pure: the clock and the store are injected).

ATTRACT ──code/scan──▶ RATING ──tap a face──▶ THANKS ──after thanks_seconds──▶ ATTRACT
   │  refused: stays on ATTRACT with the reason      already rated: MESSAGE ──▶ ATTRACT

Any screen but ATTRACT returns to ATTRACT after ``idle_reset_seconds`` without a touch. A rating
exists only once a face is tapped; a session abandoned before that stores nothing, because a
half-finished rating is not a rating (abandoned sessions are recorded separately in a later issue).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hailong.contract.messages import RatingMessage, ReceiptRef
from hailong.contract.receipt import (
    KeyRing,
    ReceiptRefused,
    SignedReceipt,
    parse_scan,
    verify,
)
from hailong.contract.scale import Channel, Score, Stage
from hailong.settings import KioskSection


class Screen(StrEnum):
    ATTRACT = "attract"
    RATING = "rating"
    THANKS = "thanks"
    MESSAGE = "message"


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
NOT_SAVED = Notice(
    "Máy chưa lưu được đánh giá. Vui lòng báo cán bộ.",
    "The kiosk could not save your rating. Please tell an officer.",
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
class RatingSession:
    kiosk: KioskSection
    keyring: KeyRing
    already_rated: Callable[[str, Stage], bool]
    screen: Screen = Screen.ATTRACT
    subject: Subject | None = None
    notice: Notice | None = None  # the reason shown on ATTRACT or MESSAGE
    _started: datetime | None = None
    _last_touch: datetime | None = None
    _entered: datetime | None = None

    def touch(self, now: datetime) -> None:
        """Any tap or key press: the citizen is still there."""
        self._last_touch = now

    def submit_code(self, text: str, now: datetime) -> Screen:
        self.touch(now)
        try:
            subject = self._subject_from(text)
        except ReceiptRefused as refused:
            self.notice = Notice(refused.message_vi, refused.message_en)
            return self._go(Screen.ATTRACT, now)
        if subject.dossier_code and self.already_rated(subject.dossier_code, subject.stage):
            self.notice = ALREADY_RATED
            return self._go(Screen.MESSAGE, now)
        return self._start_rating(subject, now)

    def walk_in(self, now: datetime) -> Screen:
        """A rating without a receipt, where the unit allows it."""
        self.touch(now)
        if not self.kiosk.allow_walk_in:
            self.notice = WALK_IN_REFUSED
            return self._go(Screen.ATTRACT, now)
        subject = Subject(None, False, self.kiosk.counter, None, None)
        return self._start_rating(subject, now)

    def rate(self, score: Score, now: datetime) -> Callable[[int], RatingMessage]:
        """The tapped face. Returns how to build the rating once the outbox gives it a sequence."""
        if self.screen is not Screen.RATING or self.subject is None:
            raise RuntimeError(f"cannot rate on the {self.screen} screen")
        subject, started = self.subject, self._started or now
        receipt = (
            ReceiptRef(code=subject.dossier_code, verified=subject.verified)
            if subject.dossier_code
            else None
        )
        rating_id = uuid.uuid4()
        duration_ms = max(0, int((now - started).total_seconds() * 1000))
        kiosk = self.kiosk

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
                channel=Channel.KIOSK,
                rated_at=now,
                duration_ms=min(duration_ms, 3_600_000),
            )

        return build

    def stored(self, now: datetime) -> Screen:
        """The outbox committed the rating: thank the citizen."""
        self.notice = None
        return self._go(Screen.THANKS, now)

    def store_failed(self, now: datetime) -> Screen:
        self.notice = NOT_SAVED
        return self._go(Screen.MESSAGE, now)

    def tick(self, now: datetime) -> bool:
        """Advance timers; True when the screen changed."""
        if self.screen is Screen.ATTRACT:
            if self.notice and self._idle_for(now) >= self.kiosk.idle_reset_seconds:
                self.reset()
                return True
            return False
        shown_for = (now - (self._entered or now)).total_seconds()
        timed_out = self.screen in (Screen.THANKS, Screen.MESSAGE) and (
            shown_for >= self.kiosk.thanks_seconds
        )
        if timed_out or self._idle_for(now) >= self.kiosk.idle_reset_seconds:
            self.reset()
            return True
        return False

    def reset(self) -> None:
        """Back to the start, forgetting everything about the last citizen."""
        self.screen = Screen.ATTRACT
        self.subject = None
        self.notice = None
        self._started = self._last_touch = self._entered = None

    def _idle_for(self, now: datetime) -> float:
        return (now - (self._last_touch or now)).total_seconds()

    def _go(self, screen: Screen, now: datetime) -> Screen:
        self.screen = screen
        self._entered = now
        return screen

    def _start_rating(self, subject: Subject, now: datetime) -> Screen:
        self.subject = subject
        self.notice = None
        self._started = now
        return self._go(Screen.RATING, now)

    def _subject_from(self, text: str) -> Subject:
        scanned = parse_scan(text)
        if isinstance(scanned, SignedReceipt):
            claims = verify(scanned, self.keyring, self.kiosk.unit)
            return Subject(str(claims.code), True, claims.counter, claims.officer, claims.procedure)
        if scanned.code.unit != self.kiosk.unit:
            raise ReceiptRefused("wrong_unit", scanned.code.unit)
        return Subject(str(scanned.code), False, self.kiosk.counter, None, None)
