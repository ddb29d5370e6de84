"""The unit's clock: the one time zone of every date and time a person reads.

A dossier code carries its day (``<unit>-<yymmdd>-<seq>``), and the slip, the staff page, the
dashboards and the reports show times; all of them are the unit's local ones, whatever zone the
machine that prints or checks them is set to (a hub or a Pi left on UTC would otherwise date a
code issued after 17:00 UTC with yesterday's date). Viet Nam has kept UTC+7 all year since 1975.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

UNIT_ZONE: Final[tzinfo] = ZoneInfo("Asia/Ho_Chi_Minh")


def unit_time(instant: datetime) -> datetime:
    """``instant`` on the unit's clock; a naive one is UTC, as the database and the wire keep them."""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(UNIT_ZONE)


def unit_day(instant: datetime) -> date:
    """The unit's calendar day at ``instant``: the day a dossier code issued then carries."""
    return unit_time(instant).date()
