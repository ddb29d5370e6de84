"""A counter with no screen (``hailong bridge``): scan the receipt, press one of five buttons, see a
light.

The rating follows the kiosk's own rules because it is made by the kiosk's own code: a
:class:`kiosk.domain.session.RatingSession` verifies the scanned receipt (signature, unit, age,
already rated here or at the hub), applies the walk-in interval and builds the
:class:`RatingMessage`; :class:`kiosk.outbox.Outbox` commits it and :class:`kiosk.uplink.Uplink`
delivers it until the hub acknowledges it. Only the channel differs (``button_box``).

* Scan of a valid receipt: the box is armed for that receipt (until ``kiosk.idle_reset_seconds``).
* Scan refused (forged, other unit, expired, already rated): light "fault" and a buzz; nothing
  is stored.
* Press while armed: one rating for that receipt, then the box is disarmed; light "buffered" once
  it is on disk, "accepted" when the hub's ack arrives.
* A scan that ends without a press (the box disarms after ``kiosk.idle_reset_seconds``, another
  receipt is scanned, the bridge stops) is recorded as an *abandoned session*, exactly as the
  touchscreen kiosk records it (:class:`kiosk.domain.session.SaveAbandoned`: ``timeout``,
  ``next_scan``, ``closed``), and sent to the hub like a rating, so the unit's coverage counts the
  receipts scanned at a box and never rated.
* Press while not armed: a walk-in rating of the counter where configured, at most one per
  ``walk_in_min_interval_seconds``; otherwise (and inside the interval) counted and ignored.
* Hold (a button kept down): this box has no voice to switch on, so it is counted in ``ignored``
  as ``hold`` and logged; nothing is rated, the light and the buzzer do not change (a buzz here
  means a refused receipt), and an armed receipt stays armed for the short press that follows.
* Any light other than "idle" returns to "idle" after ``idle_after_seconds``
  (:class:`firmware_bridge.lights.StatusLight`, shared with a box beside a kiosk).

It lives with the counter code because it *is* a counter: the device library ``firmware_bridge``
only speaks to the hardware (frames, port, light) and knows nothing of ratings. :class:`Bridge`
wires the serial link, the box, the outbox and the uplink together.

Handlers run on the serial reader thread (scans, presses), the uplink thread (acks) and a small
timer thread; one lock serialises them.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType

from firmware_bridge.lights import StatusLight
from firmware_bridge.protocol import DeviceInfo, Heartbeat, Hold, Message, Press, Scan
from firmware_bridge.serial_port import LinkState, link_to
from hailong.contract.messages import AbandonReason, AckOutcome, KioskPolicy, RatingMessage
from hailong.contract.scale import Channel, Score
from hailong.settings import FirmwareBridgeSettings
from kiosk.domain.screen import Screen
from kiosk.domain.session import RatingSession, SaveAbandoned, Tick
from kiosk.outbox import Outbox, OutboxError
from kiosk.uplink import Uplink

log = logging.getLogger(__name__)
_EXPIRED = (Tick.RESET, Tick.SAVE_AND_RESET)


def _revoked_keys(outbox: Outbox) -> tuple[str, ...]:
    """Receipt keys the hub revoked, from the unit config the uplink keeps in the outbox."""
    config = outbox.load_unit_config()
    return config.revoked_keys if config else ()


def _dossier_patterns(outbox: Outbox) -> tuple[str, ...]:
    """The unit's own dossier code patterns, from the unit config the uplink keeps."""
    config = outbox.load_unit_config()
    return tuple(config.dossier_patterns or ()) if config else ()


class ButtonBox:
    def __init__(
        self,
        settings: FirmwareBridgeSettings,
        outbox: Outbox,
        uplink: Uplink | None,
        send: Callable[[Message], object],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings, self.outbox, self.uplink, self.send = settings, outbox, uplink, send
        self.clock = clock
        box = settings.bridge
        self.session = RatingSession(
            settings.kiosk,
            settings.receipts.keyring(),
            outbox.has_rated,
            policy=KioskPolicy(
                allow_walk_in=box.walk_in,
                unverified_min_interval_s=box.walk_in_min_interval_seconds,
                survey_share=0.0,
            ),
            draw=lambda: 1.0,  # no survey: a box has no screen to ask it on
            stage_of=outbox.stage_of,
            on_refused=outbox.count_refusal,
            revoked_keys=lambda: _revoked_keys(outbox),
            dossier_patterns=lambda: _dossier_patterns(outbox),
        )
        self.lights = StatusLight(send, box.idle_after_seconds)
        self.ignored: collections.Counter[str] = collections.Counter()  # presses, by reason
        self.refused: collections.Counter[str] = collections.Counter()  # scans, by reason
        self.device: DeviceInfo | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._timer = threading.Thread(target=self._tick_loop, name="button-box", daemon=True)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer; a receipt still armed is recorded as abandoned (``closed``), as the
        kiosk does when it stops."""
        self._stop.set()
        if self._timer.is_alive():
            self._timer.join(timeout=5)
        with self._lock:
            self._end("closed")

    # -- from the device -----------------------------------------------------------------------

    def handle(self, message: Message) -> None:
        with self._lock:
            if isinstance(message, Scan):
                self._scan(message.text)
            elif isinstance(message, Press):
                self._press(Score(message.level))
            elif isinstance(message, Hold):
                self._ignore("hold")  # no voice on a box without a screen; never a rating
            elif isinstance(message, DeviceInfo):
                self.device = message
                log.info(
                    "button box %s, firmware %s, %d buttons",
                    message.model,
                    message.firmware,
                    message.buttons,
                )
            elif not isinstance(message, Heartbeat):
                log.debug("ignoring %r from the device", message)

    def link_changed(self, state: LinkState) -> None:
        """The serial link's state: the hub sees it in the status; the light is shown again."""
        if self.uplink is not None:
            self.uplink.devices.states["button_box"] = "ok" if state == "connected" else "error"
        if state == "connected":
            self.lights.resend()

    def _scan(self, text: str) -> None:
        if self.uplink is not None:
            self.uplink.devices.scanned(datetime.now(UTC))
        now = self.clock()
        screen = self.session.submit_code(text, now)
        self._record_abandoned()  # the receipt armed before, if this scan replaced it
        if screen is Screen.RATING:
            subject = self.session.subject
            log.info("armed for %s", subject.dossier_code if subject else "?")
            self.lights.show("idle")
            return
        reason = "already_rated" if screen is Screen.MESSAGE else "refused"
        self.refused[reason] += 1
        log.info("scan refused (%s)", self.session.notice.en if self.session.notice else reason)
        self.session.reset()
        self.lights.fault()

    def _press(self, score: Score) -> None:
        now = self.clock()
        if self.session.screen is not Screen.RATING:
            if not self.settings.bridge.walk_in:
                self._ignore("not_armed")
                return
            if self.session.walk_in(now) is not Screen.RATING:
                self.session.reset()
                self._ignore("walk_in_too_soon")
                return
        self.session.choose_score(score, now)
        build = self.session.rating_builder(now)

        def build_for_box(seq: int) -> RatingMessage:
            return build(seq).model_copy(update={"channel": Channel.BUTTON_BOX})

        try:
            rating = self.outbox.append(build_for_box)
        except OutboxError:
            log.exception("could not store a rating in the outbox")
            self.session.reset()
            self.lights.fault()
            return
        self.session.stored(now)  # starts the walk-in interval after an unverified rating
        self.session.reset()
        log.info("rating %s stored (seq %d, score %d)", rating.id, rating.seq, rating.score)
        self.lights.stored(rating.id)
        if self.uplink is not None:
            self.uplink.notify_new()

    def _ignore(self, reason: str) -> None:
        self.ignored[reason] += 1
        log.debug("press ignored (%s); %d ignored so far", reason, sum(self.ignored.values()))

    # -- from the hub --------------------------------------------------------------------------

    def acked(self, results: tuple[AckOutcome, ...]) -> None:
        """The hub's verdicts (uplink thread): light the last rating's outcome."""
        with self._lock:
            # The next citizen already rating: do not confuse them with the last one's light.
            self.lights.acked(results, busy=self.session.screen is Screen.RATING)

    @property
    def light(self) -> str:
        """What the device's light shows now."""
        return self.lights.state

    # -- timer ---------------------------------------------------------------------------------

    def _tick_loop(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self.tick()
            except Exception:  # never let the timer die
                log.exception("button box timer failed")

    def tick(self) -> None:
        with self._lock:
            screen = self.session.screen
            if screen is Screen.RATING and self.session.tick(self.clock()) in _EXPIRED:
                log.info("armed receipt expired without a press")
                self._end("timeout")
        self.lights.tick()

    def _end(self, why: AbandonReason) -> None:
        """Disarm (under the lock): a receipt armed and never pressed is recorded as abandoned."""
        self.session.end(self.clock(), why)
        self._record_abandoned()
        self.session.reset()

    def _record_abandoned(self) -> None:
        """Write the abandoned sessions the session asked for, as the kiosk's controller does: on
        disk before the box goes on, published like a rating; a failure is logged only (the
        citizen has left, and a missing record costs one count, never a rating). The box writes
        its ratings itself (:meth:`_press`, channel ``button_box``), so no other effect is taken
        here."""
        written = False
        for effect in self.session.take_effects():
            if not isinstance(effect, SaveAbandoned):
                continue
            try:
                self.outbox.save_abandoned(effect.session_id, effect.build)
            except OutboxError:
                log.exception("could not record abandoned session %s", effect.session_id)
                continue
            written = True
            log.info("abandoned session %s recorded", effect.session_id)
        if written and self.uplink is not None:
            self.uplink.notify_new()


class Bridge:
    """A box wired to its own outbox and uplink, exactly as a kiosk is (same code, same
    exactly-once guarantee: only the hub's ack empties the outbox)."""

    def __init__(self, settings: FirmwareBridgeSettings, *, retry_every: float = 1.0) -> None:
        self.settings = settings
        kiosk = settings.kiosk
        self.outbox = Outbox(kiosk.outbox_path)
        self.uplink = Uplink(
            settings.mqtt,
            kiosk.unit,
            kiosk.id,
            self.outbox,
            resend_after=kiosk.resend_after_seconds,
        )
        self.link = link_to(
            settings.bridge,
            on_message=lambda message: self.box.handle(message),
            on_state=lambda state: self.box.link_changed(state),
            retry_every=retry_every,
        )
        self.box = ButtonBox(settings, self.outbox, self.uplink, self.link.send)
        self.uplink.on_acked = self.box.acked
        self.uplink.devices.states["button_box"] = "missing"

    def start(self) -> None:
        self.uplink.start()
        self.box.start()
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        self.box.stop()
        self.uplink.stop()
        self.outbox.close()

    def __enter__(self) -> Bridge:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_bridge(settings: FirmwareBridgeSettings) -> int:
    """Run until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Bridge(settings) as bridge:
        where = settings.bridge.describe()
        log.info(
            "button box bridge for %s (%s) on %s", settings.kiosk.id, settings.kiosk.unit, where
        )
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        log.info(
            "stopping: %d ratings pending, presses ignored %s, bad frames %s",
            bridge.outbox.depth(),
            dict(bridge.box.ignored),
            dict(bridge.link.errors),
        )
    return 0
