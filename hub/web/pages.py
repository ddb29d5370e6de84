"""What every HTML page shares: rendering with the unit and a CSRF token, checking it, and who
is signed in (a session the server still holds)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse

from hub.web.accounts import Account
from hub.web.context import context


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
    ctx = context(request)
    values |= {"csrf": csrf_token(request), "unit": ctx.unit}
    response: HTMLResponse = ctx.templates.TemplateResponse(request, template, values)
    return response


def signed_in(request: Request) -> Account | None:
    """The staff account of this request's session, checked against the server's list of live
    sessions on every request: a cookie from before a logout or a password change is refused
    (and the browser's copy is emptied)."""
    username = request.session.get("user")
    sid = request.session.get("sid")
    if not isinstance(username, str) or not isinstance(sid, str):
        return None
    ctx = context(request)
    account = ctx.accounts.session_account(sid, username, ctx.clock())
    if account is None:
        request.session.clear()
    return account


def client_address(request: Request) -> str:
    """The caller's address (uvicorn puts the reverse proxy's X-Forwarded-For here when the
    proxy is trusted: ``[web] trusted_proxies``, 127.0.0.1 by default)."""
    return request.client.host if request.client is not None else "unknown"
