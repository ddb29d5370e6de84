"""Reporting periods in the unit's local calendar (pure): today, week, month, quarter, year, and
the period before each, so a figure can be shown with its change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes, for comparing with stored ``rated_at`` values."""
        return _start(self.first), _start(self.end)

    def previous(self) -> Period:
        return period(self.kind, self.first - timedelta(days=1))


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL)


def period(kind: PeriodKind, day: date) -> Period:
    """The period of ``kind`` containing ``day``."""
    if kind == "today":
        return Period(kind, day, day + timedelta(days=1))
    if kind == "week":  # Monday to Sunday
        first = day - timedelta(days=day.weekday())
        return Period(kind, first, first + timedelta(days=7))
    if kind == "month":
        first = day.replace(day=1)
        return Period(kind, first, _add_months(first, 1))
    if kind == "quarter":
        first = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        return Period(kind, first, _add_months(first, 3))
    first = day.replace(month=1, day=1)
    return Period(kind, first, first.replace(year=first.year + 1))


def _add_months(first: date, months: int) -> date:
    index = first.month - 1 + months
    return first.replace(year=first.year + index // 12, month=index % 12 + 1)


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL).date()


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC, a naive one taken as UTC: for instants from outside the database (a
    bound typed on the command line or the API, a cursor parsed from text). What the database
    hands back is already aware (:class:`hub.store.types.UtcDateTime`) and needs none of this."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
