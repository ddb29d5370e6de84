"""How long the hub keeps what it does not need for ever.

Ratings, rollups and follow-ups are records and stay. A kiosk's status history is operational:
each kiosk reports every minute or so (tens of thousands of rows a day for a province), and only
the recent past explains a backlog or an outage. The latest status per kiosk lives in
``kiosk_status`` and is never pruned. Dead letters are evidence of what was refused, and anyone
holding a kiosk's password can make them: they go after ``[hub] dead_letter_days`` (and a quota
per kiosk bounds them meanwhile, :func:`hub.store.ratings.store_dead_letter`). The return
offers (``return_offers``, one row per return recorded at a counter with a kiosk) are an outbox
and a short record of who caused which offer: once published or expired they go after
``[hub] return_offer_days``; one still waiting to be published stays whatever its age.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.orm import Session

from hub.store.models import DeadLetterRow, KioskStatusHistoryRow, KioskStatusRow, ReturnOfferRow


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


def prune_dead_letters(session: Session, now: datetime, keep_days: int) -> int:
    """Delete dead letters received more than ``keep_days`` ago; returns how many went.

    Like the status history, one delete per kiosk through the (kiosk, received_at) index, and one
    for the rows whose topic named no kiosk.
    """
    cutoff = now - timedelta(days=keep_days)
    kiosks = session.scalars(select(DeadLetterRow.kiosk).distinct()).all()
    removed = 0
    for kiosk in kiosks:
        match = DeadLetterRow.kiosk.is_(None) if kiosk is None else DeadLetterRow.kiosk == kiosk
        result = session.execute(
            delete(DeadLetterRow).where(match, DeadLetterRow.received_at < cutoff)
        )
        removed += cast(CursorResult[Any], result).rowcount or 0
    return removed


def prune_return_offers(session: Session, now: datetime, keep_days: int) -> int:
    """Delete return offers made more than ``keep_days`` ago that were published or have
    expired; returns how many went. An offer neither published nor expired (a clock set back,
    an offer made with a lifetime longer than the retention) is still the outbox's and stays.
    One delete through the ``offered_at`` index (revision 0024)."""
    cutoff = now - timedelta(days=keep_days)
    result = session.execute(
        delete(ReturnOfferRow).where(
            ReturnOfferRow.offered_at < cutoff,
            or_(ReturnOfferRow.published_at.is_not(None), ReturnOfferRow.expires_at <= now),
        )
    )
    return cast(CursorResult[Any], result).rowcount or 0
