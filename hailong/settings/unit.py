"""The unit's catalogue (``config/unit.toml``): its counters, officers, procedures with their
national codes, fields of work, reasons for dissatisfaction and kiosks. The hub sends the part
kiosks need as the retained unit config (:meth:`Unit.to_message`)."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from hailong.contract.clock import DEFAULT_ZONE_NAME, zone_named
from hailong.contract.dossier_codes import CodeBook, PatternError, check_templates, code_book
from hailong.contract.messages import (
    KioskPolicy,
    NamedCode,
    OfficerInfo,
    ProcedureInfo,
    ReasonInfo,
    TimeZoneName,
    UnitConfigMessage,
)
from hailong.contract.pictograms import PICTOGRAMS
from hailong.contract.scale import Factor
from hailong.settings.loading import Code, Section, load


class Counter(Section):
    code: Code
    name: str


class Officer(Section):
    code: Code
    name: str
    counter: Code | None = None


class Procedure(Section):
    code: Annotated[str, Field(pattern=r"^\d\.\d{6}$")]
    name: str
    field: Code


class FieldOfWork(Section):
    """Lĩnh vực: the area of administration a procedure belongs to."""

    code: Code
    name: str


def _known_icon(name: str) -> str:
    if name not in PICTOGRAMS:
        raise ValueError(f"unknown pictogram {name!r}; expected one of {', '.join(PICTOGRAMS)}")
    return name


class Reason(Section):
    """A reason for dissatisfaction offered on the kiosk, counted against one SIPAS factor."""

    code: Code
    name: str
    name_en: str
    factor: Factor
    # The pictogram beside it on the kiosk; none: its code's default (hailong.contract.pictograms).
    icon: Annotated[str, AfterValidator(_known_icon)] | None = None


class KioskEntry(Section):
    id: Code
    counter: Code | None = None


def _templates(templates: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return check_templates(templates)
    except PatternError as exc:
        raise ValueError(
            f"{exc}; expected templates of {{unit}}, {{yymmdd}} or {{yyyymmdd}}, {{seq:N}} or "
            '{seq:M-N} and literal 0-9 A-Z . - (docs/counter.md, "Codes of other systems")'
        ) from exc


class RegisterPolicy(Section):
    """How far the hub trusts a rating its receipt register cannot vouch for: ``[register_policy]``
    in the unit file, the hub's own rules, never sent to kiosks (docs/protocol.md, "What the hub
    believes")."""

    # A code the register does not know (another system's slip, a typed code) is stored as
    # unverified and kept out of the headline figures, unless the unit decides to count it.
    count_unverified: bool = False
    # A rating made more than this before its receipt was issued (kiosk and hub clocks apart) is
    # refused as ``rated_before_issue``.
    issue_clock_skew_s: Annotated[float, Field(ge=0, le=86_400)] = 300.0


class ReceiptCodes(Section):
    """``[receipt_codes]`` in the unit file: the spellings of dossier codes the unit accepts besides
    the national one (which it always accepts: it is the one the hub issues), for receipts another
    system printed and the hub registers, and for such codes typed at a kiosk. Each is a template
    of :mod:`hailong.contract.dossier_codes` (``"G09.20-{yyyymmdd}-{seq:7}"``), checked at
    start-up; kiosks get them in the unit config."""

    external_patterns: Annotated[tuple[str, ...], AfterValidator(_templates)] = ()


class UnitInfo(Section):
    code: Annotated[str, Field(pattern=r"^[0-9A-Z][0-9A-Z.]{2,19}$")]
    name: str
    target_rate: Annotated[float, Field(ge=0, le=100)] = 90.0
    # The unit's clock (hailong.contract.clock): every date and time of its dossier codes, slips,
    # pages and reports is in this IANA zone, checked at start-up against the zone database.
    time_zone: TimeZoneName = DEFAULT_ZONE_NAME


class Unit(Section):
    """One unit's catalogue: the counters, officers, procedures and kiosks it has."""

    unit: UnitInfo
    fields: tuple[FieldOfWork, ...]
    counters: tuple[Counter, ...]
    officers: tuple[Officer, ...]
    procedures: tuple[Procedure, ...]
    reasons: tuple[Reason, ...] = ()
    # Factories, not instances: an instance would build its validator at import (defer_build).
    kiosk_policy: KioskPolicy = Field(default_factory=KioskPolicy)
    register_policy: RegisterPolicy = Field(default_factory=RegisterPolicy)
    receipt_codes: ReceiptCodes = Field(default_factory=ReceiptCodes)
    kiosks: tuple[KioskEntry, ...] = ()

    @model_validator(mode="after")
    def _references_exist(self) -> Unit:
        for name in ("fields", "counters", "officers", "procedures", "reasons", "kiosks"):
            codes = [
                getattr(item, "id" if name == "kiosks" else "code") for item in getattr(self, name)
            ]
            for i, code in enumerate(codes):
                if code in codes[:i]:
                    raise ValueError(f"{name}[{i}] {code!r} is already {name}[{codes.index(code)}]")
        counters = {c.code for c in self.counters}
        fields = {f.code for f in self.fields}
        for i, officer in enumerate(self.officers):
            if officer.counter and officer.counter not in counters:
                raise ValueError(f"officers[{i}].counter {officer.counter!r} is not a counter")
        for i, proc in enumerate(self.procedures):
            if proc.field not in fields:
                raise ValueError(f"procedures[{i}].field {proc.field!r} is not a field")
        for i, kiosk in enumerate(self.kiosks):
            if kiosk.counter and kiosk.counter not in counters:
                raise ValueError(f"kiosks[{i}].counter {kiosk.counter!r} is not a counter")
        return self

    @property
    def zone(self) -> tzinfo:
        """The unit's time zone: the day of its dossier codes, rollups and reports."""
        return zone_named(self.unit.time_zone)

    def code_book(self) -> CodeBook:
        """The dossier code spellings this unit accepts besides the national one."""
        return code_book(self.unit.code, self.receipt_codes.external_patterns)

    def procedure(self, code: str) -> Procedure | None:
        return next((p for p in self.procedures if p.code == code), None)

    def to_message(self, revoked_keys: tuple[str, ...] = ()) -> UnitConfigMessage:
        return UnitConfigMessage(
            unit=self.unit.code,
            name=self.unit.name,
            counters=tuple(NamedCode(code=c.code, name=c.name) for c in self.counters),
            officers=tuple(
                OfficerInfo(code=o.code, name=o.name, counter=o.counter) for o in self.officers
            ),
            procedures=tuple(
                ProcedureInfo(code=p.code, name=p.name, field=p.field) for p in self.procedures
            ),
            fields=tuple(NamedCode(code=f.code, name=f.name) for f in self.fields),
            reasons=tuple(
                ReasonInfo(
                    code=r.code, name=r.name, name_en=r.name_en, factor=r.factor, icon=r.icon
                )
                for r in self.reasons
            ),
            policy=self.kiosk_policy,
            revoked_keys=revoked_keys,
            dossier_patterns=self.receipt_codes.external_patterns or None,
            time_zone=None if self.unit.time_zone == DEFAULT_ZONE_NAME else self.unit.time_zone,
        )


def load_unit(path: Path | str) -> Unit:
    return load(path, Unit)
