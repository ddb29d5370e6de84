"""/metrics for a scraper with a token, the dead letters for administrators only."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.store.ratings import store_dead_letter
from hub.web.accounts import Accounts
from tests.hub.web.conftest import PASSWORD, Web, WebApp

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _login(client: TestClient, username: str) -> None:
    page = client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    client.post(
        "/staff/login", data={"username": username, "password": PASSWORD, "csrf": token.group(1)}
    )


def _dead_letters(web: Web, payloads: list[bytes]) -> None:
    with web.sessions.begin() as session:
        for payload in payloads:
            topic = "hailong/v1/000.00.20.H41/kiosk-q1/ratings"
            store_dead_letter(session, topic, payload, "not UTF-8 JSON", NOW)


def test_metrics_need_a_token_and_count_the_dead_letters(web: Web) -> None:
    assert web.client.get("/metrics").status_code == 401
    _dead_letters(web, [b"garbage", b"more garbage"])
    response = web.client.get("/metrics", headers={"Authorization": f"Bearer {web.token}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = {
        s.name: s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if "kiosk" not in s.labels
    }
    assert values["hailong_dead_letters"] == 2
    assert values["hailong_kiosks"] == 3  # the unit's configured kiosks, never heard from
    assert values["hailong_kiosks_online"] == 0


def test_only_an_administrator_reads_the_dead_letters(web_app: WebApp) -> None:
    Accounts(web_app.settings.web.accounts_file).add("root", PASSWORD, "admin")  # type: ignore[union-attr]
    with TestClient(web_app.app) as client:
        web = Web(web_app.settings, web_app.sessions, client, web_app.token)
        _dead_letters(web, [b'{"comment": "<script>alert(1)</script>"}'])
        assert client.get("/admin/dead-letters", follow_redirects=False).status_code == 303
        _login(client, "head")
        assert client.get("/admin/dead-letters").status_code == 403
    with TestClient(web_app.app) as client:
        _login(client, "root")
        page = client.get("/admin/dead-letters")
        assert page.status_code == 200
        assert "Dữ liệu bị từ chối" in page.text
        assert "not UTF-8 JSON" in page.text
        assert "kiosk-q1" in page.text
        assert "<script>" not in page.text
        assert "&lt;script&gt;" in page.text
        assert "25/11/2026 10:00:00" in page.text  # Hà Nội time
