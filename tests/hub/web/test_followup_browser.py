"""The follow-up pages in a real Chromium against a real uvicorn server: a unit head watches the
list, a dissatisfied rating stored meanwhile appears within 2 s without a reload, and the head
assigns, answers and closes it. Also at a phone's width.

Screenshots go to the test's temp folder, or to ``$HAILONG_SCREENSHOT_DIR`` when set (that is how
``docs/screenshots/follow-up*.png`` are made)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score
from hub.domain.ingest import Attribution
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import PASSWORD, WebApp, needs_chromium

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [
    needs_chromium,
    pytest.mark.timeout(90),
]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("HAILONG_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(page: playwright.Page, base: str, username: str) -> None:
    page.goto(f"{base}/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _store(web_app: WebApp, seq: int, score: Score, **fields: object) -> str:
    now = datetime.now(UTC)
    rating = make_rating(
        seq=seq,
        score=score,
        rated_at=now,
        receipt=ReceiptRef(code=f"000.00.20.H41-261125-{seq:04d}", verified=True),
        **fields,
    )
    attribution = Attribution("Q1", "CB001", "1.001193", "ho-tich", True)
    with web_app.sessions.begin() as session:
        store_batch(session, [(rating, attribution)], now)
    return str(rating.id)


def _no_sideways_scroll(page: playwright.Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width} px"


def test_a_head_sees_a_new_complaint_at_once_and_handles_it(
    browser: playwright.Browser, web_app: WebApp, served: str, shots: Path
) -> None:
    _store(web_app, 1, Score.DISSATISFIED, reasons=("tre-hen",))  # one already waiting
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    _login(page, served, "head")
    assert page.url.endswith("/dashboard")
    page.click("nav.tabs >> text=Phản ánh / Follow-up")
    assert page.url.endswith("/follow-up")
    page.locator("li.fu-item").first.wait_for(state="visible", timeout=5000)
    assert page.locator("li.fu-item").count() == 1
    page.evaluate("window.__notReloaded = true")
    time.sleep(1.2)  # let the page poll once with nothing new

    rating_id = _store(
        web_app,
        2,
        Score.VERY_DISSATISFIED,
        reasons=("thai-do", "di-lai-nhieu-lan"),
        comment="Tôi phải đi lại ba lần mà hồ sơ vẫn chưa được nhận, cán bộ không giải thích rõ.",
        callback_phone="0912345678",
    )
    stored = time.monotonic()
    item = page.locator(f'li.fu-item[data-id="{rating_id}"]')
    # The page polls every second, so it shows within ~1 s; the margin is for a loaded CI box.
    item.wait_for(state="visible", timeout=5000)
    assert time.monotonic() - stored < 5.0
    assert page.evaluate("window.__notReloaded") is True  # it came without a reload
    assert page.locator("li.fu-item").first.get_attribute("data-id") == rating_id  # on top
    text = item.inner_text()
    assert "Rất không hài lòng" in text
    assert "Thái độ cán bộ chưa tốt; Phải đi lại nhiều lần" in text
    assert "Tôi phải đi lại ba lần" in text
    assert "Đồng ý được gọi lại" in text
    assert page.locator('[data-count="open"]').inner_text() == "2"
    page.wait_for_timeout(4200)  # let the arrival highlight fade before the picture
    page.screenshot(path=str(shots / "follow-up.png"), full_page=True)

    item.locator("a.fu-open").click()
    assert page.url.endswith(f"/follow-up/{rating_id}")
    assert page.locator("a.fu-phone").inner_text() == "☎ 0912345678"
    assign = page.locator("form.fu-assign")
    assign.locator("select[name=assignee]").select_option("lan")
    assign.locator("textarea[name=note]").fill("Gọi lại cho người dân trong ngày.")
    assign.locator("button[type=submit]").click()
    assert page.locator(".notice").inner_text().startswith("Đã ghi nhận: Giao xử lý")
    assert "Đã giao xử lý" in page.locator(".fu-detail .fu-state").inner_text()
    answer = page.locator("form.fu-answer")
    answer.locator("textarea[name=note]").fill(
        "Đã gọi lại lúc 14:00, xin lỗi ông và hẹn nhận hồ sơ ngay sáng mai."
    )
    answer.locator("button[type=submit]").click()
    assert "Đã trả lời" in page.locator(".fu-detail .fu-state").inner_text()
    page.locator("form.fu-close button[type=submit]").click()
    assert "Đã đóng" in page.locator(".fu-detail .fu-state").inner_text()
    trail = page.locator("table.fu-trail tbody tr")
    assert trail.count() == 4
    assert [trail.nth(i).locator("td").nth(2).inner_text() for i in range(4)] == [
        "Tiếp nhận đánh giá / Rating received",
        "Giao xử lý / Assign → Nguyễn Thị Lan (lan)",
        "Trả lời / Answer",
        "Đóng / Close",
    ]
    assert page.locator("form.fu-reopen").count() == 1
    page.screenshot(path=str(shots / "follow-up-detail.png"), full_page=True)

    page.goto(f"{served}/follow-up")
    closed = page.locator(f'li.fu-item[data-id="{rating_id}"]')
    assert "Đã đóng" in closed.locator(".fu-state").inner_text()


def test_the_follow_up_pages_fit_a_phone(
    browser: playwright.Browser, web_app: WebApp, served: str, shots: Path
) -> None:
    rating_id = _store(
        web_app,
        1,
        Score.DISSATISFIED,
        reasons=("giay-to-ngoai-quy-dinh",),
        comment="Cán bộ yêu cầu bản sao công chứng sổ hộ khẩu dù đã bỏ.",
        callback_phone="0987654321",
    )
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
    _login(page, served, "head")
    page.goto(f"{served}/follow-up")
    page.locator(f'li.fu-item[data-id="{rating_id}"]').wait_for(state="visible")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "follow-up-phone.png"), full_page=True)
    page.locator("a.fu-open").first.click()
    assign = page.locator("form.fu-assign")
    assign.locator("select[name=assignee]").select_option("lan")
    assign.locator("button[type=submit]").click()
    assert "Đã giao xử lý" in page.locator(".fu-detail .fu-state").inner_text()
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "follow-up-detail-phone.png"), full_page=True)
