"""The hub's offers of a rating at the return, as this kiosk keeps them until it is free (pure).

The hub offers a dossier's rating when its officer records the return (trả kết quả): see
:mod:`hailong.contract.return_offer`. The kiosk may be busy with another citizen then (rating,
reasons, survey, thanks). That citizen is never interrupted: the offer waits here, first come
first served, until the kiosk is idle again, and is dropped once it expires (the citizen it was
for has left). So a queue, not "ignore while busy": the officer hands a result back while the
previous citizen finishes rating, and the next one should not be left without the offer.

What is refused here (and logged, never shown: nobody at the kiosk asked for it): an offer for
another kiosk, an expired one, the same offer again (a QoS 1 redelivery, known by its id). The
receipt inside is checked when the offer is shown, like a scan
(:meth:`kiosk.domain.session.RatingSession.offer_return`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from hailong.contract.return_offer import OfferRefusal, ReturnOfferMessage, offer_refusal

# Offers waiting at most: one counter hands back a few results a minute, and each stands for
# minutes. Past this, the oldest goes (its citizen is the likeliest to have left).
MAX_WAITING = 8
# Offer ids remembered, so a redelivered offer is not shown a second time after the first.
MAX_REMEMBERED = 256


@dataclass
class ReturnOffers:
    """The offers this kiosk was sent and has not shown yet, oldest first."""

    kiosk: str
    _waiting: deque[ReturnOfferMessage] = field(default_factory=deque)
    _seen: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_REMEMBERED))

    def receive(self, offer: ReturnOfferMessage, now: datetime) -> OfferRefusal | None:
        """Keep ``offer`` for the next idle moment, or say why not. A newer offer of a dossier
        already waiting replaces it (the officer recorded the return twice)."""
        refusal = offer_refusal(offer, self.kiosk, now)
        if refusal is None and str(offer.id) in self._seen:
            refusal = "duplicate"
        if refusal is not None:
            return refusal
        self._seen.append(str(offer.id))
        for waiting in list(self._waiting):
            if waiting.receipt == offer.receipt:
                self._waiting.remove(waiting)
        self._waiting.append(offer)
        while len(self._waiting) > MAX_WAITING:
            self._waiting.popleft()
        return None

    def take(self, now: datetime) -> ReturnOfferMessage | None:
        """The oldest offer still standing at ``now``, removed; expired ones are dropped."""
        while self._waiting:
            offer = self._waiting.popleft()
            if now < offer.expires_at:
                return offer
        return None

    def __len__(self) -> int:
        return len(self._waiting)
