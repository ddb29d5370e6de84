"""Attacks on the hub's web side: injection, fixation, other units' data, forged links."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from hub.store.models import ReceiptRow
from tests.hub.web.conftest import PASSWORD, Web


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _login(web: Web, username: str = "lan") -> None:
    page = web.client.get("/staff/login")
    form = {"username": username, "password": PASSWORD, "csrf": _csrf(page.text)}
    web.client.post("/staff/login", data=form)


def test_html_in_a_citizens_name_is_shown_as_text(web: Web) -> None:
    _login(web)
    page = web.client.get("/staff")
    form = {
        "csrf": _csrf(page.text),
        "procedure": "1.001193",
        "counter": "Q1",
        "citizen_name": "<script>alert('x')</script>",
    }
    receipt = web.client.post("/staff/issue", data=form)
    assert "<script>alert" not in receipt.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in receipt.text


def test_sql_in_inputs_is_just_a_bad_value(web: Web) -> None:
    _login(web, "head")
    assert web.client.get("/dashboard?period=month';DROP TABLE ratings;--").status_code == 422
    auth = {"Authorization": f"Bearer {web.token}"}
    probe = web.client.get("/api/v1/receipts/x' OR '1'='1", headers=auth)
    assert probe.status_code == 404
    with web.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReceiptRow)) == 0


def test_a_session_cookie_planted_before_login_is_not_kept(web: Web) -> None:
    web.client.cookies.set("hailong_session", "planted-by-an-attacker")
    _login(web)
    issued = [c.value for c in web.client.cookies.jar if c.name == "hailong_session"]
    assert any(v != "planted-by-an-attacker" for v in issued)  # the server signed its own
    assert web.client.get("/staff").status_code == 200
    web.client.cookies.clear()
    web.client.cookies.set("hailong_session", "planted-by-an-attacker")
    response = web.client.get("/staff", follow_redirects=False)
    assert response.headers["location"] == "/staff/login"  # the planted value logs nobody in


def test_another_units_receipts_are_refused_everywhere(web: Web) -> None:
    foreign = "000.00.99.H99-261125-0001"
    page = web.client.get(f"/r/{foreign}?p=1.001193&c=Q1&o=CB001&k=k1&s=AAAAAAAAAAAAAAAAAAAAAA")
    assert page.status_code == 400
    _login(web)
    form = {"csrf": _csrf(web.client.get("/staff").text), "scanned": foreign,
            "procedure": "1.001193", "counter": "Q1"}  # fmt: skip
    registered = web.client.post("/staff/register", data=form)
    assert "belongs to unit 000.00.99.H99" in registered.text


def test_pages_for_staff_and_heads_refuse_the_public(web: Web) -> None:
    for path in ("/staff", "/dashboard", "/staff/receipts/000.00.20.H41-261125-0001"):
        response = web.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/staff/login"
    assert web.client.get("/api/v1/receipts/000.00.20.H41-261125-0001").status_code == 401
