"""The FastAPI application: the staff page (cookie session) and the API (bearer token).

Both sit on :class:`hub.receipts.desk.ReceiptDesk`, the same code path as the ``hailong receipt``
commands. Serve it behind a TLS reverse proxy on a LAN; the session cookie is HTTP-only and
same-site strict, and every form carries a per-session CSRF token as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware

from hailong.contract.scale import Stage
from hailong.settings import HubSettings, Unit, WebSettings, read_secret
from hub.receipts.desk import ReceiptDesk
from hub.store.ratings import LOCAL_ZONE
from hub.web import admin, api, citizen, dashboard, exports, followup, ops, staff
from hub.web.accounts import Accounts, ApiTokens

if TYPE_CHECKING:
    from hub.service import HubService

HERE = Path(__file__).parent


def create_app(
    settings: HubSettings,
    unit: Unit,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_rated: Callable[[str, Stage], object] | None = None,
    ingest: HubService | None = None,
) -> FastAPI:
    """``on_rated`` tells the kiosks about a receipt rated online (the hub's MQTT side);
    ``ingest`` is the worker running in this process, whose figures ``/metrics`` shows."""
    web = settings.web
    if web is None:
        raise ValueError("the hub configuration has no [web] section")
    app = FastAPI(
        title="Hài Lòng hub", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json"
    )
    app.state.unit = unit
    app.state.sessions = sessions
    app.state.desk = ReceiptDesk(settings, unit, sessions, clock)
    app.state.accounts = Accounts(web.accounts_file)
    app.state.tokens = ApiTokens(web.api_tokens_file)
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.templates.env.filters["local_time"] = local_time
    app.state.clock = clock
    app.state.keyring = settings.receipts.keyring()
    app.state.public_base_url = settings.hub.public_base_url
    app.state.on_rated = on_rated
    app.state.ingest = ingest
    app.add_middleware(
        SessionMiddleware,
        secret_key=_session_key(web),
        session_cookie="hailong_session",
        max_age=12 * 3600,  # one working day
        same_site="strict",
        https_only=False,  # TLS ends at the reverse proxy
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(staff.router)
    app.include_router(api.router)
    app.include_router(citizen.router)
    app.include_router(dashboard.router)
    app.include_router(ops.router)
    app.include_router(exports.router)
    app.include_router(followup.router)
    app.include_router(admin.routes(settings))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def local_time(value: datetime | None) -> str:
    """A stored instant as Hà Nội reads it (SQLite hands back UTC without its zone)."""
    if value is None:
        return "—"
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{aware.astimezone(LOCAL_ZONE):%d/%m/%Y %H:%M}"


def _session_key(web: WebSettings) -> str:
    return read_secret(web.session_key_file, "web.session_key_file")
