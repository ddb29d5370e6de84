"""Failed staff logins, counted per (user name, source address), with an exponential back-off.

Pure: the caller passes the clock. Keyed by the pair, not the name alone, so failures typed at
the lobby's browser lock the lobby's browser out of that name and nobody else: the administrator
at their own desk still logs in. Each lock after the first doubles, up to a ceiling; a success
forgets the pair, and so does a day without failures. The table is bounded (oldest pairs go
first), so a spray of made-up names cannot grow it without limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

THRESHOLD = 5  # failures in a row that lock the pair
BASE = timedelta(minutes=5)  # the first lock; each further failure after a lock doubles it
CEILING = timedelta(hours=1)
FORGET_AFTER = timedelta(hours=24)
CAPACITY = 10_000


@dataclass
class _Pair:
    failures: int
    last: datetime
    until: datetime | None = None


class LoginThrottle:
    """Who may try a password now, and for how long a pair is locked."""

    def __init__(
        self,
        threshold: int = THRESHOLD,
        base: timedelta = BASE,
        ceiling: timedelta = CEILING,
        forget_after: timedelta = FORGET_AFTER,
        capacity: int = CAPACITY,
    ) -> None:
        if threshold < 1 or capacity < 1:
            raise ValueError("threshold and capacity must be at least 1")
        self.threshold, self.base, self.ceiling = threshold, base, ceiling
        self.forget_after, self.capacity = forget_after, capacity
        self._pairs: dict[tuple[str, str], _Pair] = {}

    def locked_until(self, user: str, address: str, now: datetime) -> datetime | None:
        """The end of the pair's lock, or None when it may try now."""
        pair = self._current(user, address, now)
        if pair is None or pair.until is None or now >= pair.until:
            return None
        return pair.until

    def failed(self, user: str, address: str, now: datetime) -> datetime | None:
        """Count a wrong password; returns the end of the lock it starts, if it starts one."""
        if self.locked_until(user, address, now) is not None:
            return self._pairs[(user, address)].until  # refused unchecked: not counted again
        pair = self._current(user, address, now)
        if pair is None:
            self._make_room()
            pair = self._pairs[(user, address)] = _Pair(0, now)
        pair.failures += 1
        pair.last = now
        if pair.failures >= self.threshold:
            doubling = min(pair.failures - self.threshold, 20)  # 2**20 is far past any ceiling
            pair.until = now + min(self.base * (2**doubling), self.ceiling)
        return pair.until

    def succeeded(self, user: str, address: str) -> None:
        self._pairs.pop((user, address), None)

    def __len__(self) -> int:
        return len(self._pairs)

    def _current(self, user: str, address: str, now: datetime) -> _Pair | None:
        pair = self._pairs.get((user, address))
        stale = pair is not None and now - pair.last >= self.forget_after
        if stale and pair is not None and (pair.until is None or now >= pair.until):
            del self._pairs[(user, address)]
            return None
        return pair

    def _make_room(self) -> None:
        """Drop the pairs whose last failure is oldest until one more fits."""
        while len(self._pairs) >= self.capacity:
            oldest = min(self._pairs, key=lambda key: self._pairs[key].last)
            del self._pairs[oldest]
