"""How long a kiosk waits for the hub's ack before sending a rating again.

A rating whose ack is overdue is resent; the hub answers a copy it already holds "duplicate". Many
such answers mean the kiosk was impatient, not that anything was lost: the hub (or this kiosk's
own reading of acks) is behind, say after a hundred kiosks reconnect at once. Resending then only
adds work where there is already too much: in a 100-kiosk storm a fixed 30 s made the hub answer
a quarter of a million copies. So the wait doubles when a round of resends is answered
"duplicate", up to a cap, and returns to the configured value once everything sent has been
acknowledged. A rating is never given up on: it is only resent later.

It doubles at most once per round (once per current wait), not once per ack message. One round
of resends comes back as many ack messages; doubling on each of them took the wait from seconds
to the cap within one round, and a rating the hub really had lost (a hub killed after acking the
broker, before committing) then waited ten minutes among the duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hailong.contract.messages import AckOutcome

# However far behind the hub is, an unacknowledged rating is sent again within this long.
MAX_WAIT_S = 600.0


@dataclass
class ResendPatience:
    base: float  # the configured ``resend_after``
    cap: float = MAX_WAIT_S
    clock: Callable[[], float] = time.monotonic
    wait: float = field(init=False)
    _raised_at: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.wait = self.base

    def acked(self, results: Iterable[AckOutcome], *, nothing_pending: bool) -> None:
        """Learn from one ack message; ``nothing_pending``: the outbox has no rating left to ack."""
        if nothing_pending:
            self.wait, self._raised_at = self.base, None
            return
        if not any(r.outcome == "duplicate" for r in results):
            return
        now = self.clock()
        if self._raised_at is not None and now - self._raised_at < self.wait:
            return  # this round already raised the wait
        self.wait = min(self.wait * 2, max(self.cap, self.base))
        self._raised_at = now
