"""``/``: where someone typing the hub's address lands.

Signed in: their working page, the one the login sends them to (the counter desk or the
dashboard). Not signed in: a landing page in the unit's name that says where to go (staff login,
the public results, and how a citizen rates online from the slip's QR code), never a bare 404.
No figures and no personal data: it reads only the catalogue's name and the hub's address.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from hub.web.accounts import Account
from hub.web.context import Ctx
from hub.web.pages import render, signed_in
from hub.web.staff import COUNTER_ROLES

router = APIRouter()


def home_of(account: Account) -> str:
    """The page a login starts on, as the login form chooses it (hub/web/staff.py): the counter
    desk for the roles that work at the counter, the dashboard for the others."""
    return "/staff" if account.role in COUNTER_ROLES else "/dashboard"


@router.get("/", include_in_schema=False)
def landing(request: Request, ctx: Ctx) -> Response:
    account = signed_in(request, any_unit=True)  # a province's login too: its home sorts it out
    if account is not None:
        return RedirectResponse(home_of(account), status.HTTP_303_SEE_OTHER)
    return render(
        request, "landing.html", rate_example=f"{ctx.settings.hub.public_base_url.rstrip('/')}/r/…"
    )
