"""``/``: a signed-in login goes to its working page, anyone else gets the landing page (the
unit's name, the staff login, the public results, how to rate online), never a bare 404."""

from __future__ import annotations

import re

from hailong.settings import Unit
from hub.web.accounts import Accounts
from tests.hub.web.conftest import PASSWORD, Web


def _login(web: Web, username: str) -> None:
    page = web.client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    form = {"username": username, "password": PASSWORD, "csrf": token.group(1)}
    assert web.client.post("/staff/login", data=form, follow_redirects=False).status_code == 303


def test_a_visitor_lands_on_the_units_page(web: Web, unit: Unit) -> None:
    answer = web.client.get("/", follow_redirects=False)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert unit.unit.name in page
    assert 'href="/staff/login"' in page
    assert 'href="/public"' in page
    assert "quét mã QR trên giấy hẹn" in page
    assert "https://hailong.example.gov.vn/r/…" in page
    # Vietnamese first, English after it.
    assert page.index("Đăng nhập") < page.index("Log in")
    assert page.index("Đánh giá trực tuyến") < page.index("Rate online")
    # Every answer carries the security headers, this one too.
    assert "content-security-policy" in answer.headers
    # The links lead somewhere.
    assert web.client.get("/staff/login").status_code == 200
    assert web.client.get("/public").status_code == 200
    assert web.client.post("/").status_code == 405  # a page to read, nothing to send


def _logout(web: Web) -> None:
    page = web.client.get("/staff/password")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    web.client.post("/staff/logout", data={"csrf": token.group(1)})


def test_a_login_goes_to_its_working_page_and_back_to_the_landing_after_logout(web: Web) -> None:
    Accounts(web.settings.web.accounts_file).add("root", PASSWORD, "admin")  # type: ignore[union-attr]
    for username, home in (("lan", "/staff"), ("head", "/dashboard"), ("root", "/staff")):
        _login(web, username)
        answer = web.client.get("/", follow_redirects=False)
        assert answer.status_code == 303, username
        assert answer.headers["location"] == home, username
        _logout(web)
        assert web.client.get("/", follow_redirects=False).status_code == 200, username
