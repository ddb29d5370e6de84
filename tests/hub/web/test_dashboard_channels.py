"""The dashboard's "Theo kênh / By channel" card (issue 17, every channel in one count): the four
channels with n and MĐHL, the assisted ones apart, the total equal to the headline; the unit's
figures, so not on an officer's page. Hand-counted: this month 5 kiosk (4 satisfied), 2 button
box (1), 1 online (1), 3 paper (2) of which 1 assisted (1); an uncounted kiosk rating left out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hailong.contract.scale import Channel, Score
from hub.domain.ingest import Attribution
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import Web, WebApp, needs_chromium, set_clock
from tests.hub.web.test_dashboard import _cells, _login, _section
from tests.hub.web.test_followup_browser import _login as _browser_login
from tests.hub.web.test_ops_browser import SHOTS, playwright

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
S, N, D = Score.SATISFIED, Score.NEUTRAL, Score.DISSATISFIED
# channel, score, assisted, counted
PLAN = [
    *[(Channel.KIOSK, s, False, True) for s in (S, S, S, Score.VERY_SATISFIED, D)],
    (Channel.KIOSK, D, False, False),  # kept apart (an unknown code): not in any figure
    (Channel.BUTTON_BOX, S, False, True),
    (Channel.BUTTON_BOX, N, False, True),
    (Channel.ONLINE, Score.VERY_SATISFIED, False, True),
    (Channel.PAPER, S, False, True),
    (Channel.PAPER, D, False, True),
    (Channel.PAPER, S, True, True),
]


@pytest.fixture
def channelled(web_app: WebApp) -> WebApp:
    set_clock(web_app.app, lambda: NOW)
    items = []
    for seq, (channel, score, assisted, counted) in enumerate(PLAN, start=1):
        rating = make_rating(
            seq=seq,
            receipt=None,
            score=score,
            channel=channel,
            rated_at=NOW - timedelta(minutes=seq),
        )
        keyed = channel is Channel.PAPER
        attribution = Attribution(
            "Q1",
            "CB001",
            "1.001193",
            "ho-tich",
            receipt_known=False,
            counted=counted,
            entered_by="head" if keyed else None,
            assisted=assisted,
        )
        items.append((rating, attribution))
    with web_app.sessions.begin() as session:
        store_batch(session, items, NOW)
    return web_app


def _lines(page: str) -> dict[str, list[str]]:
    card = _section(page, "by-channel")
    rows = re.findall(r'<tr class="[^"]*" data-channel="([^"]+)">(.*?)</tr>', card, re.S)
    return {key: _cells(row) for key, row in rows}


def test_a_unit_head_reads_every_channel_and_the_assisted_apart(channelled: WebApp) -> None:
    with TestClient(channelled.app) as client:
        web = Web(channelled.settings, channelled.sessions, client, channelled.token)
        page = _login(web, "head")
        lines = _lines(client.get("/dashboard?period=today").text)
    assert "Theo kênh" in page
    assert lines == {
        "kiosk": ["Kiosk Kiosk", "5*", "80.0 %", "38–96"],
        "button_box": ["Nút bấm Button box", "2*", "50.0 %", "9–91"],
        "online": ["Điện thoại Online", "1*", "100.0 %", "21–100"],
        "paper": ["Phiếu giấy Paper", "3*", "66.7 %", "21–94"],
        "assisted": ["Trong đó có hỗ trợ Of which assisted", "1*", "100.0 %", "21–100"],
        "total": ["Tổng Total", "11*", "72.7 %", "43–90"],
    }
    # The total is the headline's count: one count, every channel in it.
    assert re.search(r'<p class="small">n = 11 · 95 % CI 43–90</p>', page)


def test_a_channel_nobody_used_is_listed_with_none(channelled: WebApp) -> None:
    set_clock(channelled.app, lambda: NOW + timedelta(days=40))  # January: no rating at all
    with TestClient(channelled.app) as client:
        web = Web(channelled.settings, channelled.sessions, client, channelled.token)
        _login(web, "head")
        lines = _lines(client.get("/dashboard?period=month").text)
    assert [cells[1:3] for cells in lines.values()] == [["0*", "—"]] * 6


def test_an_officer_has_no_channel_card(channelled: WebApp) -> None:
    with TestClient(channelled.app) as client:
        web = Web(channelled.settings, channelled.sessions, client, channelled.token)
        _login(web, "lan")
        page = client.get("/dashboard").text
    assert 'id="by-channel"' not in page


@needs_chromium
@pytest.mark.timeout(90)
def test_the_channel_card_in_chromium(
    channelled: WebApp, page: playwright.Page, served: str, tmp_path: Path
) -> None:
    _browser_login(page, served, "head")
    page.goto(f"{served}/dashboard?period=today")
    card = page.locator("#by-channel")
    assert "Phiếu giấy" in card.inner_text()
    shot = (Path(SHOTS) if SHOTS else tmp_path) / "dashboard-channels.png"
    page.locator("section.analysis").screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
