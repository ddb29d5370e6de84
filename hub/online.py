"""Rating later, on the citizen's phone: the receipt QR's URL opens a page on the hub.

The same rules as at the kiosk: the receipt's signature is checked, one rating per receipt and
stage, the register decides the stage. The rating goes through the same store as MQTT ratings
(``store_batch``), marked ``channel = online``.

Many taps at once on one receipt (a citizen's double tap, several phones, a script) race to the
unique index on (unit, dossier code, stage): the losers' transactions fail on it (PostgreSQL) or
find the database locked (SQLite). Each is tried again in a fresh transaction, which sees the
winner's rating and answers ``already_rated``: one thanks, the others "already rated", never an
error page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.clock import unit_day
from hailong.contract.messages import AckOutcome, RatingMessage, ReceiptRef
from hailong.contract.receipt import (
    DossierCode,
    KeyRing,
    ReceiptClaims,
    ReceiptRefused,
    SignedReceipt,
    parse_scan,
    verify,
)
from hailong.contract.scale import Channel, Score, Stage
from hailong.settings import Unit
from hub.domain.ingest import attribute
from hub.receipts.issuing import require_registered
from hub.store.models import RatingRow, ReceiptRow
from hub.store.ratings import receipt_facts, store_batch

ONLINE_KIOSK = "online"  # the "kiosk" of ratings made on a phone
MAX_CODE_LENGTH = 64  # longer than any dossier code a unit's patterns can spell
STORE_ATTEMPTS = 5  # a losing transaction's retries; the second already sees the winner


@dataclass(frozen=True)
class OnlineReceipt:
    """A receipt opened from its QR: what it vouches for and which stage a rating now is for."""

    claims: ReceiptClaims
    stage: Stage
    already_rated: bool


def receipt_unit(sessions: sessionmaker[Session], code: str) -> str | None:
    """Whose receipt a rating URL's code is, on a hub serving many units: the unit the register
    holds it under (every receipt issued or registered here, in any unit's spelling), else the
    unit code a national spelling carries; None when neither tells (the page then tries the
    home unit, whose checks refuse it clearly). Only where to look: the signature, checked
    after, is what vouches for the receipt."""
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    with sessions() as session:
        found = session.scalar(select(ReceiptRow.unit).where(ReceiptRow.dossier_code == code))
    if found is not None:
        return found
    try:
        return DossierCode.parse(code.upper()).unit
    except (ReceiptRefused, ValueError):
        return None


def open_receipt(
    sessions: sessionmaker[Session],
    unit: Unit,
    keyring: KeyRing,
    url: str,
) -> OnlineReceipt:
    """Verify the QR's URL; raises ``ReceiptRefused`` with the reason when it is not genuine."""
    scanned = parse_scan(url, unit.code_book())
    if not isinstance(scanned, SignedReceipt):
        raise ValueError("a receipt URL carries a signature")
    today = unit_day(datetime.now(UTC), unit.zone)  # a slip's age counts in the unit's days
    claims = verify(scanned, keyring, unit.unit.code, today=today)
    if scanned.legacy:  # an HMAC key every kiosk held: only what the register says was signed
        require_registered(sessions, claims, scanned.key_id)
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
    suspect: bool = False,
) -> AckOutcome:
    """Store the rating in one transaction; ``already_rated`` if the receipt was rated first.

    ``suspect``: sent from one of the unit's staff networks. Kept (an admin can look at it), but
    flagged and left out of the figures: a rating must be the citizen's own."""
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
    for _ in range(STORE_ATTEMPTS - 1):
        try:
            return _store(sessions, unit, rating, moment, suspect)
        except (IntegrityError, OperationalError):
            # Another request stored a rating of this receipt first (or held SQLite's write
            # lock): the next transaction sees it and answers already_rated.
            continue
    return _store(sessions, unit, rating, moment, suspect)


def _store(
    sessions: sessionmaker[Session],
    unit: Unit,
    rating: RatingMessage,
    moment: datetime,
    suspect: bool,
) -> AckOutcome:
    code = str(rating.receipt.code) if rating.receipt is not None else ""
    with sessions.begin() as session:
        facts = receipt_facts(session, [code]).get(code)
        attribution = attribute(rating, facts, unit)
        if suspect:
            attribution = replace(attribution, suspect=True, counted=False)
        (outcome,) = store_batch(session, [(rating, attribution)], moment, zone=unit.zone)
    return outcome
