"""The administration pages of a hub whose catalogue is in the database (``[hub] catalogue =
"database"``): any unit of the tree within the admin's scope is edited, validated as a unit file
is, and written to the tables; the unit file is never touched; a kiosk added to one unit gets
broker users and ACLs beside every other unit's."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hailong.provision import SecretsLayout, init_secrets
from hailong.settings import ReceiptKeys, Unit
from hub.store.catalogue import import_unit, load_unit
from hub.web.accounts import Accounts
from hub.web.app import create_app
from hub.web.context import current
from tests.conftest import REPO
from tests.hub.store.test_catalogue import other_unit
from tests.hub.web.conftest import PASSWORD, WebApp
from tests.hub.web.test_admin import _login

PROVINCE = "000.00.00.H41"
HOME = "000.00.20.H41"
WARD_B = "000.00.21.H41"


def province_unit() -> Unit:
    empty: dict[str, list[object]] = {k: [] for k in ("fields", "counters", "officers")}
    return Unit.model_validate(
        {"unit": {"code": PROVINCE, "name": "Tỉnh Mẫu"}, **empty, "procedures": []}
    )


def fill(sessions: sessionmaker[Session], unit: Unit) -> Unit:
    """The province over the home unit and ward B, in the tables; returns ward B."""
    ward_b = other_unit(unit, WARD_B, "b")
    with sessions.begin() as session:
        import_unit(session, province_unit(), kind="province")
        import_unit(session, unit, parent=PROVINCE)
        import_unit(session, ward_b, parent=PROVINCE)
    return ward_b


@pytest.fixture
def province_app(web_app: WebApp, tmp_path: Path, unit: Unit) -> WebApp:
    ward_b = fill(web_app.sessions, unit)
    unit_file = tmp_path / "config" / "unit.toml"
    unit_file.parent.mkdir()
    shutil.copy(REPO / "config" / "unit.toml", unit_file)
    layout = SecretsLayout(tmp_path / "var" / "secrets")
    init_secrets([unit, ward_b], layout)
    accounts = Accounts(web_app.settings.web.accounts_file)  # type: ignore[union-attr]
    accounts.add("root", PASSWORD, "admin", unit=PROVINCE)
    accounts.add("admin-a", PASSWORD, "admin", unit=HOME)
    hub = web_app.settings.hub.model_copy(
        update={"unit_file": unit_file, "catalogue": "database", "unit": HOME}
    )
    settings = web_app.settings.model_copy(
        update={"hub": hub, "receipts": ReceiptKeys(key_dir=layout.receipt_keys, active_key="k1")}
    )
    app = create_app(settings, unit, web_app.sessions)
    return WebApp(settings, web_app.sessions, app, web_app.token)


@pytest.fixture
def root(province_app: WebApp) -> Iterator[TestClient]:
    with TestClient(province_app.app) as client:
        _login(client, "root")
        yield client


def post(client: TestClient, url: str, data: dict[str, str], page: str) -> object:
    text = client.get(page).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', text)
    version = re.search(r'name="version" value="([^"]+)"', text)
    assert csrf
    assert version
    form = {"csrf": csrf.group(1), "version": version.group(1), **data}
    return client.post(url, data=form, follow_redirects=False)


def test_an_edit_of_another_unit_goes_to_its_rows_within_the_scope(
    province_app: WebApp, root: TestClient, unit: Unit
) -> None:
    file_before = province_app.settings.hub.unit_file.read_bytes()
    page = root.get(f"/admin/catalogue?unit={WARD_B}")
    assert page.status_code == 200
    assert f"units/{WARD_B}" in page.text
    assert f'action="/admin/catalogue/counters/save?unit={WARD_B}"' in page.text
    assert f'<option value="{PROVINCE}"' in page.text  # the chooser: every unit in scope
    response = post(
        root,
        f"/admin/catalogue/counters/save?unit={WARD_B}",
        {"code": "Q4", "name": "Quầy 4 – Đất đai"},
        f"/admin/catalogue?unit={WARD_B}",
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/admin/catalogue?unit={WARD_B}"  # type: ignore[attr-defined]
    with province_app.sessions() as session:
        stored = load_unit(session, WARD_B)
        assert load_unit(session, HOME) == unit
    assert [c.code for c in stored.counters] == ["Q1", "Q2", "Q3", "Q4"]
    ctx = current(province_app.app)
    assert ctx.catalogue.unit(WARD_B) == stored  # seen at once by this process's pages
    assert ctx.catalogue_of(WARD_B) == stored
    assert ctx.unit == unit  # the home unit's desks are untouched
    assert [n.code for n in ctx.units] == [PROVINCE, HOME, WARD_B]
    assert province_app.settings.hub.unit_file.read_bytes() == file_before

    # A bad edit is refused with the file's messages and changes no row.
    bad = post(
        root,
        f"/admin/catalogue/officers/save?unit={WARD_B}",
        {"code": "CB099", "name": "Ai Đó", "counter": "Q9"},
        f"/admin/catalogue?unit={WARD_B}",
    )
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert "names the counter “Q9”, which is not in the catalogue" in bad.text  # type: ignore[attr-defined]
    with province_app.sessions() as session:
        assert load_unit(session, WARD_B) == stored
    # A form made before someone else's change is refused, not applied over it.
    stale = root.get(f"/admin/catalogue?unit={WARD_B}").text
    post(
        root,
        f"/admin/catalogue/unit?unit={WARD_B}",
        {"name": "Phường B", "target_rate": "95"},
        f"/admin/catalogue?unit={WARD_B}",
    )
    csrf = re.search(r'name="csrf" value="([^"]+)"', stale)
    version = re.search(r'name="version" value="([^"]+)"', stale)
    assert csrf
    assert version
    late = root.post(
        f"/admin/catalogue/counters/remove?unit={WARD_B}",
        data={"csrf": csrf.group(1), "version": version.group(1), "key": "Q4"},
    )
    assert late.status_code == 400
    assert "The catalogue changed since this page was opened" in late.text
    assert current(province_app.app).catalogue.tree().get(WARD_B).name == "Phường B"  # type: ignore[union-attr]

    # Scope: a unit the hub does not serve is not found; the home unit's own admin edits it
    # alone.
    assert root.get("/admin/catalogue?unit=000.00.99.H41").status_code == 404
    assert root.get("/admin/catalogue?unit=" + "9" * 41).status_code == 422
    with TestClient(province_app.app) as client:
        _login(client, "admin-a")  # the home unit's own admin
        assert client.get(f"/admin/catalogue?unit={WARD_B}").status_code == 403
        assert client.get(f"/admin/kiosks?unit={PROVINCE}").status_code == 403
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/catalogue").text)
        assert csrf
        forged = client.post(
            f"/admin/catalogue/counters/remove?unit={WARD_B}",
            data={"csrf": csrf.group(1), "version": "", "key": "Q1"},
        )
        assert forged.status_code == 403
        page = client.get("/admin/catalogue")
        assert page.status_code == 200
        assert f"units/{HOME}" in page.text
        assert 'name="unit"' not in page.text  # one unit in scope: no chooser
    with province_app.sessions() as session:
        assert [c.code for c in load_unit(session, WARD_B).counters] == ["Q1", "Q2", "Q3", "Q4"]


def test_a_kiosk_added_to_one_unit_keeps_every_units_broker_users(
    province_app: WebApp, root: TestClient, unit: Unit
) -> None:
    page = f"/admin/kiosks?unit={WARD_B}"
    response = post(root, f"/admin/kiosks/save?unit={WARD_B}", {"id": "b-q9"}, page)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "Đã thêm máy b-q9" in response.text  # type: ignore[attr-defined]
    broker = province_app.settings.receipts.key_dir.parent.parent / "broker"
    acl = (broker / "acl").read_text()
    assert f"topic write hailong/v1/{WARD_B}/b-q9/ratings" in acl
    assert f"topic write hailong/v1/{HOME}/kiosk-q1/ratings" in acl  # the other unit's stay
    users = {line.split(":")[0] for line in (broker / "passwd").read_text().splitlines()}
    assert {"hub", "kiosk-q1", "b-kiosk-q1", "b-q9"} <= users
    # A kiosk id another unit has is one MQTT user: refused.
    clash = post(root, f"/admin/kiosks/save?unit={WARD_B}", {"id": "kiosk-q2"}, page)
    assert clash.status_code == 400  # type: ignore[attr-defined]
    assert "kiosk id &#39;kiosk-q2&#39; is in units" in clash.text  # type: ignore[attr-defined]
    with province_app.sessions() as session:
        assert [k.id for k in load_unit(session, WARD_B).kiosks] == [
            "b-kiosk-q1",
            "b-kiosk-q2",
            "b-kiosk-q3",
            "b-q9",
        ]
        assert load_unit(session, HOME) == unit
