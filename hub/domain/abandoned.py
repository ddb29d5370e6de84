"""Abandoned sessions arriving from a kiosk: accept, refuse, attribute (pure: no I/O).

A kiosk publishes an abandoned session (a receipt scanned, no face tapped:
:class:`hailong.contract.messages.AbandonedMessage`) on its ratings topic, in the same sequence as
its ratings. The hub holds it to the same rules as a rating wherever they mean something for it:
the contract's bounds, the topic that names its kiosk, the plausibility window of its times, and
the receipt register (a code that cannot be the unit's, or cannot have been issued yet, is refused;
a code the register knows is attributed from the register, as a rating made at the scan would be).
What it never does is take a rating's place: it has no score, takes no "one rating per receipt"
slot, and a dossier abandoned and later rated is both.
"""

from __future__ import annotations

from dataclasses import dataclass

from hailong.contract import topics
from hailong.contract.messages import (
    AbandonedMessage,
    ContractError,
    RatingMessage,
    decode_abandoned,
    peek_identity,
    says_abandoned,
)
from hailong.contract.scale import Channel, Score
from hailong.settings import Unit
from hub.domain.ingest import Accepted, Attribution, IngestRules, Rejected, classify
from hub.domain.register import Refusal, RegisterView, judge


@dataclass(frozen=True)
class AcceptedAbandoned:
    """An abandoned session that follows the contract, from its own kiosk's topic, within the
    hub's window; the register has still to judge it."""

    topic: str
    payload: bytes
    session: AbandonedMessage


def classify_record(
    topic: str, payload: bytes, rules: IngestRules | None = None
) -> Accepted | AcceptedAbandoned | Rejected:
    """:func:`hub.domain.ingest.classify`, which also knows abandoned sessions.

    A payload that calls itself abandoned (``"kind": "abandoned"``) is checked as one; anything
    else goes to ``classify`` unchanged, so ratings are accepted and refused exactly as before.
    """
    if not says_abandoned(payload):
        return classify(topic, payload, rules)
    try:
        origin = topics.parse_kiosk_topic(topic)
    except topics.TopicError as exc:
        return Rejected(topic, payload, f"topic: {exc}", None, None, code="topic")
    if origin.kind != "ratings":
        return Rejected(topic, payload, f"not a ratings topic: {topic}", None, None, code="topic")
    try:
        session = decode_abandoned(payload)
    except ContractError as exc:
        return Rejected(topic, payload, exc.reason, peek_identity(payload), origin, code=exc.code)
    identity = (session.id, session.seq)
    if (session.unit, session.kiosk) != (origin.unit, origin.kiosk):
        reason = (
            f"payload says {session.unit}/{session.kiosk} "
            f"but arrived on {origin.unit}/{origin.kiosk}"
        )
        return Rejected(topic, payload, reason, identity, origin, code="topic_mismatch")
    if rules is not None:
        refusal = admit_abandoned(session, rules)
        if refusal is not None:
            return Rejected(topic, payload, refusal[1], identity, origin, code=refusal[0])
    return AcceptedAbandoned(topic, payload, session)


def admit_abandoned(session: AbandonedMessage, rules: IngestRules) -> tuple[str, str] | None:
    """Why the hub refuses a well-formed abandoned session (code, reason), or None to keep it:
    ``future`` when it ended after the hub's clock allows, ``stale`` when it began before the
    window (the same window as a rating's ``rated_at``)."""
    if session.ended_at > rules.now + rules.max_future:
        return "future", (
            f"ended_at {session.ended_at.isoformat()} is after the hub's clock "
            f"({rules.now.isoformat()}) by more than {rules.max_future}"
        )
    if session.scanned_at < rules.now - rules.max_past:
        return "stale", (
            f"scanned_at {session.scanned_at.isoformat()} is before the hub's clock "
            f"({rules.now.isoformat()}) by more than {rules.max_past.days} days"
        )
    return None


def judge_abandoned(
    session: AbandonedMessage, view: RegisterView, unit: Unit
) -> Attribution | Refusal:
    """The register's verdict (:func:`hub.domain.register.judge`) on the rating this session
    would have been, made at its scan: the same refusals (a malformed code, another unit's, one
    not issued yet, a scan before the issue) and the same attribution (counter, officer,
    procedure, field and stage from the register; the kiosk's word for a code it does not know).
    The score given to ``judge`` is a placeholder it never reads."""
    claim = RatingMessage(
        id=session.id,
        unit=session.unit,
        kiosk=session.kiosk,
        seq=session.seq,
        receipt=session.receipt,
        stage=session.stage,
        counter=session.counter,
        officer=session.officer,
        procedure=session.procedure,
        score=Score.NEUTRAL,
        channel=Channel.KIOSK,
        rated_at=session.scanned_at,
    )
    return judge(claim, view, unit)
