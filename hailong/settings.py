"""Typed configuration, loaded from ``config/*.toml`` and validated at start-up.

An error names the file, the key and what was expected, so a mistyped config fails before anything
runs. Relative paths in a file are resolved against that file's folder. Secrets (receipt keys, MQTT
passwords) are never in these files: they name files under ``var/secrets/`` that ``hailong init``
creates and that git ignores.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    ValidationError,
    ValidationInfo,
    model_validator,
)

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


# The validation context key under which ``load`` passes the config file's folder.
CONFIG_DIR = "config_dir"


def _against_config(value: Path, info: ValidationInfo) -> Path:
    """A relative path in a config file is relative to that file's folder (``load`` passes it
    as the validation context), not to the shell's current directory."""
    base = info.context.get(CONFIG_DIR) if isinstance(info.context, dict) else None
    if base is None or value.is_absolute():
        return value
    return (Path(base) / value).resolve()


# A file or folder named in a config file. Built in Python (tests, the demo), it is taken as is.
ConfigPath = Annotated[Path, AfterValidator(_against_config)]


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


class RegisterPolicy(_Section):
    """How far the hub trusts a rating its receipt register cannot vouch for: ``[register_policy]``
    in the unit file, the hub's own rules, never sent to kiosks (docs/protocol.md, "What the hub
    believes")."""

    # A code the register does not know (another system's slip, a typed code) is stored as
    # unverified and kept out of the headline figures, unless the unit decides to count it.
    count_unverified: bool = False
    # A rating made more than this before its receipt was issued (kiosk and hub clocks apart) is
    # refused as ``rated_before_issue``.
    issue_clock_skew_s: Annotated[float, Field(ge=0, le=86_400)] = 300.0


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
    register_policy: RegisterPolicy = RegisterPolicy()
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
                ReasonInfo(code=r.code, name=r.name, name_en=r.name_en, factor=r.factor)
                for r in self.reasons
            ),
            policy=self.kiosk_policy,
            revoked_keys=revoked_keys,
        )


class MqttSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    username: str
    password_file: ConfigPath
    keepalive: Annotated[int, Field(ge=5, le=600)] = 30
    # TLS to the broker: the CA that signed the broker's certificate. Required off the hub itself.
    ca_file: ConfigPath | None = None

    def password(self) -> str:
        return read_secret(self.password_file, "mqtt.password_file")


class BrokerSettings(_Section):
    """How ``hailong broker`` (and the demo) listen. Plain MQTT only on loopback; any other address
    needs TLS (the certificate and key of the broker, signed by the CA kiosks trust)."""

    bind: str = "127.0.0.1"
    certfile: ConfigPath | None = None
    keyfile: ConfigPath | None = None

    @model_validator(mode="after")
    def _tls_off_loopback(self) -> BrokerSettings:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("certfile and keyfile go together")
        if self.bind not in ("127.0.0.1", "localhost", "::1") and self.certfile is None:
            raise ValueError(f"bind {self.bind!r} is off this machine: set certfile and keyfile")
        return self


KEY_MANIFEST = "keys.toml"
PRIVATE_KEY_SUFFIX = ".key"  # the hub's: an Ed25519 private key (PEM) or a legacy HMAC key (hex)
PUBLIC_KEY_SUFFIX = ".pub"  # an Ed25519 public key (PEM): what kiosks hold
KeyAlgorithm = Literal["ed25519", "hmac-sha256"]


class KeyLifetime(_Section):
    """One key in ``keys.toml``: the day it was made, its algorithm and, once retired, when its
    receipts stop verifying; once revoked, when.

    ``valid_until`` is an instant with its offset (``2027-02-23T10:15:00Z``), written by ``hailong
    keys rotate``: receipts verify strictly before it. A plain date (``2027-02-23``, as manifests
    written before instants have) means through that local day. A manifest without
    ``algorithm`` predates Ed25519: its keys are HMAC keys.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    created: date
    valid_until: AwareDatetime | date | None = None
    algorithm: KeyAlgorithm = "hmac-sha256"
    revoked: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> KeyLifetime:
        end = self.ends_at()
        if end is not None and end.astimezone().date() < self.created:
            raise ValueError(f"valid_until {self.valid_until} is before created {self.created}")
        return self

    def ends_at(self) -> datetime | None:
        """The instant receipts of this key stop verifying (exclusive), if it is retired."""
        until = self.valid_until
        if until is None or isinstance(until, datetime):
            return until
        return datetime.combine(until + timedelta(days=1), time()).astimezone()  # local midnight


class KeyManifest(_Section):
    """``<key_dir>/keys.toml``, written by ``hailong keys rotate``/``revoke``: which key signs,
    until when each retired key still verifies, which are revoked. It holds no secret: the same
    file goes to the kiosks with the public keys."""

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
        if entry.revoked is not None:
            raise ValueError(f"the active key {self.active!r} is revoked")
        return self

    def revoked_ids(self) -> tuple[str, ...]:
        return tuple(sorted(kid for kid, life in self.keys.items() if life.revoked is not None))


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
            dated = err["type"] in ("date_type", "datetime_type", "timezone_aware")
            hint = ", written as a TOML date-time such as 2027-02-23T08:00:00Z" if dated else ""
            problems.append(f"{path}: key `{key}`: {err['msg']}{hint}{got}")
        raise ConfigError("\n".join(problems)) from exc


def read_private_key(path: Path) -> bytes:
    """The 32-byte seed of the Ed25519 private key in ``path`` (PKCS#8 PEM)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = _read_pem(path, "an unencrypted PEM private key", lambda d: load_pem_private_key(d, None))
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: not an Ed25519 private key")
    return key.private_bytes_raw()


def read_public_key(path: Path) -> bytes:
    """The 32 raw bytes of the Ed25519 public key in ``path`` (SubjectPublicKeyInfo PEM)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = _read_pem(path, "a PEM public key", load_pem_public_key)
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: not an Ed25519 public key")
    return key.public_bytes_raw()


def _read_pem(path: Path, what: str, load: Callable[[bytes], object]) -> object:
    """A key file read and parsed, or a :class:`ConfigError` naming the file and the problem."""
    try:
        return load(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not {what}") from exc


def _key_folder(key_dir: Path) -> tuple[KeyManifest, dict[str, Path]]:
    """The manifest of a key folder and its files by name; every key file must be listed."""
    if not key_dir.is_dir():
        raise ConfigError(f"receipts.key_dir: folder {key_dir} does not exist (run `hailong init`)")
    manifest = read_key_manifest(key_dir)
    listed = key_dir / KEY_MANIFEST
    if manifest is None:
        raise ConfigError(f"receipts.key_dir: no {listed} (run `hailong init`)")
    files = {p.name: p for p in sorted(key_dir.iterdir()) if p.suffix in _KEY_SUFFIXES}
    for path in files.values():
        if path.stem not in manifest.keys:
            raise ConfigError(f"{path}: key {path.stem!r} is not listed in {listed}")
    return manifest, files


_KEY_SUFFIXES = (PRIVATE_KEY_SUFFIX, PUBLIC_KEY_SUFFIX)


def _lifetimes(manifest: KeyManifest) -> tuple[dict[str, datetime], frozenset[str]]:
    retired = {kid: end for kid, life in manifest.keys.items() if (end := life.ends_at())}
    return retired, frozenset(manifest.revoked_ids())


class ReceiptKeys(_Section):
    """The hub's receipt keys: ``<key_dir>/keys.toml`` and the key files it lists.

    ``<id>.key`` (mode 0600) is an Ed25519 private key (PKCS#8 PEM) for the active key, or, for a
    legacy key, the HMAC key as hex, kept through its grace period; ``<id>.pub`` is an Ed25519
    public key. Only the active key's private key is kept: rotation deletes the one it replaces.
    ``hailong init`` creates the first key and copies the public half to ``<key_dir>-public``,
    the folder kiosks get (:class:`ReceiptPublicKeys`).
    """

    key_dir: ConfigPath
    active_key: Code = "k1"  # only for a folder from before keys.toml: the key it upgrades
    # Refuse a receipt whose dossier date is more than this many days old (`expired`); None: never.
    max_age_days: Annotated[int, Field(ge=0)] | None = None

    @property
    def public_dir(self) -> Path:
        """Where the public half goes, for the kiosks: ``receipt-keys`` → ``receipt-keys-public``."""
        return self.key_dir.with_name(self.key_dir.name + "-public")

    def public(self) -> ReceiptPublicKeys:
        """What a kiosk of this hub configures (the folder :attr:`public_dir`)."""
        return ReceiptPublicKeys(key_dir=self.public_dir, max_age_days=self.max_age_days)

    def manifest(self) -> KeyManifest | None:
        return read_key_manifest(self.key_dir)

    def revoked_key_ids(self) -> tuple[str, ...]:
        """Revoked key ids, for the retained unit config (kiosks refuse them at once)."""
        manifest = self.manifest()
        return () if manifest is None else manifest.revoked_ids()

    def keyring(self) -> KeyRing:
        """Everything the hub signs and verifies with. Read afresh on each call, so a rotation or
        a revocation by ``hailong keys`` takes effect without a restart."""
        manifest, files = _key_folder(self.key_dir)
        listed = self.key_dir / KEY_MANIFEST
        retired, revoked = _lifetimes(manifest)
        public: dict[str, bytes] = {}
        legacy: dict[str, bytes | None] = {}
        for kid, life in manifest.keys.items():
            private = files.get(kid + PRIVATE_KEY_SUFFIX)
            if life.algorithm == "hmac-sha256":
                legacy[kid] = None if private is None else _hex_key(private)
                continue
            pub = files.get(kid + PUBLIC_KEY_SUFFIX)
            if pub is not None:
                public[kid] = read_public_key(pub)
            elif private is not None:
                public[kid] = _public_of(read_private_key(private), private)
            elif kid not in revoked and kid not in retired:
                raise ConfigError(f"{listed}: key `keys.{kid}`: no {kid}.pub in {self.key_dir}")
        active = manifest.active
        if manifest.keys[active].algorithm != "ed25519":
            raise ConfigError(
                f"{listed}: the active key {active!r} is a legacy HMAC key, which every kiosk "
                "held: run `hailong init` (or `hailong keys rotate`) to sign with Ed25519"
            )
        private_file = files.get(active + PRIVATE_KEY_SUFFIX)
        if private_file is None:
            raise ConfigError(f"{listed}: the active key {active!r} has no {active}.key")
        signing = read_private_key(private_file)
        retired = {kid: end for kid, end in retired.items() if kid in public or kid in legacy}
        try:
            return KeyRing(public, active, retired, self.max_age_days, signing, legacy, revoked)
        except ValueError as exc:
            raise ConfigError(f"receipts.key_dir: {self.key_dir}: {exc}") from exc


class ReceiptPublicKeys(_Section):
    """A kiosk's (or a button box's) receipt keys: public keys only, so a stolen kiosk cannot
    sign. ``key_dir`` is a copy of the hub's ``receipt-keys-public`` folder: ``keys.toml`` and
    ``<id>.pub`` files. A folder holding any ``.key`` file (a private or HMAC key) is refused."""

    key_dir: ConfigPath
    max_age_days: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_signing_key(cls, data: object) -> object:
        if isinstance(data, dict) and "active_key" in data:
            raise ValueError(
                "`active_key` is gone from kiosks: a kiosk only verifies receipts. Remove it and "
                "point key_dir at the hub's receipt-keys-public folder (docs/security.md)"
            )
        return data

    def keyring(self) -> KeyRing:
        manifest, files = _key_folder(self.key_dir)
        secret = sorted(p for name, p in files.items() if name.endswith(PRIVATE_KEY_SUFFIX))
        if secret:
            raise ConfigError(
                f"receipts.key_dir: {self.key_dir} holds {', '.join(p.name for p in secret)}: "
                "a kiosk must hold public keys only. Point it at a copy of the hub's "
                "receipt-keys-public folder and delete the private keys from this device"
            )
        retired, revoked = _lifetimes(manifest)
        public: dict[str, bytes] = {}
        legacy: dict[str, bytes | None] = {}
        for kid, life in manifest.keys.items():
            if life.algorithm == "hmac-sha256":
                legacy[kid] = None  # the id and its grace period only: never the key
                continue
            pub = files.get(kid + PUBLIC_KEY_SUFFIX)
            if pub is not None:
                public[kid] = read_public_key(pub)
            elif kid not in revoked and kid not in retired:
                raise ConfigError(
                    f"{self.key_dir / KEY_MANIFEST}: key `keys.{kid}`: no {kid}.pub in "
                    f"{self.key_dir} (copy the hub's receipt-keys-public folder again)"
                )
        retired = {kid: end for kid, end in retired.items() if kid in public or kid in legacy}
        try:
            return KeyRing(public, None, retired, self.max_age_days, None, legacy, revoked)
        except ValueError as exc:
            raise ConfigError(f"receipts.key_dir: {self.key_dir}: {exc}") from exc


def _hex_key(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text().strip())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from exc
    except ValueError as exc:
        raise ConfigError(f"{path}: expected the HMAC key as hex") from exc


def _public_of(seed: bytes, path: Path) -> bytes:
    from hailong.contract.receipt import public_key_of

    try:
        return public_key_of(seed)
    except ValueError as exc:
        raise ConfigError(f"{path}: not an Ed25519 private key") from exc


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
    path: ConfigPath | None = None
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
    unit_file: ConfigPath
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
    # How far a rating's rated_at may lie from the hub's clock: a kiosk clock a few minutes
    # fast is tolerated, a rating from the future is not; an outage backlog may be old, not
    # years old. Outside the window the rating is refused to the dead letters ("future",
    # "stale"), never counted (docs/protocol.md).
    rated_at_max_future_minutes: Annotated[int, Field(ge=0, le=1440)] = 10
    rated_at_max_past_days: Annotated[int, Field(ge=1, le=3650)] = 400
    # Dead letters (docs/operations.md): the first bytes of a refused payload are kept (its size
    # and SHA-256 always), at most this many rows per kiosk (past it, new ones are counted, not
    # kept), for this many days.
    dead_letter_payload_bytes: Annotated[int, Field(ge=0, le=16384)] = 2048
    dead_letter_quota_per_kiosk: Annotated[int, Field(ge=1, le=10_000_000)] = 1000
    dead_letter_days: Annotated[int, Field(ge=1, le=3650)] = 180


class WebSettings(_Section):
    """The hub's staff page and HTTP API. Secrets are files created by ``hailong init``."""

    bind: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    # Staff accounts (argon2 hashes, roles); API tokens (SHA-256 of each token); cookie key.
    accounts_file: ConfigPath
    api_tokens_file: ConfigPath
    session_key_file: ConfigPath
    # The session cookie's ``Secure`` flag: true always, false never; unset, whenever the request
    # came over https (directly or through the reverse proxy's X-Forwarded-Proto).
    secure_cookies: bool | None = None
    # The unit's staff networks (CIDRs, e.g. "10.20.0.0/24"): an online rating sent from one is
    # kept but flagged suspect and left out of the figures (a staff device rating for a citizen).
    staff_networks: tuple[IPvAnyNetwork, ...] = ()


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
    outbox_path: ConfigPath
    # The staff PIN that opens the maintenance screen (a secret file, created by `hailong init`).
    staff_pin_file: ConfigPath | None = None
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
    receipts: ReceiptPublicKeys  # public keys only: a stolen kiosk cannot sign a receipt
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
    receipts: ReceiptPublicKeys  # public keys only, like a kiosk's


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
    """A SQLite file in a ``database_url`` is relative to the config's folder, like every
    :data:`ConfigPath` (a URL is text, so it is resolved here)."""
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            if key == "database_url" and isinstance(value, str):
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
        base = path.resolve().parent
        return model.model_validate(_resolve_paths(raw, base), context={CONFIG_DIR: base})
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
