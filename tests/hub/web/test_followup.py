"""The follow-up pages over HTTP: who sees what, who may do what, CSRF, stale forms, the trail,
and the live feed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score
from hub.domain.ingest import Attribution
from hub.store.models import FollowUpEventRow
from hub.store.ratings import store_batch
from hub.web.context import current
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import PASSWORD, WebApp

_seq = iter(range(1, 1_000_000))


class Staff:
    """A logged-in browser session of one account."""

    def __init__(self, app: WebApp, username: str) -> None:
        self.client = TestClient(app.app)
        page = self.client.get("/staff/login")
        form = {"username": username, "password": PASSWORD, "csrf": _csrf(page.text)}
        assert self.client.post("/staff/login", data=form).status_code == 200
        self.csrf = _csrf(self.client.get("/dashboard").text)

    def act(self, rating_id: str, action: str, **form: object) -> httpx.Response:
        data = {"csrf": self.csrf, **{k: str(v) for k, v in form.items()}}
        return self.client.post(
            f"/follow-up/{rating_id}/{action}", data=data, follow_redirects=False
        )


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _version(html: str) -> int:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match
    return int(match.group(1))


@pytest.fixture
def app(web_app: WebApp) -> Iterator[WebApp]:
    current(web_app.app).accounts.add("minh", PASSWORD, "officer", "CB002")
    with TestClient(web_app.app):  # runs the app's start-up
        yield web_app


def _store(app: WebApp, score: Score, **fields: object) -> str:
    seq = next(_seq)
    now = datetime.now(UTC)
    rating = make_rating(
        seq=seq,
        score=score,
        rated_at=now - timedelta(minutes=1),
        receipt=ReceiptRef(code=f"000.00.20.H41-261125-{seq:04d}", verified=True),
        reasons=("thai-do", "di-lai-nhieu-lan") if score <= Score.DISSATISFIED else (),
        **fields,
    )
    attribution = Attribution("Q1", "CB001", "1.001193", "ho-tich", True)
    with app.sessions.begin() as session:
        store_batch(session, [(rating, attribution)], now)
    return str(rating.id)


@pytest.fixture
def complaint(app: WebApp) -> str:
    return _store(
        app,
        Score.VERY_DISSATISFIED,
        comment="Cán bộ hẹn lại <b>ba lần</b>",
        callback_phone="0912345678",
    )


def test_every_follow_up_page_needs_a_login(app: WebApp, complaint: str) -> None:
    client = TestClient(app.app)
    for path in ("/follow-up", f"/follow-up/{complaint}", "/follow-up/feed?after=2026-01-01"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/staff/login")
    form = {"csrf": "x", "version": "0", "assignee": "lan"}
    posted = client.post(f"/follow-up/{complaint}/assign", data=form, follow_redirects=False)
    assert (posted.status_code, posted.headers["location"]) == (303, "/staff/login")


def test_a_head_sees_the_units_dissatisfied_ratings_with_reasons_and_comments(
    app: WebApp, complaint: str
) -> None:
    happy = _store(app, Score.VERY_SATISFIED, comment="Rất tốt")
    head = Staff(app, "head")
    page = head.client.get("/follow-up").text
    assert f'data-id="{complaint}"' in page
    assert happy not in page
    assert "Rất không hài lòng" in page
    assert "Thái độ cán bộ chưa tốt; Phải đi lại nhiều lần" in page
    assert "Cán bộ hẹn lại &lt;b&gt;ba lần&lt;/b&gt;" in page  # escaped, never markup
    assert "<b>ba lần</b>" not in page
    assert "Đồng ý được gọi lại" in page
    assert "0912345678" not in page  # the number itself only on the follow-up's own page
    assert re.search(r'data-count="open">1<', page)
    assert head.client.get(f"/follow-up/{happy}").status_code == 404
    assert head.client.get("/follow-up/not-a-rating").status_code == 404
    detail = head.client.get(f"/follow-up/{complaint}").text
    assert "tel:0912345678" in detail
    assert "Tiếp nhận đánh giá / Rating received" in detail


def test_assign_answer_close_with_the_full_trail(app: WebApp, complaint: str) -> None:
    head, lan = Staff(app, "head"), Staff(app, "lan")
    assert lan.client.get(f"/follow-up/{complaint}").status_code == 404  # not theirs yet
    assert complaint not in lan.client.get("/follow-up").text
    assigned = head.act(complaint, "assign", version=0, assignee="lan", note="Gọi lại trong ngày")
    assert assigned.status_code == 303
    assert assigned.headers["location"] == f"/follow-up/{complaint}?done=assign"
    mine = lan.client.get("/follow-up").text
    assert f'data-id="{complaint}"' in mine
    assert "Cán bộ hẹn lại" in mine  # assigned: the officer sees the comment
    page = lan.client.get(f"/follow-up/{complaint}").text
    assert "tel:0912345678" in page
    assert 'action="/follow-up/' + complaint + '/answer"' in page
    assert "/assign" not in page
    assert "/close" not in page
    answered = lan.act(complaint, "answer", version=_version(page), note="Đã gọi lại, xin lỗi ông")
    assert answered.status_code == 303
    page = head.client.get(f"/follow-up/{complaint}").text
    assert "Đã trả lời / Answered" in page
    closed = head.act(complaint, "close", version=_version(page))
    assert closed.status_code == 303
    page = head.client.get(f"/follow-up/{complaint}?done=close").text
    assert "Đã ghi nhận: Đóng" in page
    trail = page[page.index("Nhật ký xử lý") :]
    rows = re.findall(r"<tr><td class=\"num\">([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>", trail)
    assert [(who, what) for _at, who, what in rows] == [
        ("Hệ thống / System", "Tiếp nhận đánh giá / Rating received"),
        ("head", "Giao xử lý / Assign → Nguyễn Thị Lan (lan)"),
        ("lan (Nguyễn Thị Lan)", "Trả lời / Answer"),
        ("head", "Đóng / Close"),
    ]
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", at) for at, _, _ in rows)
    assert "Gọi lại trong ngày" in trail
    assert "Đã gọi lại, xin lỗi ông" in trail
    closed_for_lan = lan.client.get(f"/follow-up/{complaint}").text
    assert "0912345678" not in closed_for_lan  # the phone is hidden from the officer once closed
    assert "ẩn sau khi đóng" in closed_for_lan


def test_a_form_without_the_csrf_token_changes_nothing(app: WebApp, complaint: str) -> None:
    head = Staff(app, "head")
    for token, refused in (("forged", 403), ("", 422)):
        response = head.client.post(
            f"/follow-up/{complaint}/assign",
            data={"csrf": token, "version": "0", "assignee": "lan"},
        )
        assert response.status_code == refused
    missing = head.client.post(
        f"/follow-up/{complaint}/assign", data={"version": "0", "assignee": "lan"}
    )
    assert missing.status_code == 422
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(FollowUpEventRow)) == 0


def test_officers_cannot_assign_close_or_touch_others_follow_ups(
    app: WebApp, complaint: str
) -> None:
    head, lan, minh = Staff(app, "head"), Staff(app, "lan"), Staff(app, "minh")
    other = _store(app, Score.DISSATISFIED, comment="Riêng tư", callback_phone="0987654321")
    # An officer cannot pick up an open follow-up, even by typing its id.
    assert lan.act(other, "assign", version=0, assignee="lan").status_code == 404
    head.act(complaint, "assign", version=0, assignee="lan")
    refused = lan.act(complaint, "close", version=1, note="Tự đóng")
    assert refused.status_code == 403
    assert "Chỉ lãnh đạo đơn vị" in refused.text
    reassign = lan.act(complaint, "assign", version=1, assignee="minh")
    assert reassign.status_code == 403
    # Minh: the id of Lan's follow-up shows nothing and does nothing.
    assert minh.client.get(f"/follow-up/{complaint}").status_code == 404
    assert minh.act(complaint, "answer", version=1, note="x").status_code == 404
    listing = minh.client.get("/follow-up").text
    assert complaint not in listing
    assert other not in listing
    assert "Riêng tư" not in listing
    feed = minh.client.get("/follow-up/feed", params={"after": "2000-01-01T00:00:00+00:00"})
    assert feed.json()["items"] == []
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(FollowUpEventRow)) == 1


def test_a_stale_form_or_a_bad_choice_is_refused_with_a_reason(app: WebApp, complaint: str) -> None:
    head = Staff(app, "head")
    assert head.act(complaint, "assign", version=0, assignee="lan").status_code == 303
    stale = head.act(complaint, "assign", version=0, assignee="minh")  # made before the first
    assert stale.status_code == 409
    assert "vừa được người khác cập nhật" in stale.text
    nobody = head.act(complaint, "assign", version=1, assignee="head")  # not an officer
    assert nobody.status_code == 400
    assert "There is no such officer" in nobody.text
    empty = head.act(complaint, "answer", version=1, note="   ")
    assert empty.status_code == 400
    assert "Say what was done" in empty.text
    wrong = head.act(complaint, "reopen", version=1, note="x")
    assert wrong.status_code == 400
    assert head.act(complaint, "delete", version=1).status_code == 404
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(FollowUpEventRow)) == 1


def test_the_feed_brings_new_ratings_and_changes(app: WebApp) -> None:
    head, lan = Staff(app, "head"), Staff(app, "lan")
    page = head.client.get("/follow-up").text
    cursor = re.search(r'data-cursor="([^"]+)"', page)
    assert cursor
    first = head.client.get("/follow-up/feed", params={"after": cursor.group(1)}).json()
    assert (first["items"], first["counts"]) == ([], None)
    rating_id = _store(app, Score.DISSATISFIED, comment="Chờ quá lâu", callback_phone="0912345678")
    _store(app, Score.SATISFIED)
    answer = head.client.get("/follow-up/feed", params={"after": first["cursor"]})
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert [item["id"] for item in body["items"]] == [rating_id]
    (item,) = body["items"]
    assert item["state"] == "open"
    assert (item["state_vi"], item["score_vi"]) == ("Chờ xử lý", "Không hài lòng")
    assert (item["comment"], item["callback"]) == ("Chờ quá lâu", True)
    assert "0912345678" not in answer.text
    assert item["url"] == f"/follow-up/{rating_id}"
    assert body["counts"]["open"] == 1
    assert body["cursor"] > first["cursor"]
    assert (
        lan.client.get("/follow-up/feed", params={"after": first["cursor"]}).json()["items"] == []
    )
    head.act(rating_id, "assign", version=0, assignee="lan")
    for viewer in (head, lan):
        changed = viewer.client.get("/follow-up/feed", params={"after": body["cursor"]}).json()
        assert [(i["id"], i["state"], i["assignee"]) for i in changed["items"]] == [
            (rating_id, "assigned", "Nguyễn Thị Lan")
        ]
    assert head.client.get("/follow-up/feed", params={"after": "yesterday"}).status_code == 422


def test_the_list_filters_by_state_and_pages(app: WebApp, complaint: str) -> None:
    head = Staff(app, "head")
    second = _store(app, Score.DISSATISFIED)
    head.act(complaint, "assign", version=0, assignee="lan")
    assigned = head.client.get("/follow-up?state=assigned").text
    assert complaint in assigned
    assert f'data-id="{second}"' not in assigned
    opened = head.client.get("/follow-up?state=open").text
    assert f'data-id="{second}"' in opened
    assert f'data-id="{complaint}"' not in opened
    assert head.client.get("/follow-up?state=lost").status_code == 422
    assert head.client.get("/follow-up?before=nonsense").status_code == 422
    assert (
        'data-live="off"' in head.client.get("/follow-up?before=20990101T000000.000000_x").text
    )  # older pages do not update themselves


def test_the_dossier_code_goes_to_the_managers_not_to_the_assigned_officer(
    app: WebApp, complaint: str
) -> None:
    """The dossier code leads back to the citizen through the register (Decree 61: raters are
    kept confidential). Managers keep it; the officer who calls back gets the consented phone."""
    head, lan = Staff(app, "head"), Staff(app, "lan")
    head.act(complaint, "assign", version=0, assignee="lan")
    assert "000.00.20.H41-261125-" in head.client.get(f"/follow-up/{complaint}").text
    page = lan.client.get(f"/follow-up/{complaint}").text
    assert "tel:0912345678" in page
    assert "000.00.20.H41-261125-" not in page
    assert "Mã hồ sơ / Dossier" not in page
