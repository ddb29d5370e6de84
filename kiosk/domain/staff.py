"""The staff PIN that guards the maintenance screen, with a lock-out against guessing (pure)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=5)


@dataclass
class PinGuard:
    pin: str | None  # None: no PIN configured, so the maintenance screen cannot be opened
    failures: int = 0
    locked_until: datetime | None = None

    def check(self, attempt: str, now: datetime) -> bool:
        if self.pin is None or (self.locked_until and now < self.locked_until):
            return False
        if hmac.compare_digest(attempt.encode(), self.pin.encode()):
            self.failures = 0
            return True
        self.failures += 1
        if self.failures >= MAX_ATTEMPTS:
            self.locked_until = now + LOCKOUT
            self.failures = 0
        return False

    def locked(self, now: datetime) -> bool:
        return bool(self.locked_until and now < self.locked_until)
