"""The landing page in a real Chromium, on a phone and on a desktop: the unit's name, then the
links a citizen or an officer needs, followed. HAILONG_SCREENSHOTS=<folder> keeps landing-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from hailong.settings import Unit
from tests.hub.web.conftest import needs_chromium
from tests.hub.web.test_ops_browser import SHOTS, playwright

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


def test_the_landing_page_leads_to_login_and_the_public_results(
    browser: playwright.Browser, served: str, unit: Unit, tmp_path: Path
) -> None:
    folder = Path(SHOTS) if SHOTS else tmp_path
    for name, viewport in (("phone", (390, 844)), ("desktop", (1280, 800))):
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, locale="vi-VN"
        )
        page = context.new_page()
        answer = page.goto(f"{served}/")
        assert answer is not None
        assert answer.status == 200
        assert page.locator("h1").inner_text().startswith(unit.unit.name)
        assert page.locator("#rate-online").is_visible()
        # Nothing wider than the screen: a phone reads it without scrolling sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        shot = folder / f"landing-{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        page.click("#public-link")
        assert page.url == f"{served}/public"
        page.go_back()
        page.click("#login-link")
        assert page.url == f"{served}/staff/login"
        assert page.locator("input[name=username]").is_visible()
        context.close()
