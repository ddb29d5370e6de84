"""How long a kiosk waits for the hub's ack before sending a rating again.

A rating whose ack is overdue is resent; the hub answers a copy it already holds "duplicate". Many
such answers mean the kiosk was impatient, not that anything was lost: the hub (or this kiosk's
own reading of acks) is behind, say after a hundred kiosks reconnect at once. Resending then only
adds work where there is already too much: in a 100-kiosk storm a fixed 30 s made the hub answer
a quarter of a million copies. So the wait doubles with each ack that reports duplicates, up to a
cap, and returns to the configured value once everything sent has been acknowledged. A rating is
never given up on: it is only resent later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hailong.contract.messages import AckOutcome

# However far behind the hub is, an unacknowledged rating is sent again within this long.
MAX_WAIT_S = 600.0


@dataclass
class ResendPatience:
    base: float  # the configured ``resend_after``
    cap: float = MAX_WAIT_S
    wait: float = field(init=False)

    def __post_init__(self) -> None:
        self.wait = self.base

    def acked(self, results: Iterable[AckOutcome], *, nothing_pending: bool) -> None:
        """Learn from one ack message; ``nothing_pending``: the outbox has no rating left to ack."""
        if nothing_pending:
            self.wait = self.base
        elif any(r.outcome == "duplicate" for r in results):
            self.wait = min(self.wait * 2, max(self.cap, self.base))
