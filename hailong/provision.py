"""Secrets for a unit: receipt keys, one MQTT password per kiosk and the hub, kiosk staff PINs.

They live under ``var/secrets/`` (git-ignored), readable by the owner only. Creating them is
idempotent: existing secrets are never overwritten, so re-running ``hailong init`` is safe.

Receipt keys are Ed25519: the private key stays in ``receipt-keys/`` on the hub; the public half
and ``keys.toml`` are copied to ``receipt-keys-public/``, the folder kiosks get. They rotate with
:func:`rotate_receipt_key` (a new key signs from then on, the one it replaces still verifies for a
grace period, recorded in ``keys.toml``) and are revoked at once with :func:`revoke_receipt_key`.
An HMAC key from before Ed25519 is replaced by ``hailong init`` and kept on the hub only, for the
grace period of the receipts it signed (docs/security.md).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from hailong.contract.clock import unit_day
from hailong.settings import (
    KEY_MANIFEST,
    PRIVATE_KEY_SUFFIX,
    PUBLIC_KEY_SUFFIX,
    ConfigError,
    HubSettings,
    KeyLifetime,
    KeyManifest,
    Unit,
    read_key_manifest,
)

HUB_USER = "hub"


@dataclass(frozen=True)
class SecretsLayout:
    root: Path

    @property
    def receipt_keys(self) -> Path:
        return self.root / "receipt-keys"

    @property
    def receipt_public_keys(self) -> Path:
        """The public half of :attr:`receipt_keys`, for kiosks (``ReceiptKeys.public_dir``)."""
        return self.root / "receipt-keys-public"

    @property
    def mqtt(self) -> Path:
        return self.root / "mqtt"

    def mqtt_password_file(self, user: str) -> Path:
        return self.mqtt / f"{user}.password"

    def staff_pin_file(self, kiosk: str) -> Path:
        return self.root / f"{kiosk}.pin"


def _write_private(path: Path, text: str) -> bool:
    """Create ``path`` with mode 0600 unless it exists; return whether it was created."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    return True


# Client ids the hub and `hailong broker` connect with (hub.service.default_client_id, the
# broker's log flusher). A kiosk's user is bound to a client id equal to its name, so a kiosk
# named like one of these would be allowed the hub's session.
RESERVED_CLIENT_ID_PREFIXES = ("hailong-hub", "hailong-broker")


Units = Unit | Iterable[Unit]
"""One unit (a hub on its unit file) or every unit a hub serves (the catalogue tables)."""


def units_of(units: Units) -> list[Unit]:
    """The units as a list, refusing a kiosk id two units share: it is one MQTT user name."""
    listed = [units] if isinstance(units, Unit) else list(units)
    owner: dict[str, str] = {}
    for unit in listed:
        for kiosk in unit.kiosks:
            other = owner.setdefault(kiosk.id, unit.unit.code)
            if other != unit.unit.code:
                raise ConfigError(
                    f"kiosk id {kiosk.id!r} is in units {other} and {unit.unit.code}: a kiosk id "
                    "is its MQTT user name, so it must be unique across the units of a hub"
                )
    return listed


def mqtt_users(units: Units) -> list[str]:
    """The hub's MQTT user and one per kiosk (named as the kiosk, which is also its client id)."""
    kiosks = [k.id for unit in units_of(units) for k in unit.kiosks]
    for kiosk in kiosks:
        if kiosk == HUB_USER or kiosk.startswith(RESERVED_CLIENT_ID_PREFIXES):
            raise ConfigError(
                f"kiosk id {kiosk!r} is reserved for the hub (its MQTT user and client id "
                f"would be the hub's): choose another"
            )
    return [HUB_USER, *kiosks]


LEGACY_GRACE_DAYS = 90  # HMAC receipts printed before Ed25519 still verify (at the hub) this long


def init_receipt_keys(
    layout: SecretsLayout, key_id: str = "k1", *, now: datetime | None = None
) -> list[Path]:
    """The receipt-key part of :func:`init_secrets` (see there); returns the files created."""
    created: list[Path] = []
    now = datetime.now(UTC) if now is None else now
    key_dir = layout.receipt_keys
    manifest = read_key_manifest(key_dir)
    if manifest is None and not _key_files(key_dir):
        created += _first_signing_key(layout, key_id, unit_day(now))
    elif manifest is None or manifest.keys[manifest.active].algorithm == "hmac-sha256":
        rotation = rotate_receipt_key(
            layout, LEGACY_GRACE_DAYS, active_key=key_id, now=now, force=True
        )
        created.append(rotation.key_file)
    export_public_keys(layout)
    return created


def init_secrets(
    unit: Units, layout: SecretsLayout, key_id: str = "k1", *, now: datetime | None = None
) -> list[Path]:
    """Create whatever secrets are missing and return the files created.

    A new folder gets Ed25519 key ``key_id`` and a ``keys.toml``. A folder whose active key is
    still an HMAC key (from before Ed25519) is upgraded: a new Ed25519 key signs from now on and
    the HMAC key verifies its receipts for :data:`LEGACY_GRACE_DAYS` more days, on the hub only.
    Either way the public half is (re)written for the kiosks.
    """
    created = init_receipt_keys(layout, key_id, now=now)
    for user in mqtt_users(unit):
        path = layout.mqtt_password_file(user)
        if _write_private(path, secrets.token_urlsafe(24)):
            created.append(path)
    for kiosk in (k for one in units_of(unit) for k in one.kiosks):
        pin = layout.staff_pin_file(kiosk.id)
        if _write_private(pin, f"{secrets.randbelow(10**6):06d}"):
            created.append(pin)
    return created


@dataclass(frozen=True)
class KeyRotation:
    """What :func:`rotate_receipt_key` found or did.

    ``rotated`` is False when the active key had already been rotated in today: nothing changed,
    and ``retired``/``valid_until`` are None.
    """

    active: str
    key_file: Path
    manifest: Path
    rotated: bool
    retired: str | None = None
    valid_until: datetime | None = None


def rotate_receipt_key(
    layout: SecretsLayout,
    grace_days: int,
    *,
    active_key: str = "k1",
    now: datetime | None = None,
    force: bool = False,
) -> KeyRotation:
    """Make a new Ed25519 key the active one; the previous one verifies ``grace_days`` more days.

    The new key gets the next free id (``k2`` after ``k1``): its private key in a new 0600 file
    ``<id>.key`` (an existing key file is never overwritten), its public key in ``<id>.pub``.
    ``keys.toml`` then names it active and gives the previous active key ``valid_until = now +
    grace_days`` as an instant, so with 0 days its receipts stop verifying at once, not at
    midnight. The previous Ed25519 private key is deleted: nothing may sign with it again. A
    previous HMAC key (from before Ed25519) is kept through its grace period, because the hub
    still verifies the receipts it signed. The public half is copied for the kiosks
    (:func:`export_public_keys`).

    Without a ``keys.toml`` yet (a folder from before Ed25519), every ``.key`` file is taken as an
    HMAC key and ``active_key`` (the configured one) as the active key.

    Idempotent unless ``force``: if the active key was already made by a rotation today, nothing
    changes, so a retried script does not burn through keys or cut a grace period short.
    """
    if grace_days < 0:
        raise ValueError(f"grace_days must be 0 or more, not {grace_days}")
    now = (datetime.now(UTC) if now is None else now).replace(microsecond=0)
    today = unit_day(now)
    key_dir = layout.receipt_keys
    manifest_path = key_dir / KEY_MANIFEST
    manifest = _current_manifest(layout, active_key, today)
    files = _key_files(key_dir)
    if not force:
        current = manifest.keys[manifest.active]
        rotated_before = any(k.valid_until for k in manifest.keys.values())
        if current.created == today and current.algorithm == "ed25519" and rotated_before:
            return KeyRotation(manifest.active, files[manifest.active], manifest_path, False)

    previous = manifest.active
    new_id, key_file = _new_signing_key(key_dir, set(files) | set(manifest.keys))
    old = manifest.keys[previous]
    valid_until = now + timedelta(days=grace_days)
    lifetimes = {
        **manifest.keys,
        previous: old.model_copy(update={"valid_until": valid_until}),
        new_id: KeyLifetime(created=today, algorithm="ed25519"),
    }
    _replace_private(manifest_path, _manifest_text(KeyManifest(active=new_id, keys=lifetimes)))
    if old.algorithm == "ed25519":
        _shred(key_dir / f"{previous}{PRIVATE_KEY_SUFFIX}")
    export_public_keys(layout)
    return KeyRotation(new_id, key_file, manifest_path, True, previous, valid_until)


@dataclass(frozen=True)
class KeyRevocation:
    """What :func:`revoke_receipt_key` did: ``rotation`` when the revoked key was the active one
    (a new key was made first), ``already`` when it had been revoked before."""

    key_id: str
    revoked_at: datetime
    already: bool
    rotation: KeyRotation | None = None


def revoke_receipt_key(
    layout: SecretsLayout, key_id: str, *, active_key: str = "k1", now: datetime | None = None
) -> KeyRevocation:
    """Revoke ``key_id`` at once: the hub and, through the retained unit config, every kiosk
    refuse its receipts from now on, whatever their grace period said.

    Revoking the active key first rotates to a new one (its old receipts get no grace). The
    revoked key's secret file (Ed25519 private key or HMAC key) is deleted: it never verifies
    again. Revoking an already revoked key changes nothing.
    """
    now = (datetime.now(UTC) if now is None else now).replace(microsecond=0)
    manifest = _current_manifest(layout, active_key, unit_day(now))
    if key_id not in manifest.keys:
        known = ", ".join(sorted(manifest.keys))
        raise ConfigError(f"no receipt key {key_id!r} in {layout.receipt_keys}; keys: {known}")
    life = manifest.keys[key_id]
    if life.revoked is not None:
        return KeyRevocation(key_id, life.revoked, True)
    rotation = None
    if key_id == manifest.active:
        rotation = rotate_receipt_key(layout, 0, active_key=active_key, now=now, force=True)
        manifest = _current_manifest(layout, active_key, unit_day(now))
        life = manifest.keys[key_id]
    lifetimes = {**manifest.keys, key_id: life.model_copy(update={"revoked": now})}
    manifest_path = layout.receipt_keys / KEY_MANIFEST
    _replace_private(
        manifest_path, _manifest_text(KeyManifest(active=manifest.active, keys=lifetimes))
    )
    _shred(layout.receipt_keys / f"{key_id}{PRIVATE_KEY_SUFFIX}")
    export_public_keys(layout)
    return KeyRevocation(key_id, now, False, rotation)


def export_public_keys(layout: SecretsLayout) -> Path:
    """Copy what kiosks need into ``receipt-keys-public``: ``keys.toml`` and the public key of
    every Ed25519 key that is not revoked. No private or HMAC key ever goes there. Files are
    replaced whole; a public key no longer listed is removed."""
    key_dir, public_dir = layout.receipt_keys, layout.receipt_public_keys
    manifest = read_key_manifest(key_dir)
    if manifest is None:
        raise ConfigError(f"no {key_dir / KEY_MANIFEST} (run `hailong init`)")
    public_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    wanted: set[str] = set()
    for kid, life in manifest.keys.items():
        if life.algorithm != "ed25519" or life.revoked is not None:
            continue
        source = key_dir / f"{kid}{PUBLIC_KEY_SUFFIX}"
        if source.exists():
            wanted.add(source.name)
            _replace_file(public_dir / source.name, source.read_text(), 0o644)
    for stale in public_dir.glob(f"*{PUBLIC_KEY_SUFFIX}"):
        if stale.name not in wanted:
            stale.unlink()
    _replace_file(public_dir / KEY_MANIFEST, _manifest_text(manifest), 0o644)
    return public_dir


def _current_manifest(layout: SecretsLayout, active_key: str, today: date) -> KeyManifest:
    """``keys.toml``, or for a folder from before it, one built from the HMAC key files."""
    key_dir = layout.receipt_keys
    manifest_path = key_dir / KEY_MANIFEST
    files = _key_files(key_dir)
    manifest = read_key_manifest(key_dir)
    if manifest is None:
        if active_key not in files:
            raise ConfigError(f"no key file {key_dir / (active_key + '.key')} (run `hailong init`)")
        lifetimes = {
            kid: KeyLifetime(created=_file_day(path, today), algorithm="hmac-sha256")
            for kid, path in files.items()
        }
        return KeyManifest(active=active_key, keys=lifetimes)
    for kid, path in files.items():
        if kid not in manifest.keys:
            raise ConfigError(f"{path}: key {kid!r} is not listed in {manifest_path}")
    if manifest.active not in files:
        raise ConfigError(f"{manifest_path}: key `active`: no key file for {manifest.active!r}")
    return manifest


def _key_files(key_dir: Path) -> dict[str, Path]:
    return {path.stem: path for path in sorted(key_dir.glob(f"*{PRIVATE_KEY_SUFFIX}"))}


def _new_signing_key(key_dir: Path, taken: set[str]) -> tuple[str, Path]:
    """A new Ed25519 key under the next free id: ``<id>.key`` (0600), then ``<id>.pub``."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    public = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    while True:
        new_id = _next_key_id(taken)
        key_file = key_dir / f"{new_id}{PRIVATE_KEY_SUFFIX}"
        if _write_private(key_file, pem.strip()):
            break
        taken.add(new_id)  # appeared meanwhile: never overwrite, take the next id
    _replace_file(key_dir / f"{new_id}{PUBLIC_KEY_SUFFIX}", public.decode(), 0o644)
    return new_id, key_file


def _first_signing_key(layout: SecretsLayout, key_id: str, today: date) -> list[Path]:
    """A new folder's first key: Ed25519 ``key_id`` and a ``keys.toml`` naming it active."""
    key_dir = layout.receipt_keys
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    new_id, key_file = _new_signing_key(key_dir, set())
    if new_id != key_id:  # the first free id is k1; a configured other name is honoured
        target = key_dir / f"{key_id}{PRIVATE_KEY_SUFFIX}"
        os.replace(key_file, target)
        os.replace(
            key_dir / f"{new_id}{PUBLIC_KEY_SUFFIX}", key_dir / f"{key_id}{PUBLIC_KEY_SUFFIX}"
        )
        key_file = target
    manifest = KeyManifest(
        active=key_id, keys={key_id: KeyLifetime(created=today, algorithm="ed25519")}
    )
    _replace_private(key_dir / KEY_MANIFEST, _manifest_text(manifest))
    return [key_file]  # the secret; its public half and keys.toml follow from it


def _shred(path: Path) -> None:
    """Delete a secret key file (overwritten first: a copy in the page cache is not the point,
    a later undelete on a plain file system is)."""
    with contextlib.suppress(FileNotFoundError):
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(secrets.token_bytes(size))
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()


def _file_day(path: Path, today: date) -> date:
    """When a key made before keys.toml existed was created: its file's date, at most today."""
    return min(date.fromtimestamp(path.stat().st_mtime), today)


def _next_key_id(taken: set[str]) -> str:
    numbers = [int(m[1]) for kid in taken if (m := re.fullmatch(r"k([0-9]{1,9})", kid))]
    n = max(numbers, default=0) + 1
    while f"k{n}" in taken:
        n += 1
    return f"k{n}"


def _manifest_text(manifest: KeyManifest) -> str:
    lines = [
        "# Receipt signing keys of this unit, written by `hailong keys`. Keep it with the key",
        "# files; a copy goes to the kiosks with the public keys (it holds no secret). `active`",
        "# signs new receipts (Ed25519); every key listed verifies them, except that one with",
        "# `valid_until` is retired: its receipts verify until that instant, then are refused",
        "# (expired_key), and one with `revoked` is refused at once (revoked_key). HMAC keys",
        "# (algorithm hmac-sha256) signed receipts before Ed25519; only the hub holds them.",
        f'active = "{manifest.active}"',
    ]
    for kid, life in sorted(manifest.keys.items(), key=lambda item: (item[1].created, item[0])):
        lines += ["", f'[keys."{kid}"]', f"created = {life.created.isoformat()}"]
        lines.append(f'algorithm = "{life.algorithm}"')
        if life.valid_until is not None:
            lines.append(f"valid_until = {_toml_instant(life.valid_until)}")
        if life.revoked is not None:
            lines.append(f"revoked = {_toml_instant(life.revoked)}")
    return "\n".join(lines) + "\n"


def _toml_instant(value: date) -> str:
    """A TOML offset date-time in UTC (``2027-02-23T08:00:00Z``), or a plain date kept as is."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _replace_private(path: Path, text: str) -> None:
    """Write ``path`` (mode 0600) through a temporary file, so a reader never sees half of it."""
    _replace_file(path, text, 0o600)


def _replace_file(path: Path, text: str, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def var_dir(settings: HubSettings) -> Path:
    """``var/``: the hub's state (secrets, database, broker files, the demo's printed slips)."""
    return settings.receipts.key_dir.parent.parent


def init_all(settings: HubSettings, unit: Units) -> list[Path]:
    """Every base secret a hub configuration names (receipt keys, MQTT passwords, kiosk PINs).

    The web side's logins, cookie key and API token belong to ``hub.web.accounts``, which makes
    them itself (called by ``hailong init``): this base package imports no app.
    """
    layout = SecretsLayout(settings.receipts.key_dir.parent)
    return init_secrets(unit, layout, settings.receipts.active_key)
