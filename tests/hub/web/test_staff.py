"""The counter officer's page: log in, issue and print, reprint, return; CSRF and lock-out."""

from __future__ import annotations

import re

from tests.hub.web.conftest import PASSWORD, Web


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


def test_wrong_passwords_lock_the_name_out(web: Web) -> None:
    for _ in range(4):
        assert "không đúng" in _login(web, password="wrong password!")
    assert "5 phút" in _login(web, password="wrong password!")
    assert "5 phút" in _login(web)  # even the right password, for five minutes


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
