"""The ratings the register could not fully vouch for, where administrators look (beside the dead
letters): codes it does not know (unverified), receipt-less or unverified ratings of a kiosk too
close together (suspect), and kiosk claims it contradicts (claim mismatch). Admins only, and no
comment or phone number on the page: it is about kiosks and codes, not about what citizens said.
See :mod:`hub.domain.register`; the rows come from :class:`hub.review.ReviewDesk`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.web.ops import UnitAdmin
from hub.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/flagged-ratings", response_class=HTMLResponse)
def flagged_ratings(request: Request, page: UnitAdmin) -> HTMLResponse:
    """The last 30 days, newest first (the newest 200), of the page's unit (``?unit=``)."""
    found = page.ctx.review.flagged()
    return render(
        request, "flagged_ratings.html", account=page.account, rows=found.rows, totals=found.totals
    )
