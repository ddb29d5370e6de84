"""The hub's web app on a fresh database, with a Dummy printer and real secrets in a temp folder."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hailong.broker import free_port
from hailong.settings import (
    HubSection,
    HubSettings,
    MqttSettings,
    PrinterSettings,
    ReceiptKeys,
    Unit,
    WebSettings,
)
from hub.store.db import make_engine, session_factory
from hub.web.accounts import Accounts, init_web_secrets
from hub.web.app import create_app
from hub.web.context import current, install
from tests.conftest import REPO

PASSWORD = "correct horse battery"
# The browser tests drive Debian's chromium through Playwright (no browser download).
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@dataclass
class Web:
    settings: HubSettings
    sessions: sessionmaker[Session]
    client: TestClient
    token: str


@dataclass
class WebApp:
    settings: HubSettings
    sessions: sessionmaker[Session]
    app: FastAPI
    token: str


def hub_settings(
    folder: Path,
    receipt_keys: ReceiptKeys,
    logins: Mapping[str, tuple[str, str | None, str | None]],
    **hub: Any,
) -> HubSettings:
    """Hub settings on a SQLite file in ``folder``, its web secrets made and ``logins``
    (user name: (role, officer, unit)) added with :data:`PASSWORD`; ``hub``: more of the
    ``[hub]`` section."""
    secrets = folder / "web"
    web = WebSettings(
        accounts_file=secrets / "accounts.json",
        api_tokens_file=secrets / "api-tokens.json",
        session_key_file=secrets / "session.key",
    )
    init_web_secrets(web.accounts_file, web.api_tokens_file, web.session_key_file)
    accounts = Accounts(web.accounts_file)
    for name, (role, officer, scope) in logins.items():
        accounts.add(name, PASSWORD, role, officer, scope)  # type: ignore[arg-type]
    password_file = folder / "unused.password"
    password_file.write_text("unused\n")
    return HubSettings(
        hub=HubSection(
            unit_file=REPO / "config" / "unit.toml",
            database_url=f"sqlite:///{folder / 'hub.db'}",
            public_base_url="https://hailong.example.gov.vn",
            **hub,
        ),
        mqtt=MqttSettings(host="127.0.0.1", port=1, username="hub", password_file=password_file),
        receipts=receipt_keys,
        printers={"Q1": PrinterSettings(kind="dummy", paper_width_mm=80)},
        web=web,
    )


@pytest.fixture
def web_app(tmp_path: Path, unit: Unit, receipt_keys: ReceiptKeys) -> WebApp:
    logins = {"lan": ("officer", "CB001", None), "head": ("head", None, None)}
    settings = hub_settings(tmp_path, receipt_keys, logins)
    sessions = session_factory(make_engine(settings.hub.database_url))
    token = (tmp_path / "web" / "one-stop.token").read_text().strip()
    return WebApp(settings, sessions, create_app(settings, unit, sessions), token)


def set_clock(app: FastAPI, clock: Callable[[], datetime]) -> None:
    """The app's pages and desks read ``clock`` from now on."""
    install(app, replace(current(app), clock=clock))


@pytest.fixture
def web(web_app: WebApp) -> Iterator[Web]:
    with TestClient(web_app.app) as client:
        yield Web(web_app.settings, web_app.sessions, client, web_app.token)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` on a real uvicorn server on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(web_app: WebApp) -> Iterator[str]:
    """The app on a real uvicorn server on a free loopback port; yields its base URL."""
    with serving(web_app.app) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A real Chromium for the page tests (Playwright is imported only by tests that use it)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page in Vietnamese that accepts downloads."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="vi-VN", accept_downloads=True
    )
    try:
        yield context.new_page()
    finally:
        context.close()
