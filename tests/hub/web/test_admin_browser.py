"""The catalogue page in a real Chromium: an administrator adds a counter through the form and
sees it in the table, in Vietnamese first."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from hailong.broker import free_port
from hailong.settings import Unit, load_unit
from tests.hub.web.conftest import PASSWORD, WebApp, needs_chromium
from tests.hub.web.test_admin import make_admin_app

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    needs_chromium,
    pytest.mark.timeout(90),
]
# Set HAILONG_SCREENSHOTS=docs/screenshots to keep the pictures.
SHOTS = os.environ.get("HAILONG_SCREENSHOTS")


@pytest.fixture
def admin_served(web_app: WebApp, tmp_path: Path, unit: Unit) -> Iterator[tuple[str, WebApp]]:
    app = make_admin_app(web_app, tmp_path, unit)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(timeout=10)


def test_an_administrator_adds_a_counter_on_the_catalogue_page(
    page: playwright.Page, admin_served: tuple[str, WebApp], tmp_path: Path
) -> None:
    served, app = admin_served
    page.goto(f"{served}/staff/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{served}/admin")
    page.click("text=Danh mục / Catalogue")
    assert page.url.endswith("/admin/catalogue")
    counters = page.locator("section#counters")
    counters.locator("tr.new input[name=code]").fill("Q4")
    counters.locator("tr.new input[name=name]").fill("Quầy 4 – Đất đai")
    counters.locator("tr.new button").click()
    page.wait_for_url(f"{served}/admin/catalogue")
    assert "Đã thêm / Added: Quầy Q4" in page.inner_text("main")
    assert page.locator("section#counters input[value='Quầy 4 – Đất đai']").count() == 1
    assert "Q4" in {c.code for c in load_unit(app.settings.hub.unit_file).counters}
    folder = Path(SHOTS) if SHOTS else tmp_path
    path = folder / "admin-catalogue.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
