"""Writing ratings and dead letters; reading the receipt register. Works on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hailong.contract import topics
from hailong.contract.messages import (
    AckOutcome,
    KioskStatusMessage,
    RatingMessage,
    ReturnedReceipt,
)
from hub.domain.ingest import Attribution, ReceiptFacts
from hub.store.models import DeadLetterRow, KioskStatusRow, RatingRow, ReceiptRow


def store_batch(
    session: Session, items: Sequence[tuple[RatingMessage, Attribution]], now: datetime
) -> list[AckOutcome]:
    """Insert the ratings not stored before; the caller commits, then acknowledges.

    Idempotent on the rating id: one already in the table, or repeated within the batch, is
    reported as ``duplicate`` and not written again. One rating per receipt and stage: a second
    rating of a receipt (made offline at another kiosk, say) is reported as ``already_rated`` and
    kept in the dead letters with the id of the rating that stands, so nothing is lost.
    """
    ids = {str(rating.id) for rating, _ in items}
    existing = set(session.scalars(select(RatingRow.id).where(RatingRow.id.in_(ids))))
    first_by_receipt = _rated_receipts(session, [rating for rating, _ in items])
    # The register decides the stage (see attribute()), so the key uses the attributed one.
    outcomes: list[AckOutcome] = []
    for rating, attribution in items:
        key = str(rating.id)
        if key in existing:
            outcomes.append(AckOutcome(id=rating.id, seq=rating.seq, outcome="duplicate"))
            continue
        receipt = _receipt_key(rating, attribution)
        if receipt is not None and receipt in first_by_receipt:
            reason = (
                f"already rated: {receipt[1]} {receipt[2]} by rating {first_by_receipt[receipt]}"
            )
            topic = topics.ratings(rating.unit, rating.kiosk)
            store_dead_letter(session, topic, rating.to_bytes(), reason, now)
            outcomes.append(
                AckOutcome(id=rating.id, seq=rating.seq, outcome="already_rated", reason=reason)
            )
            continue
        existing.add(key)
        if receipt is not None:
            first_by_receipt[receipt] = key
        session.add(_row(rating, attribution, now))
        outcomes.append(AckOutcome(id=rating.id, seq=rating.seq, outcome="stored"))
    return outcomes


ReceiptKey = tuple[str, str, str]  # unit, dossier code, stage


def _receipt_key(rating: RatingMessage, attribution: Attribution) -> ReceiptKey | None:
    if rating.receipt is None:
        return None
    return (rating.unit, rating.receipt.code, attribution.stage.value)


def _rated_receipts(session: Session, ratings: Sequence[RatingMessage]) -> dict[ReceiptKey, str]:
    """The id of the stored rating for each receipt and stage in ``ratings`` that has one."""
    codes = {rating.receipt.code for rating in ratings if rating.receipt}
    if not codes:
        return {}
    rows = session.execute(
        select(RatingRow.unit, RatingRow.dossier_code, RatingRow.stage, RatingRow.id).where(
            RatingRow.dossier_code.in_(codes)
        )
    )
    return {(row.unit, row.dossier_code, row.stage): row.id for row in rows}


def _row(rating: RatingMessage, attribution: Attribution, now: datetime) -> RatingRow:
    return RatingRow(
        id=str(rating.id),
        unit=rating.unit,
        kiosk=rating.kiosk,
        seq=rating.seq,
        dossier_code=rating.receipt.code if rating.receipt else None,
        receipt_verified=bool(rating.receipt and rating.receipt.verified),
        receipt_known=attribution.receipt_known,
        stage=attribution.stage.value,
        counter=attribution.counter,
        officer=attribution.officer,
        procedure=attribution.procedure,
        field=attribution.field,
        score=int(rating.score),
        reasons=list(rating.reasons),
        factors={factor.value: int(score) for factor, score in rating.factors.items()},
        comment=rating.comment,
        callback_phone=rating.callback_phone,
        lang=rating.lang,
        channel=rating.channel.value,
        # SQLite drops the offset of an aware datetime: store UTC everywhere.
        rated_at=rating.rated_at.astimezone(UTC),
        received_at=now.astimezone(UTC),
        duration_ms=rating.duration_ms,
    )


def store_dead_letter(
    session: Session, topic: str, payload: bytes, reason: str, now: datetime
) -> None:
    session.add(DeadLetterRow(topic=topic[:200], payload=payload, reason=reason, received_at=now))


def receipt_facts(session: Session, codes: Iterable[str]) -> dict[str, ReceiptFacts]:
    wanted = set(codes)
    if not wanted:
        return {}
    rows = session.scalars(select(ReceiptRow).where(ReceiptRow.dossier_code.in_(wanted)))
    return {
        row.dossier_code: ReceiptFacts(
            row.dossier_code,
            row.procedure,
            row.counter,
            row.officer,
            _aware(row.returned_at) if row.returned_at else None,
            row.returned_by,
        )
        for row in rows
    }


def save_kiosk_status(
    session: Session, unit: str, status: KioskStatusMessage, now: datetime
) -> None:
    """Keep the latest status per kiosk (the kiosk identity comes from the ACL-checked topic)."""
    row = session.get(KioskStatusRow, (unit, status.kiosk)) or KioskStatusRow(
        unit=unit, kiosk=status.kiosk
    )
    row.online = status.online
    row.buffer_depth = status.buffer_depth
    row.version = status.version
    if status.online or status.refusals:
        row.refusals = dict(status.refusals)  # the last will carries no counts: keep the old
    row.reported_at = status.at.astimezone(UTC) if status.at else None
    row.received_at = now.astimezone(UTC)
    session.add(row)


def pending_returns(session: Session, unit: str, limit: int = 500) -> list[ReturnedReceipt]:
    """Returns recorded in the register that the kiosks have not been told about yet."""
    rows = session.execute(
        select(ReceiptRow.dossier_code, ReceiptRow.returned_at)
        .where(
            ReceiptRow.unit == unit,
            ReceiptRow.returned_at.is_not(None),
            ReceiptRow.return_announced.is_(False),
        )
        .limit(limit)
    )
    return [
        ReturnedReceipt(code=row.dossier_code, returned_at=_aware(row.returned_at)) for row in rows
    ]


def mark_announced(session: Session, codes: Sequence[str]) -> None:
    session.execute(
        update(ReceiptRow).where(ReceiptRow.dossier_code.in_(codes)).values(return_announced=True)
    )


def _aware(value: datetime) -> datetime:
    """SQLite hands back UTC values without their zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
