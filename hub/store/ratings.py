"""Writing ratings and dead letters; reading the receipt register. Works on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hailong.contract.messages import AckOutcome, RatingMessage
from hub.domain.ingest import Attribution, ReceiptFacts
from hub.store.models import DeadLetterRow, RatingRow, ReceiptRow


def store_batch(
    session: Session, items: Sequence[tuple[RatingMessage, Attribution]], now: datetime
) -> list[AckOutcome]:
    """Insert the ratings not stored before; the caller commits, then acknowledges.

    Idempotent on the rating id: one already in the table, or repeated within the batch, is
    reported as ``duplicate`` and not written again.
    """
    ids = {str(rating.id) for rating, _ in items}
    existing = set(session.scalars(select(RatingRow.id).where(RatingRow.id.in_(ids))))
    outcomes: list[AckOutcome] = []
    for rating, attribution in items:
        key = str(rating.id)
        if key in existing:
            outcomes.append(AckOutcome(id=rating.id, seq=rating.seq, outcome="duplicate"))
            continue
        existing.add(key)
        session.add(_row(rating, attribution, now))
        outcomes.append(AckOutcome(id=rating.id, seq=rating.seq, outcome="stored"))
    return outcomes


def _row(rating: RatingMessage, attribution: Attribution, now: datetime) -> RatingRow:
    return RatingRow(
        id=str(rating.id),
        unit=rating.unit,
        kiosk=rating.kiosk,
        seq=rating.seq,
        dossier_code=rating.receipt.code if rating.receipt else None,
        receipt_verified=bool(rating.receipt and rating.receipt.verified),
        receipt_known=attribution.receipt_known,
        stage=rating.stage.value,
        counter=attribution.counter,
        officer=attribution.officer,
        procedure=attribution.procedure,
        field=attribution.field,
        score=int(rating.score),
        reasons=list(rating.reasons),
        comment=rating.comment,
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
        row.dossier_code: ReceiptFacts(row.dossier_code, row.procedure, row.counter, row.officer)
        for row in rows
    }
