"""Secrets for a unit: receipt keys, one MQTT password per kiosk and the hub, kiosk staff PINs.

They live under ``var/secrets/`` (git-ignored), readable by the owner only. Creating them is
idempotent: existing secrets are never overwritten, so re-running ``hailong init`` is safe.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hailong.settings import Unit

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
    """Create whatever secrets are missing and return the files created."""
    created: list[Path] = []
    key_file = layout.receipt_keys / f"{key_id}.key"
    if _write_private(key_file, secrets.token_hex(32)):
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
