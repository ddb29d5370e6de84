"""Typed configuration, loaded from ``config/*.toml`` and validated at start-up.

An error names the file, the key and what was expected, so a mistyped config fails before anything
runs. Relative paths in a file are resolved against that file's folder. Secrets (receipt keys, MQTT
passwords) are never in these files: they name files under ``var/secrets/`` that ``hailong init``
creates and that git ignores.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hailong.contract.messages import (
    KioskPolicy,
    NamedCode,
    OfficerInfo,
    ProcedureInfo,
    ReasonInfo,
    UnitConfigMessage,
)
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Factor

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names file and key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Counter(_Section):
    code: Code
    name: str


class Officer(_Section):
    code: Code
    name: str
    counter: Code | None = None


class Procedure(_Section):
    code: Annotated[str, Field(pattern=r"^\d\.\d{6}$")]
    name: str
    field: Code


class FieldOfWork(_Section):
    """Lĩnh vực: the area of administration a procedure belongs to."""

    code: Code
    name: str


class Reason(_Section):
    """A reason for dissatisfaction offered on the kiosk, counted against one SIPAS factor."""

    code: Code
    name: str
    name_en: str
    factor: Factor


class KioskEntry(_Section):
    id: Code
    counter: Code | None = None


class UnitInfo(_Section):
    code: Annotated[str, Field(pattern=r"^[0-9A-Z][0-9A-Z.]{2,19}$")]
    name: str
    target_rate: Annotated[float, Field(ge=0, le=100)] = 90.0


class Unit(_Section):
    """One unit's catalogue: the counters, officers, procedures and kiosks it has."""

    unit: UnitInfo
    fields: tuple[FieldOfWork, ...]
    counters: tuple[Counter, ...]
    officers: tuple[Officer, ...]
    procedures: tuple[Procedure, ...]
    reasons: tuple[Reason, ...] = ()
    kiosk_policy: KioskPolicy = KioskPolicy()
    kiosks: tuple[KioskEntry, ...] = ()

    @model_validator(mode="after")
    def _references_exist(self) -> Unit:
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

    def procedure(self, code: str) -> Procedure | None:
        return next((p for p in self.procedures if p.code == code), None)

    def to_message(self) -> UnitConfigMessage:
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
                ReasonInfo(code=r.code, name=r.name, name_en=r.name_en, factor=r.factor)
                for r in self.reasons
            ),
            policy=self.kiosk_policy,
        )


class MqttSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    username: str
    password_file: Path
    keepalive: Annotated[int, Field(ge=5, le=600)] = 30

    def password(self) -> str:
        return read_secret(self.password_file, "mqtt.password_file")


class ReceiptKeys(_Section):
    """Receipt signing keys: ``<key_dir>/<id>.key`` files holding hex, created by ``hailong init``."""

    key_dir: Path
    active_key: Code = "k1"

    def keyring(self) -> KeyRing:
        keys: dict[str, bytes] = {}
        if not self.key_dir.is_dir():
            raise ConfigError(
                f"receipts.key_dir: folder {self.key_dir} does not exist (run `hailong init`)"
            )
        for path in sorted(self.key_dir.glob("*.key")):
            try:
                keys[path.stem] = bytes.fromhex(path.read_text().strip())
            except ValueError as exc:
                raise ConfigError(f"{path}: expected the key as hex") from exc
        if self.active_key not in keys:
            raise ConfigError(
                f"receipts.active_key: no key file {self.key_dir / (self.active_key + '.key')}"
            )
        return KeyRing(keys=keys, active=self.active_key)


class PrinterSettings(_Section):
    """Where a counter's receipts go. ``file`` writes raw ESC/POS bytes (the demo's printer)."""

    kind: Literal["file", "network", "dummy"] = "file"
    path: Path | None = None
    host: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 9100
    paper_width_mm: Literal[58, 80] = 80

    @model_validator(mode="after")
    def _target(self) -> PrinterSettings:
        if self.kind == "file" and self.path is None:
            raise ValueError("a file printer needs `path`")
        if self.kind == "network" and not self.host:
            raise ValueError("a network printer needs `host`")
        return self


class HubSection(_Section):
    unit_file: Path
    database_url: str
    public_base_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/\S*)?$")]


class HubSettings(_Section):
    hub: HubSection
    mqtt: MqttSettings
    receipts: ReceiptKeys
    printers: dict[str, PrinterSettings] = {}


class KioskSection(_Section):
    id: Code
    unit: Annotated[str, Field(pattern=r"^[0-9A-Z][0-9A-Z.]{2,19}$")]
    counter: Code | None = None
    outbox_path: Path
    # The staff PIN that opens the maintenance screen (a secret file, created by `hailong init`).
    staff_pin_file: Path | None = None
    idle_reset_seconds: Annotated[float, Field(gt=0, le=600)] = 45.0
    thanks_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    resend_after_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0


class KioskSettings(_Section):
    kiosk: KioskSection
    mqtt: MqttSettings
    receipts: ReceiptKeys


def read_secret(path: Path, key: str) -> str:
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"{key}: cannot read {path} ({exc.strerror}); run `hailong init`"
        ) from exc
    if not value:
        raise ConfigError(f"{key}: {path} is empty")
    return value


_M = TypeVar("_M", bound=BaseModel)


def _resolve_paths(data: object, base: Path) -> object:
    """Make every ``*_file``/``*_dir``/``*path`` value absolute, relative to the config's folder."""
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            if isinstance(value, str) and key.endswith(("_file", "_dir", "path")):
                out[key] = str((base / value).resolve())
            elif key == "database_url" and isinstance(value, str):
                out[key] = _resolve_sqlite_url(value, base)
            else:
                out[key] = _resolve_paths(value, base)
        return out
    if isinstance(data, list):
        return [_resolve_paths(item, base) for item in data]
    return data


def _resolve_sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix:
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def load(path: Path | str, model: type[_M]) -> _M:
    """Load and validate one TOML file; raise :class:`ConfigError` naming file, key, expectation."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return model.model_validate(_resolve_paths(raw, path.resolve().parent))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            got = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
            problems.append(f"{path}: key `{key}`: {err['msg']}{got}")
        raise ConfigError("\n".join(problems)) from exc


def load_unit(path: Path | str) -> Unit:
    return load(path, Unit)


def load_hub(path: Path | str) -> HubSettings:
    return load(path, HubSettings)


def load_kiosk(path: Path | str) -> KioskSettings:
    return load(path, KioskSettings)
