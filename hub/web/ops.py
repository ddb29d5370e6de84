"""What operators and administrators look at: the Prometheus metrics (for a scraper holding an
API token) and the dead letters (payloads the hub refused, admins only: a refused payload may
hold a citizen's comment or phone number)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from prometheus_client import generate_latest

from hub import metrics
from hub.web.accounts import Account
from hub.web.api import Client
from hub.web.context import Ctx
from hub.web.dashboard import Viewer
from hub.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus(ctx: Ctx, _client: Client) -> PlainTextResponse:
    """Written by prometheus-client from a registry of this app's own (the collector holds no
    state, so one per scrape costs nothing and always sees the current unit catalogue)."""
    logins = ctx.accounts.refused_by_reason
    collector = metrics.HubCollector(ctx.sessions, ctx.unit, ctx.clock, ctx.ingest, logins)
    return PlainTextResponse(generate_latest(collector.registry()), media_type=metrics.CONTENT_TYPE)


def _admin(account: Viewer) -> Account:
    if account.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "administrators only")
    return account


Admin = Annotated[Account, Depends(_admin)]


@router.get("/admin/dead-letters", response_class=HTMLResponse)
def dead_letters(
    request: Request,
    ctx: Ctx,
    account: Admin,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """Newest first, a page at a time (``before``: the smallest id of the previous page)."""
    found = ctx.review.dead_letters(before)
    return render(
        request,
        "dead_letters.html",
        account=account,
        rows=found.rows,
        total=found.total,
        older=found.older,
    )
