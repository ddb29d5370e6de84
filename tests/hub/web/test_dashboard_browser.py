"""What a unit head sees of the analysis (issue 6) in a real Chromium: per stage and SIPAS factor,
the 5 levels, the reasons and the hour-by-weekday heat map, for a month of ratings."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from hailong.contract.scale import Factor, Score, Stage
from hub.domain.ingest import Attribution
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import PASSWORD, WebApp, needs_chromium, set_clock
from tests.hub.web.test_ops_browser import SHOTS, playwright

pytestmark = [
    needs_chromium,
    pytest.mark.timeout(90),
]
HANOI = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 27, 17, 0, tzinfo=HANOI)
OFFICERS = ("CB001", "CB002", "CB003", "CB004", "CB005")
REASONS = {
    Score.VERY_DISSATISFIED: ("thai-do", "di-lai-nhieu-lan", "tre-hen"),
    Score.DISSATISFIED: ("giay-to-ngoai-quy-dinh", "noi-cho-doi", "tre-hen", "kho-tim-thong-tin"),
}


@pytest.fixture
def month_of_ratings(web_app: WebApp) -> WebApp:
    """Working days of November 2026 (and Saturday mornings), 07:00-17:00, busier mid-morning,
    less satisfied late in the morning and late in the afternoon. Seeded, so the same each run."""
    set_clock(web_app.app, lambda: NOW)
    chance = random.Random(6)
    items = []
    day = datetime(2026, 11, 2, tzinfo=HANOI)
    while day < NOW.replace(hour=0):
        hours = range(7, 12) if day.weekday() == 5 else range(7, 17) if day.weekday() < 5 else ()
        for hour in hours:
            for _ in range(chance.choice((0, 1, 2, 3, 4) if 8 <= hour <= 10 else (0, 1, 1, 2))):
                low = hour in (11, 16) or day.weekday() == 0
                weights = (3, 4, 5, 30, 40) if low else (1, 1, 3, 30, 60)
                score = chance.choices(list(Score), weights)[0]
                officer = chance.choice(OFFICERS)
                stage = Stage.RETURN if chance.random() < 0.35 else Stage.RECEPTION
                surveyed = chance.random() < 0.3
                factors = (
                    {f: Score(max(1, min(5, score + chance.choice((-1, 0, 0, 1))))) for f in Factor}
                    if surveyed
                    else {}
                )
                reasons = tuple(
                    chance.sample(REASONS[score], chance.choice((1, 1, 2))) if score <= 2 else ()
                )
                at = day + timedelta(hours=hour, minutes=chance.randrange(60))
                rating = make_rating(
                    seq=len(items) + 1,
                    receipt=None,
                    officer=officer,
                    stage=stage,
                    score=score,
                    rated_at=at,
                    reasons=reasons,
                    factors=factors,
                )
                items.append(
                    (rating, Attribution("Q1", officer, "1.001193", "ho-tich", False, stage))
                )
        day += timedelta(days=1)
    with web_app.sessions.begin() as session:
        store_batch(session, items, NOW.astimezone(UTC))
    return web_app


def test_a_unit_head_reads_the_analysis(
    month_of_ratings: WebApp, page: playwright.Page, served: str, tmp_path: Path
) -> None:
    page.goto(f"{served}/staff/login")
    page.fill("input[name=username]", "head")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{served}/dashboard?period=month")
    analysis = page.locator("section.analysis")
    text = analysis.inner_text()
    for words in ("Theo giai đoạn", "Theo yếu tố SIPAS", "Phân bố 5 mức hài lòng",
                  "Lý do chưa hài lòng", "Thứ 2", "Chủ nhật", "Trả kết quả trễ hẹn"):  # fmt: skip
        assert words in text, words
    assert page.locator("#heat-map td.cell.heat-5").count() > 0
    assert page.locator("#heat-map td.cell:empty").count() > 0  # Sundays, Saturday afternoons
    shot = (Path(SHOTS) if SHOTS else tmp_path) / "dashboard-analysis.png"
    analysis.screenshot(path=str(shot))  # the analysis sections, not the whole dashboard
    assert shot.stat().st_size > 10_000
