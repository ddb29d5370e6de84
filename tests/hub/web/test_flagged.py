"""/admin/flagged-ratings: what the receipt register could not vouch for, for administrators only,
without what citizens wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from hailong.contract.messages import ReceiptRef
from hub.domain.ingest import Attribution
from hub.store.ratings import store_batch
from hub.web.accounts import Accounts
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import PASSWORD, WebApp
from tests.hub.web.test_ops import _login

UNIT = "000.00.20.H41"


def test_only_an_administrator_sees_the_flagged_ratings(web_app: WebApp) -> None:
    now = datetime.now(UTC)
    known = Attribution(
        "Q2", "CB003", "2.000815", "chung-thuc", True, claim_mismatch=("counter", "officer")
    )
    unverified = Attribution("Q1", None, None, None, False, counted=False, suspect=True)
    fine = Attribution("Q1", "CB001", "1.001193", "ho-tich", True)
    items = [
        (make_rating(seq=1, receipt=ReceiptRef(code=f"{UNIT}-261125-0001", verified=True),
                     rated_at=now - timedelta(hours=1)), known),
        (make_rating(seq=2, receipt=ReceiptRef(code=f"{UNIT}-261124-0042", verified=False),
                     rated_at=now - timedelta(hours=2), comment="<b>bí mật</b>"), unverified),
        (make_rating(seq=3, receipt=ReceiptRef(code=f"{UNIT}-261125-0003", verified=True),
                     rated_at=now - timedelta(hours=3)), fine),
        (make_rating(seq=4, receipt=ReceiptRef(code=f"{UNIT}-261101-0001", verified=True),
                     rated_at=now - timedelta(days=31)), unverified),  # older than the page
    ]  # fmt: skip
    with web_app.sessions.begin() as session:
        store_batch(session, items, now)
    Accounts(web_app.settings.web.accounts_file).add("root", PASSWORD, "admin")  # type: ignore[union-attr]
    with TestClient(web_app.app) as client:
        assert client.get("/admin/flagged-ratings", follow_redirects=False).status_code == 303
        _login(client, "head")
        assert client.get("/admin/flagged-ratings").status_code == 403
    with TestClient(web_app.app) as client:
        _login(client, "lan")
        assert client.get("/admin/flagged-ratings").status_code == 403
    with TestClient(web_app.app) as client:
        _login(client, "root")
        page = client.get("/admin/flagged-ratings")
        assert page.status_code == 200
        text = page.text
        assert "Đánh giá bị gắn cờ" in text
        assert "claim mismatch: counter,officer" in text
        assert f"{UNIT}-261125-0001" in text
        assert f"{UNIT}-261124-0042" in text
        assert f"{UNIT}-261125-0003" not in text  # nothing to flag
        assert f"{UNIT}-261101-0001" not in text  # past the 30 days shown
        assert "bí mật" not in text  # the citizen's comment is not the admins' business here
        assert "Chưa xác minh / Unverified: <strong>1</strong>" in text
        assert "Nghi vấn / Suspect: <strong>1</strong>" in text
        assert "Máy khai khác sổ / Claim mismatch: <strong>1</strong>" in text
