"""Reading the dossier feed (:mod:`hailong.contract.dossier_feed`) from the ratings and the receipt
register, in the order the hub stored them, after a position (the exporter's cursor).

The order is ``(received_at, id)``: the hub's clock when the batch was stored, then the rating's
id, so a position is exact even when a batch stored many ratings at one instant. A transaction
still open when a run reads could later commit rows with an earlier ``received_at`` than rows
already sent; the reader therefore takes only rows stored at least ``settle`` ago (a batch's
transaction lasts well under a second; the default settle is two minutes).

Only what the contract carries is selected: never the comment, the call-back phone, the
receipt's citizen name or contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hailong.contract.dossier_feed import DossierDates, DossierRating
from hub.store.models import RatingRow, ReceiptRow


@dataclass(frozen=True, order=True)
class FeedPosition:
    """Where a feed stands: the last record sent, by the hub's storing time then id."""

    received_at: datetime  # aware, UTC
    id: str


class FeedRowError(ValueError):
    """A stored rating the feed's contract cannot carry (the export stops on it: nothing skipped)."""


_RATING = (
    RatingRow.id,
    RatingRow.unit,
    RatingRow.kiosk,
    RatingRow.dossier_code,
    RatingRow.stage,
    RatingRow.channel,
    RatingRow.procedure,
    RatingRow.field,
    RatingRow.counter,
    RatingRow.officer,
    RatingRow.score,
    RatingRow.factors,
    RatingRow.not_applicable,
    RatingRow.reasons,
    RatingRow.lang,
    RatingRow.rated_at,
    RatingRow.received_at,
    RatingRow.duration_ms,
    RatingRow.receipt_verified,
    RatingRow.receipt_known,
    RatingRow.counted,
    RatingRow.suspect,
    RatingRow.assisted,
)
_RECEIPT = (
    ReceiptRow.origin,
    ReceiptRow.issued_at,
    ReceiptRow.promised_on,
    ReceiptRow.returned_at,
)


def feed_after(
    session: Session,
    after: FeedPosition | None,
    *,
    settled_before: datetime,
    limit: int,
    rated_since: datetime | None = None,
    unit: str | None = None,
) -> list[tuple[FeedPosition, DossierRating]]:
    """Up to ``limit`` records stored after ``after`` and before ``settled_before``, in order.

    Only ratings of a dossier (a code on the rating): a walk-in has nothing a one-stop system
    could attach it to (it is in the read-only views). ``rated_since`` leaves out ratings given
    before it; ``unit`` keeps one unit's (a hub serving a province exports per unit or all).
    """
    query = (
        select(*_RATING, *_RECEIPT)
        .outerjoin(
            ReceiptRow,
            and_(
                ReceiptRow.dossier_code == RatingRow.dossier_code, ReceiptRow.unit == RatingRow.unit
            ),
        )
        .where(RatingRow.dossier_code.is_not(None), RatingRow.received_at < settled_before)
        .order_by(RatingRow.received_at, RatingRow.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(
            or_(
                RatingRow.received_at > after.received_at,
                and_(RatingRow.received_at == after.received_at, RatingRow.id > after.id),
            )
        )
    if rated_since is not None:
        query = query.where(RatingRow.rated_at >= rated_since)
    if unit is not None:
        query = query.where(RatingRow.unit == unit)
    return [
        (FeedPosition(row.received_at, row.id), _record(row._mapping))
        for row in session.execute(query)
    ]


def _record(row: Any) -> DossierRating:
    receipt = None
    if row["issued_at"] is not None:
        receipt = DossierDates(
            origin=row["origin"],
            issued_at=row["issued_at"],
            promised_on=row["promised_on"],
            returned_at=row["returned_at"],
        )
    try:
        return DossierRating(
            id=row["id"],
            unit=row["unit"],
            dossier_code=row["dossier_code"],
            stage=row["stage"],
            channel=row["channel"],
            kiosk=row["kiosk"],
            procedure=row["procedure"],
            field=row["field"],
            counter=row["counter"],
            officer=row["officer"],
            score=row["score"],
            satisfied=row["score"] >= 4,
            factors=row["factors"] or {},
            not_applicable=tuple(row["not_applicable"] or ()),
            reasons=tuple(row["reasons"] or ()),
            lang=row["lang"],
            rated_at=row["rated_at"],
            received_at=row["received_at"],
            duration_ms=row["duration_ms"],
            receipt=receipt,
            verified=bool(row["receipt_verified"]),
            known=bool(row["receipt_known"]),
            counted=bool(row["counted"]),
            suspect=bool(row["suspect"]),
            assisted=bool(row["assisted"]),
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise FeedRowError(
            f"rating {row['id']} cannot be exported: {where}: {error['msg']}"
        ) from exc
