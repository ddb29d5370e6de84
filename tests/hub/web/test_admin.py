"""The administration pages: admins only, CSRF on every form, edits written atomically to a copy
of the unit file and validated as the hub loads it, the CSV import, kiosks with their secrets."""

from __future__ import annotations

import re
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hailong.provision import SecretsLayout, init_secrets
from hailong.settings import ReceiptKeys, Unit, load_unit
from hub.web.accounts import Accounts
from hub.web.app import create_app
from tests.conftest import REPO
from tests.hub.web.conftest import PASSWORD, WebApp


@dataclass
class Admin:
    client: TestClient
    unit_file: Path
    layout: SecretsLayout
    broker_dir: Path

    def page(self, url: str) -> tuple[str, str]:
        """The page's CSRF token and catalogue version."""
        text = self.client.get(url).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', text)
        version = re.search(r'name="version" value="([^"]+)"', text)
        assert csrf
        return csrf.group(1), version.group(1) if version else ""

    def post(self, url: str, data: dict[str, str], page: str = "/admin/catalogue"):  # type: ignore[no-untyped-def]
        csrf, version = self.page(page)
        return self.client.post(
            url, data={"csrf": csrf, "version": version, **data}, follow_redirects=False
        )


@pytest.fixture
def admin_app(web_app: WebApp, tmp_path: Path, unit: Unit) -> WebApp:
    return make_admin_app(web_app, tmp_path, unit)


def make_admin_app(web_app: WebApp, tmp_path: Path, unit: Unit) -> WebApp:
    """The web app on a copy of the example unit file, with its own secrets and broker folder,
    and an administrator `root`."""
    Accounts(web_app.settings.web.accounts_file).add("root", PASSWORD, "admin")  # type: ignore[union-attr]
    unit_file = tmp_path / "config" / "unit.toml"
    unit_file.parent.mkdir()
    shutil.copy(REPO / "config" / "unit.toml", unit_file)
    layout = SecretsLayout(tmp_path / "var" / "secrets")
    init_secrets(unit, layout)
    settings = web_app.settings.model_copy(
        update={
            "hub": web_app.settings.hub.model_copy(update={"unit_file": unit_file}),
            "receipts": ReceiptKeys(key_dir=layout.receipt_keys, active_key="k1"),
        }
    )
    app = create_app(settings, unit, web_app.sessions)
    return WebApp(settings, web_app.sessions, app, web_app.token)


def _login(client: TestClient, username: str) -> None:
    page = client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    client.post(
        "/staff/login", data={"username": username, "password": PASSWORD, "csrf": token.group(1)}
    )


@pytest.fixture
def admin(admin_app: WebApp) -> Iterator[Admin]:
    with TestClient(admin_app.app) as client:
        _login(client, "root")
        unit_file = admin_app.settings.hub.unit_file
        layout = SecretsLayout(admin_app.settings.receipts.key_dir.parent)
        yield Admin(client, unit_file, layout, layout.root.parent / "broker")


PAGES = ["/admin", "/admin/catalogue", "/admin/procedures/import", "/admin/kiosks"]


def test_only_administrators_get_in(admin_app: WebApp) -> None:
    with TestClient(admin_app.app) as client:
        for url in PAGES:
            response = client.get(url, follow_redirects=False)
            assert response.status_code == 303, url
            assert response.headers["location"] == "/staff/login"
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/login").text)
        assert csrf
        post = client.post(
            "/admin/catalogue/counters/remove",
            data={"csrf": csrf.group(1), "version": "", "key": "Q1"},
            follow_redirects=False,
        )
        assert post.status_code == 303
    for username in ("head", "lan"):
        with TestClient(admin_app.app) as client:
            _login(client, username)
            for url in PAGES:
                assert client.get(url).status_code == 403, (username, url)
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/login").text)
            assert csrf
            post = client.post(
                "/admin/catalogue/counters/remove",
                data={"csrf": csrf.group(1), "version": "", "key": "Q3"},
            )
            assert post.status_code == 403
    assert len(load_unit(admin_app.settings.hub.unit_file).counters) == 3


def test_every_form_needs_the_csrf_token(admin: Admin) -> None:
    before = admin.unit_file.read_bytes()
    _, version = admin.page("/admin/catalogue")
    for url, data in [
        ("/admin/catalogue/counters/save", {"code": "Q4", "name": "Quầy 4"}),
        ("/admin/catalogue/counters/remove", {"key": "Q3"}),
        ("/admin/catalogue/unit", {"name": "X", "target_rate": "95"}),
        ("/admin/kiosks/save", {"id": "kiosk-q9"}),
    ]:
        for token in ({}, {"csrf": "forged"}):
            response = admin.client.post(url, data={"version": version, **data, **token})
            assert response.status_code in (403, 422), url
            assert response.status_code == 403 or not token
    with TestClient(admin.client.app) as fresh:  # a session just logged in has no token yet
        _login(fresh, "root")
        empty = fresh.post(
            "/admin/catalogue/counters/remove", data={"csrf": "", "version": "", "key": "Q3"}
        )
        assert empty.status_code == 422  # an empty token is a missing one, never a match
    upload = admin.client.post(
        "/admin/procedures/import",
        data={"csrf": "forged"},
        files={"upload": ("p.csv", b"code,name,field\n1.000001,A,ho-tich\n", "text/csv")},
    )
    assert upload.status_code == 403
    assert admin.unit_file.read_bytes() == before


def test_a_valid_edit_is_written_with_a_backup_and_loads(admin: Admin) -> None:
    before = admin.unit_file.read_text()
    response = admin.post(
        "/admin/catalogue/counters/save", {"code": "Q4", "name": "Quầy 4 – Đất đai"}
    )
    assert response.status_code == 303
    response = admin.post(
        "/admin/catalogue/officers/save",
        {"original": "CB005", "code": "CB005", "name": "H'Linh Niê", "counter": "Q4"},
    )
    assert response.status_code == 303
    response = admin.post("/admin/catalogue/unit", {"name": "Trung tâm X", "target_rate": "95"})
    assert response.status_code == 303
    policy = {
        "faces": "3",
        "reasons_at_or_below": "1",
        "survey_percent": "35",
        "unverified_min_interval_s": "120",
    }
    assert admin.post("/admin/catalogue/policy", policy).status_code == 303
    unit = load_unit(admin.unit_file)
    assert [c.code for c in unit.counters] == ["Q1", "Q2", "Q3", "Q4"]
    assert unit.counters[3].name == "Quầy 4 – Đất đai"
    assert next(o for o in unit.officers if o.code == "CB005").counter == "Q4"
    assert unit.unit.name == "Trung tâm X"
    assert unit.unit.target_rate == 95.0
    policy_now = unit.kiosk_policy
    assert (policy_now.faces, policy_now.reasons_at_or_below) == (3, 1)
    assert policy_now.survey_share == 0.35
    assert policy_now.allow_walk_in is False
    assert policy_now.unverified_min_interval_s == 120
    text = admin.unit_file.read_text()
    assert "# How every kiosk of the unit asks" in text  # comments survive
    backups = sorted(admin.unit_file.parent.glob("unit.toml.*.bak"))
    assert len(backups) == 4
    assert backups[0].read_text() == before
    assert not list(admin.unit_file.parent.glob(".unit.toml.*"))  # no temporary file left
    page = admin.client.get("/admin/catalogue")
    assert "Đã lưu" in page.text
    assert "Quầy 4 – Đất đai" in page.text
    removed = admin.post("/admin/catalogue/officers/remove", {"key": "CB005"})
    assert removed.status_code == 303
    assert "CB005" not in {o.code for o in load_unit(admin.unit_file).officers}


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        (
            "/admin/catalogue/counters/save",
            {"code": "Q1", "name": "Quầy trùng"},
            "Mã quầy “Q1” bị trùng. / The counter code “Q1” is used twice.",
        ),
        (
            "/admin/catalogue/officers/save",
            {"code": "CB009", "name": "Vũ Văn Nam", "counter": "Q9"},
            "Công chức “CB009” thuộc quầy “Q9” không có trong danh mục.",
        ),
        (
            "/admin/catalogue/counters/remove",
            {"key": "Q3"},
            "Công chức “CB004” thuộc quầy “Q3” không có trong danh mục.",
        ),
        (
            "/admin/catalogue/procedures/save",
            {"code": "1.23", "name": "Sai mã", "field": "ho-tich"},
            "key `procedures.10.code`: String should match pattern",
        ),
    ],
)
def test_an_invalid_edit_is_refused_and_the_file_kept(
    admin: Admin, url: str, data: dict[str, str], message: str
) -> None:
    before = admin.unit_file.read_bytes()
    response = admin.post(url, data)
    assert response.status_code == 400
    assert "Không lưu: tệp danh mục không thay đổi." in response.text
    assert message in response.text.replace("&#34;", '"').replace("&#39;", "'")
    assert admin.unit_file.read_bytes() == before
    assert not list(admin.unit_file.parent.glob("*.bak"))


def test_a_form_from_before_a_change_is_refused(admin: Admin) -> None:
    csrf, version = admin.page("/admin/catalogue")
    admin.unit_file.write_text(admin.unit_file.read_text() + "\n# edited by hand\n")
    response = admin.client.post(
        "/admin/catalogue/counters/save",
        data={"csrf": csrf, "version": version, "code": "Q4", "name": "Quầy 4"},
    )
    assert response.status_code == 400
    assert "reload the page" in response.text
    assert len(load_unit(admin.unit_file).counters) == 3


def _import(admin: Admin, body: str, replace: bool = False):  # type: ignore[no-untyped-def]
    csrf, _ = admin.page("/admin/procedures/import")
    data = {"csrf": csrf, **({"replace": "1"} if replace else {})}
    files = {"upload": ("thu-tuc.csv", body.encode("utf-8-sig"), "text/csv")}
    return admin.client.post("/admin/procedures/import", data=data, files=files)


def test_a_good_csv_adds_and_updates_procedures(admin: Admin) -> None:
    body = (
        "code,name,field\n"
        "1.001193,Đăng ký khai sinh (sửa),ho-tich\n"
        '2.000908,"Chứng thực hợp đồng, giao dịch",chung-thuc\n'
        "\n"
    )
    response = _import(admin, body)
    assert response.status_code == 200
    assert "Đã nhập 2 thủ tục: 1 mới, 1 sửa, 0 xoá." in response.text
    unit = load_unit(admin.unit_file)
    assert len(unit.procedures) == 11
    assert unit.procedure("1.001193").name == "Đăng ký khai sinh (sửa)"  # type: ignore[union-attr]
    assert unit.procedure("2.000908").field == "chung-thuc"  # type: ignore[union-attr]
    replaced = _import(admin, "field;code;name\nho-tich;1.000894;Đăng ký kết hôn\n", replace=True)
    assert "0 mới, 0 sửa, 10 xoá" in replaced.text
    assert [p.code for p in load_unit(admin.unit_file).procedures] == ["1.000894"]


def test_a_bad_csv_reports_every_bad_row_and_imports_nothing(admin: Admin) -> None:
    before = admin.unit_file.read_bytes()
    body = (
        "code,name,field\n"
        "1.009999,Thủ tục tốt,ho-tich\n"
        "1.23,Mã sai,ho-tich\n"
        "1.009998,Lĩnh vực lạ,xay-dung\n"
        "1.009999,Trùng mã,ho-tich\n"
        "1.009997,,ho-tich\n"
        "1.009996,Thiếu cột\n"
    )
    response = _import(admin, body)
    assert response.status_code == 400
    text = response.text
    assert "Không nhập gì: 5 dòng có lỗi." in text
    rows = re.findall(r'<td class="num">(\d+)</td><td>([^<]*)</td>', text)
    lines = {int(line): reason for line, reason in rows}
    assert sorted(lines) == [3, 4, 5, 6, 7]
    assert "1.23" in lines[3]
    assert "xay-dung" in lines[4]
    assert "dòng 2" in lines[5]
    assert "thiếu tên" in lines[6]
    assert "2 columns, expected 3" in lines[7]
    assert admin.unit_file.read_bytes() == before
    header = _import(admin, "ma,ten,linh_vuc\n1.000001,A,ho-tich\n")
    assert header.status_code == 400
    assert "the header must name exactly the columns code, name, field" in header.text
    empty = _import(admin, "")
    assert empty.status_code == 400
    assert "tệp rỗng / the file is empty" in empty.text
    assert admin.unit_file.read_bytes() == before


def test_a_new_kiosk_gets_its_credentials_and_the_broker_its_acl(admin: Admin) -> None:
    response = admin.post(
        "/admin/kiosks/save", {"id": "kiosk-q4", "counter": "Q3"}, page="/admin/kiosks"
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    password_file = admin.layout.mqtt_password_file("kiosk-q4")
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) >= 24
    assert password in response.text  # shown once, here
    assert "The password is shown once" in response.text
    assert "hailong broker</code> restarts mosquitto" in response.text  # it binds the new id
    acl = (admin.broker_dir / "acl").read_text()
    assert "user kiosk-q4" in acl
    assert "topic write hailong/v1/000.00.20.H41/kiosk-q4/ratings" in acl
    assert stat.S_IMODE((admin.broker_dir / "passwd").stat().st_mode) == 0o600
    assert "kiosk-q4:$7$" in (admin.broker_dir / "passwd").read_text()
    unit = load_unit(admin.unit_file)
    assert ("kiosk-q4", "Q3") in {(k.id, k.counter) for k in unit.kiosks}
    assert password not in admin.client.get("/admin/kiosks").text  # never again

    duplicate = admin.post("/admin/kiosks/save", {"id": "kiosk-q4"}, page="/admin/kiosks")
    assert duplicate.status_code == 400
    assert "Mã máy đánh giá “kiosk-q4” bị trùng." in duplicate.text

    removed = admin.post("/admin/kiosks/remove", {"key": "kiosk-q4"}, page="/admin/kiosks")
    assert removed.status_code == 303
    assert "user kiosk-q4" not in (admin.broker_dir / "acl").read_text()
    assert "kiosk-q4" not in {k.id for k in load_unit(admin.unit_file).kiosks}
