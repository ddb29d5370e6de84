"""Fuzz every HTTP route the outside world reaches, as every kind of caller.

The routes are read from the app itself (``app.routes``), so a new page or API call is fuzzed
without touching this file. For each route, as the public, an officer, a unit head, an
administrator and an API client, Hypothesis sends random path parameters, query strings, form
fields (with and without the session's CSRF token), uploads and JSON bodies: random unicode, very
long strings, NULs, SQL and HTML metacharacters, numbers out of range, malformed dates. The server
must never answer 5xx, never echo an injected ``<script`` into an HTML page, and never hand a
caller a page its role may not see (the public is redirected to the login page or refused).

The examples per route are few so the module stays well under a minute in CI; set
``HAILONG_FUZZ_EXAMPLES`` to fuzz harder (e.g. nightly).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from hailong.settings import Unit
from tests.hub.web.conftest import PASSWORD, WebApp
from tests.hub.web.test_admin import make_admin_app

EXAMPLES = int(os.environ.get("HAILONG_FUZZ_EXAMPLES", "2"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

Identity = Literal["public", "officer", "head", "admin", "api"]
IDENTITIES: tuple[Identity, ...] = ("public", "officer", "head", "admin", "api")
USERS: dict[Identity, str] = {"officer": "lan", "head": "head", "admin": "root"}
# Who may get a 2xx from a route, by the guard among its dependencies.
GUARDS: dict[str, set[Identity]] = {
    "hub.web.staff._account": {"officer", "admin"},
    "hub.web.dashboard._viewer": {"officer", "head", "admin"},
    "hub.web.exports._head": {"head", "admin"},
    "hub.web.ops._admin": {"admin"},
    "hub.web.api.client": {"api"},
    # Since issue 17 pages pick their unit per request (?unit=), checked against the login's reach.
    "hub.web.pages.unit_page": {"officer", "head", "admin"},
    "hub.web.staff._counter_page": {"officer", "admin"},
    "hub.web.staff._signed": {"officer", "head", "admin"},
    "hub.web.ops._unit_admin": {"admin"},
    "hub.web.paper._keying": {"officer", "head", "admin"},
    "hub.web.exports._any_unit": {"officer", "head", "admin"},
    "hub.web.exports._reporter": {"head", "admin"},
    "hub.web.province._account": {"officer", "head", "admin"},
}
# Markers only an unescaped echo of our input could put into a page.
XSS = [
    "<script>alert('hl-xss')</script>",
    '"><script>hl_xss()</script>',
    "<ScRiPt>hl_xss()</ScRiPt>",
    "</textarea><script>hl_xss()</script>",
    "<img src=x onerror=hl_xss()>",
    "javascript:hl_xss()//<svg onload=hl_xss()>",
]
XSS_ECHOES = ("<script>alert('hl-xss')", "<script>hl_xss", "onerror=hl_xss", "<svg onload=hl_xss")
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n\r\nX-Injected: 1",
    "'",
    '"',
    "' OR '1'='1",
    "'; DROP TABLE ratings;--",
    "1; SELECT * FROM receipts",
    "%",
    "%00",
    "%s%s%s%n",
    "{{7*7}}",
    "${7*7}",
    "../../../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "\u202e\u0301\ufeff",
    "Nguyễn Thị Hài Lòng",
    "１２３",
    "💥" * 50,
    "-1",
    "0",
    "-0",
    "2147483648",
    "-9223372036854775809",
    "99999999999999999999999999999",
    "1e309",
    "NaN",
    "inf",
    "-inf",
    "0x10",
    "true",
    "null",
    "[]",
    "{}",
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "9999-12-31",
    "31/12/2026",
    "2026-01-01T25:61:61",
    "2026-Q5",
    "2026-Q0",
    "current",
    "000.00.20.H41-261125-0001",
    "000.00.20.H41-261125-9999",
    "000.00.99.H99-261125-0001",
    "000.00.20.H41-991399-0001",
    "1.001193",
    "Q1",
    "CB001",
    "month",
    "quarter",
    "year",
    "counter",
    "open",
    *XSS,
]
# Long enough for every max_length, short enough for httpx (URLs under 64 KiB once encoded).
LENGTHS = [41, 121, 301, 1001, 2049, 5000]


def _text(longest: int) -> st.SearchStrategy[str]:
    long = st.builds(lambda c, n: c * n, st.sampled_from(["A", "é", "<", "\x00", "9"]),
                     st.sampled_from([n for n in LENGTHS if n <= longest]))  # fmt: skip
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(st.characters(codec="utf-8"), max_size=40),
        st.integers(-(2**70), 2**70).map(str),
        st.floats().map(str),
        st.dates().map(str),
        long,
    )


URL_TEXT = _text(2049)
TEXT = _text(5000) | st.just("A" * 100_000)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


@dataclass
class Route:
    method: str
    path: str
    allowed: set[Identity] | None  # None: a public route
    path_params: list[str]
    query_params: list[str]
    form_fields: list[str] = field(default_factory=list)
    list_fields: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    json_model: type[BaseModel] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _guards(dependant: Any) -> Iterator[str]:
    for dependency in dependant.dependencies:
        call = dependency.call
        if call is not None:
            yield f"{call.__module__}.{getattr(call, '__name__', type(call).__name__)}"
        yield from _guards(dependency)


def _api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every API route with its full path, also inside routers FastAPI includes lazily."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(included.routes, prefix + getattr(context, "prefix", ""))


def _routes(app: Any) -> list[Route]:
    routes = []
    for path, route in _api_routes(app.routes):
        dependant = route.dependant
        allowed: set[Identity] | None = None
        for guard in _guards(dependant):
            if guard in GUARDS:
                allowed = GUARDS[guard] if allowed is None else allowed & GUARDS[guard]
        forms, lists, files, model = [], [], [], None
        for param in dependant.body_params:
            kind = type(param.field_info).__name__
            annotation = param.field_info.annotation
            if kind == "File":
                files.append(param.alias)
            elif kind == "Form":
                (lists if "list" in str(annotation) else forms).append(param.alias)
            elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
        for method in sorted(route.methods):
            routes.append(
                Route(
                    method,
                    path,
                    allowed,
                    [p.alias for p in dependant.path_params],
                    [p.alias for p in dependant.query_params],
                    forms,
                    lists,
                    files,
                    model,
                )
            )
    return routes


@st.composite
def requests(draw: st.DrawFn, route: Route, csrf: str) -> dict[str, Any]:
    """The keyword arguments of one ``TestClient.request`` for ``route``."""
    path = route.path
    sent: list[str] = []
    for name in route.path_params:
        value = draw(URL_TEXT.filter(bool))
        sent.append(value)
        path = path.replace("{" + name + "}", quote(value, safe=""))
    query = []
    for name in route.query_params:
        if draw(st.booleans()):
            query.append((name, draw(URL_TEXT)))
    if draw(st.booleans()):
        query.append((draw(URL_TEXT), draw(URL_TEXT)))  # a parameter the route does not expect
    sent += [value for pair in query for value in pair]
    if query:
        path += "?" + urlencode(query)
    kwargs: dict[str, Any] = {"method": route.method, "url": path}
    if route.method == "POST":
        form: dict[str, Any] = {}
        for name in route.form_fields:
            if name == "csrf":
                form[name] = draw(st.sampled_from([csrf, csrf, "", "forged"]) | TEXT)
            elif draw(st.integers(0, 4)):
                form[name] = draw(TEXT)
        for name in route.list_fields:
            form[name] = draw(st.lists(TEXT, max_size=25))
        sent += [
            v for value in form.values() for v in (value if isinstance(value, list) else [value])
        ]
        if form:
            kwargs["data"] = form
        if route.files:
            kwargs["files"] = {
                name: (draw(TEXT), draw(st.binary(max_size=300) | TEXT.map(str.encode)), "text/csv")
                for name in route.files
            }
        if route.json_model is not None:
            fields = list(route.json_model.model_fields)
            body = draw(st.dictionaries(st.sampled_from(fields), JSON, max_size=len(fields)) | JSON)
            kwargs["json"] = body
    kwargs["sent"] = sent
    return kwargs


def _csrf(client: TestClient) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/login").text)
    assert match
    return match.group(1)


def _log_in(client: TestClient, identity: Identity) -> str:
    """Sign ``client`` in as ``identity``; returns the session's CSRF token."""
    client.cookies.clear()
    csrf = _csrf(client)
    if identity in USERS:
        form = {"username": USERS[identity], "password": PASSWORD, "csrf": csrf}
        client.post("/staff/login", data=form, follow_redirects=False)
        csrf = _csrf(client)
    return csrf


def _check(route: Route, identity: Identity, request: dict[str, Any], response: Any) -> None:
    where = f"{identity}: {route} -> {request['url'][:300]!r} answered {response.status_code}"
    assert response.status_code < 500, where
    if "text/html" in response.headers.get("content-type", ""):
        body = response.text.lower()
        for echo in XSS_ECHOES:
            assert echo.lower() not in body, f"{where}: unescaped {echo!r} in the page"
    if route.allowed is not None and identity not in route.allowed:
        assert not 200 <= response.status_code < 300, f"{where}: served to the wrong caller"
        if response.status_code in (302, 303, 307):
            assert response.headers["location"] == "/staff/login", where
        if identity == "public":
            assert response.status_code == 303 or 400 <= response.status_code < 500, where


@pytest.fixture
def fuzzed_app(web_app: WebApp, tmp_path: Path, unit: Unit) -> WebApp:
    """The web app on a copy of the unit file (an admin's fuzzed edits must not reach config/)."""
    return make_admin_app(web_app, tmp_path, unit)


def test_the_routes_are_all_found(fuzzed_app: WebApp) -> None:
    found = {str(route) for route in _routes(fuzzed_app.app)}
    for expected in ("GET /r/{code}", "POST /r/{code}", "POST /staff/issue", "GET /dashboard",
                     "POST /api/v1/receipts", "GET /follow-up/{rating_id}", "POST /admin/kiosks/save",
                     "GET /healthz"):  # fmt: skip
        assert expected in found
    public = {str(route) for route in _routes(fuzzed_app.app) if route.allowed is None}
    assert public == {
        "GET /staff/login", "POST /staff/login", "POST /staff/logout", "GET /r/{code}",
        "POST /r/{code}", "GET /public", "GET /healthz",
        "GET /public/province", "GET /public/units/{code}",  # aggregates only (issue 17)
        "GET /",  # the landing page: the unit's name and links, nothing else (issue 18)
    }  # fmt: skip


def _fuzz(client: TestClient, route: Route, identity: Identity, session: dict[str, Any]) -> None:
    @FUZZ
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        request = data.draw(requests(route, session["csrf"]), label=str(route))
        request.pop("sent")
        response = client.request(**request, headers=session["auth"], follow_redirects=False)
        _check(route, identity, request, response)
        if route.path in ("/staff/login", "/staff/logout") and route.method == "POST":
            session["csrf"] = _log_in(client, identity)  # the fuzz may have signed us out

    fuzz()


@pytest.mark.timeout(300)  # ~10-40 s each on an idle CI runner; far more on a loaded one
@pytest.mark.parametrize("identity", IDENTITIES)
def test_no_route_breaks_or_leaks_on_random_input(fuzzed_app: WebApp, identity: Identity) -> None:
    with TestClient(fuzzed_app.app, raise_server_exceptions=False) as client:
        auth = {"Authorization": f"Bearer {fuzzed_app.token}"} if identity == "api" else {}
        session = {"csrf": _log_in(client, identity), "auth": auth}
        for route in _routes(fuzzed_app.app):
            _fuzz(client, route, identity, session)
