"""The paper-form page in a real Chromium against a real uvicorn server: a head keys a returned
survey form, sees it counted under the paper channel, and the dashboard counts it.
(HAILONG_SCREENSHOTS=docs/screenshots keeps the page as paper-forms.png.)"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from hailong.contract.clock import unit_day
from hailong.settings import Unit
from hub.receipts.desk import IssueRequest, ReceiptDesk
from tests.hub.web.conftest import PASSWORD, WebApp, needs_chromium

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [needs_chromium, pytest.mark.timeout(90)]
SHOTS = os.environ.get("HAILONG_SCREENSHOTS")


def test_a_head_keys_a_paper_form_and_the_dashboard_counts_it(
    page: playwright.Page, served: str, web_app: WebApp, unit: Unit, tmp_path: Path
) -> None:
    desk = ReceiptDesk(web_app.settings, unit, web_app.sessions)
    request = IssueRequest(counter="Q1", officer="CB001", procedure="1.001193")
    code = str(desk.issue(request, print_slip=False).receipt.code)
    page.goto(f"{served}/staff/login")
    page.fill("input[name=username]", "head")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert page.url.endswith("/dashboard")
    page.click("nav.tabs a[href='/staff/paper']")
    assert page.locator("h1").first.inner_text().startswith("Nhập phiếu khảo sát giấy")
    form = page.locator("form[action='/staff/paper']")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=filled_on]").fill(unit_day(datetime.now(UTC)).isoformat())
    form.locator("label.face-2").click()  # Không hài lòng
    form.locator("select[name=officer]").select_option("1")
    form.locator("input[value=thai-do]").check()
    shot = tmp_path / "paper-form.png"
    page.screenshot(path=str(shot), full_page=True)
    assert Image.open(shot).size[0] == 1280
    form.locator("button[type=submit]").click()
    assert page.locator(".notice").inner_text().startswith(f"Đã lưu phiếu của hồ sơ {code}")
    channels = page.locator("table.channels tbody tr")
    assert channels.count() == 1
    assert channels.first.inner_text().split("\t") == ["Phiếu giấy / paper form", "", "1"]
    assert code in page.locator("table.recent").inner_text()
    folder = Path(SHOTS) if SHOTS else tmp_path
    page.screenshot(path=str(folder / "paper-forms.png"), full_page=True)
    # The same form again is refused, and says so.
    form = page.locator("form[action='/staff/paper']")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=filled_on]").fill(unit_day(datetime.now(UTC)).isoformat())
    form.locator("label.face-5").click()
    form.locator("button[type=submit]").click()
    assert "đã có đánh giá" in page.locator(".error").inner_text()
    page.click("nav.tabs a[href='/dashboard']")
    headline = page.locator(".headline").first.inner_text()
    assert "n = 1" in headline
