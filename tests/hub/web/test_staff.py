"""The counter officer's page: log in, issue and print, reprint, return; CSRF and lock-out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.web.app import create_app
from hub.web.context import current
from tests.hub.web.conftest import PASSWORD, Web, WebApp


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _login(web: Web, username: str = "lan", password: str = PASSWORD) -> str:
    page = web.client.get("/staff/login")
    response = web.client.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf": _csrf(page.text)},
    )
    return response.text


def test_the_page_needs_a_login(web: Web) -> None:
    response = web.client.get("/staff", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login"


def _login_from(
    client: TestClient, username: str = "lan", password: str = PASSWORD
) -> httpx.Response:
    page = client.get("/staff/login")
    form = {"username": username, "password": password, "csrf": _csrf(page.text)}
    response: httpx.Response = client.post("/staff/login", data=form)
    return response


def test_wrong_passwords_lock_the_name_out_from_that_address(web: Web) -> None:
    for _ in range(4):
        assert "không đúng" in _login(web, password="wrong password!")
    assert "5 phút" in _login(web, password="wrong password!")  # the 5th locks
    assert "5 phút" in _login(web)  # the 6th: even the right password, for five minutes


def test_nobody_locks_the_admin_out_from_the_lobby(web: Web) -> None:
    lobby = TestClient(web.client.app, client=("192.0.2.10", 40000))
    for _ in range(12):
        _login_from(lobby, "admin", "wrong password!")
    assert "5 phút" in _login_from(lobby, "admin").text  # locked there
    desk = TestClient(web.client.app, client=("192.0.2.20", 40000))
    admin_password = (web.settings.web.accounts_file.parent / "admin.password").read_text()  # type: ignore[union-attr]
    answer = _login_from(desk, "admin", admin_password.strip())
    assert answer.url.path == "/staff"  # the admin at their own desk is in


def test_the_lock_backs_off_and_ends_on_the_clock(web_app: WebApp) -> None:
    now = [datetime(2026, 12, 1, 8, 0, tzinfo=UTC)]
    unit = current(web_app.app).unit
    app = create_app(web_app.settings, unit, web_app.sessions, lambda: now[0])
    client = TestClient(app)
    for _ in range(5):
        _login_from(client, password="wrong password!")
    now[0] += timedelta(minutes=4, seconds=59)
    assert "sau 1 phút" in _login_from(client).text  # still locked one second before the end
    now[0] += timedelta(seconds=1)
    assert "sau 10 phút" in _login_from(client, password="wrong password!").text  # doubled
    now[0] += timedelta(minutes=10)
    assert _login_from(client).url.path == "/staff"


def test_a_cookie_copied_before_logout_fails_after_it(web: Web) -> None:
    page = _login(web)
    copied = dict(web.client.cookies)
    thief = TestClient(web.client.app, cookies=copied)
    assert thief.get("/staff").status_code == 200  # the copy works while the session lives
    web.client.post("/staff/logout", data={"csrf": _csrf(page)})
    stolen = thief.get("/staff", follow_redirects=False)
    assert stolen.status_code == 303
    assert stolen.headers["location"] == "/staff/login"
    assert thief.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_password_change_logs_out_the_other_sessions(web: Web) -> None:
    other = TestClient(web.client.app)
    assert _login_from(other).url.path == "/staff"
    _login(web)
    form = {"csrf": _csrf(web.client.get("/staff/password").text), "current": PASSWORD,
            "new": "a brand new password", "again": "a brand new password"}  # fmt: skip
    changed = web.client.post("/staff/password", data=form)
    assert "Đã đổi mật khẩu" in changed.text
    assert web.client.get("/staff").status_code == 200  # this browser stays in
    assert other.get("/staff", follow_redirects=False).status_code == 303
    assert _login_from(TestClient(web.client.app)).url.path == "/staff/login"  # old password
    fresh = _login_from(TestClient(web.client.app), password="a brand new password")
    assert fresh.url.path == "/staff"


def test_a_password_change_needs_the_current_password_and_matching_new_ones(web: Web) -> None:
    _login(web, "head")
    csrf = _csrf(web.client.get("/staff/password").text)
    base = {"csrf": csrf, "current": PASSWORD}
    wrong = web.client.post("/staff/password", data={**base, "current": "nope nope nope",
                            "new": "0123456789", "again": "0123456789"})  # fmt: skip
    assert "Mật khẩu hiện tại không đúng" in wrong.text
    differ = web.client.post("/staff/password", data={**base, "new": "0123456789",
                             "again": "0123456780"})  # fmt: skip
    assert "không khớp" in differ.text
    short = web.client.post("/staff/password", data={**base, "new": "012345678",
                            "again": "012345678"})  # fmt: skip
    assert "từ 10 đến 200" in short.text
    assert _login_from(TestClient(web.client.app), "head").url.path == "/dashboard"  # unchanged


def test_refused_logins_are_counted_in_the_metrics(web: Web) -> None:
    _login(web, "nobody")
    for _ in range(6):
        _login(web, password="wrong password!")
    text = web.client.get("/metrics", headers={"Authorization": f"Bearer {web.token}"}).text
    refused = {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "hailong_logins_refused_total"
    }
    assert refused == {"wrong_password": 5, "unknown_user": 1, "locked": 1}


def test_a_unit_head_cannot_issue_receipts(web: Web) -> None:
    _login(web, "head")
    assert web.client.get("/staff").status_code == 403


def test_issue_print_reprint_and_return_at_the_counter(web: Web) -> None:
    page = _login(web)
    assert "Cấp giấy hẹn" in page
    assert "Đăng ký khai sinh" in page  # procedures by name, grouped by field
    form = {
        "csrf": _csrf(page),
        "procedure": "1.001193",
        "counter": "Q1",
        "promised_on": "2099-12-01",
        "citizen_name": "Trần Thị B",
    }
    receipt = web.client.post("/staff/issue", data=form)
    assert receipt.status_code == 200
    assert "Đã in giấy hẹn" in receipt.text
    code = re.search(r'<p class="code">([^<]+)</p>', receipt.text)
    assert code
    dossier = code.group(1)
    assert "data:image/png;base64," in receipt.text
    assert "Trần Thị B" in receipt.text
    again = web.client.post(f"/staff/receipts/{dossier}/reprint", data={"csrf": _csrf(page)})
    assert "Đã in giấy hẹn" in again.text
    returned = web.client.post("/staff/return", data={"csrf": _csrf(page), "scanned": dossier})
    assert f"Đã trả kết quả hồ sơ {dossier}" in returned.text
    assert "Máy kiosk-q1 đang mời công dân đánh giá" in returned.text
    desk = web.client.get("/staff")
    assert dossier in desk.text


def test_a_counter_without_printer_keeps_the_receipt_and_says_so(web: Web) -> None:
    page = _login(web)
    form = {"csrf": _csrf(page), "procedure": "1.001193", "counter": "Q3"}
    receipt = web.client.post("/staff/issue", data=form)
    assert "Chưa in được giấy hẹn" in receipt.text
    assert "chưa có máy in" in receipt.text


def test_forms_without_the_csrf_token_are_refused(web: Web) -> None:
    _login(web)
    form = {"csrf": "forged", "procedure": "1.001193", "counter": "Q1"}
    assert web.client.post("/staff/issue", data=form).status_code == 403


def test_bad_input_comes_back_as_a_message(web: Web) -> None:
    page = _login(web)
    response = web.client.post(
        "/staff/return", data={"csrf": _csrf(page), "scanned": "000.00.20.H41-261125-9999"}
    )
    assert "no receipt 000.00.20.H41-261125-9999" in response.text
    junk = web.client.post("/staff/return", data={"csrf": _csrf(page), "scanned": "hello"})
    assert 'class="error"' in junk.text
