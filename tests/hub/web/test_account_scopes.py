"""Logins scoped to a unit (hub.web.accounts, `hailong staff add --unit`): stored, read back,
defaulting to the home unit for accounts from before scopes, and never widened by a bad entry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hailong.cli import cli
from hub.web.accounts import AccountError, Accounts

PASSWORD = "correct horse battery"
HOME, PROVINCE = "000.00.20.H41", "000.00.00.H41"
CONFIG = Path(__file__).resolve().parents[3] / "config"


def test_a_scope_is_stored_and_an_old_account_is_the_home_units(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "accounts.json")
    accounts.add("tinh", PASSWORD, "head", unit=PROVINCE)
    accounts.add("old", PASSWORD, "head")
    tinh, old = accounts.get("tinh"), accounts.get("old")
    assert tinh is not None
    assert old is not None
    assert (tinh.unit, tinh.scope(HOME)) == (PROVINCE, PROVINCE)
    assert (old.unit, old.scope(HOME)) == (None, HOME)
    assert "unit" not in json.loads((tmp_path / "accounts.json").read_text())["users"]["old"]


@pytest.mark.parametrize("unit", ["", "x", "000.00.20.h41", "A" * 21, "../etc"])
def test_a_malformed_scope_is_refused(tmp_path: Path, unit: str) -> None:
    with pytest.raises(AccountError, match="unit"):
        Accounts(tmp_path / "accounts.json").add("tinh", PASSWORD, "head", unit=unit)


def test_a_scope_edited_by_hand_into_garbage_logs_nobody_in(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path / "accounts.json")
    accounts.add("tinh", PASSWORD, "head", unit=PROVINCE)
    data = json.loads(accounts.path.read_text())
    data["users"]["tinh"]["unit"] = ["every", "unit"]
    accounts.path.write_text(json.dumps(data))
    assert accounts.get("tinh") is None  # refused, never taken for the home unit


def test_the_command_line_scopes_a_login(tmp_path: Path) -> None:
    shutil.copytree(CONFIG, tmp_path / "config")
    config = str(tmp_path / "config" / "hub.toml")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--config", config]).exit_code == 0
    args = ["staff", "add", "tinh", "--role", "admin", "--password", PASSWORD, "--config", config]
    # This hub serves its unit file's unit alone: a province's code is not one of its units.
    for other in (PROVINCE, "not a unit"):
        refused = runner.invoke(cli, [*args, "--unit", other])
        assert refused.exit_code != 0
        assert "not a unit this hub serves" in refused.output
    done = runner.invoke(cli, [*args, "--unit", HOME])
    assert done.exit_code == 0, done.output
    assert f"unit {HOME}" in done.output
    accounts = Accounts(tmp_path / "var" / "secrets" / "web" / "accounts.json")
    found = accounts.get("tinh")
    assert found is not None
    assert found.unit == HOME
