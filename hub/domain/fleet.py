"""Which kiosks need attention: offline, or holding ratings they have not delivered (pure: no I/O).

A kiosk publishes its status on connect, every minute, and as its last will (``online: false``),
so a kiosk is *offline* when its last status says so, when nothing was heard from it for longer
than :attr:`Thresholds.silent_after` (a power cut leaves the last "online" status standing until
the broker notices), or when it has never been heard from. It is *backlogged* when it holds more
ratings than :attr:`Thresholds.max_buffer` in its outbox: ratings the hub has not acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Flag(StrEnum):
    OFFLINE = "offline"
    BACKLOGGED = "backlogged"


@dataclass(frozen=True)
class KioskReport:
    """One status the hub received from a kiosk (the latest, or one of its history)."""

    kiosk: str
    online: bool
    received_at: datetime  # the hub's clock: kiosk clocks may be wrong
    buffer_depth: int | None = None  # None: not said (the last will says nothing)


@dataclass(frozen=True)
class Thresholds:
    silent_after: timedelta = timedelta(minutes=5)  # five missed one-minute statuses
    max_buffer: int = 20  # ratings waiting in the kiosk's outbox


@dataclass(frozen=True)
class KioskHealth:
    kiosk: str
    flags: frozenset[Flag]
    last_heard: datetime | None  # None: never heard from
    buffer_depth: int | None  # the last depth the kiosk reported

    @property
    def ok(self) -> bool:
        return not self.flags


def assess(
    kiosks: Iterable[str],
    reports: Iterable[KioskReport],
    now: datetime,
    thresholds: Thresholds = Thresholds(),  # frozen: a shared default is safe
) -> list[KioskHealth]:
    """The health of each kiosk in ``kiosks`` (the unit's configured ones) and of any other kiosk
    that reported, sorted by kiosk id. ``reports`` may hold several statuses per kiosk (history):
    the latest decides the link, the latest that gave a depth decides the backlog. Times are
    aware (the store hands them back so)."""
    latest: dict[str, KioskReport] = {}
    depth: dict[str, tuple[datetime, int]] = {}
    for report in reports:
        at = report.received_at
        kept = latest.get(report.kiosk)
        if kept is None or at >= kept.received_at:
            latest[report.kiosk] = report
        if report.buffer_depth is not None:
            known = depth.get(report.kiosk)
            if known is None or at >= known[0]:
                depth[report.kiosk] = (at, report.buffer_depth)
    health = []
    for kiosk in sorted({*kiosks, *latest}):
        last = latest.get(kiosk)
        buffered = depth[kiosk][1] if kiosk in depth else None
        flags = set()
        if last is None or not last.online or now - last.received_at > thresholds.silent_after:
            flags.add(Flag.OFFLINE)
        if buffered is not None and buffered > thresholds.max_buffer:
            flags.add(Flag.BACKLOGGED)
        heard = last.received_at if last is not None else None
        health.append(KioskHealth(kiosk, frozenset(flags), heard, buffered))
    return health
