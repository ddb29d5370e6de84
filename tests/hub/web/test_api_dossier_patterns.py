"""The one-stop software registers a receipt printed in the province's own code spelling."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from hailong.settings import Unit
from hailong.settings.unit import ReceiptCodes
from hub.web.app import create_app
from tests.hub.web.conftest import WebApp

CODE = "G09.20-20260609-0092637"


def test_register_accepts_the_units_pattern_and_refuses_others_clearly(
    web_app: WebApp, unit: Unit
) -> None:
    # The conftest's app serves the example unit (national codes only); this one the same unit
    # with the province's spelling.
    igate = unit.model_copy(
        update={"receipt_codes": ReceiptCodes(external_patterns=("G09.20-{yyyymmdd}-{seq:7}",))}
    )
    app = create_app(
        web_app.settings,
        igate,
        web_app.sessions,
        clock=lambda: datetime(2026, 6, 9, 3, 0, tzinfo=UTC),
    )
    auth = {"Authorization": f"Bearer {web_app.token}"}
    body = {"code": CODE, "counter": "Q2", "officer": "CB003", "procedure": "1.000894"}
    with TestClient(app) as client:
        created = client.post("/api/v1/receipts/register", json=body, headers=auth)
        assert created.status_code == 201, created.text
        assert created.json()["code"] == CODE
        assert created.json()["url"].startswith(f"https://hailong.example.gov.vn/r/{CODE}?")
        found = client.get(f"/api/v1/receipts/{CODE}", headers=auth)
        assert found.json()["origin"] == "registered"
        wrong = dict(body, code="G09.20-2026-06-09-0092638")
        refused = client.post("/api/v1/receipts/register", json=wrong, headers=auth)
        assert refused.status_code == 422
        detail = refused.json()["detail"]
        assert "không đúng mẫu mã hồ sơ đơn vị chấp nhận" in detail
        assert "G09.20-{yyyymmdd}-{seq:7}" in detail
    with TestClient(web_app.app) as client:  # the same code where the unit has no such pattern
        other = dict(body, code="G09.20-20260608-0000001")
        refused = client.post("/api/v1/receipts/register", json=other, headers=auth)
        assert refused.status_code == 422
        assert "({unit}-{yymmdd}-{seq:4-6})" in refused.json()["detail"]
