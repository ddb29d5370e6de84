"""JSON payloads on the wire, version 1.

Every payload carries ``"v": 1``. A consumer that meets another version refuses it as a whole (the
hub dead-letters it) rather than guessing, so a v2 can be rolled out beside v1 on new topics.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

import pydantic_core
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hailong.contract.clock import zone_named
from hailong.contract.dossier_codes import (
    MAX_PATTERNS,
    MAX_TEMPLATE_LENGTH,
    PatternError,
    compile_pattern,
)
from hailong.contract.pictograms import IconName
from hailong.contract.scale import Channel, Factor, Score, Stage

VERSION = 1
MAX_PAYLOAD_BYTES = 16 * 1024

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]

# -- bounds: every number and instant fits what SQLite and PostgreSQL both store ------------------
# ``ratings.seq`` and the status counts are ``Integer`` columns: 32 bits signed on PostgreSQL
# (SQLite's INTEGER holds 64). One width for both, so a value one database takes the other does
# too; at a rating a minute a kiosk needs four thousand years to reach it.
INT32_MAX = 2**31 - 1
# Instants (``rated_at``, a status's ``at`` ...) must lie in these years, in the offset they carry:
# any conversion to UTC (or to Hà Nội's time) then stays inside what ``datetime`` and both
# databases hold. Year 1 or 9999 with an offset overflowed on conversion and killed the ingest.
MIN_YEAR = 2000
MAX_YEAR = 2099


class ContractError(ValueError):
    """A payload that does not follow this contract; ``reason`` is short and safe to store.

    ``code`` is the machine reason, counted per kind in ``/metrics``: ``oversize`` (over
    :data:`MAX_PAYLOAD_BYTES`), ``malformed`` (not JSON, not an object, a wrong type, a missing or
    unknown key), ``version`` (not ``"v": 1``) or ``bounds`` (a value out of its range).
    """

    def __init__(self, reason: str, code: str = "malformed") -> None:
        self.reason = reason
        self.code = code
        super().__init__(reason)


def _json_int(value: object) -> object:
    """Only a JSON integer is a number here: ``"5"``, ``true`` and ``5.0`` are refused, where
    pydantic's lax mode would have read them as 5, 1 and 5."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "Input should be a JSON integer")
    return value


# What an instant looks like on the wire: ISO 8601 with seconds and an offset, the form pydantic
# and ``datetime.isoformat`` write. Lax parsing also took a number of seconds since 1970 (as a
# number or a string of digits) and dates without an offset.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")


def _instant_text(value: object) -> object:
    if isinstance(value, datetime):  # built in Python (the kiosk, the hub), not decoded
        return value
    if not isinstance(value, str) or not _INSTANT.match(value):
        raise PydanticCustomError(
            "datetime_type", "Input should be an ISO 8601 date and time with its time zone offset"
        )
    return value


def _instant_bounds(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError("timezone_aware", "Input should carry a time zone offset")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError(
            "instant_out_of_range",
            "Input should be in the years {low} to {high}",
            {"low": MIN_YEAR, "high": MAX_YEAR},
        )
    return value


# An aware instant in the contract's years, from text (or a datetime built in Python).
Instant = Annotated[datetime, BeforeValidator(_instant_text), AfterValidator(_instant_bounds)]
# A per-kiosk sequence number (``ratings.seq``) and a count kept in an Integer column.
Seq = Annotated[int, Field(strict=True, ge=1, le=INT32_MAX)]
Count = Annotated[int, Field(strict=True, ge=0, le=INT32_MAX)]
# A score: a JSON integer 1-5, never ``"5"`` or ``true``.
StrictScore = Annotated[Score, BeforeValidator(_json_int)]
Flag = Annotated[bool, Field(strict=True)]


def _known_zone(name: str) -> str:
    zone_named(name)  # a ValueError naming the zone and what is expected
    return name


# An IANA time zone name the system's zone database knows ("Asia/Ho_Chi_Minh").
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_known_zone)]


class _Message(BaseModel):
    # defer_build: a model's validator is built on its first use, not at import. The kiosk reads
    # none of these before its start screen is drawn, and building them all cost ~12 ms of CPU
    # (~60 ms on a Pi) of its cold start (docs/kiosk.md "Start-up").
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    v: Annotated[Literal[1], BeforeValidator(_json_int)] = 1

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


class ReceiptRef(BaseModel):
    """The receipt a rating is tied to; ``verified`` is true only when its signature was checked."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    code: Annotated[str, Field(min_length=8, max_length=40)]
    verified: Flag


class RatingMessage(_Message):
    """One citizen's rating, as the kiosk stored it before publishing.

    ``id`` makes redelivery harmless; ``seq`` (per kiosk, from 1, without gaps) lets the hub notice a
    rating that never arrived.
    """

    id: UUID
    unit: Code
    kiosk: Code
    seq: Seq
    receipt: ReceiptRef | None = None
    stage: Stage = Stage.RECEPTION
    counter: Code | None = None
    officer: Code | None = None
    procedure: Code | None = None
    score: StrictScore
    # Codes from the unit's catalogue of reasons (the hub refuses others); a citizen ticks a few.
    reasons: Annotated[tuple[Code, ...], Field(max_length=32)] = ()
    # Answers to the optional short survey on the SIPAS factors.
    factors: dict[Factor, StrictScore] = Field(default_factory=dict)
    # Survey questions the citizen answered "Không áp dụng" (the factor did not concern them): in
    # no factor's count. Sent only when there are some, so a rating without them reads as before
    # (a hub older than this field refuses a rating that carries it: upgrade the hub first).
    not_applicable: Annotated[tuple[Factor, ...], Field(min_length=1, max_length=5)] | None = None
    comment: Annotated[str, Field(max_length=1000)] | None = None
    # Present only when the citizen explicitly consented to be called back.
    callback_phone: Annotated[str, Field(pattern=r"^\+?[0-9]{8,15}$")] | None = None
    # The language the citizen used: vi, en, or a language a Qt catalogue adds (ISO 639-1).
    lang: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")] = "vi"
    channel: Channel = Channel.KIOSK
    rated_at: Instant
    duration_ms: Annotated[int, Field(strict=True, ge=0, le=3_600_000)] | None = None

    @model_validator(mode="after")
    def _not_applicable_is_no_answer(self) -> RatingMessage:
        """A factor is answered with a face or "does not apply", once, never both."""
        skipped = self.not_applicable or ()
        if len(set(skipped)) != len(skipped):
            raise PydanticCustomError(
                "not_applicable_repeated", "not_applicable should name a factor once"
            )
        if set(skipped) & set(self.factors):
            raise PydanticCustomError(
                "not_applicable_answered",
                "a factor in not_applicable should not also have an answer in factors",
            )
        return self


# Why a scanned session ended without a face: the citizen left it (``timeout``: the idle reset),
# the next citizen's scan (or typed code) replaced it (``next_scan``), or the kiosk ended it
# (``closed``: the staff screen, the kiosk stopping).
AbandonReason = Literal["timeout", "next_scan", "closed"]


class AbandonedMessage(_Message):
    """A session that began with a receipt scan and ended without a face: a rating without a score.

    It travels on the kiosk's ratings topic, in the same per-kiosk ``seq`` as its ratings (so the
    hub's gap report still sees one sequence without holes), is stored idempotently on ``id`` and
    acknowledged like a rating. ``kind`` tells it from a rating: a hub older than it refuses it
    as malformed (a key a rating does not have) and acknowledges it ``rejected``, so it is never
    taken for a rating, and the kiosk stops resending it. It holds nothing of the citizen: the
    dossier code and who served them, as the slip said, and when.
    """

    kind: Literal["abandoned"]
    id: UUID
    unit: Code
    kiosk: Code
    seq: Seq
    receipt: ReceiptRef  # only a scanned (or typed) code makes a session that can be abandoned
    stage: Stage = Stage.RECEPTION
    counter: Code | None = None
    officer: Code | None = None
    procedure: Code | None = None
    reason: AbandonReason
    scanned_at: Instant
    ended_at: Instant

    @model_validator(mode="after")
    def _ends_after_its_scan(self) -> AbandonedMessage:
        if self.ended_at < self.scanned_at:
            raise PydanticCustomError(
                "ended_before_scanned", "ended_at should not be before scanned_at"
            )
        return self


class AckOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: UUID
    seq: Seq
    # stored: committed now; duplicate: this rating id was committed earlier; already_rated: another
    # rating of the same receipt and stage was committed first (this one is kept in the hub's dead
    # letters, not counted); rejected: invalid, kept in the hub's dead letters.
    outcome: Literal["stored", "duplicate", "already_rated", "rejected"]
    reason: Annotated[str, Field(max_length=1000)] | None = None


class AckMessage(_Message):
    """Published to the kiosk only after the hub's database commit: the only proof of storage."""

    results: tuple[AckOutcome, ...]


class RatedReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    code: Annotated[str, Field(min_length=8, max_length=40)]
    stage: Stage


class RatedMessage(_Message):
    """Receipts the hub has just stored a rating for, sent to every kiosk of the unit.

    A kiosk adds them to its local "already rated" list, so a receipt rated at one counter's kiosk
    is refused at another (one rating per receipt and stage).
    """

    receipts: Annotated[tuple[RatedReceipt, ...], Field(max_length=500)]


class ReturnedReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    code: Annotated[str, Field(min_length=8, max_length=40)]
    returned_at: Instant


class ReturnedMessage(_Message):
    """Receipts whose result was just handed back: a kiosk rates them as the return stage."""

    receipts: Annotated[tuple[ReturnedReceipt, ...], Field(max_length=500)]


class NamedCode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    code: Code
    name: str


class ProcedureInfo(NamedCode):
    field: Code


class ReasonInfo(NamedCode):
    """A reason for dissatisfaction a citizen can tick, and the SIPAS factor it counts against."""

    name_en: str
    factor: Factor
    # The pictogram drawn beside it (hailong.contract.pictograms). Sent only when the unit names
    # one: a kiosk older than this field refuses a config that carries it and keeps its last one.
    icon: IconName | None = None


class KioskPolicy(BaseModel):
    """How the unit's kiosks ask: faces shown, when to ask for reasons, who gets the survey."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    faces: Literal[3, 4, 5] = 5
    reasons_at_or_below: Annotated[int, Field(ge=1, le=5)] = 2
    survey_share: Annotated[float, Field(ge=0, le=1)] = 0.0
    allow_walk_in: bool = False
    unverified_min_interval_s: Annotated[float, Field(ge=0)] = 60.0
    # Every screen of the unit's kiosks reads itself aloud. Off is None and never sent (false is
    # read as None), so a kiosk older than this field still accepts the unit's config.
    always_speak: Annotated[bool | None, AfterValidator(lambda on: on or None)] = None


class OfficerInfo(NamedCode):
    counter: Code | None = None


def _dossier_pattern(template: str) -> str:
    try:
        compile_pattern(template)
    except PatternError as exc:
        raise ValueError(str(exc)) from exc
    return template


# A template of the dossier code pattern language, compiled to prove it (one that is not refuses
# the message: a hub validates its unit's patterns before it sends them).
DossierPattern = Annotated[
    str, Field(max_length=MAX_TEMPLATE_LENGTH), AfterValidator(_dossier_pattern)
]


class UnitConfigMessage(_Message):
    """Retained on ``hailong/v1/<unit>/config``: what kiosks need to show names instead of codes."""

    unit: Code
    name: str
    counters: tuple[NamedCode, ...]
    officers: tuple[OfficerInfo, ...]
    procedures: tuple[ProcedureInfo, ...]
    fields: tuple[NamedCode, ...]
    reasons: tuple[ReasonInfo, ...] = ()
    policy: KioskPolicy = Field(default_factory=KioskPolicy)  # not an instance: see _Message
    # Receipt key ids the hub revoked: kiosks refuse their receipts at once (docs/security.md).
    revoked_keys: Annotated[tuple[Code, ...], Field(max_length=256)] = ()
    # The unit's own dossier code patterns besides the national one (hailong.contract.dossier_codes),
    # so a kiosk takes a typed code of a registered external receipt. Sent only when the unit has
    # some: a kiosk older than this field refuses a config that carries it and keeps its last one.
    dossier_patterns: (
        Annotated[tuple[DossierPattern, ...], Field(min_length=1, max_length=MAX_PATTERNS)] | None
    ) = None
    # The unit's time zone (hailong.contract.clock), for the dates a kiosk reads (a slip's age, the
    # times on its service screen). Sent only when it is not Asia/Ho_Chi_Minh, the default: a kiosk
    # older than this field refuses a config that carries it and keeps its last one.
    time_zone: TimeZoneName | None = None


# "unknown": a keyboard-mode USB scanner cannot be probed, only seen working (last_scan_at).
DeviceState = Literal["ok", "missing", "error", "unknown"]


class KioskStatusMessage(_Message):
    """Retained on ``.../<kiosk>/status``; the kiosk's last will publishes ``online: false``."""

    kiosk: Code
    online: Flag
    buffer_depth: Count | None = None
    version: Annotated[str, Field(max_length=200)] | None = None  # stored cut to 40
    at: Instant | None = None
    # Receipts refused at this kiosk since it was installed, per reason (bad_signature, ...).
    refusals: Annotated[dict[Code, Count], Field(max_length=64)] = Field(default_factory=dict)
    # When the hub last acknowledged a rating of this kiosk (the kiosk's clock).
    last_ack_at: Instant | None = None
    # The oldest rating still in the outbox: the hub's gap report treats seqs from here on as
    # not yet delivered rather than lost.
    oldest_pending_seq: Seq | None = None
    # The attached devices as the kiosk sees them, e.g. {"scanner": "ok"}.
    devices: Annotated[dict[Code, DeviceState], Field(max_length=32)] = Field(default_factory=dict)
    # The last receipt scan the kiosk recognised (a scanner silent for days may be unplugged).
    last_scan_at: Instant | None = None


def _parse(payload: bytes) -> Any:
    """The JSON value of ``payload``, read by the parser pydantic's ``model_validate_json`` uses
    (the hub's fast path), so both read duplicate keys, big numbers and lone surrogates alike."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError(
            f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}", "oversize"
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(f"not UTF-8 JSON: {exc}") from exc
    try:
        return pydantic_core.from_json(text, allow_inf_nan=False)
    except ValueError as exc:  # thousands of nested brackets fit in the size limit
        if "recursion" in str(exc):
            raise ContractError("JSON nested too deeply") from exc
        raise ContractError(f"not UTF-8 JSON: {exc}") from exc


def _decode(payload: bytes) -> dict[str, Any]:
    data = _parse(payload)
    if not isinstance(data, dict):
        raise ContractError("payload is not a JSON object")
    version = data.get("v")
    if type(version) is not int or version != VERSION:  # true == 1.0 == 1 in Python
        raise ContractError(f"unsupported contract version {version!r}", "version")
    return data


# pydantic error types that mean "the right type, out of its range" rather than malformed.
_BOUNDS_ERRORS = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "too_long",
        "string_too_long",
        "instant_out_of_range",
        "ended_before_scanned",
    }
)


def _first_error(exc: ValidationError) -> ContractError:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "payload"
    code = "bounds" if err["type"] in _BOUNDS_ERRORS else "malformed"
    return ContractError(f"{where}: {err['msg']}", code)


_M = TypeVar("_M", bound=_Message)


def _decode_as(model: type[_M], payload: bytes) -> _M:
    data = _decode(payload)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from exc


def decode_rating(payload: bytes) -> RatingMessage:
    """Parse and validate a rating; raises :class:`ContractError` with a storable reason."""
    return _decode_as(RatingMessage, payload)


def decode_abandoned(payload: bytes) -> AbandonedMessage:
    return _decode_as(AbandonedMessage, payload)


def decode_kiosk_record(payload: bytes) -> RatingMessage | AbandonedMessage:
    """What a kiosk publishes on its ratings topic: an abandoned session when it says
    ``"kind": "abandoned"``, otherwise a rating (refused exactly as :func:`decode_rating` would:
    a rating has no ``kind``). The JSON is parsed once."""
    data = _decode(payload)
    model: type[RatingMessage | AbandonedMessage] = (
        AbandonedMessage if data.get("kind") == "abandoned" else RatingMessage
    )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from exc


def says_abandoned(payload: bytes) -> bool:
    """Whether a kiosk's payload calls itself an abandoned session (``"kind": "abandoned"``),
    whatever else is wrong with it. Best effort, never raises: anything else is a rating's to
    accept or refuse."""
    try:
        data = _parse(payload)
    except ContractError:
        return False
    return isinstance(data, dict) and data.get("kind") == "abandoned"


def decode_ack(payload: bytes) -> AckMessage:
    return _decode_as(AckMessage, payload)


def decode_unit_config(payload: bytes) -> UnitConfigMessage:
    return _decode_as(UnitConfigMessage, payload)


def decode_rated(payload: bytes) -> RatedMessage:
    return _decode_as(RatedMessage, payload)


def decode_returned(payload: bytes) -> ReturnedMessage:
    return _decode_as(ReturnedMessage, payload)


def decode_kiosk_status(payload: bytes) -> KioskStatusMessage:
    return _decode_as(KioskStatusMessage, payload)


def peek_identity(payload: bytes) -> tuple[UUID, int] | None:
    """Best effort id and seq of an invalid rating, so the kiosk can still be told it was rejected.

    Only a seq inside the contract's bounds counts (a JSON integer, 1 to :data:`INT32_MAX`): the
    ack carries it back. Never raises: it runs on payloads already known to be bad (a seq of
    ``1e999``, a hundred thousand nested brackets), and an exception here would cost the whole
    batch its commit.
    """
    try:
        data = _parse(payload)
        seq = data["seq"]
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= INT32_MAX:
            return None
        return UUID(str(data["id"])), seq
    except (ContractError, ValueError, KeyError, TypeError, RecursionError):
        return None


_Item = TypeVar("_Item", bound=BaseModel)


def packed(
    items: Sequence[_Item],
    build: Callable[[tuple[_Item, ...]], _Message],
    *,
    max_items: int = 500,
    limit: int = MAX_PAYLOAD_BYTES,
) -> list[bytes]:
    """Payloads of ``build(chunk)`` that carry ``items`` in order, each within ``limit`` bytes.

    Every payload of the contract fits in 16 KiB (kiosks refuse bigger ones), yet a batch of a
    thousand ratings from one kiosk needs a thousand outcomes: the hub sends them as several
    messages. Sizes are counted from each item's own JSON, so packing is one pass.
    """
    envelope = len(build(()).to_bytes())
    payloads: list[bytes] = []
    chunk: list[_Item] = []
    size = envelope
    for item in items:
        item_size = len(item.model_dump_json(exclude_none=True).encode()) + 1  # and its comma
        if chunk and (size + item_size > limit or len(chunk) >= max_items):
            payloads.append(build(tuple(chunk)).to_bytes())
            chunk, size = [], envelope
        if envelope + item_size > limit:
            raise ContractError(f"one item of {item_size} bytes cannot fit in {limit}")
        chunk.append(item)
        size += item_size
    if chunk:
        payloads.append(build(tuple(chunk)).to_bytes())
    return payloads
