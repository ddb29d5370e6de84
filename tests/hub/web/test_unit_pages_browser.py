"""A commune head's day on a province's hub, in a real Chromium: their commune's dashboard (its
name, its target from the targets table), then its follow-ups, live (a rating of their commune
stored meanwhile appears without a reload, through the feed that keeps ``?unit=``), then one
follow-up assigned to their commune's officer. Commune B is not the hub's home unit, so every
link and form of the day has to keep it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from hailong.settings import ReceiptKeys, Unit
from hub.store.ratings import store_batch
from tests.hub.web.conftest import PASSWORD, needs_chromium, serving
from tests.hub.web.test_ops_browser import playwright
from tests.hub.web.test_unit_pages import B, Province, build, dissatisfied_rating

pytestmark = [needs_chromium, pytest.mark.timeout(90)]


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, unit: Unit, receipt_keys: ReceiptKeys
) -> Iterator[tuple[str, Province]]:
    province = build(tmp_path_factory.mktemp("unit-pages-browser"), unit, receipt_keys)
    with serving(province.app) as url:
        yield url, province


def test_a_commune_heads_day(browser: playwright.Browser, site: tuple[str, Province]) -> None:
    url, province = site
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{url}/staff/login")
    page.fill("input[name=username]", "head-b")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # The dashboard: commune B's, held to B's own target.
    page.wait_for_url(f"{url}/dashboard")
    assert province.names[B] in page.locator("header").inner_text()
    assert "97.5 %" in page.locator(".headline").first.inner_text()
    # To the follow-ups, by the tab: B's dissatisfied rating is listed.
    page.click("nav.tabs a:has-text('Phản ánh')")
    page.wait_for_url(f"{url}/follow-up?unit={B}")
    assert page.locator(f".fu-item[data-id='{province.ratings[B]}']").count() == 1
    # A rating of B arrives while the list is open: the live feed brings it.
    new_id, items = dissatisfied_rating(B, 7)
    with province.sessions.begin() as session:
        store_batch(session, items, datetime.now(UTC))
    page.wait_for_selector(f".fu-item[data-id='{new_id}']", timeout=10_000)
    assert "lost" not in (page.locator(".fu-live").get_attribute("class") or "")
    # Open it and assign it to B's officer.
    page.click(f".fu-item[data-id='{new_id}'] a.fu-open")
    page.wait_for_url(f"{url}/follow-up/{new_id}?unit={B}")
    form = page.locator("form.fu-assign")
    form.locator("select[name=assignee]").select_option("lan-b")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{url}/follow-up/{new_id}?done=assign&unit={B}")
    assert "Đã ghi nhận" in page.locator(".notice").inner_text()
    assert province.names[B] in page.locator("header").inner_text()
    context.close()
