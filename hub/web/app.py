"""The FastAPI application: the staff page (cookie session) and the API (bearer token).

Both sit on :class:`hub.receipts.desk.ReceiptDesk`, the same code path as the ``hailong receipt``
commands; the other pages on their own desks (:mod:`hub.followups.desk`, :mod:`hub.review`), all
reached through the one typed context built here (:mod:`hub.web.context`). Serve it behind a TLS reverse proxy on a LAN; the session cookie is HTTP-only, same-site
strict and ``Secure`` over https (:mod:`hub.web.headers`), every form carries a per-session CSRF
token as well, and the server keeps the list of live sessions (logout and a password change end
them). Every answer carries the security headers (CSP, frame-ancestors, nosniff, Referrer-Policy).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware

from hailong.contract.scale import Stage
from hailong.settings import HubSettings, Unit, WebSettings, read_secret
from hub.catalogue import Catalogue, UnitFile
from hub.domain.units import UnitTree
from hub.exports.jobs import Jobs
from hub.store.ratings import LOCAL_ZONE
from hub.web import (
    admin,
    api,
    citizen,
    dashboard,
    exports,
    flagged,
    followup,
    home,
    ops,
    paper,
    province,
    public,
    staff,
)
from hub.web.accounts import SESSION_LIFETIME, Accounts, ApiTokens
from hub.web.context import Ctx, HubContext, install
from hub.web.headers import SecurityHeaders
from hub.web.staff import FreshReceipts

if TYPE_CHECKING:
    from hub.service import HubService

HERE = Path(__file__).parent
SESSION_COOKIE = "hailong_session"


def create_app(
    settings: HubSettings,
    unit: Unit,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_rated: Callable[[str, Stage], object] | None = None,
    ingest: HubService | None = None,
    units: UnitTree | None = None,
) -> FastAPI:
    """``on_rated`` tells the kiosks about a receipt rated online (the hub's MQTT side);
    ``ingest`` is the worker running in this process, whose figures ``/metrics`` shows;
    ``units`` the units this hub serves (default: the home unit alone)."""
    web = settings.web
    if web is None:
        raise ValueError("the hub configuration has no [web] section")
    app = FastAPI(
        title="Hài Lòng hub", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json"
    )
    settings.receipts.keyring()  # read once here, so a broken key fails the start
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["local_time"] = local_time
    unit_file = UnitFile(settings.hub.unit_file)
    catalogue = Catalogue(settings, sessions, unit, unit_file)
    ctx = HubContext(
        settings=settings,
        web=web,
        unit=unit,
        units=units or catalogue.tree(),
        sessions=sessions,
        clock=clock,
        accounts=Accounts(web.accounts_file),
        tokens=ApiTokens(web.api_tokens_file),
        templates=templates,
        unit_file=unit_file,
        catalogue=catalogue,
        fresh_receipts=FreshReceipts(),
        jobs=Jobs(),
        on_rated=on_rated,
        ingest=ingest,
    )
    install(app, ctx)
    app.add_middleware(
        SessionMiddleware,
        secret_key=_session_key(web),
        session_cookie=SESSION_COOKIE,
        max_age=int(SESSION_LIFETIME.total_seconds()),  # one working day
        same_site="strict",
        https_only=False,  # SecurityHeaders adds Secure when the request came over TLS
    )
    # Added last, so outermost: it sees every answer, the session cookie included.
    app.add_middleware(
        SecurityHeaders, session_cookie=SESSION_COOKIE, secure_cookies=web.secure_cookies
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(staff.router)
    app.include_router(api.router)
    app.include_router(citizen.router)
    app.include_router(dashboard.router)
    app.include_router(ops.router)
    app.include_router(flagged.router)
    app.include_router(exports.router)
    app.include_router(followup.router)
    app.include_router(admin.router)
    app.include_router(paper.router)
    app.include_router(province.router)
    app.include_router(public.router)
    app.include_router(home.router)  # "/": the signed-in home or the landing page

    @app.get("/healthz", include_in_schema=False)
    def healthz(ctx: Ctx) -> JSONResponse:
        """200 while the hub's threads live; 503 while the ingest worker (or paho's network
        thread) is dead, so a supervisor or load balancer sees it (issue 15). Without an ingest
        worker in this process (the web alone) only the process itself is vouched for."""
        service = ctx.ingest
        if service is None:
            return JSONResponse({"status": "ok"})
        body = {
            "status": "ok" if service.healthy else "unhealthy",
            "ingest_worker": "alive" if service.worker_alive else "dead",
            "mqtt_loop": "alive" if service.network_alive else "dead",
            "broker": "connected" if service.ready.is_set() else "disconnected",
        }
        return JSONResponse(body, status_code=200 if service.healthy else 503)

    return app


@pass_context
def local_time(context: Context, value: datetime | None) -> str:
    """A stored instant on the clock of the unit the page is about: the page's ``zone`` when it
    names one (a public page of another unit), else its ``unit``'s ``time_zone`` (every page has
    one, :func:`hub.web.pages.render`), else the default zone."""
    if value is None:
        return "—"
    unit, zone = context.get("unit"), context.get("zone")
    if not isinstance(zone, tzinfo):
        zone = unit.zone if isinstance(unit, Unit) else LOCAL_ZONE
    return f"{value.astimezone(zone):%d/%m/%Y %H:%M}"


def _session_key(web: WebSettings) -> str:
    return read_secret(web.session_key_file, "web.session_key_file")
