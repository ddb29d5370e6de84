"""Rating later on a phone: the receipt QR's URL opens a page on the hub, under the kiosk's rules."""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hailong.settings import Unit, WebSettings
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.store.db import make_engine, session_factory
from hub.store.models import DeadLetterRow, RatingRow
from hub.web.app import create_app
from tests.hub.web.conftest import Web, WebApp, serving

CONCURRENT = 8


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


@pytest.mark.timeout(120)
def test_concurrent_ratings_of_one_receipt_thank_once(
    web_app: WebApp, unit: Unit, database_url: str
) -> None:
    """Eight phones send a rating of one receipt at the same moment, to a real uvicorn server:
    one is thanked, seven are told it was already rated, none gets an error page (before: HTTP
    500s from the unique index)."""
    settings = web_app.settings.model_copy(
        update={"hub": web_app.settings.hub.model_copy(update={"database_url": database_url})}
    )
    sessions = session_factory(make_engine(database_url))
    desk = ReceiptDesk(settings, unit, sessions)
    url = desk.issue(IssueRequest("Q1", "CB001", "1.001193"), print_slip=False).receipt.url
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}"
    start = threading.Barrier(CONCURRENT)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def phone(base: str, score: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            page = client.get(path)
            csrf = _csrf(page.text)
            start.wait(timeout=30)
            response = client.post(path, data={"csrf": csrf, "score": str(score)})
        with lock:
            answers.append((response.status_code, response.text))

    with serving(create_app(settings, unit, sessions)) as base:
        threads = [
            threading.Thread(target=phone, args=(base, 1 + n % 5)) for n in range(CONCURRENT)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
    assert [status for status, _ in answers] == [200] * CONCURRENT
    thanked = [text for _, text in answers if "Cảm ơn ông/bà đã đánh giá" in text]
    already = [text for _, text in answers if "Hồ sơ này đã được đánh giá" in text]
    assert (len(thanked), len(already)) == (1, CONCURRENT - 1)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RatingRow)) == 1
        kept = session.scalar(select(func.count()).select_from(DeadLetterRow)) or 0
    assert kept <= CONCURRENT - 1  # the losers that reached the store are kept aside


@pytest.mark.parametrize(
    ("address", "flagged"),
    [
        ("10.20.0.0", True),  # the network's first address
        ("10.20.0.255", True),  # and its last
        ("10.20.1.0", False),  # one past it
        ("192.0.2.7", False),
        ("2001:db8::5", True),
        ("testclient", False),  # not an address at all
    ],
)
def test_a_rating_from_a_staff_network_is_kept_but_not_counted(
    web_app: WebApp, unit: Unit, address: str, flagged: bool
) -> None:
    web = web_app.settings.web
    assert web is not None
    networks = web.model_copy(update={"staff_networks": ("10.20.0.0/24", "2001:db8::/64")})
    settings = web_app.settings.model_copy(update={"web": WebSettings.model_validate(
        networks.model_dump())})  # fmt: skip
    client = TestClient(create_app(settings, unit, web_app.sessions), client=(address, 40000))
    desk = ReceiptDesk(settings, unit, web_app.sessions)
    parts = urlsplit(
        desk.issue(IssueRequest("Q1", "CB001", "1.001193"), print_slip=False).receipt.url
    )
    path = f"{parts.path}?{parts.query}"
    page = client.get(path)
    assert "Cảm ơn" in client.post(path, data={"csrf": _csrf(page.text), "score": "5"}).text
    with web_app.sessions() as session:
        (row,) = session.scalars(select(RatingRow)).all()
    assert (row.suspect, row.counted) == (flagged, not flagged)
