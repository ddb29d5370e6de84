"""The paper-form page and API: who may key, CSRF, a refused form shown again with what was typed,
the assisted mode, and the API's answers for each refusal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hailong.contract.clock import unit_day
from hailong.settings import Unit
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.store.models import RatingRow
from hub.web.accounts import Accounts
from tests.hub.web.conftest import PASSWORD, Web

TODAY = unit_day(datetime.now(UTC))


@pytest.fixture
def staff(web: Web) -> Web:
    """Besides the fixture's head: thu, the officer of counter Q2 (CB002), and lan (CB001), both
    designated paper clerks (an officer without the designation keys nothing:
    tests/hub/web/test_paper_clerks.py)."""
    assert web.settings.web is not None
    accounts = Accounts(web.settings.web.accounts_file)
    accounts.add("thu", PASSWORD, "officer", "CB002", paper_clerk=True)
    accounts.add("lan", PASSWORD, "officer", "CB001", paper_clerk=True)
    return web


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _login(web: Web, username: str, landing: str = "/staff/paper") -> str:
    """Logs ``username`` in; the CSRF token of the ``landing`` page."""
    page = web.client.get("/staff/login")
    form = {"username": username, "password": PASSWORD, "csrf": _csrf(page.text)}
    web.client.post("/staff/login", data=form)
    return _csrf(web.client.get(landing).text)


def _issue(web: Web, unit: Unit) -> str:
    desk = ReceiptDesk(web.settings, unit, web.sessions)
    request = IssueRequest(counter="Q1", officer="CB001", procedure="1.001193")
    return str(desk.issue(request, print_slip=False).receipt.code)


def _stored(web: Web) -> list[tuple[str | None, str, str | None, bool, int]]:
    with web.sessions() as session:
        rows = session.scalars(select(RatingRow).order_by(RatingRow.dossier_code))
        return [(r.dossier_code, r.channel, r.entered_by, r.assisted, r.score) for r in rows]


def test_a_clerk_keys_a_form_and_a_refused_one_comes_back_as_typed(staff: Web, unit: Unit) -> None:
    response = staff.client.get("/staff/paper", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login"
    code = _issue(staff, unit)
    csrf = _login(staff, "thu")
    assert "Đánh giá tháng này theo kênh" not in staff.client.get("/staff/paper").text  # heads'
    form = {"code": code, "filled_on": TODAY.isoformat(), "score": "2", "officer": "1"}
    form |= {"reasons": ["thai-do"], "access": "", "stage": "reception"}
    assert staff.client.post("/staff/paper", data=form | {"csrf": "wrong"}).status_code == 403
    assert _stored(staff) == []
    saved = staff.client.post("/staff/paper", data=form | {"csrf": csrf}, follow_redirects=False)
    assert saved.status_code == 303
    page = staff.client.get(saved.headers["location"]).text
    assert f"Đã lưu phiếu của hồ sơ {code} (tiếp nhận)" in page
    assert code in page.split("Phiếu bạn đã nhập gần đây")[1]  # the clerk's own list
    assert _stored(staff) == [(code, "paper", "thu", False, 2)]
    again = staff.client.post("/staff/paper", data=form | {"csrf": csrf, "score": "5"})
    assert again.status_code == 422
    assert "đã có đánh giá" in again.text
    assert "already rated" in again.text
    assert f'value="{code}"' in again.text  # what was typed is still there
    assert 'value="5" required checked' in again.text
    assert _stored(staff) == [(code, "paper", "thu", False, 2)]
    _bounds(staff, csrf, _issue(staff, unit))


def test_officers_never_key_their_own_dossier_and_a_head_assists(staff: Web, unit: Unit) -> None:
    code = _issue(staff, unit)
    csrf = _login(staff, "lan")  # CB001, who issued it
    for mode in ("paper", "assisted"):
        form = {"csrf": csrf, "code": code, "filled_on": TODAY.isoformat(), "score": "5"}
        refused = staff.client.post("/staff/paper", data=form | {"mode": mode})
        assert refused.status_code == 422
        assert "Công chức không được tự nhập đánh giá cho hồ sơ của mình" in refused.text
        assert "an officer cannot enter a rating of their own dossier" in refused.text.lower()
    assert _stored(staff) == []
    csrf = _login(staff, "head")
    assisted_page = staff.client.get("/staff/paper?mode=assisted").text
    assert "Hỗ trợ người dân đánh giá" in assisted_page
    assert 'name="filled_on"' not in assisted_page  # recorded now, with the citizen there
    form = {"csrf": csrf, "code": code, "score": "4", "mode": "assisted", "result": "5"}
    form |= {"feedback": "na"}  # "Không áp dụng"
    assert 'value="na"' in assisted_page
    page = staff.client.post("/staff/paper", data=form).text
    assert f"Đã lưu đánh giá có hỗ trợ của hồ sơ {code}" in page
    assert _stored(staff) == [(code, "paper", "head", True, 4)]
    with staff.sessions() as session:
        stored = session.scalars(select(RatingRow)).one()
        assert (stored.factors, stored.not_applicable) == ({"result": 5}, ["feedback"])
    counts = page.split("Đánh giá tháng này theo kênh")[1].split("</table>")[0]
    assert "Phiếu giấy / paper form" in counts
    assert "có / yes" in counts


def _bounds(staff: Web, csrf: str, code: str) -> None:
    """Each answer or date out of bounds is refused with its reason, and nothing is stored."""
    before = _stored(staff)
    base = {"csrf": csrf, "code": code, "filled_on": TODAY.isoformat(), "score": "4"}
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    for change, words in (
        ({"score": "6"}, "chọn một mức từ 1 đến 5"),
        ({"score": ""}, "Mức hài lòng chung"),
        ({"feedback": "0"}, "Tiếp nhận, xử lý phản ánh kiến nghị"),
        ({"filled_on": tomorrow}, "ở tương lai"),
        ({"filled_on": "25/11/2026"}, "Nhập ngày trên phiếu"),
        ({"reasons": ["khong-co"]}, "Lý do không có trong danh mục"),
        ({"code": "000.00.21.H41-261120-0001"}, "Hồ sơ này thuộc đơn vị khác"),
    ):
        refused = staff.client.post("/staff/paper", data=base | change)
        assert refused.status_code == 422, change
        assert words in refused.text, change
    assert _stored(staff) == before


def test_the_api_keys_forms_with_the_same_rules(staff: Web, unit: Unit) -> None:
    code, other = _issue(staff, unit), _issue(staff, unit)
    bearer = {"Authorization": f"Bearer {staff.token}"}
    body = {"code": code, "filled_on": TODAY.isoformat(), "score": 1, "entered_by": "nhap-lieu"}
    body |= {"factors": {"officer": 1}, "reasons": ["thai-do"]}
    assert staff.client.post("/api/v1/paper-forms", json=body).status_code == 401
    created = staff.client.post("/api/v1/paper-forms", json=body, headers=bearer)
    assert created.status_code == 201
    answer = created.json()
    assert (answer["code"], answer["stage"], answer["counted"]) == (code, "reception", True)
    assert staff.client.post("/api/v1/paper-forms", json=body, headers=bearer).status_code == 409
    own = body | {"code": other, "officer": "CB001"}
    refused = staff.client.post("/api/v1/paper-forms", json=own, headers=bearer)
    assert refused.status_code == 403
    assert "hồ sơ của mình" in refused.json()["detail"]
    for bad in ({"score": 6}, {"score": "5"}, {"factors": {"officer": 0}}, {"surprise": 1}):
        response = staff.client.post("/api/v1/paper-forms", json=own | bad, headers=bearer)
        assert response.status_code == 422, bad
    helped = body | {"code": other, "assisted": True, "entered_by": "tinh-nguyen", "score": 5}
    assert staff.client.post("/api/v1/paper-forms", json=helped, headers=bearer).status_code == 201
    assert _stored(staff) == [
        (code, "paper", "nhap-lieu", False, 1),
        (other, "paper", "tinh-nguyen", True, 5),
    ]
