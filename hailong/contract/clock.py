"""The unit's clock: the one time zone of every date and time a person reads.

A dossier code carries its day (``<unit>-<yymmdd>-<seq>``), and the slip, the staff page, the
dashboards and the reports show times; all of them are the unit's local ones, whatever zone the
machine that prints or checks them is set to (a hub or a Pi left on UTC would otherwise date a
code issued after 17:00 UTC with yesterday's date).

The zone is a unit setting (``time_zone`` in ``[unit]`` of the unit file, or the catalogue
tables' column): :data:`UNIT_ZONE` is only its default, Asia/Ho_Chi_Minh (Viet Nam has kept UTC+7
all year since 1975). Every function here takes the zone to use; left out, the default.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE_NAME: Final = "Asia/Ho_Chi_Minh"
UNIT_ZONE: Final[tzinfo] = ZoneInfo(DEFAULT_ZONE_NAME)


@lru_cache(maxsize=64)
def zone_named(name: str) -> tzinfo:
    """The IANA time zone ``name`` (``"Asia/Ho_Chi_Minh"``); a ValueError saying what is expected
    when the system's zone database does not know it (a typo, an abbreviation such as ``ICT``)."""
    try:
        if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r}: expected an IANA zone name such as "
            f'"{DEFAULT_ZONE_NAME}" or "Asia/Bangkok"'
        ) from None


def unit_time(instant: datetime, zone: tzinfo = UNIT_ZONE) -> datetime:
    """``instant`` on the unit's clock; a naive one is UTC, as the database and the wire keep them."""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(zone)


def unit_day(instant: datetime, zone: tzinfo = UNIT_ZONE) -> date:
    """The unit's calendar day at ``instant``: the day a dossier code issued then carries."""
    return unit_time(instant, zone).date()
