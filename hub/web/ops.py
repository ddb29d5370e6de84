"""What operators and administrators look at: the Prometheus metrics (for a scraper holding an
API token) and the dead letters (payloads the hub refused, admins only: a refused payload may
hold a citizen's comment or phone number)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import func, select

from hailong.contract import topics
from hub import metrics
from hub.store.models import DeadLetterRow
from hub.store.ratings import LOCAL_ZONE
from hub.web.accounts import Account
from hub.web.api import Client
from hub.web.dashboard import Viewer
from hub.web.pages import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
PREVIEW_CHARS = 400


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus(request: Request, _client: Client) -> PlainTextResponse:
    state = request.app.state
    with state.sessions() as session:
        snapshot = metrics.collect(session, state.unit, state.clock(), state.ingest)
    snapshot = replace(snapshot, logins_refused=state.accounts.refused_by_reason())
    return PlainTextResponse(metrics.render(snapshot), media_type=metrics.CONTENT_TYPE)


def _admin(account: Viewer) -> Account:
    if account.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "administrators only")
    return account


Admin = Annotated[Account, Depends(_admin)]


@dataclass(frozen=True)
class DeadLetter:
    id: int
    received_at: datetime
    kiosk: str
    reason: str
    preview: str
    size: int  # of the payload as received; only its first bytes may be kept
    code: str
    sha256: str


def _dead_letter(row: DeadLetterRow) -> DeadLetter:
    kiosk = row.kiosk
    if kiosk is None:
        try:
            kiosk = topics.parse_kiosk_topic(row.topic).kiosk
        except topics.TopicError:
            kiosk = row.topic
    text = row.payload[:PREVIEW_CHARS].decode("utf-8", errors="replace")
    received = row.received_at
    if received.tzinfo is None:  # SQLite hands back UTC without its zone
        received = received.replace(tzinfo=UTC)
    local = received.astimezone(LOCAL_ZONE)
    size = max(row.size, len(row.payload))  # rows from before revision 0007 say 0 until filled
    return DeadLetter(row.id, local, kiosk, row.reason, text, size, row.code, row.sha256)


@router.get("/admin/dead-letters", response_class=HTMLResponse)
def dead_letters(
    request: Request,
    account: Admin,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """Newest first, a page at a time (``before``: the smallest id of the previous page)."""
    with request.app.state.sessions() as session:
        total = session.scalar(select(func.count()).select_from(DeadLetterRow)) or 0
        query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(PAGE_SIZE)
        if before is not None:
            query = query.where(DeadLetterRow.id < before)
        rows = [_dead_letter(row) for row in session.scalars(query)]
    older = rows[-1].id if len(rows) == PAGE_SIZE else None
    return render(
        request, "dead_letters.html", account=account, rows=rows, total=total, older=older
    )
