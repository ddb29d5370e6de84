"""Receipt keys: ``<key_dir>/keys.toml`` (which key signs, until when each retired key still
verifies, which are revoked) and the key files it lists. The hub holds the private half of the
active key (:class:`ReceiptKeys`); kiosks and button boxes hold public keys only
(:class:`ReceiptPublicKeys`). ``hailong keys rotate``/``revoke`` write the manifest."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from hailong.contract.clock import UNIT_ZONE, unit_day
from hailong.contract.receipt import KeyRing
from hailong.settings.loading import (
    Code,
    ConfigError,
    ConfigPath,
    Section,
    read_toml,
    validated,
)

KEY_MANIFEST = "keys.toml"
PRIVATE_KEY_SUFFIX = ".key"  # the hub's: an Ed25519 private key (PEM) or a legacy HMAC key (hex)
PUBLIC_KEY_SUFFIX = ".pub"  # an Ed25519 public key (PEM): what kiosks hold
KeyAlgorithm = Literal["ed25519", "hmac-sha256"]


class KeyLifetime(Section):
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
        if end is not None and unit_day(end) < self.created:
            raise ValueError(f"valid_until {self.valid_until} is before created {self.created}")
        return self

    def ends_at(self) -> datetime | None:
        """The instant receipts of this key stop verifying (exclusive), if it is retired."""
        until = self.valid_until
        if until is None or isinstance(until, datetime):
            return until
        return datetime.combine(until + timedelta(days=1), time(), UNIT_ZONE)  # the unit's midnight


class KeyManifest(Section):
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
        raw = read_toml(path)
    except FileNotFoundError:
        return None
    return validated(path, KeyManifest, raw)


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

    try:
        raw = _ed25519_spki(path.read_bytes())
    except OSError:
        raw = None  # _read_pem below says why, as it always did
    if raw is not None:
        return raw
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = _read_pem(path, "a PEM public key", load_pem_public_key)
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: not an Ed25519 public key")
    return key.public_bytes_raw()


# An Ed25519 SubjectPublicKeyInfo in DER is this 12-byte header and the 32-byte key (RFC 8410).
_ED25519_SPKI_HEADER = bytes.fromhex("302a300506032b6570032100")


def _ed25519_spki(data: bytes) -> bytes | None:
    """The raw key when ``data`` is an Ed25519 public key PEM exactly as ``hailong init`` and
    ``hailong keys rotate`` write it (three lines), else ``None``: anything else is read by
    cryptography's PEM loader, which accepts more and names the problem. Its serialization
    module imports the SSH and cipher modules, ~15 ms of CPU at the kiosk's start (docs/kiosk.md
    "Start-up"); the key object is still made, so a key cryptography refuses is refused here."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    lines = data.strip().split(b"\n")
    if len(lines) != 3 or lines[0] != b"-----BEGIN PUBLIC KEY-----":
        return None
    if lines[2] != b"-----END PUBLIC KEY-----":
        return None
    try:
        der = base64.b64decode(lines[1], validate=True)
    except binascii.Error:
        return None
    if len(der) != 44 or not der.startswith(_ED25519_SPKI_HEADER):
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(der[12:]).public_bytes_raw()
    except ValueError:
        return None


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


class ReceiptKeys(Section):
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


class ReceiptPublicKeys(Section):
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
