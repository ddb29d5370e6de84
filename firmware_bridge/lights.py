"""The button box's status light, shared by the standalone box and a box beside a kiosk.

Both show the citizen the same thing for the same event, so the rules live here once:
``buffered`` once the rating is on disk, ``accepted`` when the hub's ack for that rating arrives
(``fault`` if the hub rejects it), ``fault`` and a buzz on a refused scan or a failed write; any
state but ``idle`` goes back to ``idle`` after ``idle_after`` seconds, and the current state is
sent again when the device reconnects (what it was told while unplugged is lost).

Calls come from several threads (the serial reader, the uplink, a timer, the Qt thread): one
lock serialises them. ``send`` must be safe to call from any thread (``SerialLink.send`` is).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from uuid import UUID

from firmware_bridge.protocol import Buzz, Light, Message
from hailong.contract.messages import AckOutcome

FAULT_BUZZ_MS = 400
# The hub's verdicts that mean "counted" (or already counted): the light says accepted.
DONE = ("stored", "duplicate", "already_rated")


class StatusLight:
    def __init__(
        self,
        send: Callable[[Message], object],
        idle_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.send, self.idle_after, self.clock = send, idle_after, clock
        self.state = "idle"
        self._since = clock()
        self._waiting_for: UUID | None = None  # the last stored rating, until its ack
        self._lock = threading.RLock()

    def show(self, state: str) -> None:
        with self._lock:
            self.state = state
            self._since = self.clock()
            self.send(Light(state))

    def fault(self) -> None:
        """Something the citizen must notice: a refused scan, a rating that could not be stored."""
        with self._lock:
            self.show("fault")
            self.send(Buzz(FAULT_BUZZ_MS))

    def stored(self, rating: UUID) -> None:
        """The rating is on disk, not yet acknowledged by the hub."""
        with self._lock:
            self._waiting_for = rating
            self.show("buffered")

    def acked(self, results: Iterable[AckOutcome], *, busy: bool = False) -> None:
        """The hub's verdicts: light the last rating's outcome, unless the next citizen is
        already rating (``busy``) and a change of light would confuse them."""
        with self._lock:
            for result in results:
                if result.id != self._waiting_for:
                    continue
                self._waiting_for = None
                if not busy:
                    self.show("accepted" if result.outcome in DONE else "fault")

    def resend(self) -> None:
        """The device (re)connected: tell it again what it should show."""
        with self._lock:
            self.send(Light(self.state))

    def tick(self) -> None:
        """Called a few times a second: a light other than idle goes back to idle in time."""
        with self._lock:
            if self.state != "idle" and self.clock() - self._since >= self.idle_after:
                self.show("idle")
