"""The province pages over HTTP with scoped logins (hub.web.province): who reaches which unit,
refusals as 403/404 that never carry another unit's figures, the targets form's bounds, and the
home unit's pages closed to logins of other units."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hailong.settings import ReceiptKeys, Unit
from tests.hub.province_data import (
    DEPT,
    PASSWORD,
    PROVINCE,
    WARD_A,
    WARD_B,
    province_app,
)


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, unit: Unit, receipt_keys: ReceiptKeys
) -> Iterator[TestClient]:
    app, _ = province_app(tmp_path_factory.mktemp("province"), unit, receipt_keys)
    with TestClient(app) as client:
        yield client


def _login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    page = client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    form = {"username": username, "password": PASSWORD, "csrf": token.group(1)}
    client.post("/staff/login", data=form, follow_redirects=False)


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_a_province_head_sees_every_unit(client: TestClient) -> None:
    _login(client, "tinh-head")
    page = client.get("/province?period=month")
    assert page.status_code == 200
    for name in ("Phường Bắc Nha Trang", "Sở Tài nguyên và Môi trường", "Xã Đắk Lắk"):
        assert name in page.text
    assert "90,0 %" in page.text
    assert "Chưa đủ lượt đánh giá để xếp hạng" in page.text
    unit = client.get(f"/province/unit/{DEPT}?period=month")
    assert unit.status_code == 200
    assert "60,0 %" in unit.text
    assert client.get(f"/trends?unit={WARD_B}").status_code == 200
    assert client.get("/dashboard").status_code == 200  # the home unit is in the province


def test_a_unit_head_sees_their_unit_only(client: TestClient) -> None:
    _login(client, "phuong-b")
    own = client.get("/province?period=month")
    assert own.status_code == 200
    assert "Phường Bắc Nha Trang" in own.text
    assert "Nghĩa Tân" not in own.text
    assert "Tỉnh Khánh Hòa" not in own.text
    for path in (
        f"/province?unit={PROVINCE}",
        f"/province?unit={WARD_A}",
        f"/province/unit/{WARD_A}",
        f"/province/unit/{WARD_A}?counter=Q1&officer=CB001",
        f"/trends?unit={WARD_A}",
        "/province/unit/999.99.99.X00",
    ):
        refused = client.get(path)
        assert refused.status_code == 404, path
        assert "Nghĩa Tân" not in refused.text
        assert "Nguyễn Thị Lan" not in refused.text
    # The home unit's pages are not theirs: sent to their province page.
    moved = client.get("/dashboard", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (303, "/province")


def test_an_old_login_without_a_scope_is_the_home_units(client: TestClient) -> None:
    _login(client, "head")
    assert client.get(f"/province/unit/{WARD_A}?period=month").status_code == 200
    assert client.get(f"/province/unit/{WARD_B}").status_code == 404
    assert client.get("/dashboard").status_code == 200


def test_officers_see_themselves_only(client: TestClient) -> None:
    _login(client, "lan")  # CB001 of the home unit
    assert client.get("/province").status_code == 403
    assert client.get(f"/province/unit/{WARD_A}").status_code == 403
    assert client.get("/targets").status_code == 403
    trend = client.get("/trends")
    assert trend.status_code == 200
    assert "(CB001)" in trend.text
    assert client.get(f"/trends?unit={WARD_B}").status_code == 404
    _login(client, "lan-b")  # an officer of another unit: none of the home unit's pages
    assert client.get("/dashboard", follow_redirects=False).status_code == 403


def test_targets_are_set_by_the_province_admin_only(client: TestClient) -> None:
    _login(client, "tinh-admin")
    token = _csrf(client, "/targets?year=2026")
    form = {"csrf": token, "unit": WARD_B, "year": "2026", "rate": "92,5"}
    saved = client.post("/targets", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert "done=" in saved.headers["location"]
    assert "92,5 %" in client.get("/targets?year=2026").text
    assert "92,5 %" in client.get(f"/trends?unit={WARD_B}&year=2026").text
    for bad in ("100,1", "-1", "abc", "nan"):
        refused = client.post("/targets", data={**form, "rate": bad}, follow_redirects=False)
        assert "error=" in refused.headers["location"], bad
    assert "92,5 %" in client.get("/targets?year=2026").text  # nothing lost
    at_bound = client.post("/targets", data={**form, "rate": "100"}, follow_redirects=False)
    assert "done=" in at_bound.headers["location"]
    assert client.post("/targets", data={**form, "csrf": "forged"}).status_code == 403
    _login(client, "phuong-b-admin")  # a unit's admin cannot set their own
    token = _csrf(client, "/targets?year=2026")
    own = client.post("/targets", data={**form, "csrf": token, "rate": "50"})
    assert own.status_code == 403
    page = client.get("/targets?year=2026")
    assert "100 %" in page.text.replace("100,0 %", "100 %")
    assert 'name="rate"' not in page.text
