"""Coverage beside every rate on the dashboard (issue 17): receipts rated of receipts issued, the
low-response note, the officer who issued receipts but has no rating, and an officer seeing only
their own line. Hand-counted: 59 receipts today, 9 rated, 13 abandoned."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score
from hub.domain.ingest import Attribution
from hub.store.models import AbandonedSessionRow, ReceiptRow
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import Web, WebApp, needs_chromium, set_clock
from tests.hub.web.test_dashboard import _cells, _login
from tests.hub.web.test_followup_browser import _login as _browser_login
from tests.hub.web.test_ops_browser import SHOTS, playwright

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
ISSUED = NOW - timedelta(hours=1)
# officer, counter, receipts (first seq, last seq), rated up to, abandoned seqs
PLAN = (
    ("CB001", "Q1", range(1, 26), range(1, 6), range(6, 9)),  # Lan: 5 of 25 rated, 3 abandoned
    ("CB002", "Q1", range(26, 30), range(26, 30), range(0)),  # Minh: 4 of 4, few receipts
    ("CB003", "Q2", range(30, 60), range(0), range(30, 40)),  # Hồng: 0 of 30, 10 abandoned
)


def _code(seq: int) -> str:
    return f"000.00.20.H41-261125-{seq:04d}"


def _seed(web: WebApp) -> None:
    items = []
    with web.sessions.begin() as session:
        for officer, counter, receipts, rated, abandoned in PLAN:
            for seq in receipts:
                session.add(
                    ReceiptRow(
                        dossier_code=_code(seq),
                        unit="000.00.20.H41",
                        procedure="1.001193",
                        counter=counter,
                        officer=officer,
                        key_id="k1",
                        url=f"https://hailong.example.gov.vn/r/{_code(seq)}",
                        issued_at=ISSUED,
                    )
                )
            for seq in abandoned:
                session.add(
                    AbandonedSessionRow(
                        id=str(uuid.uuid4()),
                        unit="000.00.20.H41",
                        kiosk="kiosk-q1",
                        seq=1000 + seq,
                        dossier_code=_code(seq),
                        receipt_verified=True,
                        receipt_known=True,
                        stage="reception",
                        counter=counter,
                        officer=officer,
                        procedure="1.001193",
                        field="ho-tich",
                        reason="timeout",
                        scanned_at=ISSUED + timedelta(minutes=2),
                        ended_at=ISSUED + timedelta(minutes=3),
                        received_at=ISSUED + timedelta(minutes=3),
                    )
                )
            for seq in rated:
                rating = make_rating(
                    seq=seq,
                    score=Score.SATISFIED,
                    officer=officer,
                    counter=counter,
                    rated_at=ISSUED + timedelta(minutes=4),
                    receipt=ReceiptRef(code=_code(seq), verified=True),
                )
                attribution = Attribution(counter, officer, "1.001193", "ho-tich", True)
                items.append((rating, attribution))
        session.flush()
        store_batch(session, items, NOW)


@pytest.fixture
def covered(web_app: WebApp) -> WebApp:
    set_clock(web_app.app, lambda: NOW)
    _seed(web_app)
    return web_app


def _table(page: str, title: str) -> str:
    found = re.search(rf"<h1>{title} <small>.*?</table>", page, re.S)
    assert found, title
    return found.group(0)


def _row(table: str, name: str) -> list[str]:
    for row in re.findall(r"<tr[^>]*>.*?</tr>", table, re.S):
        if name in row:
            return _cells(row)
    raise AssertionError(f"no row for {name}")


def test_a_unit_head_sees_the_response_beside_every_rate(covered: WebApp) -> None:
    with TestClient(covered.app) as client:
        web = Web(covered.settings, covered.sessions, client, covered.token)
        page = _login(web, "head")
    officers = _table(page, "Theo công chức")
    assert "Phản hồi" in officers
    # Lan: 5 ratings, all satisfied, but only 5 of 25 receipts: 20 %, low response.
    assert _row(officers, "Nguyễn Thị Lan")[1:] == [
        "5*",
        "100.0 %",
        "57–100",
        "5/25 · 20 % ⚠ tỷ lệ phản hồi thấp / low response",
    ]
    # Minh: 4 of 4, too few receipts to judge.
    assert _row(officers, "Trần Văn Minh")[-1] == "4/4 · 100 % ít biên nhận / few receipts"
    # Hồng issued 30 receipts and has no rating at all: listed anyway, not hidden.
    assert _row(officers, "Lê Thị Hồng") == [
        "Lê Thị Hồng",
        "0*",
        "—",
        "—",
        "0/30 · 0 % ⚠ tỷ lệ phản hồi thấp / low response",
    ]
    counters = _table(page, "Theo quầy")
    assert _row(counters, "Quầy 1")[-1] == "9/29 · 31 %"  # Lan's 25 and Minh's 4: not low
    # Today's headline: 9 rated of 59 issued (15 %).
    headline = re.search(r'<p class="small response">(.*?)</p>', page, re.S)
    assert headline
    assert "9/59 · 15 %" in headline.group(1)
    assert "tỷ lệ phản hồi thấp" in headline.group(1)
    # The hover title spells out the outcomes: 59 = 9 rated + 13 abandoned + 37 not reached.
    assert "59 biên nhận / receipts: 9 đã đánh giá / rated, 13 bỏ dở / abandoned, 37" in page


def test_an_officer_sees_only_their_own_response(covered: WebApp) -> None:
    with TestClient(covered.app) as client:
        web = Web(covered.settings, covered.sessions, client, covered.token)
        _login(web, "lan")
        page = client.get("/dashboard").text
    officers = _table(page, "Theo công chức")
    assert _row(officers, "Nguyễn Thị Lan")[-1].startswith("5/25 · 20 %")
    assert "Lê Thị Hồng" not in page
    assert "Trần Văn Minh" not in page
    assert "0/30" not in page
    assert "4/4" not in page


@needs_chromium
@pytest.mark.timeout(90)
def test_the_response_column_in_chromium(
    covered: WebApp, page: playwright.Page, served: str, tmp_path: Path
) -> None:
    _browser_login(page, served, "head")
    page.goto(f"{served}/dashboard?period=today")
    assert page.locator("small.low-response").count() >= 3  # Lan, Hồng, the headline
    tables = page.locator("div.grid.wide")
    assert "Phản hồi" in tables.inner_text()
    box = tables.bounding_box()
    assert box
    shot = (Path(SHOTS) if SHOTS else tmp_path) / "dashboard-coverage.png"
    # The headlines and the four tables: the rates and, beside each, its response.
    bottom = box["y"] + box["height"] + 12
    page.screenshot(
        path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": bottom}
    )
    assert shot.stat().st_size > 10_000
