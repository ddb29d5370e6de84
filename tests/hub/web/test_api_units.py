"""The receipt API on a hub serving a province: every token acts in its own unit.

Communes A (the home unit) and B, both with an officer CB001, a token per unit. Every endpoint,
called with one unit's token on the other unit's receipt, answers as for an unknown code (404)
or refuses the dossier (422), and changes nothing; with the receipt's own unit's token it works.
A token from before unit scopes acts in the home unit; a token of a unit the hub holds no
catalogue of (the province's own code) is refused (403).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hailong.contract.clock import unit_time
from hailong.settings import HubSettings, PrinterSettings, ReceiptKeys, Unit, WebSettings
from hub.store.models import ReceiptRow
from hub.web.accounts import AccountError, ApiClient, ApiTokens, init_web_secrets
from hub.web.app import create_app
from tests.conftest import REPO
from tests.hub.receipts.test_desk_units import (
    ONLY_B,
    A,
    B,
    TwoUnits,
    desks,
    issue_both,
    two_units,
)
from tests.hub.web.test_admin_database import PROVINCE


@dataclass
class Hub:
    units: TwoUnits
    settings: HubSettings
    client: TestClient
    tokens: dict[str, str]  # unit code: its token ("old": the one-stop token from `hailong init`)
    announced: list[tuple[object, ...]]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def build(folder: Path, database_url: str, unit: Unit, receipt_keys: ReceiptKeys) -> Hub:
    units = two_units(database_url, unit)
    secrets = folder / "web"
    web = WebSettings(
        accounts_file=secrets / "accounts.json",
        api_tokens_file=secrets / "api-tokens.json",
        session_key_file=secrets / "session.key",
    )
    init_web_secrets(web.accounts_file, web.api_tokens_file, web.session_key_file)
    api = ApiTokens(web.api_tokens_file)
    tokens = {"old": (secrets / "one-stop.token").read_text().strip()}
    tokens |= {A: api.create("one-stop-a", A), B: api.create("one-stop-b", B)}
    tokens[PROVINCE] = api.create("tinh", PROVINCE)
    (folder / "unused.password").write_text("unused\n")
    settings = HubSettings.model_validate(
        {
            "hub": {
                "unit_file": REPO / "config" / "unit.toml",
                "database_url": database_url,
                "public_base_url": "https://hailong.example.gov.vn",
                "catalogue": "database",
                "unit": A,
            },
            "mqtt": {
                "host": "127.0.0.1",
                "port": 1,
                "username": "hub",
                "password_file": folder / "unused.password",
            },
            "receipts": receipt_keys,
            "printers": {"Q1": PrinterSettings(kind="dummy", paper_width_mm=80)},
            "web": web,
        }
    )
    announced: list[tuple[object, ...]] = []
    app = create_app(settings, unit, units.sessions, on_rated=lambda *told: announced.append(told))
    return Hub(units, settings, TestClient(app), tokens, announced)


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, unit: Unit, receipt_keys: ReceiptKeys
) -> Iterator[Hub]:
    folder = tmp_path_factory.mktemp("api-units")
    made = build(folder, f"sqlite:///{folder / 'hub.db'}", unit, receipt_keys)
    with made.client:
        yield made


def _today(code: str) -> str:
    return code.split("-")[1]  # yymmdd: the receipts were issued today


# endpoint: (method, path, body) for a receipt ``code`` of unit ``owner``
def _call(endpoint: str, code: str, owner: str) -> tuple[str, str, dict[str, object] | None]:
    register: dict[str, object] = {"counter": "Q1", "officer": "CB001", "procedure": "1.001193"}
    register["print"] = False
    today = datetime.now().astimezone()
    calls: dict[str, tuple[str, str, dict[str, object] | None]] = {
        "lookup": ("GET", f"/api/v1/receipts/{code}", None),
        "lookup-for-officer": ("GET", f"/api/v1/receipts/{code}?officer=CB001", None),
        "reprint": ("POST", f"/api/v1/receipts/{code}/reprint", None),
        "reprint-for-officer": ("POST", f"/api/v1/receipts/{code}/reprint?officer=CB001", None),
        "return": ("POST", f"/api/v1/receipts/{code}/return", {"officer": "CB001"}),
        "register": (
            "POST",
            "/api/v1/receipts/register",
            # A code of the owner's numbering, not yet in the register.
            register | {"code": f"{owner}-{_today(code)}-{int(code[-4:]) + 5000:04d}"},
        ),
        "paper-form": (
            "POST",
            "/api/v1/paper-forms",
            {
                "code": code,
                "filled_on": unit_time(today).date().isoformat(),
                "score": 4,
                "entered_by": "nhap-lieu",
            },
        ),
    }
    return calls[endpoint]


ENDPOINTS = (
    "lookup",
    "lookup-for-officer",
    "reprint",
    "reprint-for-officer",
    "return",
    "register",
    "paper-form",
)
REFUSED = {"register": 422, "paper-form": 422}  # the rest: 404, as an unknown code
DONE = {"register": 201, "paper-form": 201}  # the rest: 200


def _snapshot(hub: Hub, codes: list[str]) -> list[tuple[object, ...]]:
    with hub.units.sessions() as session:
        rows = [session.get(ReceiptRow, code) for code in codes]
        return [(r.dossier_code, r.returned_at, r.printed) if r else (None,) for r in rows]


def check_endpoint(hub: Hub, endpoint: str) -> None:
    """Each unit's token on the other unit's receipt: refused, nothing changed; on its own: done."""
    codes = issue_both(desks(hub.settings, hub.units))
    for mine, theirs in ((A, B), (B, A)):
        method, path, body = _call(endpoint, codes[theirs], theirs)
        before = _snapshot(hub, list(codes.values()))
        refused = hub.client.request(method, path, json=body, headers=hub.auth(mine))
        assert refused.status_code == REFUSED.get(endpoint, 404), (mine, refused.text)
        if refused.status_code == 404:
            unknown = f"no receipt {codes[theirs]} in the register"
            assert refused.json() == {"detail": unknown}  # as for a code never issued
        assert _snapshot(hub, list(codes.values())) == before
        done = hub.client.request(method, path, json=body, headers=hub.auth(theirs))
        assert done.status_code == DONE.get(endpoint, 200), (theirs, done.text)
        if "code" in done.json():
            assert done.json()["code"].startswith(f"{theirs}-")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_units_token_reaches_its_own_receipts_only(hub: Hub, endpoint: str) -> None:
    check_endpoint(hub, endpoint)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_endpoint_keeps_to_the_tokens_unit_on_postgresql(
    database_url: str, unit: Unit, receipt_keys: ReceiptKeys, tmp_path: Path
) -> None:
    made = build(tmp_path, database_url, unit, receipt_keys)
    with made.client:
        for endpoint in ENDPOINTS:
            check_endpoint(made, endpoint)
        check_issue(made)


def test_a_token_issues_in_its_own_unit_with_its_catalogue(hub: Hub) -> None:
    check_issue(hub)


def check_issue(hub: Hub) -> None:
    """An officer of B alone is unknown to A's token; CB001 issues in the token's unit."""
    body = {"counter": "Q1", "officer": ONLY_B, "procedure": "1.001193", "print": False}
    refused = hub.client.post("/api/v1/receipts", json=body, headers=hub.auth(A))
    assert refused.status_code == 422
    assert f"unknown officer '{ONLY_B}'" in refused.json()["detail"]
    created = hub.client.post("/api/v1/receipts", json=body, headers=hub.auth(B))
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    assert code.startswith(f"{B}-")
    with hub.units.sessions() as session:
        row = session.get(ReceiptRow, code)
        assert row is not None
        assert (row.unit, row.officer) == (B, ONLY_B)
    # CB001 is in both: the same body issues in whichever unit the token acts in.
    shared = body | {"officer": "CB001"}
    for who in (A, B):
        made = hub.client.post("/api/v1/receipts", json=shared, headers=hub.auth(who))
        assert made.status_code == 201
        assert made.json()["code"].startswith(f"{who}-")


def test_an_old_token_acts_in_the_home_unit_and_the_provinces_is_refused(hub: Hub) -> None:
    codes = issue_both(desks(hub.settings, hub.units))
    old = hub.auth("old")
    assert hub.client.get(f"/api/v1/receipts/{codes[A]}", headers=old).status_code == 200
    assert hub.client.get(f"/api/v1/receipts/{codes[B]}", headers=old).status_code == 404
    for endpoint in ENDPOINTS:
        method, path, body = _call(endpoint, codes[A], A)
        province = hub.client.request(method, path, json=body, headers=hub.auth(PROVINCE))
        assert province.status_code == 403, endpoint
        assert "not one this hub serves" in province.json()["detail"]
    body = {"counter": "Q1", "officer": "CB001", "procedure": "1.001193", "print": False}
    assert (
        hub.client.post("/api/v1/receipts", json=body, headers=hub.auth(PROVINCE)).status_code
        == 403
    )
    assert hub.client.post("/api/v1/receipts", json=body).status_code == 401


def test_the_token_file_keeps_old_entries_readable(tmp_path: Path) -> None:
    path = tmp_path / "api-tokens.json"
    tokens = ApiTokens(path)
    old = tokens.create("one-stop")
    assert json.loads(path.read_text()).keys() == {"tokens"}  # the format before unit scopes
    assert tokens.client(old) == ApiClient("one-stop", None)
    scoped = tokens.create("one-stop-b", B)
    assert (tokens.client(scoped), tokens.check(scoped)) == (
        ApiClient("one-stop-b", B),
        "one-stop-b",
    )
    assert tokens.all() == [ApiClient("one-stop", None), ApiClient("one-stop-b", B)]
    again = tokens.create("one-stop-b")  # a new token for the same name: the old one stops
    assert tokens.client(scoped) is None
    assert tokens.client(again) == ApiClient("one-stop-b")
    assert json.loads(path.read_text()).keys() == {"tokens"}
    damaged = json.loads(path.read_text()) | {"units": {"one-stop": "bad unit"}}
    path.write_text(json.dumps(damaged))
    assert tokens.client(old) is None  # a damaged scope acts nowhere, never in the home unit
    assert tokens.revoke("one-stop")
    assert not tokens.revoke("one-stop")
    assert tokens.client(old) is None
    assert tokens.client(again) is not None
    for name, unit in (("x", None), ("a" * 41, None), ("bad name", None), ("ok", "000-00.H41")):
        with pytest.raises(AccountError, match=r"token name|unit '000-00\.H41'"):
            tokens.create(name, unit)
    assert [c.name for c in tokens.all()] == ["one-stop-b"]
    tokens.create("ab")  # the bounds: 2 and 40 characters
    tokens.create("a" * 40, "000.00.21.H41")
    assert [c.name for c in tokens.all()] == ["a" * 40, "ab", "one-stop-b"]
