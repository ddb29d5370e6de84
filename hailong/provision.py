"""Secrets for a unit: receipt keys, one MQTT password per kiosk and the hub, kiosk staff PINs.

They live under ``var/secrets/`` (git-ignored), readable by the owner only. Creating them is
idempotent: existing secrets are never overwritten, so re-running ``hailong init`` is safe.

Receipt keys rotate with :func:`rotate_receipt_key`: a new key signs from then on, and the one it
replaces still verifies for a grace period, recorded in ``receipt-keys/keys.toml``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from hailong.settings import (
    KEY_MANIFEST,
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


def mqtt_users(unit: Unit) -> list[str]:
    return [HUB_USER, *(k.id for k in unit.kiosks)]


def init_secrets(unit: Unit, layout: SecretsLayout, key_id: str = "k1") -> list[Path]:
    """Create whatever secrets are missing and return the files created.

    The first receipt key is ``key_id``; once keys have rotated (``keys.toml`` exists), the
    manifest names the keys and no receipt key is created here.
    """
    created: list[Path] = []
    key_file = layout.receipt_keys / f"{key_id}.key"
    if not (layout.receipt_keys / KEY_MANIFEST).exists() and _write_private(
        key_file, secrets.token_hex(32)
    ):
        created.append(key_file)
    for user in mqtt_users(unit):
        path = layout.mqtt_password_file(user)
        if _write_private(path, secrets.token_urlsafe(24)):
            created.append(path)
    for kiosk in unit.kiosks:
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
    valid_until: date | None = None


def rotate_receipt_key(
    layout: SecretsLayout, grace_days: int, *, active_key: str = "k1", today: date | None = None
) -> KeyRotation:
    """Make a new receipt key the active one; the previous one verifies ``grace_days`` more days.

    The new key gets the next free id (``k2`` after ``k1``) in a new 0600 file; an existing key
    file is never overwritten. ``keys.toml`` then names it active and gives the previous active
    key ``valid_until = today + grace_days``; other keys keep their lifetimes. Without a
    ``keys.toml`` yet, every key file is taken as valid and ``active_key`` (the configured one)
    as the active key, as :class:`~hailong.settings.ReceiptKeys` reads that folder.

    Idempotent: if the active key was already made by a rotation today, nothing changes, so a
    retried script does not burn through keys or cut a grace period short.
    """
    if grace_days < 0:
        raise ValueError(f"grace_days must be 0 or more, not {grace_days}")
    today = date.today() if today is None else today
    key_dir = layout.receipt_keys
    manifest_path = key_dir / KEY_MANIFEST
    files = {path.stem: path for path in sorted(key_dir.glob("*.key"))}
    manifest = read_key_manifest(key_dir)
    if manifest is None:
        if active_key not in files:
            raise ConfigError(f"no key file {key_dir / (active_key + '.key')} (run `hailong init`)")
        lifetimes = {
            kid: KeyLifetime(created=_file_day(path, today)) for kid, path in files.items()
        }
        manifest = KeyManifest(active=active_key, keys=lifetimes)
    else:
        for kid, path in files.items():
            if kid not in manifest.keys:
                raise ConfigError(f"{path}: key {kid!r} is not listed in {manifest_path}")
        if manifest.active not in files:
            raise ConfigError(f"{manifest_path}: key `active`: no key file for {manifest.active!r}")
        current = manifest.keys[manifest.active]
        if current.created == today and any(k.valid_until for k in manifest.keys.values()):
            return KeyRotation(manifest.active, files[manifest.active], manifest_path, False)

    previous = manifest.active
    taken = set(files) | set(manifest.keys)
    while True:
        new_id = _next_key_id(taken)
        key_file = key_dir / f"{new_id}.key"
        if _write_private(key_file, secrets.token_hex(32)):
            break
        taken.add(new_id)  # appeared meanwhile: never overwrite, take the next id

    old = manifest.keys[previous]
    valid_until = max(today + timedelta(days=grace_days), old.created)
    lifetimes = {
        **manifest.keys,
        previous: KeyLifetime(created=old.created, valid_until=valid_until),
        new_id: KeyLifetime(created=today),
    }
    _replace_private(manifest_path, _manifest_text(KeyManifest(active=new_id, keys=lifetimes)))
    return KeyRotation(new_id, key_file, manifest_path, True, previous, valid_until)


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
        "# Receipt signing keys of this unit, written by `hailong keys rotate`. Keep it with the",
        "# <id>.key files. `active` signs new receipts; every key listed verifies them, but one",
        "# with `valid_until` is retired: its receipts verify through that day, then are refused",
        "# (expired_key). A retired key's file may be deleted once that day has passed.",
        f'active = "{manifest.active}"',
    ]
    for kid, life in sorted(manifest.keys.items(), key=lambda item: (item[1].created, item[0])):
        lines += ["", f'[keys."{kid}"]', f"created = {life.created.isoformat()}"]
        if life.valid_until is not None:
            lines.append(f"valid_until = {life.valid_until.isoformat()}")
    return "\n".join(lines) + "\n"


def _replace_private(path: Path, text: str) -> None:
    """Write ``path`` (mode 0600) through a temporary file, so a reader never sees half of it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def init_all(settings: HubSettings, unit: Unit) -> list[Path]:
    """Every secret a hub configuration names (the ``hailong init`` command and the demo)."""
    layout = SecretsLayout(settings.receipts.key_dir.parent)
    created = init_secrets(unit, layout, settings.receipts.active_key)
    if settings.web is not None:
        from hub.web.accounts import init_web_secrets  # the web side's own secrets

        web = settings.web
        created += init_web_secrets(web.accounts_file, web.api_tokens_file, web.session_key_file)
    return created
