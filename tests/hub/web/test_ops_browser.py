"""What an administrator sees in a real Chromium: the kiosk fleet with last acks and scanners, the
receipt printers, and the dead letters, in Vietnamese first."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hailong.contract.messages import KioskStatusMessage
from hub.store.models import ReceiptRow
from hub.store.ratings import save_kiosk_status, store_dead_letter
from hub.web.accounts import Accounts
from tests.hub.web.conftest import PASSWORD, WebApp, needs_chromium

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    needs_chromium,
    pytest.mark.timeout(90),
]
# Set HAILONG_SCREENSHOTS=docs/screenshots to keep the pictures.
SHOTS = os.environ.get("HAILONG_SCREENSHOTS")


@pytest.fixture
def admin_data(web_app: WebApp) -> WebApp:
    Accounts(web_app.settings.web.accounts_file).add("root", PASSWORD, "admin")  # type: ignore[union-attr]
    now = datetime.now(UTC)
    with web_app.sessions.begin() as session:
        save_kiosk_status(
            session,
            "000.00.20.H41",
            KioskStatusMessage(
                kiosk="kiosk-q1", online=True, buffer_depth=2, version="0.5.0",
                last_ack_at=now - timedelta(minutes=1), devices={"scanner": "ok"},
                last_scan_at=now - timedelta(minutes=4), oldest_pending_seq=311,
            ),
            now,
        )  # fmt: skip
        session.add(
            ReceiptRow(
                dossier_code="000.00.20.H41-261125-0001", unit="000.00.20.H41",
                procedure="1.001193", counter="Q2", officer="CB003", key_id="k1",
                url="https://hailong.example.gov.vn/r/x", issued_at=now, printed=False,
            )
        )  # fmt: skip
        topic = "hailong/v1/000.00.20.H41/kiosk-q2/ratings"
        store_dead_letter(
            session, topic, b'{"v": 2, "id": "x"}', "unsupported contract version 2", now
        )
    return web_app


def _shot(page: playwright.Page, tmp_path: Path, name: str) -> Path:
    folder = Path(SHOTS) if SHOTS else tmp_path
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def test_an_administrator_sees_the_fleet_the_printers_and_the_dead_letters(
    page: playwright.Page, admin_data: WebApp, served: str, tmp_path: Path
) -> None:
    page.goto(f"{served}/staff/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{served}/dashboard")
    fleet = page.locator("section", has_text="Ki-ốt")
    assert "trực tuyến / online" in fleet.inner_text()
    assert "ok ·" in fleet.inner_text()  # the scanner, with its last scan
    printers = page.locator("table", has_text="Lần in cuối")
    assert "không in được / failed" in printers.inner_text()
    _shot(page, tmp_path, "dashboard-fleet.png")
    page.click("text=Dữ liệu bị từ chối / Dead letters")
    assert page.url.endswith("/admin/dead-letters")
    assert "unsupported contract version 2" in page.inner_text("main")
    assert "kiosk-q2" in page.inner_text("main")
    _shot(page, tmp_path, "dead-letters.png")
