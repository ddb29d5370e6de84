"""The public pages (Decree 61/2018, Article 32: results are published): a unit's, and the
province's, quarterly or yearly figures, with no login.

They show the report's own tables (:mod:`hub.exports.official`, so the page and the PDF agree)
that are marked public: the SIPAS factors with "nói chung", the fields (every one, n = 0 too),
the reasons, the follow-up counts, the coverage, the unit's official index and band, targets and
trend. Never a citizen's name, contact, callback phone or comment (the report holds none), and
no officer's line either: officers' indices feed their appraisal, which is not published here.

A page is the same for everybody, so it is rendered without the session (no cookie is set, no
form token is in it) and kept for :data:`CACHE_SECONDS` per unit and period in the app's memory,
and shared caches may keep it as long (``Cache-Control: public``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from hub.domain.indices import parse_period
from hub.domain.periods import LOCAL, Period, local_today, period
from hub.exports.official import Scope, cell_text, letterhead, place_of
from hub.exports.official_gather import UnknownUnit
from hub.web.context import Ctx, HubContext
from hub.web.exports import report_desk

router = APIRouter(include_in_schema=False)

CACHE_SECONDS = 300
PeriodText = Annotated[str, Query(alias="period", max_length=8)]


@dataclass
class PageCache:
    """Rendered public pages by (scope, unit, period), each with the time it was made."""

    pages: dict[tuple[str, str, str, str], tuple[datetime, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: tuple[str, str, str, str], now: datetime) -> str | None:
        with self.lock:
            found = self.pages.get(key)
        if found is None or now - found[0] >= timedelta(seconds=CACHE_SECONDS):
            return None
        return found[1]

    def put(self, key: tuple[str, str, str, str], now: datetime, page: str) -> None:
        with self.lock:
            if len(self.pages) > 1000:  # a province's units × a few periods; never unbounded
                self.pages.clear()
            self.pages[key] = (now, page)


def _cache(request: Request) -> PageCache:
    cache = getattr(request.app.state, "public_pages", None)
    if not isinstance(cache, PageCache):
        cache = PageCache()
        request.app.state.public_pages = cache
    return cache


def _period(text: str, ctx: HubContext, zone: tzinfo) -> Period:
    """The period asked for, on the page's unit's clock (``zone``)."""
    today = local_today(ctx.clock(), zone)
    if not text:
        return period("quarter", today, zone)
    try:
        chosen = parse_period(text).on(zone)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    if chosen.first > today:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "that period has not begun")
    return chosen


def _page(request: Request, ctx: HubContext, scope: Scope, code: str, text: str) -> HTMLResponse:
    node = ctx.units.get(code)
    chosen = _period(text, ctx, node.zone if node is not None else LOCAL)
    now = ctx.clock()
    key = (scope, code, chosen.kind, chosen.first.isoformat())
    cache = _cache(request)
    page = cache.get(key, now)
    if page is None:
        desk = report_desk(ctx)
        node = desk.tree.get(code)
        if node is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such unit")
        head = letterhead(  # not shown: the page has no letterhead, the builder wants one
            issuer=node.name,
            symbol="BC-HL",
            place=place_of(node.name) or node.name[:60],
            day=local_today(now, node.zone),
            signer_title="-",
        )
        try:
            report = desk.report(scope, code, chosen, now, head)
        except UnknownUnit as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such unit") from error
        units = desk.units_of(scope, code)
        # The header names the unit or province the page is about, not the hub's home unit.
        page = ctx.templates.get_template("public_report.html").render(
            unit=ctx.unit,
            header_name=report.name,
            account=None,
            report=report,
            tables=[t for t in report.tables if t.public],
            cell_text=cell_text,
            others=[n for n in units[1:]] if scope == "province" else [],
            made_at=now,
            zone=node.zone,  # the page's unit's clock, for "updated at"
        )
        cache.put(key, now, page)
    headers = {"Cache-Control": f"public, max-age={CACHE_SECONDS}"}
    return HTMLResponse(page, headers=headers)


@router.get("/public/province")
def public_province(request: Request, ctx: Ctx, text: PeriodText = "") -> HTMLResponse:
    """The province's page: one row per unit and the province's total."""
    roots = ctx.units.roots()
    if not roots:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no units")
    return _page(request, ctx, "province", roots[0].code, text)


@router.get("/public/units/{code}")
def public_unit(request: Request, ctx: Ctx, code: str, text: PeriodText = "") -> HTMLResponse:
    """One unit's page."""
    if code not in ctx.units:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such unit")
    return _page(request, ctx, "unit", code, text)
