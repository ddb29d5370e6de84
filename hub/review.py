"""What administrators review beside the figures: the dead letters (payloads the hub refused) and
the flagged ratings (what the receipt register could not vouch for, :mod:`hub.domain.register`).

One desk for the pages (and any later caller), giving plain dataclasses, not table rows. Neither
carries what a citizen wrote: a dead letter's payload is cut to a preview for administrators only,
and a flagged rating is about kiosks and codes, never its comment or phone number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.settings import Unit
from hub.report import Scope, Uncounted, uncounted_totals
from hub.store.models import DeadLetterRow, RatingRow

DEAD_LETTER_PAGE = 100
PREVIEW_CHARS = 400
FLAGGED_WINDOW = timedelta(days=30)  # read through the index on unit and rating time
FLAGGED_PAGE = 200


@dataclass(frozen=True)
class DeadLetter:
    id: int
    received_at: datetime  # local
    kiosk: str
    reason: str
    preview: str
    size: int  # of the payload as received; only its first bytes may be kept
    code: str
    sha256: str


@dataclass(frozen=True)
class DeadLetters:
    rows: list[DeadLetter]  # newest first
    total: int
    older: int | None  # ``before`` of the next page; None on the last


@dataclass(frozen=True)
class FlaggedRating:
    rated_at: datetime  # local
    kiosk: str
    dossier_code: str | None
    counter: str | None
    officer: str | None
    flags: tuple[str, ...]
    counted: bool


@dataclass(frozen=True)
class Flagged:
    rows: list[FlaggedRating]  # newest first
    totals: Uncounted


def _dead_letter(row: DeadLetterRow, zone: tzinfo) -> DeadLetter:
    kiosk = row.kiosk
    if kiosk is None:
        try:
            kiosk = topics.parse_kiosk_topic(row.topic).kiosk
        except topics.TopicError:
            kiosk = row.topic
    text = row.payload[:PREVIEW_CHARS].decode("utf-8", errors="replace")
    size = max(row.size, len(row.payload))  # rows from before revision 0007 say 0 until filled
    received = row.received_at.astimezone(zone)  # the unit's clock
    return DeadLetter(row.id, received, kiosk, row.reason, text, size, row.code, row.sha256)


def _flags(row: RatingRow) -> tuple[str, ...]:
    flags: list[str] = []
    if row.dossier_code is not None and not row.receipt_known:
        flags.append("chưa xác minh / unverified")
    if row.suspect:
        flags.append("nghi vấn / suspect")
    if row.claim_mismatch:
        flags.append(f"máy khai khác sổ / claim mismatch: {row.claim_mismatch}")
    return tuple(flags)


class ReviewDesk:
    def __init__(
        self, unit: Unit, sessions: sessionmaker[Session], clock: Callable[[], datetime]
    ) -> None:
        self.unit, self.sessions, self.clock = unit, sessions, clock

    def dead_letters(self, before: int | None = None) -> DeadLetters:
        """Newest first, a page at a time (``before``: the smallest id of the previous page)."""
        query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(DEAD_LETTER_PAGE)
        if before is not None:
            query = query.where(DeadLetterRow.id < before)
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(DeadLetterRow)) or 0
            rows = [_dead_letter(row, self.unit.zone) for row in session.scalars(query)]
        older = rows[-1].id if len(rows) == DEAD_LETTER_PAGE else None
        return DeadLetters(rows, total, older)

    def flagged(self) -> Flagged:
        """The last 30 days, newest first (the newest 200), with the period's totals."""
        since = self.clock().astimezone(UTC) - FLAGGED_WINDOW
        flagged = (
            (RatingRow.dossier_code.is_not(None) & RatingRow.receipt_known.is_(False))
            | RatingRow.suspect.is_(True)
            | RatingRow.claim_mismatch.is_not(None)
        )
        query = (
            select(RatingRow)
            .where(RatingRow.unit == self.unit.unit.code, RatingRow.rated_at >= since, flagged)
            .order_by(RatingRow.rated_at.desc(), RatingRow.id)
            .limit(FLAGGED_PAGE)
        )
        with self.sessions() as session:
            totals = uncounted_totals(session, Scope(self.unit, since))
            rows = [
                FlaggedRating(
                    row.rated_at.astimezone(self.unit.zone),
                    row.kiosk,
                    row.dossier_code,
                    row.counter,
                    row.officer,
                    _flags(row),
                    row.counted,
                )
                for row in session.scalars(query)
            ]
        return Flagged(rows, totals)
