"""The province's public page and the report form in a real Chromium: the page opens without a
login and shows the tables; a province head makes the XLSX from the form and downloads it.
HAILONG_SCREENSHOTS=docs/screenshots keeps the public page as public-province.png."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hailong.settings import ReceiptKeys, Unit
from tests.hub.province_data import PASSWORD, province_app
from tests.hub.web.conftest import needs_chromium, serving
from tests.hub.web.test_ops_browser import SHOTS, playwright

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, unit: Unit, receipt_keys: ReceiptKeys
) -> Iterator[tuple[str, Path]]:
    app, folder = province_app(tmp_path_factory.mktemp("public-browser"), unit, receipt_keys)
    with serving(app) as url:
        yield url, folder


def test_the_public_page_and_the_report_form(
    browser: playwright.Browser, site: tuple[str, Path]
) -> None:
    url, folder = site
    shots = Path(SHOTS) if SHOTS else folder
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{url}/public/province")
    factors = page.locator("#factors_by_unit tbody tr")
    assert factors.count() == 6  # the province, four units, the total
    assert "Tổng: Tỉnh Khánh Hòa" in factors.nth(5).inner_text()
    assert page.locator("#officers").count() == 0
    page.screenshot(path=str(shots / "public-province.png"), full_page=True)
    page.goto(f"{url}/staff/login")
    page.fill("input[name=username]", "tinh-head")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{url}/reports/official")
    page.fill("input[name=period]", "2026Q4")
    page.select_option("select[name=scope]", "province")
    page.select_option("select[name=format]", "xlsx")
    page.fill("input[name=number]", "21")
    page.fill("textarea[name=recipients]", "UBND tỉnh Khánh Hòa\nSở Nội vụ")
    page.click("form[action='/reports/official'] button[type=submit]")
    link = page.locator("a[download]")
    link.wait_for(timeout=30_000)
    with page.expect_download() as info:
        link.click()
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    cover = [row[0] for row in book["Báo cáo"].iter_rows(values_only=True)]
    assert "Số: 21/BC-UBND" in cover
    assert "- Sở Nội vụ" in cover
    context.close()
