"""Typed configuration, loaded from ``config/*.toml`` and validated at start-up.

An error names the file, the key and what was expected, so a mistyped config fails before anything
runs. Relative paths in a file are resolved against that file's folder. Secrets (receipt keys, MQTT
passwords) are never in these files: they name files under ``var/secrets/`` that ``hailong init``
creates and that git ignores.
"""

from __future__ import annotations

import tomllib
from datetime import date
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
    # TLS to the broker: the CA that signed the broker's certificate. Required off the hub itself.
    ca_file: Path | None = None

    def password(self) -> str:
        return read_secret(self.password_file, "mqtt.password_file")


class BrokerSettings(_Section):
    """How ``hailong broker`` (and the demo) listen. Plain MQTT only on loopback; any other address
    needs TLS (the certificate and key of the broker, signed by the CA kiosks trust)."""

    bind: str = "127.0.0.1"
    certfile: Path | None = None
    keyfile: Path | None = None

    @model_validator(mode="after")
    def _tls_off_loopback(self) -> BrokerSettings:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("certfile and keyfile go together")
        if self.bind not in ("127.0.0.1", "localhost", "::1") and self.certfile is None:
            raise ValueError(f"bind {self.bind!r} is off this machine: set certfile and keyfile")
        return self


KEY_MANIFEST = "keys.toml"


class KeyLifetime(_Section):
    """One key in ``keys.toml``: the day it was made and, once retired, its last valid day."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    created: date
    valid_until: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> KeyLifetime:
        if self.valid_until is not None and self.valid_until < self.created:
            raise ValueError(f"valid_until {self.valid_until} is before created {self.created}")
        return self


class KeyManifest(_Section):
    """``<key_dir>/keys.toml``, written by ``hailong keys rotate``: which key signs, and until
    which day each retired key still verifies. It is a secret folder's file, not configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    active: Code
    keys: dict[Code, KeyLifetime]

    @model_validator(mode="after")
    def _active_signs(self) -> KeyManifest:
        entry = self.keys.get(self.active)
        if entry is None:
            raise ValueError(f"active key {self.active!r} has no [keys.{self.active}] table")
        if entry.valid_until is not None:
            raise ValueError(f"the active key {self.active!r} has a valid_until: it is retired")
        return self


def read_key_manifest(key_dir: Path) -> KeyManifest | None:
    """Read ``<key_dir>/keys.toml``; ``None`` when there is none (before the first rotation)."""
    path = key_dir / KEY_MANIFEST
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return KeyManifest.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            got = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
            dated = err["type"] == "date_type"
            hint = ", written as a TOML date such as 2027-02-23" if dated else ""
            problems.append(f"{path}: key `{key}`: {err['msg']}{hint}{got}")
        raise ConfigError("\n".join(problems)) from exc


class ReceiptKeys(_Section):
    """Receipt signing keys: ``<key_dir>/<id>.key`` files holding hex, created by ``hailong init``.

    ``<key_dir>/keys.toml`` (written by ``hailong keys rotate``), when it exists, wins over
    ``active_key``: it names the active key and each retired key's last valid day, and only the
    keys it lists are loaded (a key file it does not list is an error). Without it, as
    ``hailong init`` leaves the folder, every key file verifies and ``active_key`` signs.
    """

    key_dir: Path
    active_key: Code = "k1"  # only while there is no keys.toml
    # Refuse a receipt whose dossier date is more than this many days old (`expired`); None: never.
    max_age_days: Annotated[int, Field(ge=0)] | None = None

    def manifest(self) -> KeyManifest | None:
        return read_key_manifest(self.key_dir)

    def keyring(self) -> KeyRing:
        if not self.key_dir.is_dir():
            raise ConfigError(
                f"receipts.key_dir: folder {self.key_dir} does not exist (run `hailong init`)"
            )
        manifest = self.manifest()
        files = {path.stem: path for path in sorted(self.key_dir.glob("*.key"))}
        retired: dict[str, date] = {}
        active = self.active_key
        if manifest is not None:
            listed = self.key_dir / KEY_MANIFEST
            for kid, path in files.items():
                if kid not in manifest.keys:
                    raise ConfigError(f"{path}: key {kid!r} is not listed in {listed}")
            for kid, life in manifest.keys.items():
                if life.valid_until is not None:
                    if kid in files:  # a retired key's file may go once its window is over
                        retired[kid] = life.valid_until
                elif kid not in files:
                    raise ConfigError(
                        f"{listed}: key `keys.{kid}`: no key file {self.key_dir / (kid + '.key')}"
                    )
            active = manifest.active
        keys: dict[str, bytes] = {}
        for kid, path in files.items():
            try:
                keys[kid] = bytes.fromhex(path.read_text().strip())
            except ValueError as exc:
                raise ConfigError(f"{path}: expected the key as hex") from exc
        if active not in keys:
            raise ConfigError(
                f"receipts.active_key: no key file {self.key_dir / (active + '.key')}"
            )
        try:
            return KeyRing(keys, active, retired, self.max_age_days)
        except ValueError as exc:
            raise ConfigError(f"receipts.key_dir: {self.key_dir}: {exc}") from exc


# python-escpos code pages, named as in its capabilities data, that print Vietnamese: CP1258 on its
# own, or the TCVN-3 pair (one page holds the lower-case letters, the other the capitals).
VIETNAMESE_CODE_PAGES: tuple[tuple[str, ...], ...] = (("CP1258",), ("TCVN-3-1", "TCVN-3-2"))
_BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)
_KIND_KEYS = {
    "file": ("path",),
    "network": ("host", "port", "check_status"),
    "usb": ("vendor_id", "product_id", "in_ep", "out_ep", "check_status"),
    "serial": ("device", "baudrate", "check_status"),
    "dummy": (),
}
_HEX_KEYS = ("vendor_id", "product_id", "in_ep", "out_ep")


def escpos_profiles() -> dict[str, set[str]]:
    """python-escpos's printer profiles, each with the names of the code pages it lists."""
    from escpos.capabilities import CAPABILITIES  # here: only printer settings need python-escpos

    profiles = CAPABILITIES["profiles"]
    return {name: set(data.get("codePages", {}).values()) for name, data in profiles.items()}


def has_vietnamese_code_page(code_pages: set[str]) -> bool:
    return any(set(pages) <= code_pages for pages in VIETNAMESE_CODE_PAGES)


class PrinterSettings(_Section):
    """Where a counter's receipts go, and how their text is printed.

    ``kind``: ``network`` (raw TCP, ``host`` and ``port``), ``usb`` (``vendor_id``/``product_id``
    as hex integers, optional endpoints ``in_ep``/``out_ep``), ``serial`` (``device``,
    ``baudrate``), ``file`` (raw ESC/POS bytes written to ``path``: the demo's printer) or
    ``dummy`` (kept in memory). ``profile`` names the model's python-escpos capability profile.
    ``text_mode``: ``image`` prints everything as a raster (any printer), ``codepage`` sends text
    in the profile's Vietnamese code page, ``auto`` uses the code page when a named profile has one.
    """

    kind: Literal["file", "network", "usb", "serial", "dummy"] = "file"
    path: Path | None = None
    host: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 9100
    vendor_id: int | None = None
    product_id: int | None = None
    in_ep: int | None = None
    out_ep: int | None = None
    device: str | None = None  # not resolved: /dev/serial/by-id/ links stay stable
    baudrate: int = 9600
    paper_width_mm: Literal[58, 80] = 80
    profile: str | None = None
    text_mode: Literal["auto", "image", "codepage"] = "auto"
    check_status: bool = True  # ask paper/cover/online status before printing

    @model_validator(mode="before")
    @classmethod
    def _hex_written_as_numbers(cls, data: object) -> object:
        if isinstance(data, dict):
            for key in _HEX_KEYS:
                if isinstance(data.get(key), str):
                    raise ValueError(
                        f"`{key}` must be a TOML integer, written in hex without quotes "
                        f"(e.g. {key} = 0x04b8), not the string {data[key]!r}"
                    )
        return data

    @model_validator(mode="after")
    def _target(self) -> PrinterSettings:
        for key in sorted(self.model_fields_set - set(_KIND_KEYS[self.kind])):
            owners = [kind for kind, keys in _KIND_KEYS.items() if key in keys]
            if owners:
                raise ValueError(
                    f"`{key}` is for kind = {' or '.join(map(repr, owners))} printers, "
                    f"not for kind = {self.kind!r}"
                )
        if self.kind == "file" and self.path is None:
            raise ValueError("a file printer needs `path` (a file, or a device like /dev/usb/lp0)")
        if self.kind == "network" and not self.host:
            raise ValueError("a network printer needs `host` (its IP address or name)")
        if self.kind == "usb":
            self._check_usb()
        if self.kind == "serial":
            if not self.device:
                raise ValueError("a serial printer needs `device` (e.g. /dev/ttyUSB0)")
            if self.baudrate not in _BAUD_RATES:
                rates = ", ".join(map(str, _BAUD_RATES))
                raise ValueError(f"`baudrate` must be one of {rates} (got {self.baudrate})")
        self._check_profile()
        return self

    def _check_usb(self) -> None:
        if self.vendor_id is None or self.product_id is None:
            raise ValueError(
                "a usb printer needs `vendor_id` and `product_id`: the two hex numbers `lsusb` "
                "shows as ID vvvv:pppp, written e.g. vendor_id = 0x04b8, product_id = 0x0202"
            )
        for key, low, high in [
            ("vendor_id", 0x0001, 0xFFFF),
            ("product_id", 0x0000, 0xFFFF),
            ("in_ep", 0x81, 0x8F),
            ("out_ep", 0x01, 0x0F),
        ]:
            value = getattr(self, key)
            if value is not None and not low <= value <= high:
                raise ValueError(f"`{key}` must be from {low:#x} to {high:#x} (got {value:#x})")

    def _check_profile(self) -> None:
        if self.profile is None:
            if self.text_mode == "codepage":
                raise ValueError(
                    'text_mode = "codepage" needs `profile`: the printer model\'s python-escpos '
                    "profile says which code page number holds Vietnamese"
                )
            return
        profiles = escpos_profiles()
        if self.profile not in profiles:
            raise ValueError(
                f"`profile` {self.profile!r} is not a python-escpos printer profile; "
                f"known profiles: {', '.join(sorted(profiles))}"
            )
        if self.text_mode == "codepage" and not has_vietnamese_code_page(profiles[self.profile]):
            able = sorted(n for n, pages in profiles.items() if has_vietnamese_code_page(pages))
            raise ValueError(
                f'text_mode = "codepage": profile {self.profile!r} has no Vietnamese code page '
                f'(CP1258 or TCVN-3); use text_mode = "image", or a profile that has one: '
                f"{', '.join(able)}"
            )


class HubSection(_Section):
    unit_file: Path
    database_url: str
    public_base_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/\S*)?$")]
    # Several hub workers share the ratings through MQTT shared subscriptions
    # ($share/<group>/hailong/v1/+/+/ratings); unset: one hub with a persistent session.
    workers_group: Code | None = None
    # Whose ratings and statuses this hub takes: every unit's on the broker ("all_units", a site
    # hub), or only its own unit's ("own_unit": a province runs one hub, or one group of
    # workers, per unit on one central broker and database; see docs/scaling.md).
    ratings_from: Literal["all_units", "own_unit"] = "all_units"
    # Kiosks' status history (the latest status per kiosk is always kept).
    status_history_days: Annotated[int, Field(ge=1, le=3650)] = 90


class WebSettings(_Section):
    """The hub's staff page and HTTP API. Secrets are files created by ``hailong init``."""

    bind: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    # Staff accounts (argon2 hashes, roles); API tokens (SHA-256 of each token); cookie key.
    accounts_file: Path
    api_tokens_file: Path
    session_key_file: Path


class HubSettings(_Section):
    hub: HubSection
    mqtt: MqttSettings
    receipts: ReceiptKeys
    printers: dict[str, PrinterSettings] = {}
    web: WebSettings | None = None
    broker: BrokerSettings = BrokerSettings()


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


class SerialDevice(_Section):
    """A serial button box (docs/serial-protocol.md): five buttons, a scanner, a light, a buzzer.

    The device is found by ``port`` (a path; not resolved, so /dev/serial/by-id/ links stay
    stable) or, when ``port`` is unset, by ``vendor_id``/``product_id`` (hex integers, as
    ``lsusb`` shows them). Shared by the standalone box (``[bridge]``) and a box beside a kiosk
    (``[serial]`` in the kiosk's file), so both find and watch the device the same way.
    """

    port: str | None = None
    vendor_id: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    product_id: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    baudrate: Annotated[int, Field(gt=0)] = 115200
    # No frame (heartbeats come every second) for this long: the device is reported "silent".
    silent_after_seconds: Annotated[float, Field(gt=0, le=600)] = 5.0
    # An accepted/buffered/fault light returns to idle after this long.
    idle_after_seconds: Annotated[float, Field(gt=0, le=600)] = 4.0

    @model_validator(mode="after")
    def _device(self) -> SerialDevice:
        if self.port is not None and not self.port.strip():
            raise ValueError("`port` is empty: give a device path such as /dev/ttyACM0")
        if self.port is None and (self.vendor_id is None or self.product_id is None):
            raise ValueError(
                "the serial device needs `port` (e.g. /dev/hailong-buttons) or both `vendor_id` "
                "and `product_id` (hex integers, e.g. vendor_id = 0x2e8a, product_id = 0x000a)"
            )
        return self

    def describe(self) -> str:
        """Where the device is looked for, for logs."""
        if self.port is not None:
            return self.port
        return f"usb {self.vendor_id:04x}:{self.product_id:04x}"


class KioskSettings(_Section):
    kiosk: KioskSection
    mqtt: MqttSettings
    receipts: ReceiptKeys
    # A serial button box beside the screen: its presses and scans act as taps and USB scans.
    serial: SerialDevice | None = None


class SerialBridgeSection(SerialDevice):
    """A standalone serial button box (``hailong bridge``): the device, and when a press with no
    receipt scanned may rate the counter alone."""

    # A press with no receipt scanned rates the counter alone (a walk-in), at most one per interval.
    walk_in: bool = False
    walk_in_min_interval_seconds: Annotated[float, Field(ge=0)] = 60.0


class FirmwareBridgeSettings(_Section):
    """``config/button-box.toml``: the button box and the kiosk identity it publishes its ratings as
    (its own outbox, MQTT user and receipt keys, exactly like a kiosk)."""

    bridge: SerialBridgeSection
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


def load_bridge(path: Path | str) -> FirmwareBridgeSettings:
    return load(path, FirmwareBridgeSettings)
