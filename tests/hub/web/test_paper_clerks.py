"""Designated paper clerks (issue 17): an officer's login keys paper forms and assisted ratings
only when the unit designated it (``paper_clerk``, ``hailong staff add --paper-clerk``), on the
page and through the API alike; heads and administrators always may; a clerk still never keys a
rating of their own dossier; account files from before the flag load unchanged, with no clerk."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hailong.cli import cli
from hailong.contract.clock import unit_day
from hailong.settings import Unit
from hub.store.models import RatingRow
from hub.web import accounts as accounts_module
from hub.web.accounts import AccountError, Accounts
from tests.hub.web.conftest import PASSWORD, Web
from tests.hub.web.test_paper import _issue
from tests.hub.web.test_paper import _login as _paper_login

TODAY = unit_day(datetime.now(UTC))
CONFIG = Path(__file__).resolve().parents[3] / "config"
NOT_CLERK_VI = "chưa được giao nhập phiếu"


# -- the account flag ------------------------------------------------------------------------


def test_an_account_file_from_before_the_flag_loads_unchanged_with_no_clerk(
    tmp_path: Path,
) -> None:
    path = tmp_path / "accounts.json"
    old = {
        "users": {
            "lan": {"hash": accounts_module._hasher.hash(PASSWORD), "officer": "CB001",
                    "role": "officer"},
            "head": {"hash": accounts_module._hasher.hash(PASSWORD), "officer": None,
                     "role": "head"},
        }
    }  # fmt: skip
    path.write_text(json.dumps(old))
    before = path.read_bytes()
    accounts = Accounts(path)
    lan, head = accounts.get("lan"), accounts.get("head")
    assert lan is not None
    assert head is not None
    assert (lan.paper_clerk, lan.keys_paper) == (False, False)
    assert (head.paper_clerk, head.keys_paper) == (False, True)  # a head always may
    assert accounts.login("lan", PASSWORD, "192.0.2.1", datetime.now(UTC)).account == lan
    assert path.read_bytes() == before  # read and logged in: the file is as it was


def test_the_flag_is_stored_only_when_set_and_an_update_without_it_takes_it_away(
    tmp_path: Path,
) -> None:
    accounts = Accounts(tmp_path / "accounts.json")
    accounts.add("thu", PASSWORD, "officer", "CB002", paper_clerk=True)
    accounts.add("lan", PASSWORD, "officer", "CB001")
    users = json.loads(accounts.path.read_text())["users"]
    assert users["thu"]["paper_clerk"] is True
    assert "paper_clerk" not in users["lan"]
    thu = accounts.get("thu")
    assert thu is not None
    assert thu.keys_paper
    assert accounts.paper_clerk("CB002", "000.00.20.H41", "000.00.20.H41")
    assert not accounts.paper_clerk("CB002", "000.00.21.H41", "000.00.20.H41")  # another unit's
    assert not accounts.paper_clerk("CB001", "000.00.20.H41", "000.00.20.H41")
    accounts.add("thu", "a new password!", "officer", "CB002")  # a password reset, no flag
    again = accounts.get("thu")
    assert again is not None
    assert not again.paper_clerk


@pytest.mark.parametrize("value", ["yes", 1, [True]])
def test_a_flag_edited_by_hand_into_anything_but_true_is_no_clerk(
    tmp_path: Path, value: object
) -> None:
    accounts = Accounts(tmp_path / "accounts.json")
    accounts.add("thu", PASSWORD, "officer", "CB002", paper_clerk=True)
    data = json.loads(accounts.path.read_text())
    data["users"]["thu"]["paper_clerk"] = value
    accounts.path.write_text(json.dumps(data))
    thu = accounts.get("thu")
    assert thu is not None
    assert not thu.paper_clerk


@pytest.mark.parametrize("role", ["head", "admin"])
def test_only_an_officer_is_designated(tmp_path: Path, role: str) -> None:
    with pytest.raises(AccountError, match="paper clerk"):
        Accounts(tmp_path / "accounts.json").add("x1", PASSWORD, role, paper_clerk=True)  # type: ignore[arg-type]


def test_the_command_line_designates_a_clerk(tmp_path: Path) -> None:
    shutil.copytree(CONFIG, tmp_path / "config")
    config = str(tmp_path / "config" / "hub.toml")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--config", config]).exit_code == 0
    base = ["staff", "add", "--role", "officer", "--officer", "CB002", "--password", PASSWORD]
    done = runner.invoke(cli, [*base, "thu", "--paper-clerk", "--config", config])
    assert done.exit_code == 0, done.output
    assert "paper clerk" in done.output
    plain = runner.invoke(cli, [*base, "binh", "--config", config])
    assert plain.exit_code == 0, plain.output
    refused = runner.invoke(
        cli,
        ["staff", "add", "tp", "--role", "head", "--paper-clerk", "--password", PASSWORD,
         "--config", config],
    )  # fmt: skip
    assert refused.exit_code != 0
    assert "paper clerk" in refused.output
    accounts = Accounts(tmp_path / "var" / "secrets" / "web" / "accounts.json")
    thu, binh = accounts.get("thu"), accounts.get("binh")
    assert thu is not None
    assert binh is not None
    assert (thu.paper_clerk, binh.paper_clerk) == (True, False)


# -- the page and the API --------------------------------------------------------------------


@pytest.fixture
def staff(web: Web) -> Web:
    """Besides the fixture's lan (CB001, no clerk) and head: hoa (CB003), no clerk yet."""
    assert web.settings.web is not None
    Accounts(web.settings.web.accounts_file).add("hoa", PASSWORD, "officer", "CB003")
    return web


def _login(web: Web, username: str) -> str:
    return _paper_login(web, username, landing="/staff")


def _stored(web: Web) -> list[tuple[str | None, str | None]]:
    with web.sessions() as session:
        return [(r.dossier_code, r.entered_by) for r in session.scalars(select(RatingRow))]


def _designate(web: Web, username: str, officer: str) -> None:
    assert web.settings.web is not None
    Accounts(web.settings.web.accounts_file).add(
        username, PASSWORD, "officer", officer, paper_clerk=True
    )


def test_an_officer_without_the_flag_is_refused_the_page_then_keys_once_designated(
    staff: Web, unit: Unit
) -> None:
    code = _issue(staff, unit)
    csrf = _login(staff, "hoa")
    assert "/staff/paper" not in staff.client.get("/staff").text  # no link to a closed page
    assert staff.client.get("/staff/paper").status_code == 403
    assert staff.client.get("/staff/paper?mode=assisted").status_code == 403
    form = {"csrf": csrf, "code": code, "filled_on": TODAY.isoformat(), "score": "5"}
    for mode in ("paper", "assisted"):
        refused = staff.client.post("/staff/paper", data=form | {"mode": mode})
        assert refused.status_code == 403, mode
    assert _stored(staff) == []
    _designate(staff, "hoa", "CB003")  # ends hoa's sessions: log in again
    csrf = _login(staff, "hoa")
    assert "/staff/paper" in staff.client.get("/staff").text
    assert staff.client.get("/staff/paper").status_code == 200
    saved = staff.client.post("/staff/paper", data=form | {"csrf": csrf}, follow_redirects=False)
    assert saved.status_code == 303
    assert _stored(staff) == [(code, "hoa")]


def test_the_api_refuses_an_officer_who_is_no_clerk_however_named(staff: Web, unit: Unit) -> None:
    code = _issue(staff, unit)
    bearer = {"Authorization": f"Bearer {staff.token}"}
    body = {"code": code, "filled_on": TODAY.isoformat(), "score": 4, "entered_by": "hoa"}
    for named in (
        {"officer": "CB003"},  # hoa's code, hoa no clerk
        {},  # hoa's login named alone: the hub knows it is an officer's
        {"entered_by": "nhap-lieu", "officer": "CB004"},  # an officer with no login at all
        {"assisted": True, "officer": "CB003"},
    ):
        refused = staff.client.post("/api/v1/paper-forms", json=body | named, headers=bearer)
        assert refused.status_code == 403, named
        assert NOT_CLERK_VI in refused.json()["detail"], named
    assert _stored(staff) == []
    _designate(staff, "lan", "CB001")
    own = body | {"entered_by": "lan", "officer": "CB001"}
    refused = staff.client.post("/api/v1/paper-forms", json=own, headers=bearer)
    assert refused.status_code == 403
    assert "hồ sơ của mình" in refused.json()["detail"]  # a clerk, but their own dossier
    _designate(staff, "hoa", "CB003")
    created = staff.client.post("/api/v1/paper-forms", json=body, headers=bearer)
    assert created.status_code == 201
    assert _stored(staff) == [(code, "hoa")]
