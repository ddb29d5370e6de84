"""What every HTML page shares: rendering with the unit and a CSRF token, and checking it."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse


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


def render(request: Request, template: str, **context: Any) -> HTMLResponse:
    templates = request.app.state.templates
    context |= {"csrf": csrf_token(request), "unit": request.app.state.unit}
    response: HTMLResponse = templates.TemplateResponse(request, template, context)
    return response
