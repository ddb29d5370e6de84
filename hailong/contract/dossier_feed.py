"""The dossier feed, version 1: what ``hailong export dossiers`` sends to a provincial one-stop
system or a national portal feed, one record per rating of a dossier (docs/data-out.md).

Another system consumes this, so it is a wire contract and lives here beside the MQTT payloads.
JSON Schema files generated from these models are committed in ``docs/schemas/`` (a test keeps
them equal): a receiver validates against them without reading Python.

What a record never carries (Decree 61 Art. 27: raters stay confidential; the personal-data
rules): the citizen's name or contact from the receipt, the call-back phone, the free-text
comment. Officer and counter codes are staff identifiers the one-stop system already holds for
the dossier (the results feed officer appraisal, Art. 32), so they are sent.

A record is immutable once sent: a rating is stored once, with its flags, and never changed. The
receipt's dates are those the register held when the record was sent; a return-stage rating is
given after the return, so its record carries ``returned_at``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hailong.contract.messages import Code, ContractError, Instant, StrictScore
from hailong.contract.scale import Channel, Factor, Stage

VERSION = 1
# At most this many records in one batch (one HTTP POST, one file): a receiver can bound its
# request size (a record is under 1 KiB).
MAX_BATCH = 5000
BATCH_SCHEMA_ID = "urn:hailong:dossier-feed:v1:batch"
RECORD_SCHEMA_ID = "urn:hailong:dossier-feed:v1:record"
# The committed schema files, relative to the repository (docs/data-out.md).
SCHEMA_FILES = {
    "batch": "dossier-feed-v1.batch.schema.json",
    "record": "dossier-feed-v1.record.schema.json",
}

Flag = Annotated[bool, Field(strict=True)]
# An instant as the feed writes it: UTC or with an offset, in the contract's years (2000-2099),
# so a receiver's schema check alone catches what the codec refuses.
INSTANT_PATTERN = r"^20\d{2}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
FeedInstant = Annotated[Instant, Field(json_schema_extra={"pattern": INSTANT_PATTERN})]
DossierCodeText = Annotated[str, Field(min_length=8, max_length=40)]
BatchId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class _Model(BaseModel):
    # The schema says what the hub writes: every key, always (a null where there is no value).
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        json_schema_serialization_defaults_required=True,
    )


class DossierDates(_Model):
    """The dossier as the hub's receipt register knows it (Giấy tiếp nhận hồ sơ và hẹn trả kết
    quả): when it was received, the promised date, when the result was handed back."""

    origin: Literal["issued", "registered"]
    """Issued: the hub allocated the code; registered: another system's receipt, signed here."""
    issued_at: FeedInstant
    """When the dossier was received and its receipt issued (or registered here), UTC."""
    promised_on: date | None = None
    """The date promised for the result (ngày hẹn trả), in the unit's calendar."""
    returned_at: FeedInstant | None = None
    """When the result was handed back (trả kết quả), UTC; None while it is not."""


class DossierRating(_Model):
    """One rating of one dossier at one stage (reception or return), without personal data."""

    v: Literal[1] = 1
    """The feed's version: a receiver refuses another rather than guess."""
    id: UUID
    """The rating's own UUID: a receiver keeping records by it never counts one twice."""
    unit: Code
    """The unit's electronic identifier code (mã định danh), e.g. 000.00.20.H41."""
    dossier_code: DossierCodeText
    """The dossier code (mã hồ sơ) as printed on the receipt."""
    stage: Stage
    """reception (tiếp nhận) or return (trả kết quả)."""
    channel: Channel
    """Where the rating was given: kiosk, online page, button box, ..."""
    kiosk: Code
    """The device (or entry point) the rating came through."""
    procedure: Code | None = None
    """National procedure code (mã TTHC), e.g. 1.001193."""
    field: Code | None = None
    """The unit's field (lĩnh vực) code."""
    counter: Code | None = None
    """The counter (quầy) code."""
    officer: Code | None = None
    """Staff code of the officer who served this stage."""
    score: StrictScore
    """SIPAS 5-level: 1 Rất không hài lòng ... 5 Rất hài lòng."""
    satisfied: Flag
    """True exactly when score >= 4 (Hài lòng, Rất hài lòng): what MĐHL counts."""
    factors: dict[Factor, StrictScore] = Field(default_factory=dict)
    """Answers (1-5) per SIPAS factor, when the short survey was given."""
    reasons: Annotated[tuple[Code, ...], Field(max_length=32)] = ()
    """Reasons for dissatisfaction the citizen ticked: codes of the unit's catalogue."""
    lang: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")] = "vi"
    """The language the citizen used (ISO 639-1)."""
    rated_at: FeedInstant
    """When the citizen rated (the device's clock), UTC."""
    received_at: FeedInstant
    """When the hub stored it, UTC."""
    duration_ms: Annotated[int, Field(strict=True, ge=0, le=3_600_000)] | None = None
    """How long the citizen took to rate, when the device measured it."""
    receipt: DossierDates | None = None
    """The register's dates; None when it does not know the code."""
    verified: Flag
    """A signed slip the register holds: the rating is tied to this dossier."""
    known: Flag
    """The register knows the code."""
    counted: Flag
    """In the official figures (not suspect, code known or the unit counts those)."""
    suspect: Flag
    """Flagged (e.g. a kiosk rating too soon after another without a receipt)."""
    assisted: Flag = False
    """Given with a helper's assistance (Decree 61, Art. 29), recorded by the helper, never by
    the officer rated."""

    @model_validator(mode="after")
    def _satisfied_is_the_score(self) -> DossierRating:
        if self.satisfied != (self.score >= 4):
            raise ValueError("satisfied must be true exactly when score >= 4")
        return self


class DossierBatch(_Model):
    """What one HTTP POST carries (``Idempotency-Key: <batch_id>``)."""

    v: Literal[1] = 1
    """The feed's version."""
    batch_id: BatchId
    """SHA-256 of the records' ids (first 32 hex digits): records resent after a lost answer
    carry the same id, so a receiver that remembers ids stores them once."""
    source: Annotated[str, Field(max_length=400)] | None = None
    """The hub's public base URL."""
    records: Annotated[tuple[DossierRating, ...], Field(min_length=1, max_length=MAX_BATCH)]
    """The records, in the order the hub stored them."""

    @model_validator(mode="after")
    def _id_matches(self) -> DossierBatch:
        if self.batch_id != batch_id_of(self.records):
            raise ValueError("batch_id is not the one its records give")
        return self


def batch_id_of(records: Sequence[DossierRating]) -> str:
    """The batch's identity: SHA-256 of its record ids in order, first 128 bits in hex."""
    digest = hashlib.sha256("\n".join(str(record.id) for record in records).encode())
    return digest.hexdigest()[:32]


def make_batch(records: Sequence[DossierRating], source: str | None = None) -> DossierBatch:
    return DossierBatch(batch_id=batch_id_of(records), source=source, records=tuple(records))


def encode_batch(batch: DossierBatch) -> bytes:
    return batch.model_dump_json().encode()


def encode_record(record: DossierRating) -> str:
    """One JSON Lines line (without its newline)."""
    return record.model_dump_json()


def decode_batch(body: bytes | str) -> DossierBatch:
    try:
        return DossierBatch.model_validate_json(body)
    except ValidationError as exc:
        raise ContractError(_first(exc)) from exc


def decode_record(line: bytes | str) -> DossierRating:
    try:
        return DossierRating.model_validate_json(line)
    except ValidationError as exc:
        raise ContractError(_first(exc)) from exc


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    return f"{where}: {error['msg']}"


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema (draft 2020-12) of a batch and of one record (a JSON Lines line)."""
    out: dict[str, dict[str, Any]] = {}
    for kind, model, schema_id in (
        ("batch", DossierBatch, BATCH_SCHEMA_ID),
        ("record", DossierRating, RECORD_SCHEMA_ID),
    ):
        body = model.model_json_schema(mode="serialization")
        out[kind] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": schema_id,
            **body,
        }
    return out


def schema_text(kind: str) -> str:
    """A schema as committed: sorted keys, two-space indent, a final newline."""
    return json.dumps(json_schemas()[kind], indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Regenerate the committed files (``python -m hailong.contract.dossier_feed docs/schemas``)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, name in SCHEMA_FILES.items():
        path = folder / name
        path.write_text(schema_text(kind), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    import sys

    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
