"""The dossier feed, versions 1 and 2: what ``hailong export dossiers`` sends to a provincial one-stop
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

Version 2 adds ``not_applicable`` (the survey questions answered "Không áp dụng", issue 18). A v1
schema forbids unknown keys, so the hub sends v2 only to a destination that takes it
(``[export] feed_version``, default 2); for a v1 destination :func:`as_version` drops the field
and the records are exactly what version 1 always sent (its committed schema is unchanged).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hailong.contract.messages import Code, ContractError, Instant, StrictScore
from hailong.contract.scale import Channel, Factor, Stage

VERSION: Final = 2  # what the hub writes unless a destination is configured for an older one
VERSIONS = (1, 2)
FeedVersion = Literal[1, 2]
# At most this many records in one batch (one HTTP POST, one file): a receiver can bound its
# request size (a record is under 1 KiB).
MAX_BATCH = 5000
# The committed schema files, relative to the repository (docs/data-out.md): the current
# version's as "batch" and "record", every older one's still committed for its receivers.
SCHEMA_FILES = {
    "batch": "dossier-feed-v2.batch.schema.json",
    "record": "dossier-feed-v2.record.schema.json",
    "batch-v1": "dossier-feed-v1.batch.schema.json",
    "record-v1": "dossier-feed-v1.record.schema.json",
}
# Only in records of this version or later (a v1 record never has the key).
_SINCE = {"not_applicable": 2}

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

    v: FeedVersion = VERSION
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
    not_applicable: Annotated[
        tuple[Factor, ...], Field(max_length=5, json_schema_extra={"uniqueItems": True})
    ] = ()
    """Survey questions the citizen answered "Không áp dụng" (does not apply): in no factor's
    n, and not a skipped question. Version 2 and later."""
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
        if self.v < 2 and self.not_applicable:
            raise ValueError("not_applicable is in version 2 and later")
        if len(set(self.not_applicable)) != len(self.not_applicable):
            raise ValueError("not_applicable should name a factor once")
        if set(self.not_applicable) & set(self.factors):
            raise ValueError("a factor in not_applicable should not also have an answer in factors")
        return self


class DossierBatch(_Model):
    """What one HTTP POST carries (``Idempotency-Key: <batch_id>``)."""

    v: FeedVersion = VERSION
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
        if any(record.v != self.v for record in self.records):
            raise ValueError("every record should be of the batch's version")
        return self


def batch_id_of(records: Sequence[DossierRating]) -> str:
    """The batch's identity: SHA-256 of its record ids in order, first 128 bits in hex."""
    digest = hashlib.sha256("\n".join(str(record.id) for record in records).encode())
    return digest.hexdigest()[:32]


def as_version(record: DossierRating, version: FeedVersion) -> DossierRating:
    """The record as a destination of ``version`` takes it: what that version does not carry is
    left out (a v1 record has no ``not_applicable``). Its id, hence the batch's, is unchanged."""
    if record.v == version:
        return record
    if version < 2:
        return record.model_copy(update={"v": version, "not_applicable": ()})
    return record.model_copy(update={"v": version})


def make_batch(
    records: Sequence[DossierRating], source: str | None = None, version: FeedVersion = VERSION
) -> DossierBatch:
    records = tuple(as_version(record, version) for record in records)
    return DossierBatch(v=version, batch_id=batch_id_of(records), source=source, records=records)


def _absent(version: int) -> set[str]:
    """The keys a record of ``version`` does not have."""
    return {key for key, since in _SINCE.items() if version < since}


def encode_batch(batch: DossierBatch) -> bytes:
    absent = _absent(batch.v)
    exclude = {"records": {"__all__": absent}} if absent else None
    return batch.model_dump_json(exclude=exclude).encode()


def encode_record(record: DossierRating) -> str:
    """One JSON Lines line (without its newline)."""
    return record.model_dump_json(exclude=_absent(record.v) or None)


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
    """The JSON Schema (draft 2020-12) of a batch and of one record (a JSON Lines line), for
    every version (keys as :data:`SCHEMA_FILES`)."""
    out: dict[str, dict[str, Any]] = {}
    for version in VERSIONS:
        suffix = "" if version == VERSION else f"-v{version}"
        for kind, model in (("batch", DossierBatch), ("record", DossierRating)):
            body = _for_version(model.model_json_schema(mode="serialization"), version)
            out[kind + suffix] = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": f"urn:hailong:dossier-feed:v{version}:{kind}",
                **body,
            }
    return out


def _for_version(schema: dict[str, Any], version: int) -> dict[str, Any]:
    """The models' schema narrowed to one version: ``v`` fixed, the keys it lacks removed."""
    absent = _absent(version)
    models = [schema, *schema.get("$defs", {}).values()]
    for model in models:
        if model.get("title") not in ("DossierRating", "DossierBatch"):
            continue
        properties = model["properties"]
        v = {key: value for key, value in properties["v"].items() if key != "enum"}
        properties["v"] = {**v, "const": version, "default": version, "type": "integer"}
        for key in absent & set(properties):
            del properties[key]
            model["required"].remove(key)
    return schema


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
