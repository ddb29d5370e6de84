"""A serial button box beside the kiosk: its scans and presses act as USB scans and taps.

The serial link (:mod:`firmware_bridge.serial_port`) reads in its own thread and reconnects after
an unplug; Qt widgets may only be touched on the Qt thread, so every message crosses over through
a queued Qt signal before it reaches the kiosk. The kiosk is seen through :class:`TapTarget`, the
calls a citizen's hands end in, so this module knows nothing of screens or the outbox:

* Scan: :meth:`TapTarget.scanned`, the path a keyboard-mode USB scan takes.
* Press: :meth:`TapTarget.press`, a tap on the face for that level. It rates only on the rating
  screen; anywhere else the press is counted in :attr:`SerialInput.ignored` and logged, so a
  button leaned on at the idle screen never invents a rating.
* Hold (a button kept down, docs/serial-protocol.md): :meth:`TapTarget.speak`, the ♪ path: the
  screen is read aloud and every next one speaks until this citizen leaves. A hold never rates,
  on any screen: the box sends no Press for it.

The device's light follows what the kiosk did, with the standalone box's rules
(:class:`firmware_bridge.lights.StatusLight`): ``buffered`` when a rating is on disk, ``accepted``
on the hub's ack, ``fault`` and a buzz on a refused code or a failed write.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Iterable
from typing import Protocol
from uuid import UUID

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from firmware_bridge.lights import StatusLight
from firmware_bridge.protocol import DeviceInfo, Hold, Message, Press, Scan
from firmware_bridge.serial_port import RETRY_EVERY_S, LinkState, link_to
from hailong.contract.messages import AckOutcome
from hailong.contract.scale import Score
from hailong.settings import SerialDevice
from kiosk.uplink import DeviceReport

log = logging.getLogger(__name__)
DEVICE = "button_box"  # the name in the kiosk's status report, as for a standalone box
LIGHT_TICK_MS = 200
_QUEUED = Qt.ConnectionType.QueuedConnection


class TapTarget(Protocol):
    """What the kiosk offers a hardware input (``KioskController`` implements it)."""

    def scanned(self, text: str) -> None:
        """A complete scan, as from a USB scanner."""

    def press(self, score: Score) -> str | None:
        """A tap on the face for ``score``; the reason it was ignored, or None if it rated."""

    def is_rating(self) -> bool:
        """The rating screen is up (a citizen is about to tap a face)."""

    def speak(self) -> None:
        """♪: read this screen aloud, and every next one for this citizen."""


class SerialInput(QObject):
    _received = Signal(object)  # a Message, from the reader thread
    _acks = Signal(object)  # a tuple of AckOutcome, from the uplink thread

    def __init__(
        self,
        device: SerialDevice,
        target: TapTarget,
        devices: DeviceReport | None = None,
        *,
        retry_every: float = RETRY_EVERY_S,
    ) -> None:
        super().__init__()
        self.target, self.devices = target, devices
        self.ignored: collections.Counter[str] = collections.Counter()  # presses, by reason
        self.holds = 0  # holds taken as "read this to me"
        self.device_info: DeviceInfo | None = None
        self.link = link_to(
            device,
            on_message=self._received.emit,
            on_state=self._link_changed,
            retry_every=retry_every,
        )
        self.lights = StatusLight(self.link.send, device.idle_after_seconds)
        self._received.connect(self._handle, _QUEUED)
        self._acks.connect(self._light_acks, _QUEUED)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.lights.tick)
        if devices is not None:
            devices.states[DEVICE] = "missing"

    def start(self) -> None:
        self._timer.start(LIGHT_TICK_MS)
        self.link.start()

    def stop(self) -> None:
        self._timer.stop()
        self.link.stop()

    # -- from the device (Qt thread, via the queued signal) -------------------------------------

    def _handle(self, message: Message) -> None:
        if isinstance(message, Scan):
            self.target.scanned(message.text)
            if self.target.is_rating():
                self.lights.show("idle")  # clear a fault left by the previous citizen
        elif isinstance(message, Press):
            reason = self.target.press(Score(message.level))
            if reason is not None:
                self.ignored[reason] += 1
                log.info(
                    "button %d ignored (%s); %d ignored so far",
                    message.level,
                    reason,
                    sum(self.ignored.values()),
                )
        elif isinstance(message, Hold):
            self.holds += 1
            log.info(
                "button %d held %d ms: voice on for this citizen", message.level, message.held_ms
            )
            self.target.speak()
        elif isinstance(message, DeviceInfo):
            self.device_info = message
            log.info(
                "button box %s, firmware %s, %d buttons",
                message.model,
                message.firmware,
                message.buttons,
            )

    def _link_changed(self, state: LinkState) -> None:
        """Reader thread: the status report sees the link; a reconnected device is told its light."""
        if self.devices is not None:
            self.devices.states[DEVICE] = "ok" if state == "connected" else "error"
        if state == "connected":
            self.lights.resend()

    # -- what the kiosk did (Qt thread; connect the controller's signals here) ------------------

    def saved(self, rating: UUID) -> None:
        self.lights.stored(rating)

    def failed(self) -> None:
        self.lights.fault()

    def refused(self) -> None:
        self.lights.fault()

    def acked(self, results: Iterable[AckOutcome]) -> None:
        """The hub's verdicts; any thread (the uplink calls it from its own)."""
        self._acks.emit(tuple(results))

    def _light_acks(self, results: tuple[AckOutcome, ...]) -> None:
        self.lights.acked(results, busy=self.target.is_rating())
