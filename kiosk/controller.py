"""Connects the citizen's session (domain) to the screens, the outbox and the uplink.

Everything here runs on the Qt thread. The uplink calls back from the MQTT thread through Qt
signals, which Qt queues onto this thread; so does a serial button box (``kiosk/serial_input.py``),
whose scans and presses end in :meth:`KioskController.scanned` and :meth:`KioskController.press`,
the same calls as a USB scan and a tap on a face.

The session says what to write (:class:`kiosk.domain.session.SaveRating`); this controller writes
it to the outbox right after each call, before anything is drawn: the face is on disk, open, before
the reasons or survey screen shows, and closed before "Cảm ơn" shows. A scanned session that ends
without a face (:class:`kiosk.domain.session.SaveAbandoned`: an idle reset, the next scan, the
staff screen) is written to the outbox the same way, before the next screen is drawn, and
published like a rating. The screens in ``kiosk/ui`` never touch the outbox.
"""

from __future__ import annotations

import logging
import random
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QKeyEvent, Qt
from PySide6.QtWidgets import QApplication

from hailong import __version__
from hailong.contract.clock import UNIT_ZONE, unit_time, zone_named
from hailong.contract.messages import AbandonReason, KioskPolicy, UnitConfigMessage
from hailong.contract.receipt import ReceiptRefused
from hailong.contract.return_offer import ReturnOfferMessage
from hailong.contract.scale import Score
from hailong.settings import ConfigError, KioskSettings, read_secret
from kiosk.audio import Voice
from kiosk.domain.return_offers import ReturnOffers
from kiosk.domain.scanner import ScanDetector
from kiosk.domain.screen import Screen
from kiosk.domain.session import (
    NOT_SAVED,
    RatingSession,
    SaveAbandoned,
    SaveRating,
    StaleAction,
    Subject,
    Tick,
)
from kiosk.domain.speech import OnScreen, lines, speaks
from kiosk.domain.staff import PinGuard
from kiosk.domain.wording import QUESTIONS
from kiosk.i18n import languages
from kiosk.outbox_errors import OutboxError
from kiosk.prompts import reason_key
from kiosk.ui.after_paint import AfterPaint
from kiosk.ui.window import KioskWindow

if TYPE_CHECKING:  # only the types: SQLAlchemy and paho load after the start screen is drawn
    from kiosk.outbox import Outbox
    from kiosk.uplink import Uplink

log = logging.getLogger(__name__)
THANKS = ("Cảm ơn ông/bà đã đánh giá!", "Thank you for your feedback!")
SAVING = ("Đang lưu…", "Saving…")
VOICE_AFTER_MS = 300  # the voice looks for a sound device after the first paint
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def _load_pin(settings: KioskSettings) -> str | None:
    if settings.kiosk.staff_pin_file is None:
        return None
    try:
        return read_secret(settings.kiosk.staff_pin_file, "kiosk.staff_pin_file")
    except ConfigError as exc:
        log.warning("maintenance screen disabled: %s", exc)
        return None


def _revoked_keys(controller: KioskController | None) -> tuple[str, ...]:
    catalogue = controller.catalogue if controller is not None else None
    return tuple(catalogue.revoked_keys) if catalogue else ()


def _wake_uplink_of(controller: KioskController | None) -> None:
    if controller is not None and controller.uplink is not None:
        controller.uplink.notify_new()


def _time_zone(controller: KioskController | None) -> tzinfo:
    """The unit's clock, from the unit config (none sent: the default, Asia/Ho_Chi_Minh)."""
    catalogue = controller.catalogue if controller is not None else None
    named = catalogue.time_zone if catalogue else None
    return zone_named(named) if named else UNIT_ZONE


def _dossier_patterns(controller: KioskController | None) -> tuple[str, ...]:
    """The unit's own dossier code patterns, from the unit config (none: national codes only)."""
    catalogue = controller.catalogue if controller is not None else None
    return tuple(catalogue.dossier_patterns or ()) if catalogue else ()


class KioskController(QObject):
    link_changed = Signal()
    config_arrived = Signal(object)
    # The hub's offer of a rating at the return (kiosk.domain.return_offers), from the uplink.
    offer_arrived = Signal(object)
    # What happened, for a device that shows it (a button box's light): a rating's id once it is
    # on disk, a rating that could not be stored, a scanned or typed code that was refused.
    rating_saved = Signal(object)
    save_failed = Signal()
    code_refused = Signal()

    def __init__(
        self,
        settings: KioskSettings,
        window: KioskWindow,
        outbox: Outbox,
        uplink: Uplink | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        draw: Callable[[], float] = random.random,
    ) -> None:
        super().__init__()
        self.settings, self.window, self.outbox, self.uplink = settings, window, outbox, uplink
        self.clock = clock
        # The session reads the controller through a weak reference: a cycle would keep the
        # window's Python object alive after the kiosk is closed, until a garbage collection.
        me = weakref.ref(self)
        self.session = RatingSession(
            settings.kiosk,
            settings.receipts.keyring(),
            outbox.has_rated,
            draw=draw,
            stage_of=outbox.stage_of,
            on_refused=outbox.count_refusal,
            revoked_keys=lambda: _revoked_keys(me()),
            dossier_patterns=lambda: _dossier_patterns(me()),
            time_zone=lambda: _time_zone(me()),
        )
        self.pins = PinGuard(_load_pin(settings))
        window.attract.set_scanner_position(settings.kiosk.scanner_position)
        self.catalogue: UnitConfigMessage | None = None
        self.scanner = ScanDetector()
        self.last_scan = ""
        # Reads the screens aloud (kiosk/audio.py, set by use_voice): every screen as it appears
        # when the unit says so (always_speak), else once this citizen asked (♪, or a press of a
        # hardware button where it cannot rate), until they leave.
        self.voice: Voice | None = None
        self.guided = False
        self._spoken: tuple[object, ...] | None = None
        # See _wake_uplink; through the weak reference too (a bound method would be a cycle).
        self._uplink_waker = AfterPaint(window.stack, lambda: _wake_uplink_of(me()))
        self._connect()
        self.link_changed.connect(self._show_link)
        self.config_arrived.connect(self.use_config)
        self.offers = ReturnOffers(settings.kiosk.id)
        self.offer_arrived.connect(self.receive_offer)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.tick)
        self._timer.start(250)
        cached = outbox.load_unit_config()
        self.use_config(cached) if cached else self._apply_policy(KioskPolicy())
        self._show_link()
        self.render()

    def _connect(self) -> None:
        w = self.window
        w.attract.submitted.connect(self.submit_code)
        w.attract.walk_in.connect(self.walk_in)
        w.attract.language.connect(self.toggle_language)
        w.attract.large_text.connect(
            lambda: w.set_accessibility(large_text=not w.large_text, high_contrast=w.high_contrast)
        )
        w.attract.contrast.connect(
            lambda: w.set_accessibility(large_text=w.large_text, high_contrast=not w.high_contrast)
        )
        w.attract.speak.connect(self.speak)
        w.voice_bar.speak.connect(self.speak)
        w.rating.rated.connect(lambda score: self.rate(Score(score)))
        w.reasons.toggled.connect(self.toggle_reason)
        w.reasons.done.connect(self.finish_reasons)
        w.comment.done.connect(self.comment_done)
        w.survey.answered.connect(lambda value: self.answer_survey(Score(value) if value else None))
        w.survey.not_applicable.connect(self.survey_not_applicable)
        w.invite.start.connect(self.start_survey)
        w.invite.skip.connect(self.skip_survey)
        w.message.back.connect(self.reset)
        w.staff_button.clicked.connect(self.open_maintenance)
        w.maintenance.pin_entered.connect(self.unlock)
        w.maintenance.back.connect(self.reset)
        w.maintenance.exit_requested.connect(QApplication.quit)

    # -- citizen actions ---------------------------------------------------------------------

    def _do(self, action: Callable[[datetime], object]) -> None:
        now = self.clock()
        try:
            action(now)
        except StaleAction as stale:
            log.debug("ignored: %s", stale)
            return
        self._write(now)
        self.render()

    def submit_code(self, text: str) -> None:
        if self.session.rating_open:
            # A scan on a screen after the face: the citizen who tapped it is done (the session
            # closes their rating) and the next one starts without their settings or typing.
            self._forget_citizen()
        self._do(lambda now: self.session.submit_code(text, now))
        if self.session.screen in (Screen.ATTRACT, Screen.MESSAGE):
            self.code_refused.emit()

    def scanned(self, text: str) -> None:
        """A complete scan from any scanner (USB keyboard mode or serial): on the maintenance
        screen it is shown as the scanner test, anywhere else it is submitted."""
        self.last_scan = text
        if self.uplink:
            self.uplink.devices.scanned(datetime.now(UTC))
        if self.window.in_maintenance:
            self._show_status()
        else:
            self.window.attract.code_input.clear()
            self.submit_code(text)

    def press(self, score: Score) -> str | None:
        """A hardware button for ``score``: a tap on that face where the rating screen shows it.

        Anywhere else nothing is tapped, so no rating can be invented; the reason is returned for
        the caller to count (None when the press rated).
        """
        if self.window.in_maintenance:
            return "maintenance"
        if self.session.screen is not Screen.RATING:
            # A press that cannot rate asks for the voice: a blind citizen's way to ♪.
            self.speak()
            return "not_rating"
        if score not in self.window.rating.faces:
            return "face_not_shown"  # a unit asking with 3 or 4 faces
        self.rate(score)
        return None

    def walk_in(self) -> None:
        if self.session.rating_open:
            self._forget_citizen()
        self._do(lambda now: self.session.walk_in(now))

    def rate(self, score: Score) -> None:
        """A face tapped on the rating screen."""
        self._do(lambda now: self.session.choose_score(score, now))

    def is_rating(self) -> bool:
        """The rating screen is up: the next tap on a face rates."""
        return self.session.screen is Screen.RATING and not self.window.in_maintenance

    def in_use(self) -> bool:
        """Someone is using the kiosk (a screen past the start, a refusal shown, a code being
        typed, the staff screen): what a caller outside the kiosk asks before putting a citizen
        on it, as the demo's simulated counter does (hailong/demo.py)."""
        return not self._idle()

    def toggle_reason(self, code: str) -> None:
        now = self.clock()
        try:
            self.session.toggle_reason(code, now)
        except StaleAction:
            return
        self._write(now)
        self.window.reasons.show_ticked(self.session.answers.reasons)

    def finish_reasons(self) -> None:
        self._do(self.session.reasons_done)

    def answer_survey(self, score: Score | None) -> None:
        """One survey question answered with a face, or skipped (None)."""
        self._do(lambda now: self.session.answer_factor(score, now))

    def survey_not_applicable(self) -> None:
        """The answer "Không áp dụng": the question does not concern this citizen."""
        self._do(self.session.factor_not_applicable)

    def start_survey(self) -> None:
        """The invitation accepted: the first question."""
        self._do(self.session.start_survey)

    def skip_survey(self) -> None:
        """The invitation declined: one tap, and the rating is closed as it stands."""
        self._do(self.session.skip_survey)

    def comment_done(self, comment: str, phone: str, consent: bool) -> None:
        self._do(lambda now: self.session.comment_done(comment, phone, consent, now))

    def toggle_language(self) -> None:
        self.session.lang = languages().next(self.session.lang)
        self.session.touch(self.clock())
        self.render()

    @property
    def always_speak(self) -> bool:
        """The unit wants every screen read aloud (this kiosk's settings, or its policy)."""
        return self.settings.kiosk.always_speak or bool(self.session.policy.always_speak)

    def use_voice(self, voice: Voice | None) -> None:
        """The player that reads the screens. Looking for a sound device loads Qt Multimedia (a
        quarter of a second here, more on a Pi), so it waits until the start screen is drawn;
        then the no-sound sign shows if it must, and a screen that speaks does."""
        self.voice = voice
        self._spoken = None  # a new voice says the screen it finds, where the screen speaks
        if voice is None:
            self.window.voice_bar.show_sound(False)
            return
        QTimer.singleShot(VOICE_AFTER_MS, self, self._voice_ready)

    def _voice_ready(self) -> None:
        if self.voice is not None:
            self.window.voice_bar.show_sound(self.voice.available())
            self._speak_screen()

    def speak(self) -> None:
        """♪: read this screen aloud now (again, if it was), and every next one for this citizen.
        With no sound the sign stays up, so the tap visibly answers."""
        self.guided = True
        self.session.touch(self.clock())
        if self.voice is not None:
            self.window.voice_bar.show_sound(self.voice.available())  # plugged in since?
        self._speak_screen(again=True)

    def _on_screen(self) -> OnScreen:
        """What the voice needs to know of the screen as drawn."""
        session, window = self.session, self.window
        screen = session.screen
        survey = screen is Screen.SURVEY
        panel = window.survey.panel if survey else window.rating.panel
        reasons = tuple(reason.code for reason in window.reasons.reasons)
        voice, lang = self.voice, session.lang
        voiced = (
            frozenset(code for code in reasons if voice.has(reason_key(code), lang))
            if voice is not None and screen is Screen.REASONS
            else frozenset()
        )
        column = window.reasons.columns == 1 if screen is Screen.REASONS else panel.portrait
        return OnScreen(
            screen=screen.value,
            notice=session.notice,
            faces=tuple(panel.faces),
            portrait=column,
            factor=session.survey_factor if survey else None,
            first_question=survey and session.survey_index == 0,
            reasons=reasons,
            voiced=voiced,
            scanner=self.settings.kiosk.scanner_position,
        )

    def _speak_screen(self, *, again: bool = False) -> None:
        """Read the screen if the unit or the citizen wants it, once per screen (``again``: ♪)."""
        voice, session = self.voice, self.session
        if voice is None or self.window.in_maintenance:
            return
        if not speaks(always=self.always_speak, asked=self.guided):
            return
        keys = lines(self._on_screen())
        said = (session.screen, session.survey_index, session.lang, keys)
        if not keys or (said == self._spoken and not again):
            return
        self._spoken = said
        voice.say(keys, session.lang)
        if voice.silent:
            self.window.voice_bar.show_sound(False)

    def reset(self, why: AbandonReason = "closed") -> None:
        """Back to the start for the next citizen. A rating still open (an idle reset on a screen
        after the face, the staff screen closed) is closed with its answers first; a scanned
        session still on the faces is recorded as abandoned, ``why`` (the idle reset says
        ``timeout``; the staff screen and the kiosk stopping, ``closed``)."""
        now = self.clock()
        self.session.end(now, why)
        self._write(now)
        self.session.reset()
        self._forget_citizen()
        self.window.attract.clear()
        self.render()

    def finish(self) -> None:
        """The kiosk is stopping: close the current citizen's rating, if any, so it is published
        (a kiosk that dies instead has it closed when it next starts)."""
        self.reset()

    def _forget_citizen(self) -> None:
        self.guided = False
        self._spoken = None
        if self.voice is not None:
            self.voice.stop()  # the next citizen does not hear the last one's screen
        self.window.set_accessibility(large_text=False, high_contrast=False)
        self.window.comment.clear()

    def tick(self) -> None:
        if self.window.in_maintenance:
            return
        verdict = self.session.tick(self.clock())
        self.window.banner.setVisible(verdict is Tick.WARN)
        if verdict in (Tick.RESET, Tick.SAVE_AND_RESET):
            self.reset("timeout")
        if self.offers:
            self._offer_if_idle()

    # -- rating offered at the return (docs/return-offers.md) ---------------------------------

    def receive_offer(self, offer: ReturnOfferMessage) -> None:
        """The hub offers the rating of a result just handed back at this kiosk's counter: shown
        now if nobody is using the kiosk, else kept until it is idle again (while it stands)."""
        refusal = self.offers.receive(offer, self.clock())
        if refusal is not None:
            log.info("return offer %s not taken: %s", offer.id, refusal)
            return
        self._offer_if_idle()

    def _idle(self) -> bool:
        """Nobody is using the kiosk: the start screen, no refusal shown, nothing being typed."""
        session = self.session
        return (
            not self.window.in_maintenance
            and session.screen is Screen.ATTRACT
            and session.notice is None
            and not session.rating_open
            and not self.window.attract.code_input.text()
        )

    def _offer_if_idle(self) -> None:
        while self._idle():
            now = self.clock()
            offer = self.offers.take(now)
            if offer is None:
                return
            try:
                self.session.offer_return(offer.receipt, now)
            except ReceiptRefused as refused:
                log.warning("return offer %s refused: %s", offer.id, refused.reason)
                continue
            except StaleAction as stale:
                log.info("return offer %s not shown: %s", offer.id, stale)
                continue
            self._write(now)
            self.render()
            return

    def _write(self, now: datetime) -> None:
        """Carry out the writes the session asked for, in order, each durable before the next
        screen is drawn; then, where the flow reached SAVING, thank the citizen only if the
        rating is closed on disk.

        A write that fails is logged and left to the next write of the same rating, which carries
        every answer (the outbox inserts a rating it does not hold yet). Only a failed close is
        the citizen's business: "the kiosk could not save your rating".
        """
        closed = True
        for effect in self.session.take_effects():
            if not self._carry_out(effect) and isinstance(effect, SaveRating):
                closed = closed and not effect.close
        if self.session.screen is Screen.SAVING:
            if closed:
                self.session.stored(now)
            else:
                self.session.store_failed(now)

    def _carry_out(self, effect: SaveRating | SaveAbandoned) -> bool:
        if isinstance(effect, SaveAbandoned):
            return self._record_abandoned(effect)
        try:
            rating = self.outbox.save(effect.rating_id, effect.build, close=effect.close)
        except OutboxError:
            what = "close" if effect.close else "hold"
            log.exception("could not %s rating %s in the outbox", what, effect.rating_id)
            if effect.close:
                self.save_failed.emit()
            return False
        if effect.close:
            self.rating_saved.emit(rating.id)
            self._wake_uplink()
            self._show_link()
        return True

    def _record_abandoned(self, effect: SaveAbandoned) -> bool:
        """Write an abandoned session; a failure is logged only (the citizen has left, and a
        missing record costs one count, never a rating)."""
        try:
            self.outbox.save_abandoned(effect.session_id, effect.build)
        except OutboxError:
            log.exception("could not record abandoned session %s in the outbox", effect.session_id)
            return False
        self._wake_uplink()
        return True

    def _wake_uplink(self) -> None:
        """Have the uplink publish what was just committed, once the next screen is drawn.

        Woken at the tap, its thread (reading the outbox, publishing) ran during the repaint of
        the next screen and, on one slow core, made the citizen wait for it (kiosk/ui/after_paint.py).
        The rating is on disk already; publishing a few milliseconds later changes nothing else.
        """
        if self.uplink is not None:
            self._uplink_waker.arm()

    # -- scanner on any screen ---------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.MouseButtonPress:
            self.session.touch(self.clock())
            return False
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        # A key event visits the window, the focused widget and its parents: count it once.
        if watched is not (QApplication.focusWidget() or self.window):
            return False
        self.session.touch(self.clock())
        now = time.monotonic()
        if event.key() in _ENTER_KEYS:
            scanned = self.scanner.enter(now)
            if scanned is None:
                return False
            self.scanned(scanned)
            return True
        self.scanner.key(event.text(), now)
        return False

    # -- staff --------------------------------------------------------------------------------

    def open_maintenance(self) -> None:
        self.window.maintenance.ask_pin()
        self.window.show_maintenance()

    def unlock(self, pin: str) -> None:
        now = self.clock()
        if self.pins.check(pin, now):
            self._show_status()
            return
        if self.pins.pin is None:
            message = "Chưa cấu hình mã PIN / no staff PIN configured"
        elif self.pins.locked(now):
            message = "Nhập sai nhiều lần, thử lại sau 5 phút / too many attempts, wait 5 minutes"
        else:
            message = "Mã PIN không đúng / wrong PIN"
        self.window.maintenance.ask_pin(message)

    def _show_status(self) -> None:
        uplink = self.uplink
        last_ack = uplink.last_ack_at if uplink else None
        self.window.maintenance.show_status(
            {
                "kiosk": f"{self.settings.kiosk.id} ({self.settings.kiosk.unit})",
                "version": __version__,
                "link": "đã kết nối / online"
                if uplink and uplink.connected
                else "ngoại tuyến / offline",
                "depth": str(self.outbox.depth()),
                "rejected": str(self.outbox.rejected_count()),
                "last_ack": (
                    unit_time(last_ack, _time_zone(self)).strftime("%d/%m/%Y %H:%M:%S")
                    if last_ack
                    else "—"
                ),
                "scanner": self.last_scan[:120] or "—",
            }
        )

    # -- drawing ----------------------------------------------------------------------------

    def render(self) -> None:
        session, window = self.session, self.window
        lang, screen = session.lang, session.screen
        window.attract.set_lang(lang)
        window.rating.set_lang(lang)
        window.reasons.set_lang(lang)
        window.set_lang(lang)
        window.comment.title.set_lang(lang)
        notice = session.notice
        if screen is Screen.ATTRACT:
            window.attract.show_error(
                notice.vi if notice else None, notice.en if notice else None, lang
            )
        elif screen is Screen.RATING and session.subject is not None:
            window.rating.show_subject(*self.describe(session.subject))
        elif screen is Screen.REASONS:
            window.reasons.show_ticked(session.answers.reasons)
        elif screen is Screen.COMMENT:
            window.comment.error.setText(f"{notice.vi}\n{notice.en}" if notice else "")
        elif screen is Screen.SURVEY_INVITE:
            window.invite.set_lang(lang)
        elif screen is Screen.SURVEY:
            total = len(QUESTIONS)
            window.survey.show_question(session.survey_factor, session.survey_index, total, lang)
        elif screen is Screen.SAVING:
            window.message.show_text(*SAVING, lang)
        elif screen is Screen.THANKS:
            window.message.show_text(*THANKS, lang)
        elif screen is Screen.MESSAGE and notice is not None:
            window.message.show_text(notice.vi, notice.en, lang, problem=notice is NOT_SAVED)
        window.show_screen(screen)
        self._speak_screen()

    def describe(self, subject: Subject) -> tuple[str, str]:
        """Names, not codes, where the unit's configuration has arrived."""
        catalogue = self.catalogue
        procedures = {p.code: p.name for p in catalogue.procedures} if catalogue else {}
        counters = {c.code: c.name for c in catalogue.counters} if catalogue else {}
        officers = {o.code: o.name for o in catalogue.officers} if catalogue else {}
        if subject.procedure:
            name = procedures.get(subject.procedure, subject.procedure)
            procedure = f"Thủ tục / Procedure: {name}"
        else:
            procedure = "Hồ sơ / Dossier: " + (subject.dossier_code or "—")
        parts = []
        if subject.counter:
            parts.append(f"Quầy / Counter: {counters.get(subject.counter, subject.counter)}")
        if subject.officer:
            parts.append(f"Cán bộ / Officer: {officers.get(subject.officer, subject.officer)}")
        stage = (
            "Tiếp nhận hồ sơ / reception"
            if subject.stage == "reception"
            else "Trả kết quả / return"
        )
        parts.append(stage)
        if subject.dossier_code and subject.procedure:
            # No-break spaces: a narrow screen wraps before the label, never inside it.
            parts.append(f"Mã\u00a0hồ\u00a0sơ:\u00a0{subject.dossier_code}")
        return procedure, "   ·   ".join(parts)

    def use_config(self, config: UnitConfigMessage) -> None:
        """The unit's configuration (from the hub, or the outbox's cached copy)."""
        self.catalogue = config
        self.window.reasons.set_reasons(config.reasons)
        self._apply_policy(config.policy)
        name = config.name
        self.window.unit_label.setText(f"{name} · {self.settings.kiosk.id}")
        self.window.apply_scale(self.window.width(), self.window.height())

    def _apply_policy(self, policy: KioskPolicy) -> None:
        self.session.policy = policy
        self.window.rating.set_faces(policy.faces)
        self.window.survey.set_faces(policy.faces)
        self.window.attract.set_walk_in(policy.allow_walk_in)
        if self.catalogue is None:
            self.window.unit_label.setText(f"{self.settings.kiosk.unit} · {self.settings.kiosk.id}")
        self._speak_screen()  # a policy that switched always-speak on: the screen shown speaks

    def _show_link(self) -> None:
        online = bool(self.uplink and self.uplink.connected)
        self.window.show_link(online=online, depth=self.outbox.depth())
