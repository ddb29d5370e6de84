"""Rating later, on the citizen's phone: the receipt QR's URL opens a page on the hub.

The same rules as at the kiosk: the receipt's signature is checked, one rating per receipt and
stage, the register decides the stage. The rating goes through the same store as MQTT ratings
(``store_batch``), marked ``channel = online``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import AckOutcome, RatingMessage, ReceiptRef
from hailong.contract.receipt import KeyRing, ReceiptClaims, SignedReceipt, parse_scan, verify
from hailong.contract.scale import Channel, Score, Stage
from hailong.settings import Unit
from hub.domain.ingest import attribute
from hub.store.models import RatingRow
from hub.store.ratings import receipt_facts, store_batch

ONLINE_KIOSK = "online"  # the "kiosk" of ratings made on a phone


@dataclass(frozen=True)
class OnlineReceipt:
    """A receipt opened from its QR: what it vouches for and which stage a rating now is for."""

    claims: ReceiptClaims
    stage: Stage
    already_rated: bool


def open_receipt(
    sessions: sessionmaker[Session],
    unit: Unit,
    keyring: KeyRing,
    url: str,
) -> OnlineReceipt:
    """Verify the QR's URL; raises ``ReceiptRefused`` with the reason when it is not genuine."""
    scanned = parse_scan(url)
    if not isinstance(scanned, SignedReceipt):
        raise ValueError("a receipt URL carries a signature")
    claims = verify(scanned, keyring, unit.unit.code)
    code = str(claims.code)
    with sessions() as session:
        facts = receipt_facts(session, [code]).get(code)
        returned = facts is not None and facts.returned_at is not None
        stage = Stage.RETURN if returned else Stage.RECEPTION
        rated = session.scalar(
            select(RatingRow.id).where(
                RatingRow.unit == unit.unit.code,
                RatingRow.dossier_code == code,
                RatingRow.stage == stage.value,
            )
        )
    return OnlineReceipt(claims, stage, rated is not None)


def store_online_rating(
    sessions: sessionmaker[Session],
    unit: Unit,
    receipt: OnlineReceipt,
    *,
    score: Score,
    reasons: tuple[str, ...],
    comment: str | None,
    lang: str,
    now: datetime | None = None,
) -> AckOutcome:
    """Store the rating in one transaction; ``already_rated`` if the receipt was rated first."""
    moment = now or datetime.now(UTC)
    claims = receipt.claims
    known = {r.code for r in unit.reasons}
    rating = RatingMessage(
        id=uuid.uuid4(),
        unit=unit.unit.code,
        kiosk=ONLINE_KIOSK,
        seq=1,  # no device sequence online: gaps are tracked per kiosk only
        receipt=ReceiptRef(code=str(claims.code), verified=True),
        stage=receipt.stage,
        counter=claims.counter,
        officer=claims.officer,
        procedure=claims.procedure,
        score=score,
        reasons=tuple(r for r in reasons if r in known),
        comment=(comment or "").strip()[:1000] or None,
        lang=lang,
        channel=Channel.ONLINE,
        rated_at=moment,
    )
    with sessions.begin() as session:
        code = str(claims.code)
        facts = receipt_facts(session, [code]).get(code)
        (outcome,) = store_batch(session, [(rating, attribute(rating, facts, unit))], moment)
    return outcome
