"""The dashboard's numbers against a hand-computed fixture, and who may see what."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score
from hub.domain.ingest import Attribution
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import PASSWORD, Web, WebApp

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội


def _seed(web: Web) -> None:
    """Lan (CB001): 3 of 4 satisfied; Minh (CB002): 1 of 2; Lan again last month: 1 of 1."""
    plan = [
        ("CB001", Score.VERY_SATISFIED, NOW),
        ("CB001", Score.SATISFIED, NOW),
        ("CB001", Score.SATISFIED, NOW),
        ("CB001", Score.DISSATISFIED, NOW),
        ("CB002", Score.NEUTRAL, NOW),
        ("CB002", Score.VERY_SATISFIED, NOW),
        ("CB001", Score.VERY_SATISFIED, datetime(2026, 10, 20, 3, 0, tzinfo=UTC)),
    ]
    items = []
    for seq, (officer, score, at) in enumerate(plan, start=1):
        rating = make_rating(
            seq=seq,
            score=score,
            officer=officer,
            rated_at=at,
            receipt=ReceiptRef(code=f"000.00.20.H41-261125-{seq:04d}", verified=True),
        )
        items.append((rating, Attribution("Q1", officer, "1.001193", "ho-tich", True)))
    with web.sessions.begin() as session:
        store_batch(session, items, NOW)


@pytest.fixture
def seeded(web_app: WebApp) -> Web:
    web_app.app.state.clock = lambda: NOW
    with TestClient(web_app.app) as client:
        web = Web(web_app.settings, web_app.sessions, client, web_app.token)
        _seed(web)
        return web


def _login(web: Web, username: str) -> str:
    page = web.client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    form = {"username": username, "password": PASSWORD, "csrf": token.group(1)}
    return web.client.post("/staff/login", data=form).text


def test_the_dashboard_needs_a_login(seeded: Web) -> None:
    response = seeded.client.get("/dashboard", follow_redirects=False)
    assert response.headers["location"] == "/staff/login"


def test_a_unit_head_reads_numbers_that_match_the_ratings(seeded: Web) -> None:
    page = _login(seeded, "head")  # lands on the dashboard
    # This month: 4 of 6 satisfied = 66.7 %; last month 1 of 1 = 100 % -> -33.3 points.
    assert "66.7 %" in page
    assert "-33.3 điểm" in page
    assert "Nguyễn Thị Lan" in page
    assert "Trần Văn Minh" in page
    # Lan: 3/4 = 75.0 %, Minh: 1/2 = 50.0 %; Wilson 95 % for 3/4 is 30–95.
    assert re.search(
        r"Nguyễn Thị Lan.*?>4\*</td>\s*<td[^>]*>75.0 %</td>\s*<td[^>]*>30–95</td>", page, re.S
    )
    assert "kiosk-q1" in page  # the fleet table
    year = seeded.client.get("/dashboard?period=year").text
    assert "71.4 %" in year  # 5 of 7 this year


def test_an_officer_sees_only_their_own_line(seeded: Web) -> None:
    _login(seeded, "lan")
    page = seeded.client.get("/dashboard").text
    assert "Nguyễn Thị Lan" in page
    assert "Trần Văn Minh" not in page
    assert "kiosk-q1" not in page


def test_the_public_page_shows_no_names(seeded: Web) -> None:
    page = seeded.client.get("/public").text
    assert "Tư pháp – Hộ tịch" in page
    assert "Nguyễn Thị Lan" not in page
    assert "CB001" not in page
    assert "(7 lượt" in page or "7 lượt" in page
