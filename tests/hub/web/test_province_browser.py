"""The province pages in a real Chromium with scoped logins: a province head ranks every unit and
drills down to an officer, reads the trend; a commune head sees their commune only and is refused
another's URL; an officer is refused the province view. Screenshots of the province view and the
trend page (HAILONG_SCREENSHOTS=docs/screenshots keeps them as province.png and trends.png)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hailong.settings import ReceiptKeys, Unit
from tests.hub.province_data import PASSWORD, WARD_A, WARD_B, province_app
from tests.hub.web.conftest import needs_chromium, serving
from tests.hub.web.test_ops_browser import SHOTS, playwright

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, unit: Unit, receipt_keys: ReceiptKeys
) -> Iterator[tuple[str, Path]]:
    app, folder = province_app(
        tmp_path_factory.mktemp("province-browser"), unit, receipt_keys, history=True
    )
    with serving(app) as url:
        yield url, folder


def _login(browser: playwright.Browser, url: str, username: str) -> playwright.Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{url}/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # The login answers with redirects: wait until the last page has loaded, not just begun.
    page.wait_for_url(lambda address: "/staff/login" not in address)
    page.wait_for_load_state("load")
    return page


def test_scoped_logins_in_the_province_pages(
    browser: playwright.Browser, site: tuple[str, Path]
) -> None:
    url, folder = site
    shots = Path(SHOTS) if SHOTS else folder
    # The province admin sets the province's target for 2026 on the targets page.
    page = _login(browser, url, "tinh-admin")
    page.goto(f"{url}/targets?year=2026")
    row = page.locator("#targets tr", has_text="Tỉnh Khánh Hòa")
    row.locator("input[name=rate]").fill("90")
    row.locator("button[type=submit]").click()
    assert "Đã lưu chỉ tiêu" in page.locator(".notice").inner_text()
    page.context.close()
    # The province head: every unit, ranked, then down to a counter and an officer.
    page = _login(browser, url, "tinh-head")
    page.goto(f"{url}/province?period=month")
    ranking = page.locator("#ranking tbody tr")
    assert ranking.count() == 3
    assert ranking.nth(0).locator("td").nth(0).inner_text() == "1"
    assert ranking.nth(1).locator("td").nth(0).inner_text() == "1"  # a tie
    assert "Xã Đắk Lắk" in page.locator("#too-few").inner_text()
    factors = page.locator("#factors").inner_text()
    assert "Tiếp cận dịch vụ" in factors
    assert "Cung ứng dịch vụ hành chính công nói chung" in factors
    page.goto(f"{url}/province?period=year")
    page.screenshot(path=str(shots / "province.png"), full_page=True)
    page.goto(f"{url}/province?period=month")
    page.click("#ranking a:has-text('Nghĩa Tân')")
    page.click("#rows a:has-text('Quầy 2')")
    page.click("#rows a:has-text('Trần Văn Minh')")
    assert "Trần Văn Minh" in page.locator(".crumbs").inner_text()
    assert "80,0 %" in page.locator(".headline .big").inner_text()
    page.goto(f"{url}/trends?unit={WARD_B}&year=2026")
    assert page.locator("svg.trend-chart polyline").count() == 2
    assert "Dự báo cuối năm" in page.locator("#projection").inner_text()
    assert "chỉ tiêu chung của cấp trên" in page.content()  # the province's 90 %
    page.screenshot(path=str(shots / "trends.png"), full_page=True)
    page.context.close()
    # A commune head: their commune only; another commune's URL is refused.
    page = _login(browser, url, "phuong-b")
    assert page.url.endswith("/province")  # the home unit's dashboard is not theirs
    assert page.locator("#ranking tbody tr").count() + page.locator("#too-few tr").count() >= 1
    assert "Nghĩa Tân" not in page.content()
    refused = page.goto(f"{url}/province/unit/{WARD_A}")
    assert refused is not None
    assert refused.status == 404
    assert "Nguyễn Thị Lan" not in page.content()
    assert page.goto(f"{url}/province/unit/{WARD_B}") is not None
    page.context.close()
    # An officer: no province view.
    page = _login(browser, url, "lan")
    refused = page.goto(f"{url}/province")
    assert refused is not None
    assert refused.status == 403
    page.context.close()
