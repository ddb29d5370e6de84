"""How long the hub keeps what it does not need for ever.

Ratings, rollups, follow-ups and dead letters are records and stay. A kiosk's status history is
operational: each kiosk reports every minute or so (tens of thousands of rows a day for a
province), and only the recent past explains a backlog or an outage. The latest status per kiosk
lives in ``kiosk_status`` and is never pruned.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from hub.store.models import KioskStatusHistoryRow, KioskStatusRow


def prune_status_history(session: Session, now: datetime, keep_days: int) -> int:
    """Delete history older than ``keep_days``; returns how many rows went.

    One delete per kiosk, so each walks the (unit, kiosk, at) index instead of the whole table.
    """
    cutoff = now - timedelta(days=keep_days)
    kiosks = session.execute(select(KioskStatusRow.unit, KioskStatusRow.kiosk)).all()
    removed = 0
    for unit, kiosk in kiosks:
        result = session.execute(
            delete(KioskStatusHistoryRow).where(
                KioskStatusHistoryRow.unit == unit,
                KioskStatusHistoryRow.kiosk == kiosk,
                KioskStatusHistoryRow.at < cutoff,
            )
        )
        removed += cast(CursorResult[Any], result).rowcount or 0
    return removed
