"""The public pages (hub.web.public) and the official report's export (hub.web.exports) over
HTTP, on the small province of tests.hub.province_data: no login and no personal data on the
public pages, the report's job for heads and admins within their reach only."""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score
from hailong.settings import ReceiptKeys, Unit
from hub.domain.ingest import Attribution
from hub.store.models import ReceiptRow
from hub.store.ratings import store_batch
from hub.web.context import current
from tests.hailong.contract.test_messages import make_rating
from tests.hub.province_data import HANOI, NOW, PASSWORD, WARD_A, WARD_B, province_app

CITIZEN = "Đoàn Thị Riêng Tư"
PHONE = "0987654321"
COMMENT = "Bình luận bí mật của người dân"
CODE = f"{WARD_A}-261120-0777"


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, unit: Unit, receipt_keys: ReceiptKeys
) -> Iterator[TestClient]:
    app, _ = province_app(tmp_path_factory.mktemp("public"), unit, receipt_keys)
    sessions = current(app).sessions
    rating = make_rating(
        id=uuid.uuid4(),
        unit=WARD_A,
        seq=9001,
        score=Score.VERY_DISSATISFIED,
        rated_at=datetime(2026, 11, 20, 9, 0, tzinfo=HANOI),
        receipt=ReceiptRef(code=CODE, verified=True),
        comment=COMMENT,
        callback_phone=PHONE,
        reasons=("thai-do",),
    )
    with sessions.begin() as session:
        store_batch(
            session,
            [(rating, Attribution("Q1", "CB001", "1.001193", "ho-tich", True))],
            NOW.astimezone(UTC),
        )
        session.add(
            ReceiptRow(
                dossier_code=CODE,
                unit=WARD_A,
                procedure="1.001193",
                counter="Q1",
                officer="CB001",
                key_id="k1",
                url="https://hailong.example.gov.vn/r/x",
                issued_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
                origin="issued",
                citizen_name=CITIZEN,
                citizen_contact=PHONE,
            )
        )
    with TestClient(app) as client:
        yield client


def _login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    page = client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    form = {"username": username, "password": PASSWORD, "csrf": token.group(1)}
    client.post("/staff/login", data=form, follow_redirects=False)


def _csrf(client: TestClient) -> str:
    page = client.get("/reports/official")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_the_public_pages_need_no_login_and_show_no_personal_data(client: TestClient) -> None:
    client.cookies.clear()
    province = client.get("/public/province")
    unit = client.get(f"/public/units/{WARD_A}")
    for page in (province, unit):
        assert page.status_code == 200
        assert page.headers["cache-control"] == "public, max-age=300"
        assert "set-cookie" not in page.headers
        assert 'name="csrf"' not in page.text
        for secret in (CITIZEN, PHONE, COMMENT, CODE, "Nguyễn Thị Lan", "Trần Văn Minh"):
            assert secret not in page.text, secret
        assert "Nói chung" in page.text
    for name in ("Phường Bắc Nha Trang", "Sở Tài nguyên và Môi trường", "Tổng: Tỉnh Khánh Hòa"):
        assert name in province.text
    # The header names the page's subject, not the hub's home unit.
    assert "<strong>Hài Lòng</strong> · Tỉnh Khánh Hòa" in province.text
    assert (
        "<strong>Hài Lòng</strong> · Trung tâm Phục vụ hành chính công phường Nghĩa Tân"
        in unit.text
    )
    assert "Đất đai" in unit.text  # a field of the catalogue nobody rated: an n = 0 row
    assert "Chỉ số đánh giá của cán bộ" not in unit.text  # officers' indices are not public
    assert "Thái độ cán bộ chưa tốt" in unit.text  # the reason, counted, without its comment


def test_the_public_pages_refuse_unknown_units_and_periods(client: TestClient) -> None:
    assert client.get("/public/units/000.99.99.H41").status_code == 404
    assert client.get(f"/public/units/{WARD_A}?period=2026Q5").status_code == 422
    assert client.get(f"/public/units/{WARD_A}?period=2027Q1").status_code == 404
    assert client.get(f"/public/units/{WARD_A}?period=2026").status_code == 200
    assert client.get(f"/public/units/{WARD_A}?period=x" + "9" * 20).status_code == 422


def _make(client: TestClient, **form: str) -> tuple[int, str]:
    data = {"csrf": _csrf(client), "period": "2026Q4", "format": "xlsx"} | form
    answer = client.post("/reports/official", data=data, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", answer.text)


def _download(client: TestClient, location: str) -> bytes:
    for _ in range(200):
        page = client.get(location)
        assert page.status_code == 200
        found = re.search(r'href="(/reports/official/jobs/[^"]+/file)"', page.text)
        if found:
            content: bytes = client.get(found.group(1)).content
            return content
        assert "Không lập được" not in page.text, page.text
        time.sleep(0.05)
    raise AssertionError("the report was not made in time")


def test_a_province_head_makes_the_province_report(client: TestClient) -> None:
    _login(client, "tinh-head")
    status, location = _make(client, scope="province", number="17", recipients="Sở Nội vụ")
    assert status == 303, location
    book = load_workbook(io.BytesIO(_download(client, location)))
    cover = [row[0] for row in book["Báo cáo"].iter_rows(values_only=True)]
    assert "Số: 17/BC-UBND" in cover
    assert "- Sở Nội vụ" in cover
    assert "- Lưu: VT" in cover
    summary = {row[0]: row[1] for row in book["1. summary"].iter_rows(min_row=6, values_only=True)}
    # Q4 2026: WARD_A 10 in October, 40 + 1 planted in November; WARD_B 50, DEPT 35, SMALL 10
    assert summary["Tổng: Tỉnh Khánh Hòa"] == 146
    assert summary["Phường Bắc Nha Trang"] == 50


def test_the_report_is_for_heads_and_admins_within_their_reach(client: TestClient) -> None:
    _login(client, "phuong-b")
    assert _make(client, scope="province")[0] == 403
    assert _make(client, unit=WARD_A)[0] == 403
    status, location = _make(client, unit=WARD_B, format="pdf")
    assert status == 303
    assert _download(client, location)[:5] == b"%PDF-"
    assert _make(client, unit=WARD_B, symbol="CV-1")[0] == 422
    assert _make(client, unit=WARD_B, number="0")[0] == 422
    assert _make(client, unit=WARD_B, period="2027")[0] == 422
    _login(client, "lan")
    assert client.get("/reports/official").status_code == 403
    client.cookies.clear()
    assert client.get("/reports/official", follow_redirects=False).status_code == 303
    _login(client, "head")
    assert _make(client)[0] == 303  # the home unit, by default
