"""Reporting periods in the unit's local calendar (pure): today, week, month, quarter, year, and
the period before each, so a figure can be shown with its change.

A period is days on a unit's clock: its ``zone`` (the unit's ``time_zone``, :data:`LOCAL` by
default) turns them into instants (:meth:`Period.bounds`), so the same "Q1 2026" of a unit in
Asia/Ho_Chi_Minh and of one in Asia/Tokyo starts two hours apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from hailong.contract.clock import UNIT_ZONE

PeriodKind = Literal["today", "week", "month", "quarter", "year"]
PERIODS: tuple[PeriodKind, ...] = ("today", "week", "month", "quarter", "year")
LOCAL = UNIT_ZONE

LABELS: dict[PeriodKind, tuple[str, str]] = {
    "today": ("Hôm nay", "Today"),
    "week": ("Tuần này", "This week"),
    "month": ("Tháng này", "This month"),
    "quarter": ("Quý này", "This quarter"),
    "year": ("Năm nay", "This year"),
}


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: date  # first day, local
    end: date  # the day after the last, local
    # The clock of the days; not part of a period's identity (equal days are the same period).
    zone: tzinfo = field(default=LOCAL, compare=False, repr=False)

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    def bounds(self, zone: tzinfo | None = None) -> tuple[datetime, datetime]:
        """The period as aware datetimes, for comparing with stored ``rated_at`` values: its
        days' midnights on ``zone``'s clock (default: the period's own)."""
        clock = self.zone if zone is None else zone
        return _start(self.first, clock), _start(self.end, clock)

    def previous(self) -> Period:
        return period(self.kind, self.first - timedelta(days=1), self.zone)

    def on(self, zone: tzinfo) -> Period:
        """The same days on ``zone``'s clock (a period parsed from text, then given its unit's)."""
        return Period(self.kind, self.first, self.end, zone)


def _start(day: date, zone: tzinfo = LOCAL) -> datetime:
    return datetime.combine(day, time.min, zone)


def period(kind: PeriodKind, day: date, zone: tzinfo = LOCAL) -> Period:
    """The period of ``kind`` containing ``day``, on ``zone``'s clock."""
    if kind == "today":
        return Period(kind, day, day + timedelta(days=1), zone)
    if kind == "week":  # Monday to Sunday
        first = day - timedelta(days=day.weekday())
        return Period(kind, first, first + timedelta(days=7), zone)
    if kind == "month":
        first = day.replace(day=1)
        return Period(kind, first, _add_months(first, 1), zone)
    if kind == "quarter":
        first = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        return Period(kind, first, _add_months(first, 3), zone)
    first = day.replace(month=1, day=1)
    return Period(kind, first, first.replace(year=first.year + 1), zone)


def _add_months(first: date, months: int) -> date:
    index = first.month - 1 + months
    return first.replace(year=first.year + index // 12, month=index % 12 + 1)


def local_today(now: datetime, zone: tzinfo = LOCAL) -> date:
    """The day it is at ``now`` on ``zone``'s clock (the unit's)."""
    return now.astimezone(zone).date()


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC, a naive one taken as UTC: for instants from outside the database (a
    bound typed on the command line or the API, a cursor parsed from text). What the database
    hands back is already aware (:class:`hub.store.types.UtcDateTime`) and needs none of this."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
