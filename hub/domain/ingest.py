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
from hailong.contract.scale import Channel, Stage
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
    # A short machine code for counting refusals per kind (e.g. "receipt_other_unit").
    code: str = "invalid"


@dataclass(frozen=True)
class IngestRules:
    """What the hub holds a well-formed rating against, beyond the contract: its own clock (the
    plausibility window for ``rated_at``) and the unit's catalogue (the reasons it offers).

    ``now`` is the hub's clock when the batch was taken: one value for the whole batch, so the
    rule stays a pure function of its inputs.
    """

    unit: Unit
    now: datetime
    max_future: timedelta = timedelta(minutes=10)
    max_past: timedelta = timedelta(days=400)


# The machine codes of a refusal (``Rejected.code``, ``dead_letters.code``, counted in /metrics).
# From the contract: "oversize", "malformed", "version", "bounds" (ContractError.code); from the
# topic: "topic", "topic_mismatch"; from the hub's rules: "future", "stale", "channel",
# "unknown_reason"; from storing: "conflict", "already_rated", "store_failed"; the register adds
# its own (hub.domain.register).
RULE_CODES = ("future", "stale", "channel", "unknown_reason")
# The channels only the hub itself makes (its online and paper-form pages): refused from MQTT.
HUB_CHANNELS = frozenset({Channel.ONLINE, Channel.PAPER})


def classify(topic: str, payload: bytes, rules: IngestRules | None = None) -> Accepted | Rejected:
    """Accept a valid v1 rating from its own kiosk's topic, or say why not (code and reason).

    Without ``rules`` only the contract and the topic are checked (what a parser fuzzer needs);
    the hub always passes them (:func:`admit`).
    """
    try:
        origin = topics.parse_kiosk_topic(topic)
    except topics.TopicError as exc:
        return Rejected(topic, payload, f"topic: {exc}", None, None, code="topic")
    if origin.kind != "ratings":
        reason = f"not a ratings topic: {topic}"
        return Rejected(topic, payload, reason, None, None, code="topic")
    try:
        rating = decode_rating(payload)
    except ContractError as exc:
        return Rejected(topic, payload, exc.reason, peek_identity(payload), origin, code=exc.code)
    return checked(Accepted(topic, payload, rating), origin, rules)


def checked(
    accepted: Accepted, origin: topics.KioskTopic, rules: IngestRules | None
) -> Accepted | Rejected:
    """The checks after the contract, shared by :func:`classify` and the hub's fast path (which
    parses valid ratings its own way), so both refuse the same ratings for the same reasons."""
    rating = accepted.rating
    if (rating.unit, rating.kiosk) != (origin.unit, origin.kiosk):
        reason = (
            f"payload says {rating.unit}/{rating.kiosk} but arrived on {origin.unit}/{origin.kiosk}"
        )
        return _refuse(accepted, origin, "topic_mismatch", reason)
    if rules is None:
        return accepted
    refusal = admit(rating, rules)
    if refusal is not None:
        return _refuse(accepted, origin, *refusal)
    return accepted


def admit(rating: RatingMessage, rules: IngestRules) -> tuple[str, str] | None:
    """Why the hub refuses a well-formed rating (code, reason), or None to keep it.

    * ``future`` / ``stale``: ``rated_at`` outside the window around the hub's clock. A rating
      dated ahead of the hub comes from a wrong clock or a forger, one dated years back from a
      restored outbox or a forger; counted, either would move a period's figures.
    * ``channel``: a kiosk claiming ``online`` or ``paper``. Only the hub's own pages make those
      (the online page, the paper-form page), never through MQTT; those figures must not be
      stuffed from a kiosk.
    * ``unknown_reason``: a reason code the unit's catalogue does not offer (counted, it would add
      a reason nobody could tick).
    """
    if rating.rated_at > rules.now + rules.max_future:
        return "future", (
            f"rated_at {rating.rated_at.isoformat()} is more than "
            f"{_span(rules.max_future)} after the hub's clock ({rules.now.isoformat()})"
        )
    if rating.rated_at < rules.now - rules.max_past:
        return "stale", (
            f"rated_at {rating.rated_at.isoformat()} is more than "
            f"{_span(rules.max_past)} before the hub's clock ({rules.now.isoformat()})"
        )
    if rating.channel in HUB_CHANNELS:
        return "channel", f"channel {rating.channel}: only the hub's own pages make those"
    if rating.reasons:  # most ratings tick none: the hot path builds no set
        offered = {reason.code for reason in rules.unit.reasons}
        unknown = sorted(set(rating.reasons) - offered)
        if unknown:
            return "unknown_reason", f"reasons not in the unit's catalogue: {', '.join(unknown)}"
    return None


def _span(delta: timedelta) -> str:
    if delta.days and not delta.seconds:
        return f"{delta.days} days"
    return f"{int(delta.total_seconds() // 60)} minutes"


def _refuse(accepted: Accepted, origin: topics.KioskTopic, code: str, reason: str) -> Rejected:
    rating = accepted.rating
    identity = (rating.id, rating.seq)
    return Rejected(accepted.topic, accepted.payload, reason, identity, origin, code=code)


@dataclass(frozen=True)
class ReceiptFacts:
    """What the hub's receipt register knows about a dossier code."""

    code: str
    procedure: str
    counter: str
    officer: str
    returned_at: datetime | None = None  # the result was handed back then...
    returned_by: str | None = None  # ...by this officer
    issued_at: datetime | None = None  # when the register took it (issued or registered)
    unit: str | None = None  # the unit whose register holds it
    # "issued": this hub allocated the code; "registered": another system's code, signed here.
    origin: str = "issued"


@dataclass(frozen=True)
class Attribution:
    """Who and what a stored rating is about, after consulting the register and the catalogue.

    ``counted``: the rating is in the headline figures (the rollups). Ratings the register cannot
    vouch for (a code it does not know, unless the unit counts those) and ratings flagged
    ``suspect`` (receipt-less or unverified ratings of one kiosk closer together than the unit's
    ``unverified_min_interval_s``) are stored, shown apart, and not counted.
    ``claim_mismatch``: the fields the kiosk claimed that the register contradicts.
    """

    counter: str | None
    officer: str | None
    procedure: str | None
    field: str | None
    receipt_known: bool
    stage: Stage = Stage.RECEPTION
    counted: bool = True
    suspect: bool = False
    claim_mismatch: tuple[str, ...] = ()
    # A rating keyed by staff (channel paper, :mod:`hub.paper.desk`): the login that keyed it,
    # and whether that login helped the citizen give it (Decree 61, Article 29: assisted).
    entered_by: str | None = None
    assisted: bool = False


def attribute(rating: RatingMessage, receipt: ReceiptFacts | None, unit: Unit) -> Attribution:
    """Attribute a rating the hub has decided to keep (see :func:`hub.domain.register.judge`
    for the ones it refuses).

    The register is the authority: for a code it knows, counter, officer and procedure are the
    register's whatever the kiosk claims (a kiosk's ``verified: true`` proves nothing to the hub:
    a stolen kiosk can send any fields), and a claim that disagrees is named in
    ``claim_mismatch``. The register also decides the stage: a rating made after the result was
    handed back is for the return, and for the officer who handed it back, even if the kiosk had
    not heard of the return yet. A code the register does not know keeps what the kiosk said,
    marked unverified, and is counted only where the unit says so. A walk-in's counter is the one
    the unit catalogue gives the kiosk. The field (lĩnh vực) always comes from the catalogue.
    """
    if receipt is not None:
        counter: str | None = receipt.counter
        officer: str | None = receipt.officer
        procedure: str | None = receipt.procedure
        stage = Stage.RECEPTION
        if receipt.returned_at is not None and rating.rated_at >= receipt.returned_at:
            stage = Stage.RETURN
            officer = receipt.returned_by or officer
        mismatch = _register_mismatch(rating, receipt, stage)
        counted = True
    elif rating.receipt is None:  # a walk-in: nothing to check but the kiosk's own place
        entry = next((k for k in unit.kiosks if k.id == rating.kiosk), None)
        counter = entry.counter if entry is not None and entry.counter else rating.counter
        officer = procedure = None  # an honest kiosk names nobody for a walk-in
        stage = Stage.RECEPTION
        mismatch = tuple(
            name
            for name, claimed, held in (
                ("counter", rating.counter, counter),
                ("officer", rating.officer, None),
                ("procedure", rating.procedure, None),
                ("stage", rating.stage, Stage.RECEPTION),
            )
            if claimed is not None and claimed != held
        )
        counted = True
    else:  # a code the register does not know: only the kiosk's word
        counter, officer, procedure = rating.counter, rating.officer, rating.procedure
        stage = Stage.RECEPTION  # only the register's returns make a return stage
        mismatch = tuple(
            name
            for name, contradicted in (
                ("verified", rating.receipt.verified),
                ("stage", rating.stage is not Stage.RECEPTION),
            )
            if contradicted
        )
        counted = unit.register_policy.count_unverified
    known_procedure = unit.procedure(procedure) if procedure else None
    return Attribution(
        counter=counter,
        officer=officer,
        procedure=procedure,
        field=known_procedure.field if known_procedure else None,
        receipt_known=receipt is not None,
        stage=stage,
        counted=counted,
        claim_mismatch=mismatch,
    )


def _register_mismatch(
    rating: RatingMessage, receipt: ReceiptFacts, stage: Stage
) -> tuple[str, ...]:
    """The kiosk's claims about a registered receipt that the register contradicts.

    What an honest kiosk sends is what the slip says: with ``verified: true`` the signed counter,
    officer and procedure; with a typed code its own counter and no officer or procedure; at the
    return no officer. The stage is a contradiction only one way: a kiosk that had not heard of a
    return yet honestly claims the reception, but only the hub's notice can make it claim a return.
    """
    verified = rating.receipt is not None and rating.receipt.verified
    wrong: list[str] = []
    if verified and rating.counter is not None and rating.counter != receipt.counter:
        wrong.append("counter")
    officers = {receipt.officer, receipt.returned_by} - {None}
    if rating.officer is not None and rating.officer not in officers:
        wrong.append("officer")
    if rating.procedure is not None and rating.procedure != receipt.procedure:
        wrong.append("procedure")
    if rating.stage is Stage.RETURN and stage is not Stage.RETURN:
        wrong.append("stage")
    return tuple(wrong)


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
