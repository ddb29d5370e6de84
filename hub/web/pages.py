"""What every HTML page shares: rendering with the unit and a CSRF token, checking it, who is
signed in (a session the server still holds), and which unit the page is about (:func:`unit_page`:
``?unit=CODE``, checked against the login's scope)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from hailong.settings import Unit
from hub.domain.access import Reach, reach
from hub.web.accounts import Account
from hub.web.context import HubContext, context

UNIT_CODE = r"^[0-9A-Z][0-9A-Z.]{2,19}$"  # a unit code, as hailong.settings.UnitInfo.code


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use; anonymous sessions get one too)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, token: str) -> None:
    if not secrets.compare_digest(token.encode(), str(request.session.get("csrf", "")).encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form has expired; reload the page")


def render(request: Request, template: str, **values: Any) -> HTMLResponse:
    """The template with the CSRF token, the unit the page is about (the home unit unless
    :func:`unit_page` or :func:`show_unit` chose another) and ``here(path)``, which keeps that
    unit in a link."""
    ctx = context(request)
    page: UnitPage | None = getattr(request.state, "unit_page", None)
    unit = getattr(request.state, "shown_unit", None) or ctx.unit
    values |= {
        "csrf": csrf_token(request),
        "unit": unit,
        "here": page.link if page is not None else _same,
        "page_unit": page.query_code if page is not None else None,
    }
    response: HTMLResponse = ctx.templates.TemplateResponse(request, template, values)
    return response


def _same(path: str) -> str:
    return path


def show_unit(request: Request, unit: Unit) -> None:
    """The page names ``unit`` in its header (a citizen's page about a receipt of that unit)."""
    request.state.shown_unit = unit


def signed_in(request: Request, *, any_unit: bool = False) -> Account | None:
    """The staff account of this request's session, checked against the server's list of live
    sessions on every request: a cookie from before a logout or a password change is refused
    (and the browser's copy is emptied).

    Without ``any_unit`` only a login whose scope reaches the home unit passes
    (:mod:`hub.domain.access`): another unit's head or admin is sent to the province pages,
    another unit's officer refused (403). What still asks that (the administration's guard) is
    about the home unit; the unit pages take their unit from :func:`unit_page`, the province
    pages theirs as a parameter, and both check the login's reach themselves (``any_unit``)."""
    username = request.session.get("user")
    sid = request.session.get("sid")
    if not isinstance(username, str) or not isinstance(sid, str):
        return None
    ctx = context(request)
    account = ctx.accounts.session_account(sid, username, ctx.clock())
    if account is None:
        request.session.clear()
    elif not any_unit:
        home = ctx.unit.unit.code
        if not reach(account.role, account.scope(home), account.officer, ctx.units).sees(home):
            if account.role == "officer":
                raise HTTPException(status.HTTP_403_FORBIDDEN, "this login belongs to another unit")
            raise HTTPException(
                status.HTTP_303_SEE_OTHER, "another unit", headers={"Location": "/province"}
            )
    return account


def client_address(request: Request) -> str:
    """The caller's address (uvicorn puts the reverse proxy's X-Forwarded-For here when the
    proxy is trusted: ``[web] trusted_proxies``, 127.0.0.1 by default)."""
    return request.client.host if request.client is not None else "unknown"


@dataclass(frozen=True)
class UnitPage:
    """The unit a request is about, and who asks: ``ctx`` is that unit's context (its catalogue
    in ``ctx.unit``, its desks), ``seen`` what the login reaches. Handlers of the unit pages
    take it (:data:`Here`) instead of the app's context."""

    ctx: HubContext
    account: Account
    seen: Reach

    @property
    def unit(self) -> Unit:
        return self.ctx.unit

    @property
    def code(self) -> str:
        return self.ctx.unit.unit.code

    @property
    def query_code(self) -> str | None:
        """The code links carry (``?unit=``): None on the hub's home unit, whose URLs stay as
        they always were."""
        return None if self.code == self.ctx.home.unit.code else self.code

    def link(self, path: str) -> str:
        """``path`` with ``unit=`` added when the page is about another unit than the home one."""
        code = self.query_code
        if code is None:
            return path
        return f"{path}{'&' if '?' in path else '?'}unit={code}"


def _default_unit(ctx: HubContext, account: Account, seen: Reach) -> str:
    """The unit a login's pages show without ``?unit=``: its scope when that is a unit with
    counters of its own (a commune's head), else the home unit (a province's head)."""
    scope = account.scope(ctx.unit.unit.code)
    if seen.sees(scope):
        own = ctx.catalogue.unit(scope)
        if own is not None and own.counters:
            return scope
    return ctx.unit.unit.code


def unit_page(
    request: Request,
    unit: Annotated[str | None, Query(pattern=UNIT_CODE)] = None,
) -> UnitPage:
    """The unit this request is about, for a signed-in login (else to the login page).

    ``?unit=CODE`` names it; without it, the login's own unit (:func:`_default_unit`). A unit
    outside the login's reach answers 404, the same as a unit the hub does not serve, so a
    refusal does not tell which units exist. With no ``?unit=`` and a home unit the login does
    not reach, a head or admin is sent to the province pages and an officer refused (403), as
    before units could be chosen. An officer so acts only in their own unit."""
    account = signed_in(request, any_unit=True)
    if account is None:
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, "login required", headers={"Location": "/staff/login"}
        )
    ctx = context(request)
    seen = reach(account.role, account.scope(ctx.unit.unit.code), account.officer, ctx.units)
    code = unit or _default_unit(ctx, account, seen)
    if not seen.sees(code):
        if unit is None and account.role == "officer":
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this login belongs to another unit")
        if unit is None:
            raise HTTPException(
                status.HTTP_303_SEE_OTHER, "another unit", headers={"Location": "/province"}
            )
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no unit {code} here for this login")
    here = ctx.for_unit(code)
    if here is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no unit {code} here for this login")
    page = UnitPage(here, account, seen)
    request.state.unit_page = page
    show_unit(request, page.unit)
    return page


Here = Annotated[UnitPage, Depends(unit_page)]
