"""JSON payloads on the wire, version 1.

Every payload carries ``"v": 1``. A consumer that meets another version refuses it as a whole (the
hub dead-letters it) rather than guessing, so a v2 can be rolled out beside v1 on new topics.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hailong.contract.scale import Channel, Factor, Score, Stage

VERSION = 1
MAX_PAYLOAD_BYTES = 16 * 1024

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


class ContractError(ValueError):
    """A payload that does not follow this contract; ``reason`` is short and safe to store."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


class ReceiptRef(BaseModel):
    """The receipt a rating is tied to; ``verified`` is true only when its signature was checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, Field(min_length=8, max_length=40)]
    verified: bool


class RatingMessage(_Message):
    """One citizen's rating, as the kiosk stored it before publishing.

    ``id`` makes redelivery harmless; ``seq`` (per kiosk, from 1, without gaps) lets the hub notice a
    rating that never arrived.
    """

    id: UUID
    unit: Code
    kiosk: Code
    seq: Annotated[int, Field(ge=1)]
    receipt: ReceiptRef | None = None
    stage: Stage = Stage.RECEPTION
    counter: Code | None = None
    officer: Code | None = None
    procedure: Code | None = None
    score: Score
    reasons: tuple[Code, ...] = ()
    # Answers to the optional short survey on the SIPAS factors.
    factors: dict[Factor, Score] = Field(default_factory=dict)
    comment: Annotated[str, Field(max_length=1000)] | None = None
    # Present only when the citizen explicitly consented to be called back.
    callback_phone: Annotated[str, Field(pattern=r"^\+?[0-9]{8,15}$")] | None = None
    # The language the citizen used: vi, en, or a language a Qt catalogue adds (ISO 639-1).
    lang: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")] = "vi"
    channel: Channel = Channel.KIOSK
    rated_at: datetime
    duration_ms: Annotated[int, Field(ge=0, le=3_600_000)] | None = None

    @field_validator("rated_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("rated_at must carry a time zone offset")
        return value


class AckOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: UUID
    seq: int
    # stored: committed now; duplicate: this rating id was committed earlier; already_rated: another
    # rating of the same receipt and stage was committed first (this one is kept in the hub's dead
    # letters, not counted); rejected: invalid, kept in the hub's dead letters.
    outcome: Literal["stored", "duplicate", "already_rated", "rejected"]
    reason: str | None = None


class AckMessage(_Message):
    """Published to the kiosk only after the hub's database commit: the only proof of storage."""

    results: tuple[AckOutcome, ...]


class RatedReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, Field(min_length=8, max_length=40)]
    stage: Stage


class RatedMessage(_Message):
    """Receipts the hub has just stored a rating for, sent to every kiosk of the unit.

    A kiosk adds them to its local "already rated" list, so a receipt rated at one counter's kiosk
    is refused at another (one rating per receipt and stage).
    """

    receipts: Annotated[tuple[RatedReceipt, ...], Field(max_length=500)]


class ReturnedReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, Field(min_length=8, max_length=40)]
    returned_at: datetime


class ReturnedMessage(_Message):
    """Receipts whose result was just handed back: a kiosk rates them as the return stage."""

    receipts: Annotated[tuple[ReturnedReceipt, ...], Field(max_length=500)]


class NamedCode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code
    name: str


class ProcedureInfo(NamedCode):
    field: Code


class ReasonInfo(NamedCode):
    """A reason for dissatisfaction a citizen can tick, and the SIPAS factor it counts against."""

    name_en: str
    factor: Factor


class KioskPolicy(BaseModel):
    """How the unit's kiosks ask: faces shown, when to ask for reasons, who gets the survey."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    faces: Literal[3, 4, 5] = 5
    reasons_at_or_below: Annotated[int, Field(ge=1, le=5)] = 2
    survey_share: Annotated[float, Field(ge=0, le=1)] = 0.0
    allow_walk_in: bool = False
    unverified_min_interval_s: Annotated[float, Field(ge=0)] = 60.0


class OfficerInfo(NamedCode):
    counter: Code | None = None


class UnitConfigMessage(_Message):
    """Retained on ``hailong/v1/<unit>/config``: what kiosks need to show names instead of codes."""

    unit: Code
    name: str
    counters: tuple[NamedCode, ...]
    officers: tuple[OfficerInfo, ...]
    procedures: tuple[ProcedureInfo, ...]
    fields: tuple[NamedCode, ...]
    reasons: tuple[ReasonInfo, ...] = ()
    policy: KioskPolicy = KioskPolicy()


# "unknown": a keyboard-mode USB scanner cannot be probed, only seen working (last_scan_at).
DeviceState = Literal["ok", "missing", "error", "unknown"]


class KioskStatusMessage(_Message):
    """Retained on ``.../<kiosk>/status``; the kiosk's last will publishes ``online: false``."""

    kiosk: Code
    online: bool
    buffer_depth: Annotated[int, Field(ge=0)] | None = None
    version: str | None = None
    at: datetime | None = None
    # Receipts refused at this kiosk since it was installed, per reason (bad_signature, ...).
    refusals: dict[Code, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    # When the hub last acknowledged a rating of this kiosk (the kiosk's clock).
    last_ack_at: datetime | None = None
    # The oldest rating still in the outbox: the hub's gap report treats seqs from here on as
    # not yet delivered rather than lost.
    oldest_pending_seq: Annotated[int, Field(ge=1)] | None = None
    # The attached devices as the kiosk sees them, e.g. {"scanner": "ok"}.
    devices: dict[Code, DeviceState] = Field(default_factory=dict)
    # The last receipt scan the kiosk recognised (a scanner silent for days may be unplugged).
    last_scan_at: datetime | None = None


def _decode(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"not UTF-8 JSON: {exc}") from exc
    except RecursionError as exc:  # thousands of nested brackets fit in the size limit
        raise ContractError("JSON nested too deeply") from exc
    if not isinstance(data, dict):
        raise ContractError("payload is not a JSON object")
    if data.get("v") != VERSION:
        raise ContractError(f"unsupported contract version {data.get('v')!r}")
    return data


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "payload"
    return f"{where}: {err['msg']}"


_M = TypeVar("_M", bound=_Message)


def _decode_as(model: type[_M], payload: bytes) -> _M:
    data = _decode(payload)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ContractError(_first_error(exc)) from exc


def decode_rating(payload: bytes) -> RatingMessage:
    """Parse and validate a rating; raises :class:`ContractError` with a storable reason."""
    return _decode_as(RatingMessage, payload)


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

    Never raises: it runs on payloads already known to be bad (a seq of ``1e999``, a hundred
    thousand nested brackets), and an exception here would cost the whole batch its commit.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        data = json.loads(payload.decode("utf-8"))
        return UUID(str(data["id"])), int(data["seq"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, OverflowError, RecursionError):
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
