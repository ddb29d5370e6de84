"""The pages under their Content-Security-Policy in a real Chromium: no inline script or style is
refused anywhere (the dashboard's bars and period picker work from static/dashboard.js), the QR
shows once after issue, and a logged-in browser cannot rate. Screenshots of the receipt and login
pages go to ``HAILONG_SCREENSHOTS`` when set."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hailong.settings import Unit
from hub.receipts.desk import IssueRequest, ReceiptDesk
from tests.hub.web.conftest import PASSWORD, WebApp, needs_chromium, serving, set_clock
from tests.hub.web.test_admin import make_admin_app
from tests.hub.web.test_dashboard_browser import NOW, month_of_ratings
from tests.hub.web.test_ops_browser import SHOTS, playwright

__all__ = ["month_of_ratings"]  # a fixture, used by name
pytestmark = [needs_chromium, pytest.mark.timeout(120)]
PAGES = (
    "/staff",
    "/staff/password",
    "/dashboard?period=month",
    "/follow-up",
    "/admin",
    "/admin/catalogue",
    "/admin/kiosks",
    "/admin/dead-letters",
    "/admin/flagged-ratings",
    "/admin/procedures/import",
    "/public",
)


@pytest.fixture
def admin_site(
    month_of_ratings: WebApp, tmp_path: Path, unit: Unit
) -> Iterator[tuple[str, WebApp]]:
    app = make_admin_app(month_of_ratings, tmp_path, unit)
    set_clock(app.app, lambda: NOW)
    with serving(app.app) as base:
        yield base, app


def _log_in(page: playwright.Page, base: str, username: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_no_page_breaks_its_content_security_policy(
    page: playwright.Page, admin_site: tuple[str, WebApp], tmp_path: Path
) -> None:
    base, _app = admin_site
    refused: list[str] = []
    missing: list[str] = []
    page.on("console", lambda message: refused.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: refused.append(f"{page.url}: {error}"))
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    _log_in(page, base, "root")
    for path in PAGES:
        response = page.goto(f"{base}{path}")
        assert response is not None
        assert response.ok, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        if SHOTS:  # every page, to look at
            name = path.strip("/").split("?")[0].replace("/", "-")
            page.screenshot(path=str(Path(SHOTS) / f"page-{name}.png"), full_page=True)
    page.goto(f"{base}/dashboard?period=month")
    widths = page.locator("#levels .bar span").evaluate_all(
        "(bars) => bars.map(b => b.style.width)"
    )
    assert widths
    assert all(re.fullmatch(r"\d+(\.\d+)?%", w) for w in widths), widths
    assert any(w != "0%" for w in widths)
    with page.expect_navigation():
        page.select_option("form.period select[name=period]", "quarter")
    assert "period=quarter" in page.url  # the picker submits without inline script
    csp = [line for line in refused if "Content Security Policy" in line or "Refused" in line]
    assert csp == []
    # Chromium asks every site for a favicon; there is none, and that is all that may be missing.
    assert {urlsplit(url).path for url in missing} <= {"/favicon.ico"}
    others = [line for line in refused if "Failed to load resource" not in line]
    assert others == [], "\n".join(others)


def test_the_qr_shows_once_and_a_staff_browser_cannot_rate(
    page: playwright.Page, served: str, web_app: WebApp, unit: Unit, tmp_path: Path
) -> None:
    folder = Path(SHOTS) if SHOTS else tmp_path
    _log_in(page, served, "lan")
    page.wait_for_url(f"{served}/staff")
    issue = page.locator("form[action='/staff/issue']")
    issue.locator("select[name=procedure]").select_option("1.004837")
    issue.locator("input[name=citizen_name]").fill("Phạm Văn Cường")
    issue.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/staff/receipts/.*"))
    assert page.locator("img.qr").count() == 1
    assert page.locator("img.qr").evaluate("(img) => img.naturalWidth") > 0  # data: allowed
    page.screenshot(path=str(folder / "staff-receipt-at-issue.png"), full_page=True)
    page.reload()
    assert page.locator("img.qr").count() == 0
    assert "Phạm Văn Cường" in page.locator("section.receipt").inner_text()
    page.screenshot(path=str(folder / "staff-receipt-later.png"), full_page=True)
    desk = ReceiptDesk(web_app.settings, unit, web_app.sessions)
    url = desk.issue(IssueRequest("Q1", "CB001", "1.001193"), print_slip=False).receipt.url
    parts = urlsplit(url)
    rate = f"{served}{parts.path}?{parts.query}"
    response = page.goto(rate)
    assert response is not None
    assert response.status == 403
    assert "cán bộ không được đánh giá thay người dân" in page.inner_text("main")
    assert page.locator("input[name=score]").count() == 0
    page.click("header button[type=submit]")  # log out from the refusal page itself
    page.wait_for_url(f"{served}/staff/login")
    page.screenshot(path=str(folder / "staff-login.png"), full_page=True)
    page.goto(rate)
    assert page.locator("input[name=score]").count() > 0  # the citizen's own browser rates
