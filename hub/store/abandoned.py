"""Storing and reading abandoned sessions (``abandoned_sessions``). Works on SQLite and PostgreSQL.

Written in the ingest's batch transaction (:class:`hub.batch_commit.BatchCommit`), beside the
ratings, and acknowledged only after its commit, like them. Read by the coverage figures: how many
of a unit's receipts reached a kiosk and were left without a face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hailong.contract import topics
from hailong.contract.messages import AbandonedMessage, AckOutcome
from hub.domain.ingest import Attribution
from hub.store.coverage import count_abandoned, use_zone
from hub.store.models import AbandonedSessionRow
from hub.store.ratings import DeadLetterLimits, store_dead_letter

# What identifies an abandoned session's content as the kiosk sent it (not as the register
# attributed it): the same id with other content is a conflict, never a copy.
_CONTENT = ("unit", "kiosk", "seq", "dossier_code", "reason", "scanned_at", "ended_at")


def store_abandoned(
    session: Session,
    items: Sequence[tuple[AbandonedMessage, Attribution]],
    now: datetime,
    *,
    zone: tzinfo | None = None,
    dead_letters: DeadLetterLimits | None = None,
) -> list[AckOutcome]:
    """Insert the abandoned sessions not stored before; the caller commits, then acknowledges.

    Idempotent on the id: one already stored, or repeated within the batch, with the same content
    is a ``duplicate``; with other content a ``conflict``, acknowledged ``rejected`` and kept in
    the dead letters (the stored one stands). No "one per receipt" rule: a receipt may be
    abandoned more than once, and abandoned then rated.
    """
    keys = [str(record.id) for record, _ in items]
    contents = _stored_contents(session, set(keys))
    received_at = now.astimezone(UTC)
    outcomes: list[AckOutcome] = []
    rows: list[dict[str, Any]] = []
    for (record, attribution), key in zip(items, keys, strict=True):
        content = _content(record)
        if key in contents:
            differs = [
                name for name, a, b in zip(_CONTENT, contents[key], content, strict=True) if a != b
            ]
            if not differs:
                outcomes.append(AckOutcome(id=record.id, seq=record.seq, outcome="duplicate"))
                continue
            reason = (
                f"conflict: abandoned session {key} is stored with another {', '.join(differs)}"
            )
            topic = topics.ratings(record.unit, record.kiosk)
            store_dead_letter(
                session, topic, record.to_bytes(), reason, now, code="conflict", limits=dead_letters
            )
            outcomes.append(
                AckOutcome(id=record.id, seq=record.seq, outcome="rejected", reason=reason)
            )
            continue
        contents[key] = content
        rows.append(abandoned_values(record, attribution, received_at, key))
        outcomes.append(AckOutcome(id=record.id, seq=record.seq, outcome="stored"))
    if rows:
        session.execute(insert(AbandonedSessionRow), rows)
        if zone is not None:  # the unit's clock, for the receipts' issue days
            for unit in {row["unit"] for row in rows}:
                use_zone(session, unit, zone)
        count_abandoned(session, rows)  # coverage: the first of a receipt not rated
    return outcomes


def abandoned_values(
    record: AbandonedMessage, attribution: Attribution, received_at: datetime, key: str
) -> dict[str, Any]:
    """The ``abandoned_sessions`` row for a session as the register attributed it."""
    return {
        "id": key,
        "unit": record.unit,
        "kiosk": record.kiosk,
        "seq": record.seq,
        "dossier_code": record.receipt.code,
        # A kiosk's "verified" proves nothing alone: only a signed slip the register holds is.
        "receipt_verified": record.receipt.verified and attribution.receipt_known,
        "receipt_known": attribution.receipt_known,
        "stage": attribution.stage.value,
        "counter": attribution.counter,
        "officer": attribution.officer,
        "procedure": attribution.procedure,
        "field": attribution.field,
        "reason": record.reason,
        "scanned_at": record.scanned_at,
        "ended_at": record.ended_at,
        "received_at": received_at,
    }


_Content = tuple[Any, ...]


def _content(record: AbandonedMessage) -> _Content:
    return (
        record.unit,
        record.kiosk,
        record.seq,
        record.receipt.code,
        record.reason,
        record.scanned_at.astimezone(UTC),
        record.ended_at.astimezone(UTC),
    )


def _stored_contents(session: Session, ids: set[str]) -> dict[str, _Content]:
    if not ids:
        return {}
    columns = [AbandonedSessionRow.id, *(getattr(AbandonedSessionRow, n) for n in _CONTENT)]
    rows = session.execute(select(*columns).where(AbandonedSessionRow.id.in_(ids)))
    return {row[0]: tuple(row[1:]) for row in rows}


@dataclass(frozen=True)
class AbandonedSession:
    """One stored abandoned session, as the coverage figures read it."""

    id: str
    unit: str
    kiosk: str
    dossier_code: str
    receipt_known: bool
    stage: str
    counter: str | None
    officer: str | None
    procedure: str | None
    field: str | None
    reason: str
    scanned_at: datetime
    ended_at: datetime


def abandoned_sessions(
    session: Session, *, since: datetime, until: datetime, units: Sequence[str] | None = None
) -> list[AbandonedSession]:
    """The sessions scanned in ``[since, until)`` (of ``units``, or of every unit), oldest
    first, through the index on unit and scan time."""
    query = select(AbandonedSessionRow).where(
        AbandonedSessionRow.scanned_at >= since, AbandonedSessionRow.scanned_at < until
    )
    if units is not None:
        query = query.where(AbandonedSessionRow.unit.in_(list(units)))
    rows = session.scalars(query.order_by(AbandonedSessionRow.scanned_at, AbandonedSessionRow.id))
    return [
        AbandonedSession(
            id=row.id,
            unit=row.unit,
            kiosk=row.kiosk,
            dossier_code=row.dossier_code,
            receipt_known=row.receipt_known,
            stage=row.stage,
            counter=row.counter,
            officer=row.officer,
            procedure=row.procedure,
            field=row.field,
            reason=row.reason,
            scanned_at=row.scanned_at,
            ended_at=row.ended_at,
        )
        for row in rows
    ]
