"""The ratings the register could not fully vouch for, where administrators look (beside the dead
letters): codes it does not know (unverified), receipt-less or unverified ratings of a kiosk too
close together (suspect), and kiosk claims it contradicts (claim mismatch). Admins only, and no
comment or phone number on the page: it is about kiosks and codes, not about what citizens said.
See :mod:`hub.domain.register`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from hub.report import uncounted_totals
from hub.store.models import RatingRow
from hub.store.ratings import LOCAL_ZONE
from hub.web.ops import Admin
from hub.web.pages import render

router = APIRouter(include_in_schema=False)
WINDOW = timedelta(days=30)  # read through the index on unit and rating time
PAGE_SIZE = 200


@dataclass(frozen=True)
class FlaggedRating:
    rated_at: datetime  # local
    kiosk: str
    dossier_code: str | None
    counter: str | None
    officer: str | None
    flags: tuple[str, ...]
    counted: bool


def _flags(row: RatingRow) -> tuple[str, ...]:
    flags: list[str] = []
    if row.dossier_code is not None and not row.receipt_known:
        flags.append("chưa xác minh / unverified")
    if row.suspect:
        flags.append("nghi vấn / suspect")
    if row.claim_mismatch:
        flags.append(f"máy khai khác sổ / claim mismatch: {row.claim_mismatch}")
    return tuple(flags)


@router.get("/admin/flagged-ratings", response_class=HTMLResponse)
def flagged_ratings(request: Request, account: Admin) -> HTMLResponse:
    """The last 30 days, newest first (the newest 200)."""
    state = request.app.state
    unit = state.unit
    since = state.clock().astimezone(UTC) - WINDOW
    flagged = (
        (RatingRow.dossier_code.is_not(None) & RatingRow.receipt_known.is_(False))
        | RatingRow.suspect.is_(True)
        | RatingRow.claim_mismatch.is_not(None)
    )
    with state.sessions() as session:
        totals = uncounted_totals(session, unit, since)
        query = (
            select(RatingRow)
            .where(RatingRow.unit == unit.unit.code, RatingRow.rated_at >= since, flagged)
            .order_by(RatingRow.rated_at.desc(), RatingRow.id)
            .limit(PAGE_SIZE)
        )
        rows = [
            FlaggedRating(
                _local(row.rated_at),
                row.kiosk,
                row.dossier_code,
                row.counter,
                row.officer,
                _flags(row),
                row.counted,
            )
            for row in session.scalars(query)
        ]
    return render(request, "flagged_ratings.html", account=account, rows=rows, totals=totals)


def _local(value: datetime) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite drops the zone
    return aware.astimezone(LOCAL_ZONE)
