"""The hub's offer to a kiosk: "the result of this dossier was just handed back at your counter".

At the return (trả kết quả) the officer often keeps the slip, so the citizen has nothing to scan.
When the officer records the return (scan, staff page or API), the hub publishes one
:class:`ReturnOfferMessage` to each kiosk of that counter on ``hailong/v1/<unit>/<kiosk>/offers``
(QoS 1, never retained, with an MQTT 5 message expiry), and the kiosk opens the rating screen for
that dossier as if its slip had been scanned. The officer's action chooses no score and stores
nothing: the citizen still taps a face, and a citizen who walks away leaves nothing but, at most,
an abandoned session, exactly as after a scan.

What the kiosk trusts, and why:

* ``receipt`` is the signed receipt URL from the hub's register, the very text the slip's QR
  holds. The kiosk checks it exactly like a scan (:func:`hailong.contract.receipt.check`), so a
  forged offer is refused for the same reasons a forged slip is, even if something other than
  the hub managed to publish it. The stage is the return: the offer itself is the notice.
* ``kiosk`` names the one kiosk it is for; another kiosk refuses it (``other_kiosk``). Only the hub
  may publish on offer topics (the broker's ACL: each kiosk reads its own, writes none), so this
  guards against a misrouted message, not against a kiosk.
* ``expires_at``: an offer is for the citizen standing at the counter now. It is refused from that
  instant on by the kiosk's clock (``expired``), and the broker drops it once its message expiry
  interval has passed, which needs no clock at all (a kiosk offline for ten minutes never sees the
  offer on reconnection). A lifetime longer than :data:`MAX_OFFER_SECONDS` is not an offer.

``id`` is the hub's record of the offer (``return_offers``), so a QoS 1 redelivery is recognised.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal, get_args
from uuid import UUID

from pydantic import Field, model_validator

from hailong.contract.messages import Code, Instant, _decode_as, _Message
from hailong.contract.receipt import MAX_SCAN_LENGTH

# How long an offer stands by default: the officer hands the result back, the citizen turns to the
# kiosk beside the counter. Long enough to finish with the officer first, short enough that the
# next citizen at the counter is not offered the previous one's dossier.
DEFAULT_OFFER_SECONDS = 180
# The most any offer may stand: past this the citizen has left the counter.
MAX_OFFER_SECONDS = 600

OfferRefusal = Literal[
    "other_kiosk",  # addressed to another kiosk (a misrouted message)
    "expired",  # its lifetime ended by this kiosk's clock
    "duplicate",  # the same offer again (a QoS 1 redelivery)
]
OFFER_REFUSALS: tuple[OfferRefusal, ...] = get_args(OfferRefusal)


class ReturnOfferMessage(_Message):
    """One kiosk is offered the rating of one dossier whose result was just handed back."""

    id: UUID
    unit: Code
    kiosk: Code
    # The counter where the result was handed back (the kiosk's own): for the kiosk's log only.
    counter: Code
    # The signed receipt URL, as the slip's QR holds it: checked by the kiosk like a scan.
    receipt: Annotated[str, Field(min_length=1, max_length=MAX_SCAN_LENGTH)]
    offered_at: Instant
    expires_at: Instant

    @model_validator(mode="after")
    def _lifetime(self) -> ReturnOfferMessage:
        life = self.expires_at - self.offered_at
        if not timedelta(0) < life <= timedelta(seconds=MAX_OFFER_SECONDS):
            raise ValueError(
                f"an offer stands more than 0 and at most {MAX_OFFER_SECONDS} s, not {life}"
            )
        return self


def decode_return_offer(payload: bytes) -> ReturnOfferMessage:
    """Parse and validate an offer; raises :class:`~hailong.contract.messages.ContractError`."""
    return _decode_as(ReturnOfferMessage, payload)


def offer_refusal(offer: ReturnOfferMessage, kiosk: str, now: datetime) -> OfferRefusal | None:
    """Why this kiosk must not show ``offer`` at ``now`` (its own clock), or None if it may.

    The receipt inside is checked later, like a scan, when the offer is shown: a receipt key may
    be revoked in between. An offer dated in the kiosk's future is taken (a kiosk clock behind the
    hub's must still work); the broker's expiry bounds how old it can really be.
    """
    if offer.kiosk != kiosk:
        return "other_kiosk"
    if now >= offer.expires_at:
        return "expired"
    return None
