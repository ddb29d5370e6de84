"""Rating later on a phone: the receipt QR's URL opens a page on the hub, under the kiosk's rules."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from hailong.settings import Unit
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.store.models import RatingRow
from tests.hub.web.conftest import Web


def _issue(web: Web, unit: Unit) -> str:
    desk = ReceiptDesk(web.settings, unit, web.sessions)
    printed = desk.issue(IssueRequest("Q1", "CB001", "1.001193"), print_slip=False)
    parts = urlsplit(printed.receipt.url)
    return f"{parts.path}?{parts.query}"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_a_citizen_rates_on_the_phone_once(web: Web, unit: Unit) -> None:
    path = _issue(web, unit)
    page = web.client.get(path)
    assert page.status_code == 200
    assert "Đăng ký khai sinh" in page.text
    assert "Rất hài lòng" in page.text
    form = {"csrf": _csrf(page.text), "score": "2", "reasons": ["tre-hen", "not-a-reason"],
            "comment": "Hẹn trả chậm 2 ngày"}  # fmt: skip
    done = web.client.post(path, data=form)
    assert "Cảm ơn ông/bà đã đánh giá" in done.text
    with web.sessions() as session:
        (row,) = session.scalars(select(RatingRow)).all()
    assert (row.channel, row.score, row.reasons, row.officer) == ("online", 2, ["tre-hen"], "CB001")
    assert row.comment == "Hẹn trả chậm 2 ngày"
    again = web.client.get(path)
    assert "đã được đánh giá" in again.text
    twice = web.client.post(path, data=form)
    assert "đã được đánh giá" in twice.text
    with web.sessions() as session:
        assert len(session.scalars(select(RatingRow)).all()) == 1


def test_a_forged_or_broken_link_is_refused_with_the_reason(web: Web, unit: Unit) -> None:
    path = _issue(web, unit)
    forged = web.client.get(path.replace("p=1.001193", "p=1.000894"))
    assert forged.status_code == 400
    assert "chữ ký không đúng" in forged.text
    broken = web.client.get(path.split("?")[0])
    assert broken.status_code == 400


def test_after_the_return_the_page_rates_the_return_stage(web: Web, unit: Unit) -> None:
    path = _issue(web, unit)
    code = path.split("/r/")[1].split("?")[0]
    ReceiptDesk(web.settings, unit, web.sessions).record_return(code, "CB002")
    page = web.client.get(path)
    assert "Trả kết quả / return of the result" in page.text
    web.client.post(path, data={"csrf": _csrf(page.text), "score": "5"})
    with web.sessions() as session:
        (row,) = session.scalars(select(RatingRow)).all()
    assert (row.stage, row.officer) == ("return", "CB002")


def test_the_form_needs_its_csrf_token(web: Web, unit: Unit) -> None:
    path = _issue(web, unit)
    assert web.client.post(path, data={"csrf": "x", "score": "5"}).status_code == 403
