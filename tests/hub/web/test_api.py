"""The HTTP API the unit's one-stop software calls, through the real FastAPI app."""

from __future__ import annotations

from tests.hub.web.conftest import Web


def _auth(web: Web) -> dict[str, str]:
    return {"Authorization": f"Bearer {web.token}"}


def test_no_or_wrong_token_is_refused(web: Web) -> None:
    body = {"counter": "Q1", "officer": "CB001", "procedure": "1.001193"}
    assert web.client.post("/api/v1/receipts", json=body).status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert web.client.post("/api/v1/receipts", json=body, headers=wrong).status_code == 401


def test_issue_print_look_up_and_return(web: Web) -> None:
    body = {
        "counter": "Q1",
        "officer": "CB001",
        "procedure": "1.001193",
        "promised_on": "2099-12-01",
        "citizen_name": "Nguyễn Văn A",
    }
    created = web.client.post("/api/v1/receipts", json=body, headers=_auth(web))
    assert created.status_code == 201, created.text
    receipt = created.json()
    assert receipt["printed"] is True
    assert receipt["url"].startswith("https://hailong.example.gov.vn/r/000.00.20.H41-")
    code = receipt["code"]
    found = web.client.get(f"/api/v1/receipts/{code}", headers=_auth(web)).json()
    assert found["promised_on"] == "2099-12-01"
    assert "citizen_name" not in found  # personal data is written, never read back
    returned = web.client.post(
        f"/api/v1/receipts/{code}/return", json={"officer": "CB002"}, headers=_auth(web)
    ).json()
    assert returned["returned_by"] == "CB002"
    assert returned["offered_to"] == ["kiosk-q1"]  # CB002's counter Q1: its kiosk offers the rating
    elsewhere = web.client.post(
        f"/api/v1/receipts/{code}/return",
        json={"officer": "CB002", "counter": "Q3"},
        headers=_auth(web),
    ).json()
    assert elsewhere["offered_to"] == ["kiosk-q3"]
    unknown = web.client.post(
        f"/api/v1/receipts/{code}/return",
        json={"officer": "CB002", "counter": "Q9"},
        headers=_auth(web),
    )
    assert unknown.status_code == 422
    assert "unknown counter" in unknown.text


def test_bad_input_gets_a_clear_error(web: Web) -> None:
    unknown = {"counter": "Q1", "officer": "CB999", "procedure": "1.001193"}
    response = web.client.post("/api/v1/receipts", json=unknown, headers=_auth(web))
    assert response.status_code == 422
    assert "unknown officer 'CB999'" in response.json()["detail"]
    extra = {"counter": "Q1", "officer": "CB001", "procedure": "1.001193", "admin": True}
    assert web.client.post("/api/v1/receipts", json=extra, headers=_auth(web)).status_code == 422
    missing = web.client.get("/api/v1/receipts/000.00.20.H41-261125-9999", headers=_auth(web))
    assert missing.status_code == 404


def test_register_another_systems_receipt_once(web: Web) -> None:
    body = {
        "code": "000.00.20.H41-261125-0777",
        "counter": "Q2",  # no printer configured for Q2 here
        "officer": "CB003",
        "procedure": "1.000894",
    }
    first = web.client.post("/api/v1/receipts/register", json=body, headers=_auth(web))
    assert first.status_code == 201, first.text
    assert first.json()["origin"] == "registered"
    assert first.json()["printed"] is False
    again = web.client.post("/api/v1/receipts/register", json=body, headers=_auth(web))
    assert again.status_code == 422
    assert "already in the register" in again.json()["detail"]
    other_unit = dict(body, code="000.00.99.H99-261125-0001")
    refused = web.client.post("/api/v1/receipts/register", json=other_unit, headers=_auth(web))
    assert refused.status_code == 422
