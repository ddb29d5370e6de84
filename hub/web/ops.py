"""What operators and administrators look at: the Prometheus metrics (for a scraper holding an
API token) and the dead letters (payloads the hub refused, admins only: a refused payload may
hold a citizen's comment or phone number).

Dead letters belong to no unit (a payload refused may not even name one), so on a hub serving a
province only an administrator who reaches every unit the hub serves sees them (the province's;
on a one-unit hub, the unit's). Unit pages for administrators (flagged ratings) take the unit
from the page (:data:`UnitAdmin`)."""

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
from hub.web.pages import Here, UnitPage, render

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


def _unit_admin(page: Here) -> UnitPage:
    """An administrator's page about one unit (``?unit=``, within their scope)."""
    if page.account.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "administrators only")
    return page


UnitAdmin = Annotated[UnitPage, Depends(_unit_admin)]


def _hub_admin(page: UnitAdmin) -> UnitPage:
    """An administrator who reaches every unit the hub serves: what is the hub's, not a
    unit's, is theirs (a commune's administrator on a province's hub gets 403)."""
    if any(not page.seen.sees(node.code) for node in page.ctx.units):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the hub's administrators only")
    return page


HubAdmin = Annotated[UnitPage, Depends(_hub_admin)]


@router.get("/admin/dead-letters", response_class=HTMLResponse)
def dead_letters(
    request: Request,
    page: HubAdmin,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """Newest first, a page at a time (``before``: the smallest id of the previous page)."""
    found = page.ctx.review.dead_letters(before)
    return render(
        request,
        "dead_letters.html",
        account=page.account,
        rows=found.rows,
        total=found.total,
        older=found.older,
    )
