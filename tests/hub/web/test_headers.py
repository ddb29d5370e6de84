"""Security headers on every answer (pages, API, redirects, static files, errors, a crash), and
the session cookie's ``Secure`` flag behind TLS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from hub.web.app import create_app
from hub.web.context import current
from hub.web.headers import CONTENT_SECURITY_POLICY
from tests.hub.web.conftest import PASSWORD, Web, WebApp

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _assert_secured(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    csp = response.headers.get("content-security-policy", "")
    assert csp == CONTENT_SECURITY_POLICY, where
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{where}: {name}"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every API route with its full path, also inside routers FastAPI includes lazily."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(included.routes, prefix + getattr(context, "prefix", ""))


def _paths(web: Web) -> list[tuple[str, str]]:
    """Every route of the app, with made-up path parameters."""
    found = []
    for full, route in _routes(web.client.app.routes):  # type: ignore[attr-defined]
        path = re.sub(r"\{[^}]+\}", "x", full)
        found += [(method, path) for method in sorted(route.methods or ())]
    return found


@pytest.mark.parametrize("who", ["public", "officer", "api"])
def test_every_route_answers_with_the_headers(web: Web, who: str) -> None:
    headers = {"Authorization": f"Bearer {web.token}"} if who == "api" else {}
    if who == "officer":
        page = web.client.get("/staff/login")
        form = {"username": "lan", "password": PASSWORD, "csrf": _csrf(page.text)}
        web.client.post("/staff/login", data=form)
    paths = _paths(web)
    assert len(paths) > 30
    statuses = set()
    for method, path in paths:
        response = web.client.request(method, path, headers=headers, follow_redirects=False)
        statuses.add(response.status_code)
        _assert_secured(response)
    assert statuses & {200, 303, 401, 403, 404, 405, 422}  # errors and redirects among them


def test_static_files_and_unknown_paths_have_them_too(web: Web) -> None:
    static = web.client.get("/static/style.css")
    assert static.status_code == 200
    _assert_secured(static)
    assert static.headers.get("cache-control") != "no-store"  # static files may be cached
    for path in ("/static/no-such.css", "/no/such/page", "/staff/receipts/x/nope"):
        missing = web.client.get(path)
        assert missing.status_code == 404
        _assert_secured(missing)
    assert web.client.get("/no/such/page").headers["cache-control"] == "no-store"
    assert web.client.request("DELETE", "/staff").status_code == 405


def test_a_crash_answers_500_with_the_headers(web_app: WebApp) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    web_app.app.add_api_route("/boom", boom)
    client = TestClient(web_app.app, raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    _assert_secured(response)
    assert "a bug" not in response.text


def _cookie(response: httpx.Response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    (session,) = [c for c in cookies if c.startswith("hailong_session=")]
    return session.lower()


@pytest.mark.parametrize(
    ("setting", "base_url", "secure"),
    [
        (None, "https://hub.example", True),  # behind TLS (the proxy's X-Forwarded-Proto)
        (None, "http://hub.example", False),  # a plain-HTTP lab
        (True, "http://hub.example", True),
        (False, "https://hub.example", False),
    ],
)
def test_the_session_cookie_is_secure_behind_tls(
    web_app: WebApp, setting: bool | None, base_url: str, secure: bool
) -> None:
    web = web_app.settings.web
    assert web is not None
    settings = web_app.settings.model_copy(
        update={"web": web.model_copy(update={"secure_cookies": setting})}
    )
    app = create_app(settings, current(web_app.app).unit, web_app.sessions)
    client = TestClient(app, base_url=base_url)
    cookie = _cookie(client.get("/staff/login"))
    assert ("; secure" in cookie) is secure
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    hsts = client.get("/public").headers.get("strict-transport-security")
    assert (hsts is not None) is secure


def test_the_rating_page_keeps_its_signature_to_itself(web: Web) -> None:
    """The rating URL's query string is the citizen's credential: no Referer leaves with it,
    and no cache keeps the page."""
    page = web.client.get("/r/000.00.20.H41-261125-0001?p=1&c=Q1&o=CB001&k=k1&s=AAAA")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
