"""The figures per channel (kiosk, button box, online, paper; the assisted ones apart), read from
the channel rollups for one scope or for many units at once: what the dashboard's card, the
official report's table, the paper page and ``hailong report summary`` show."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from hub.domain.channels import ChannelSplit, channel_split
from hub.store.rollups import LOCAL_ZONE, Scope, channel_counts, channel_counts_of_units


def channel_figures(session: Session, scope: Scope) -> ChannelSplit:
    """n, satisfied and MĐHL per channel of ``scope`` (a unit's: no officer)."""
    return channel_split(channel_counts(session, scope))


def units_channel_figures(
    session: Session,
    units: Iterable[str],
    since: datetime | None,
    until: datetime | None,
    zone: tzinfo = LOCAL_ZONE,
) -> dict[str, ChannelSplit]:
    """:func:`channel_figures` of many units (by code) over the same period, in a few queries."""
    found = channel_counts_of_units(session, units, since, until, zone)
    return {code: channel_split(counted) for code, counted in found.items()}
