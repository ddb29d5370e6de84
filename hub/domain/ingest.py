"""Deciding what to do with a message that arrived on a ratings topic (pure: no I/O).

A message is either *accepted* (a valid v1 rating whose unit and kiosk match its topic, which the
broker's ACL vouches for) or *rejected* with a short reason that is stored in the dead-letter table.
Rejection never stops ingestion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from hailong.contract import topics
from hailong.contract.messages import ContractError, RatingMessage, decode_rating, peek_identity
from hailong.contract.scale import Stage
from hailong.settings import Unit


@dataclass(frozen=True)
class Accepted:
    topic: str
    payload: bytes
    rating: RatingMessage


@dataclass(frozen=True)
class Rejected:
    topic: str
    payload: bytes
    reason: str
    # (id, seq) when they could be read, so the kiosk can be told to stop resending.
    identity: tuple[UUID, int] | None
    kiosk: topics.KioskTopic | None


def classify(topic: str, payload: bytes) -> Accepted | Rejected:
    try:
        origin = topics.parse_kiosk_topic(topic)
    except topics.TopicError as exc:
        return Rejected(topic, payload, f"topic: {exc}", None, None)
    if origin.kind != "ratings":
        return Rejected(topic, payload, f"not a ratings topic: {topic}", None, None)
    try:
        rating = decode_rating(payload)
    except ContractError as exc:
        return Rejected(topic, payload, exc.reason, peek_identity(payload), origin)
    if (rating.unit, rating.kiosk) != (origin.unit, origin.kiosk):
        reason = (
            f"payload says {rating.unit}/{rating.kiosk} but arrived on {origin.unit}/{origin.kiosk}"
        )
        return Rejected(topic, payload, reason, (rating.id, rating.seq), origin)
    return Accepted(topic, payload, rating)


@dataclass(frozen=True)
class ReceiptFacts:
    """What the hub's receipt register knows about a dossier code."""

    code: str
    procedure: str
    counter: str
    officer: str
    returned_at: datetime | None = None  # the result was handed back then...
    returned_by: str | None = None  # ...by this officer


@dataclass(frozen=True)
class Attribution:
    """Who and what a stored rating is about, after consulting the register and the catalogue."""

    counter: str | None
    officer: str | None
    procedure: str | None
    field: str | None
    receipt_known: bool
    stage: Stage = Stage.RECEPTION


def attribute(rating: RatingMessage, receipt: ReceiptFacts | None, unit: Unit) -> Attribution:
    """Fill in what a typed (unverified) code could not tell the kiosk, from the register.

    A verified receipt's own signed fields win; the register only completes what is missing. The
    field (lĩnh vực) always comes from the unit catalogue's procedure. The register is the
    authority on the stage: a rating made after the result was handed back is for the return, and
    for the officer who handed it back, even if the kiosk had not heard of the return yet.
    """
    counter, officer, procedure = rating.counter, rating.officer, rating.procedure
    stage = rating.stage
    if receipt is not None and not (rating.receipt and rating.receipt.verified):
        counter = receipt.counter
        officer = receipt.officer
        procedure = receipt.procedure
    if receipt is not None and receipt.returned_at is not None:
        stage = Stage.RETURN if rating.rated_at >= receipt.returned_at else Stage.RECEPTION
        if stage is Stage.RETURN:
            officer = receipt.returned_by or officer
    known_procedure = unit.procedure(procedure) if procedure else None
    return Attribution(
        counter=counter,
        officer=officer,
        procedure=procedure,
        field=known_procedure.field if known_procedure else None,
        receipt_known=receipt is not None,
        stage=stage,
    )


# How fresh a rating must be for the unit's kiosks to hear that its receipt is now rated.
RATED_NOTICE_WINDOW = timedelta(minutes=10)


def worth_announcing(rated_at: datetime, now: datetime) -> bool:
    """Whether the other kiosks of the unit should add this rating's receipt to their "already
    rated" lists.

    The notice is for a citizen still at the counters, who might tap again at the next kiosk. A
    rating arriving long after it was made comes from a kiosk's outage backlog: its citizen has
    left, and if the slip is ever scanned again the hub refuses the second rating itself
    (``already_rated``). Announcing a backlog would make every kiosk of the unit write every
    receipt of every other kiosk's outage, which in a 100-kiosk reconnect storm was ten million
    rows and kept the kiosks too busy to read their own acks.
    """
    return now - rated_at <= RATED_NOTICE_WINDOW
