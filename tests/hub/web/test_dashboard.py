"""The dashboard's numbers against a hand-computed fixture, and who may see what."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Factor, Score
from hub.domain.ingest import Attribution
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import PASSWORD, Web, WebApp, set_clock

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
    set_clock(web_app.app, lambda: NOW)
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


def _seed_reasons(web: Web) -> None:
    """Tuesday 24/11: Lan (CB001) 2 at 08:00 for a late result, Minh (CB002) 1 at 15:00 for
    rudeness, both with the officer question of the survey (4 and 1)."""
    plan = [
        ("CB001", Score.DISSATISFIED, datetime(2026, 11, 24, 1, 0, tzinfo=UTC), "tre-hen", 4),
        ("CB002", Score.VERY_DISSATISFIED, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), "thai-do", 1),
    ]
    items = []
    for seq, (officer, score, at, reason, answer) in enumerate(plan, start=20):
        rating = make_rating(
            seq=seq,
            score=score,
            officer=officer,
            rated_at=at,
            reasons=(reason,),
            factors={Factor.OFFICER: Score(answer)},
            receipt=ReceiptRef(code=f"000.00.20.H41-261124-{seq:04d}", verified=True),
        )
        items.append((rating, Attribution("Q1", officer, "1.001193", "ho-tich", True)))
    with web.sessions.begin() as session:
        store_batch(session, items, NOW)


def _cells(html: str) -> list[str]:
    """The text of each cell (``td``) of ``html``, tags dropped and spaces folded."""
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in cells]


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section class="card" id="{name}">(.*?)</section>', page, re.S)
    assert found, name
    return found.group(1)


def test_the_analysis_by_stage_factor_level_reason_and_hour(seeded: Web) -> None:
    _seed_reasons(seeded)
    page = _login(seeded, "head")
    # November: 5 4 4 2 3 5 (Wednesday 10:00) + 2 1 (Tuesday) = 4 of 8 satisfied, all at reception.
    stage = _cells(_section(page, "by-stage"))
    assert stage[:8] == [
        "Tiếp nhận hồ sơ / Reception of the dossier", "8*", "50.0 %", "22–78",
        "Trả kết quả / Return of the result", "0*", "—", "—",
    ]  # fmt: skip
    factors = _cells(_section(page, "by-factor"))
    assert factors[8:12] == [
        "Công chức giải quyết công việc / The officer who handled it",
        "2*",
        "50.0 %",
        "9–91",
    ]
    assert factors[-4:] == [
        "Cung ứng dịch vụ hành chính công nói chung / The public service overall", "8*", "50.0 %", "22–78",
    ]  # fmt: skip
    levels = _cells(_section(page, "levels"))
    assert levels[0::4] == [
        "Rất hài lòng Very satisfied", "Hài lòng Satisfied", "Bình thường Neutral",
        "Không hài lòng Dissatisfied", "Rất không hài lòng Very dissatisfied",
    ]  # fmt: skip
    assert levels[2::4] == ["2", "2", "1", "2", "1"]
    assert levels[3::4] == ["25.0 %", "25.0 %", "12.5 %", "25.0 %", "12.5 %"]
    reasons = _cells(_section(page, "reasons"))
    assert reasons == [
        "1", "Thái độ cán bộ chưa tốt The officer was rude or unhelpful",
        "Công chức giải quyết công việc The officer who handled it", "1",
        "2", "Trả kết quả trễ hẹn The result was late", "Kết quả dịch vụ The result", "1",
    ]  # fmt: skip
    heat = _section(page, "heat-map")
    found = re.findall(r"<tr><th>([^<]+?) <small[^>]*>[^<]*</small></th>(.*?)</tr>", heat, re.S)
    rows = {weekday: _cells(row) for weekday, row in found}
    assert list(rows) == ["Thứ 2", "Thứ 3", "Thứ 4", "Thứ 5", "Thứ 6", "Thứ 7", "Chủ nhật"]
    hours = list(range(7, 18))
    assert rows["Thứ 4"][hours.index(10)] == "67 % n=6"  # Wednesday 10:00: 4 of 6
    assert rows["Thứ 3"][hours.index(8)] == "0 % n=1"
    assert rows["Thứ 3"][hours.index(15)] == "0 % n=1"
    assert sum(1 for row in rows.values() for cell in row if cell) == 3  # the rest blank
    assert 'class="cell heat-3"' in heat  # 67 %: amber
    assert heat.count('class="cell heat-1"') == 2  # 0 %: red


def test_an_officer_analyses_only_their_own_ratings(seeded: Web) -> None:
    _seed_reasons(seeded)
    _login(seeded, "lan")
    page = seeded.client.get("/dashboard").text
    # Lan: 5 4 4 2 (Wednesday) + 2 (Tuesday) = 3 of 5.
    assert _cells(_section(page, "by-stage"))[:3] == [
        "Tiếp nhận hồ sơ / Reception of the dossier",
        "5*",
        "60.0 %",
    ]
    reasons = _cells(_section(page, "reasons"))
    assert "Trả kết quả trễ hẹn The result was late" in reasons
    assert not any("Thái độ" in cell for cell in reasons)  # Minh's
    assert 'id="heat-map"' not in page
    assert "chỉ các đánh giá của bạn" in page
