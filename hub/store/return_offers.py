"""The offers of a rating at the return (``return_offers``, revision 0023).

When the officer records "trả kết quả", :meth:`hub.receipts.desk.ReceiptDesk.record_return` writes
an offer here (:func:`record_offer`) in the same call, whichever path it came by (command line,
staff page, API); the hub service publishes it to the counter's kiosks within a second
(:func:`pending_offers`, :func:`mark_published`). The table is the outbox between the two
processes, as the register's ``return_announced`` is for the unit-wide ``returned`` notice: the web
process has no broker link, and an offer written while the broker is down is published once it is
back, if it has not expired by then. It is also the record of who caused which offer: an offer
holds no score and the officer's action stores no rating.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hailong.contract.scale import Stage
from hub.store.models import RatingRow, ReceiptRow, ReturnOfferRow


@dataclass(frozen=True)
class PendingOffer:
    """An offer not yet published, with the signed receipt URL the kiosk will check."""

    id: str
    unit: str
    code: str
    counter: str
    receipt_url: str
    offered_at: datetime
    expires_at: datetime


def rated_at_return(session: Session, unit: str, code: str) -> bool:
    """Whether the hub already stored this dossier's return-stage rating (one per dossier and
    stage: offering it again would only show the citizen "already rated")."""
    found = session.scalar(
        select(RatingRow.id)
        .where(
            RatingRow.unit == unit,
            RatingRow.dossier_code == code,
            RatingRow.stage == Stage.RETURN.value,
        )
        .limit(1)
    )
    return found is not None


def record_offer(
    session: Session,
    *,
    unit: str,
    code: str,
    counter: str,
    officer: str,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Write one offer for the service to publish; returns its id."""
    offer_id = str(uuid.uuid4())
    at = now.astimezone(UTC)
    session.add(
        ReturnOfferRow(
            id=offer_id,
            unit=unit,
            dossier_code=code,
            counter=counter,
            officer=officer,
            offered_at=at,
            expires_at=at + lifetime,
        )
    )
    return offer_id


def pending_offers(
    session: Session, unit: str, now: datetime, limit: int = 100
) -> list[PendingOffer]:
    """A unit's offers not yet published and not yet expired, oldest first. An expired one is
    left unpublished for good: its citizen has left the counter."""
    rows = session.execute(
        select(
            ReturnOfferRow.id,
            ReturnOfferRow.dossier_code,
            ReturnOfferRow.counter,
            ReceiptRow.url,
            ReturnOfferRow.offered_at,
            ReturnOfferRow.expires_at,
        )
        .join(ReceiptRow, ReceiptRow.dossier_code == ReturnOfferRow.dossier_code)
        .where(
            ReturnOfferRow.unit == unit,
            ReturnOfferRow.published_at.is_(None),
            ReturnOfferRow.expires_at > now.astimezone(UTC),
        )
        .order_by(ReturnOfferRow.offered_at)
        .limit(limit)
    )
    return [
        PendingOffer(row.id, unit, row.dossier_code, row.counter, row.url, *row[4:6])
        for row in rows
    ]


def mark_published(
    session: Session, published: Sequence[tuple[str, Sequence[str]]], now: datetime
) -> None:
    """Record each offer (id) as published to those kiosks."""
    for offer_id, kiosks in published:
        session.execute(
            update(ReturnOfferRow)
            .where(ReturnOfferRow.id == offer_id)
            .values(published_at=now.astimezone(UTC), kiosks=",".join(kiosks)[:400])
        )
