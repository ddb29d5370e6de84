"""The export buttons in a real Chromium: a unit head downloads the month as XLSX, starts the
quarterly report, watches its progress and downloads the PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.hub.web.conftest import PASSWORD, Web, WebApp, needs_chromium, set_clock
from tests.hub.web.test_dashboard import NOW, _seed

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    needs_chromium,
    pytest.mark.timeout(90),
]


@pytest.fixture
def ratings(web_app: WebApp) -> WebApp:
    set_clock(web_app.app, lambda: NOW)
    _seed(Web(web_app.settings, web_app.sessions, None, web_app.token))  # type: ignore[arg-type]
    return web_app


def test_a_unit_head_exports_and_makes_the_quarterly_report(
    page: playwright.Page, ratings: WebApp, served: str, tmp_path: Path
) -> None:
    page.goto(f"{served}/staff/login")
    page.fill("input[name=username]", "head")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert page.url.endswith("/dashboard")

    exports = page.locator("section.exports")
    exports.locator("select[name=dimension]").select_option("officer")
    with page.expect_download() as download:
        exports.get_by_role("button", name="Tải Excel (XLSX) / Download Excel").click()
    assert download.value.suggested_filename == "mdhl-000.00.20.H41-month-2026-11-01.xlsx"
    saved = tmp_path / "month.xlsx"
    download.value.save_as(saved)
    assert load_workbook(saved).sheetnames == ["Công chức - Officer"]

    exports.get_by_role("button", name="Lập báo cáo / Make the report").click()
    link = exports.locator("a[data-file]")
    link.wait_for(state="visible", timeout=30_000)
    assert exports.locator("progress").get_attribute("value") == "100"
    assert exports.locator("[data-stage]").inner_text() == "100 % · Xong / Done"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "bao-cao-mdhl-000.00.20.H41-2026-Q4.pdf"
    pdf = tmp_path / "quarter.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    exports.screenshot(path=str(tmp_path / "exports.png"))
