"""Finding 5 of issue 15: an officer could open any colleague's receipt (with the citizen's name
and the signed QR), rate it online before the citizen, and reprint it. Now an officer reaches only
the receipts they issued, the QR is on screen once (at issue), and no staff session can rate."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hailong.settings import Unit
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.receipts.issuing import UnknownReceiptError
from hub.store.models import RatingRow
from hub.web.accounts import Accounts
from tests.hub.web.conftest import PASSWORD, Web

QR = "data:image/png;base64,"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return str(match.group(1))


def _login(client: TestClient, username: str) -> str:
    page = client.get("/staff/login")
    form = {"username": username, "password": PASSWORD, "csrf": _csrf(page.text)}
    response = client.post("/staff/login", data=form)
    assert response.status_code == 200, response.text
    return str(response.text)


def _issue(client: TestClient, page: str, name: str = "Trần Thị B") -> tuple[str, str]:
    """Issue at Q1 as the logged-in officer; the receipt's code and the page that answered."""
    form = {"csrf": _csrf(page), "procedure": "1.001193", "counter": "Q1", "citizen_name": name,
            "citizen_contact": "0912 345 678"}  # fmt: skip
    receipt = client.post("/staff/issue", data=form)
    found = re.search(r'<p class="code">([^<]+)</p>', receipt.text)
    assert found, receipt.text
    return found.group(1), receipt.text


@pytest.fixture
def colleague(web: Web) -> TestClient:
    """A second officer, CB002 (``binh``), logged in from their own browser."""
    Accounts(web.settings.web.accounts_file).add("binh", PASSWORD, "officer", "CB002")  # type: ignore[union-attr]
    client = TestClient(web.client.app)
    _login(client, "binh")
    return client


def test_an_officer_cannot_open_or_reprint_a_colleagues_receipt(
    web: Web, colleague: TestClient
) -> None:
    code, _ = _issue(web.client, _login(web.client, "lan"))
    page = colleague.get(f"/staff/receipts/{code}")
    assert page.status_code == 404  # as for a code that does not exist: nothing to probe
    assert "Trần Thị B" not in page.text
    assert QR not in page.text
    missing = colleague.get("/staff/receipts/000.00.20.H41-261125-9999")
    assert missing.status_code == page.status_code
    desk = colleague.get("/staff")
    assert code not in desk.text  # not in their list either
    reprint = colleague.post(f"/staff/receipts/{code}/reprint", data={"csrf": _csrf(desk.text)})
    assert f"no receipt {code}" in reprint.text
    assert QR not in reprint.text
    assert reprint.url.path == "/staff"  # back at the desk, not on the receipt


def test_the_issuing_officer_sees_the_qr_once_and_the_citizen_after(web: Web) -> None:
    code, fresh = _issue(web.client, _login(web.client, "lan"))
    assert QR in fresh
    assert "Trần Thị B" in fresh
    assert "0912 345 678" in fresh
    later = web.client.get(f"/staff/receipts/{code}")
    assert later.status_code == 200
    assert QR not in later.text
    assert "/r/" not in later.text
    assert "Trần Thị B" in later.text  # the issuing officer still sees whose receipt it is
    again = web.client.post(f"/staff/receipts/{code}/reprint", data={"csrf": _csrf(later.text)})
    assert "Đã in giấy hẹn" in again.text
    assert QR not in again.text  # the slip is printed; the screen does not show it again


def test_an_old_cookie_does_not_show_the_qr_again(web: Web) -> None:
    page = _login(web.client, "lan")
    form = {"csrf": _csrf(page), "procedure": "1.001193", "counter": "Q1"}
    answer = web.client.post("/staff/issue", data=form, follow_redirects=False)
    copied = dict(web.client.cookies)  # the cookie as it was before the receipt was shown
    shown = web.client.get(answer.headers["location"])
    assert QR in shown.text
    replay = TestClient(web.client.app, cookies=copied)
    assert QR not in replay.get(answer.headers["location"]).text


def test_an_administrator_reaches_every_receipt_without_personal_data(web: Web) -> None:
    code, _ = _issue(web.client, _login(web.client, "lan"))
    Accounts(web.settings.web.accounts_file).add("root", PASSWORD, "admin")  # type: ignore[union-attr]
    admin = TestClient(web.client.app)
    _login(admin, "root")
    page = admin.get(f"/staff/receipts/{code}")
    assert page.status_code == 200
    assert "Trần Thị B" not in page.text
    assert "0912" not in page.text
    assert QR not in page.text
    assert (
        "Đã in giấy hẹn"
        in admin.post(f"/staff/receipts/{code}/reprint", data={"csrf": _csrf(page.text)}).text
    )


def test_lists_never_show_citizens(web: Web) -> None:
    code, _ = _issue(web.client, _login(web.client, "lan"))
    desk = web.client.get("/staff")
    assert code in desk.text
    assert "Trần Thị B" not in desk.text


def test_the_api_gives_the_rating_url_at_issue_only(web: Web) -> None:
    auth = {"Authorization": f"Bearer {web.token}"}
    issued = web.client.post(
        "/api/v1/receipts",
        json={"counter": "Q1", "officer": "CB001", "procedure": "1.001193", "print": False},
        headers=auth,
    ).json()
    assert issued["url"].startswith("https://hailong.example.gov.vn/r/")
    code = issued["code"]
    assert web.client.get(f"/api/v1/receipts/{code}", headers=auth).json()["url"] is None
    assert web.client.post(f"/api/v1/receipts/{code}/reprint", headers=auth).json()["url"] is None
    own = web.client.get(f"/api/v1/receipts/{code}?officer=CB001", headers=auth)
    assert own.status_code == 200
    other = web.client.get(f"/api/v1/receipts/{code}?officer=CB002", headers=auth)
    assert other.status_code == 404
    reprint = web.client.post(f"/api/v1/receipts/{code}/reprint?officer=CB002", headers=auth)
    assert reprint.status_code == 404


def test_the_desk_scopes_every_caller_alike(web: Web, unit: Unit) -> None:
    desk = ReceiptDesk(web.settings, unit, web.sessions)
    printed = desk.issue(
        IssueRequest("Q1", "CB001", "1.001193", citizen_name="Lê C", citizen_contact="lec@x.vn"),
        print_slip=False,
    )
    code = str(printed.receipt.code)
    own = desk.view(code, issued_by="CB001")
    assert (own.citizen_name, own.citizen_contact) == ("Lê C", "lec@x.vn")
    assert not hasattr(own, "url")
    anyone = desk.view(code)
    assert (anyone.citizen_name, anyone.citizen_contact) == (None, None)
    for attempt in (
        lambda: desk.view(code, issued_by="CB002"),
        lambda: desk.reprint(code, issued_by="CB002"),
        lambda: desk.view(code, issued_by=""),  # an officer account without a code
    ):
        with pytest.raises(UnknownReceiptError):
            attempt()
    assert [r.code for r in desk.recent(printed.receipt.issued_at, issued_by="CB002")] == []
    mine = desk.recent(printed.receipt.issued_at, issued_by="CB001")
    assert [r.code for r in mine] == [code]
    assert mine[0].citizen_name is None


def _rating_path(web: Web, unit: Unit) -> str:
    desk = ReceiptDesk(web.settings, unit, web.sessions)
    url = desk.issue(IssueRequest("Q1", "CB001", "1.001193"), print_slip=False).receipt.url
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _ratings(web: Web) -> int:
    with web.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RatingRow)) or 0)


@pytest.mark.parametrize("username", ["lan", "head", "root"])
def test_a_staff_session_cannot_rate(web: Web, unit: Unit, username: str) -> None:
    Accounts(web.settings.web.accounts_file).add("root", PASSWORD, "admin")  # type: ignore[union-attr]
    path = _rating_path(web, unit)
    anonymous = web.client.get(path)  # the page and its CSRF token, before logging in
    assert anonymous.status_code == 200
    _login(web.client, username)
    page = web.client.get(path)
    assert page.status_code == 403
    assert "cán bộ không được đánh giá thay người dân" in page.text
    assert "staff cannot rate on a citizen" in page.text
    posted = web.client.post(path, data={"csrf": _csrf(page.text), "score": "5"})
    assert posted.status_code == 403
    assert "Cảm ơn" not in posted.text
    assert _ratings(web) == 0
    web.client.post("/staff/logout", data={"csrf": _csrf(page.text)})
    citizen = web.client.get(path)
    assert citizen.status_code == 200
    done = web.client.post(path, data={"csrf": _csrf(citizen.text), "score": "5"})
    assert "Cảm ơn ông/bà đã đánh giá" in done.text
    assert _ratings(web) == 1


def test_an_ended_session_is_no_reason_to_refuse(web: Web, unit: Unit) -> None:
    """A citizen's phone that once held a staff cookie now dead (logged out elsewhere) rates."""
    path = _rating_path(web, unit)
    page = _login(web.client, "lan")
    copied = dict(web.client.cookies)
    web.client.post("/staff/logout", data={"csrf": _csrf(page)})
    phone = TestClient(web.client.app, cookies=copied)
    opened = phone.get(path)
    assert opened.status_code == 200
    assert "Cảm ơn" in phone.post(path, data={"csrf": _csrf(opened.text), "score": "4"}).text
