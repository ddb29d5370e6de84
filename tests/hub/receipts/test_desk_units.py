"""Receipts on a hub serving many units: the desk of unit A never reaches unit B's receipts.

Two communes under a province, both with an officer CB001 (officer codes repeat across units), on
real SQLite and PostgreSQL. Every lookup (view, recent, reprint, return) of the other unit's
receipt answers exactly as an unknown code, through the desk and through ``hailong receipt``.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from hailong.cli import cli
from hailong.settings import HubSettings, PrinterSettings, ReceiptKeys, Unit
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.receipts.issuing import UnknownReceiptError
from hub.store.catalogue import import_unit
from hub.store.db import make_engine, session_factory
from hub.store.models import ReceiptRow
from hub.web.accounts import ApiClient, ApiTokens
from tests.conftest import REPO
from tests.hub.store.test_catalogue import other_unit
from tests.hub.web.test_admin_database import HOME, PROVINCE, WARD_B, province_unit

A, B = HOME, WARD_B
ONLY_B = "CB099"  # an officer of B alone: A's catalogue does not know the code


@dataclass
class TwoUnits:
    sessions: sessionmaker[Session]
    units: dict[str, Unit]  # A and B's catalogues, both with an officer CB001


def two_units(database_url: str, unit: Unit) -> TwoUnits:
    """A province over A (the test unit) and B (a copy, plus officer :data:`ONLY_B`), in the
    catalogue tables of a fresh database."""
    data = other_unit(unit, B, "b").model_dump()
    data["officers"] = [
        *data["officers"],
        {**data["officers"][0], "code": ONLY_B, "name": "Cán bộ B"},
    ]
    ward_b = Unit.model_validate(data)
    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        import_unit(session, province_unit(), kind="province")
        import_unit(session, unit, parent=PROVINCE)
        import_unit(session, ward_b, parent=PROVINCE)
    return TwoUnits(sessions, {A: unit, B: ward_b})


def desks(settings: HubSettings, hub: TwoUnits) -> dict[str, ReceiptDesk]:
    return {code: ReceiptDesk(settings, unit, hub.sessions) for code, unit in hub.units.items()}


def issue_both(desk: dict[str, ReceiptDesk]) -> dict[str, str]:
    """One receipt per unit, both by an officer CB001 at counter Q1: unit code -> dossier code."""
    ask = IssueRequest("Q1", "CB001", "1.001193")
    return {code: str(d.issue(ask, print_slip=False).receipt.code) for code, d in desk.items()}


@pytest.fixture
def hub(database_url: str, unit: Unit) -> TwoUnits:
    return two_units(database_url, unit)


@pytest.fixture
def settings(receipt_keys: ReceiptKeys, tmp_path: Path) -> HubSettings:
    return HubSettings.model_validate(
        {
            "hub": {
                "unit_file": REPO / "config" / "unit.toml",
                "database_url": "sqlite://",  # unused: the desks are given their sessions
                "public_base_url": "https://hailong.example.gov.vn",
            },
            "mqtt": {"host": "127.0.0.1", "port": 1, "username": "hub", "password_file": "x"},
            "receipts": receipt_keys,
            "printers": {"Q1": PrinterSettings(kind="dummy", paper_width_mm=80)},
        }
    )


def unknown(code: str) -> str:
    return f"no receipt {code} in the register"


def test_the_desk_reaches_its_own_units_receipts_only(hub: TwoUnits, settings: HubSettings) -> None:
    desk = desks(settings, hub)
    codes = issue_both(desk)
    since = datetime.now(UTC) - timedelta(hours=1)
    for mine, theirs in ((A, B), (B, A)):
        own, other = codes[mine], codes[theirs]
        assert desk[mine].view(own, issued_by="CB001").citizen_name is None
        assert desk[mine].view(own).code == own
        for issued_by in (None, "CB001"):
            with pytest.raises(UnknownReceiptError) as seen:
                desk[mine].view(other, issued_by=issued_by)
            assert str(seen.value) == unknown(other)  # as for a code never issued
            with pytest.raises(UnknownReceiptError, match=re.escape(unknown(other))):
                desk[mine].reprint(other, issued_by=issued_by)
            listed = desk[mine].recent(since, issued_by=issued_by)
            assert [v.code for v in listed] == [own]
        assert [v.code for v in desk[mine].recent(since, counter="Q1")] == [own]
        assert desk[mine].reprint(own).ok
        with pytest.raises(UnknownReceiptError, match=re.escape(unknown(other))):
            desk[mine].record_return(other, "CB001")
    with hub.sessions() as session:
        rows = [session.get(ReceiptRow, c) for c in codes.values()]
    assert [(r is not None, r and r.returned_at) for r in rows] == [(True, None)] * 2
    # Each unit's own officer records its own return; a second scan changes nothing.
    assert not desk[B].record_return(codes[B], "CB001").already
    assert desk[B].record_return(codes[B], "CB001").already
    with pytest.raises(UnknownReceiptError):
        desk[A].record_return(codes[B], "CB001")


def test_the_command_line_acts_in_the_unit_it_is_given(
    hub: TwoUnits,
    settings: HubSettings,
    database_url: str,
    receipt_keys: ReceiptKeys,
    tmp_path: Path,
) -> None:
    codes = issue_both(desks(settings, hub))
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    hub_toml = config / "hub.toml"
    text = re.sub(
        r'(?m)^database_url = ".*?"', f'database_url = "{database_url}"', hub_toml.read_text()
    )
    text = text.replace("[hub]\n", f'[hub]\ncatalogue = "database"\nunit = "{A}"\n', 1)
    text = re.sub(r'(?m)^key_dir = ".*?"', f'key_dir = "{receipt_keys.key_dir}"', text)
    text = re.sub(r'(?m)^active_key = ".*?"', f'active_key = "{receipt_keys.active_key}"', text)
    hub_toml.write_text(text, encoding="utf-8")

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, [*args[:2], "--config", str(hub_toml), *args[2:]])
        return result.exit_code, result.output

    # The home unit (A) by default: B's receipt is unknown to every command, as a bad code is.
    for args in (("reprint", codes[B]), ("return", codes[B], "--officer", "CB001")):
        code, out = run("receipt", *args)
        assert (code, unknown(codes[B])) == (1, out.strip().removeprefix("Error: ")), out
        code, out = run("receipt", *args, "--unit", B)
        assert code == 0, out
    code, out = run("receipt", "return", codes[A], "--officer", "CB001", "--unit", B)
    assert (code, out.strip()) == (1, f"Error: {unknown(codes[A])}")
    code, out = run("receipt", "reprint", codes[A], "--unit", B)
    assert (code, out.strip()) == (1, f"Error: {unknown(codes[A])}")
    # An officer of B alone issues in B, not in A; a unit the hub does not serve is refused.
    ask = ("--counter", "Q1", "--officer", ONLY_B, "--procedure", "1.001193")
    code, out = run("receipt", "issue", *ask)
    assert code == 1
    assert f"unknown officer '{ONLY_B}'" in out
    code, out = run("receipt", "issue", *ask, "--unit", B)
    assert code == 0, out
    assert f"Mã hồ sơ / dossier code: {B}-" in out
    code, out = run("receipt", "reprint", codes[A], "--unit", "999.99.99.H41")
    assert code == 2
    assert "'999.99.99.H41': not a unit this hub serves" in out
    # A token per unit: the scope is kept beside the digest; a province (no counters) gets none.
    code, out = run("token", "add", "one-stop-b", "--unit", B)
    assert code == 0, out
    token = out.splitlines()[0]
    tokens = ApiTokens(config.parent / "var" / "secrets" / "web" / "api-tokens.json")
    assert tokens.client(token) == ApiClient("one-stop-b", B)
    code, out = run("token", "add", "tinh", "--unit", PROVINCE)
    assert code == 2
    assert "has no counters" in out
    code, out = run("token", "list")
    assert (code, out) == (0, f"one-stop-b\t{B}\n")
    assert run("token", "revoke", "one-stop-b") == (0, "đã thu hồi / revoked: one-stop-b\n")
    assert tokens.client(token) is None
    assert run("token", "revoke", "one-stop-b")[0] == 1
    with hub.sessions() as session:
        row = session.get(ReceiptRow, codes[B])
        assert row is not None
        assert row.returned_by == "CB001"
        other = session.get(ReceiptRow, codes[A])
        assert other is not None
        assert other.returned_at is None
