"""The coverage use case: named tables per dimension from the register, the officer's own line,
many units at once (the province view), and the text ``hailong report summary`` prints."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from hailong.cli import cli
from hailong.contract.messages import ReceiptRef
from hailong.settings import Unit
from hub.coverage import coverage_report, format_coverage, units_coverage
from hub.domain.coverage import Level
from hub.domain.ingest import Attribution
from hub.domain.satisfaction import GroupSummary
from hub.domain.units import UnitNode
from hub.store.db import make_engine, session_factory
from hub.store.models import ReceiptRow
from hub.store.ratings import store_batch
from hub.store.rollups import Scope
from tests.hailong.contract.test_messages import make_rating

HOME = "000.00.20.H41"
ISSUED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
CONFIG = Path(__file__).resolve().parents[2] / "config"


def _register(sessions: sessionmaker[Session]) -> None:
    """CB001 at Q1: 4 receipts of 1.001193 (hộ tịch), 1 rated; CB003 at Q2: 2 of 2.000815
    (chứng thực), both rated; another unit: 3 receipts, none rated."""
    plan = [
        (HOME, "Q1", "CB001", "1.001193", 1, True),
        (HOME, "Q1", "CB001", "1.001193", 2, False),
        (HOME, "Q1", "CB001", "1.001193", 3, False),
        (HOME, "Q1", "CB001", "1.001193", 4, False),
        (HOME, "Q2", "CB003", "2.000815", 5, True),
        (HOME, "Q2", "CB003", "2.000815", 6, True),
        *[("000.00.21.H41", "Q1", "X1", "1.001193", i, False) for i in (7, 8, 9)],
    ]
    items = []
    with sessions.begin() as session:
        for unit, counter, officer, procedure, seq, rated in plan:
            code = f"{unit}-261125-{seq:04d}"
            session.add(
                ReceiptRow(
                    dossier_code=code,
                    unit=unit,
                    procedure=procedure,
                    counter=counter,
                    officer=officer,
                    key_id="k1",
                    url=f"https://hub/r/{code}",
                    issued_at=ISSUED,
                )
            )
            if rated:
                rating = make_rating(
                    seq=seq,
                    unit=unit,
                    rated_at=ISSUED + timedelta(minutes=2),
                    receipt=ReceiptRef(code=code, verified=True),
                )
                items.append((rating, Attribution(counter, officer, procedure, None, True)))
        session.flush()
        store_batch(session, items, ISSUED + timedelta(hours=1))


def test_named_tables_the_officer_line_and_many_units(tmp_path: Path, unit: Unit) -> None:
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    _register(sessions)
    with sessions() as session:
        report = coverage_report(session, Scope(unit))
        own = coverage_report(session, Scope(unit, officer="CB003"))
        nodes = [
            UnitNode("000.00.21.H41", "Phường B"),
            UnitNode(HOME, "Phường A"),
            UnitNode("000.00.22.H41", "Xã C"),
        ]
        province = units_coverage(session, nodes, ISSUED, ISSUED + timedelta(days=1))
    assert (report.overall.issued, report.overall.rated, report.overall.name) == (
        6,
        3,
        unit.unit.name,
    )
    officers = [(c.key, c.name, c.rated, c.issued) for c in report.tables["officer"]]
    assert officers == [("CB001", "Nguyễn Thị Lan", 1, 4), ("CB003", "Lê Thị Hồng", 2, 2)]
    fields = {c.key: (c.rated, c.issued) for c in report.tables["field"]}
    assert fields == {"ho-tich": (1, 4), "chung-thuc": (2, 2)}
    assert report.line("counter", "Q3") is None  # issued nothing
    shown = [GroupSummary("CB003", "Lê Thị Hồng", 2, 2, 100.0, 34.2, 100.0)]
    assert [c.key for c in report.without_ratings("officer", shown)] == ["CB001"]
    # The officer's scope: their receipts only, named after them.
    assert (own.overall.name, own.overall.issued) == ("Lê Thị Hồng", 2)
    assert [c.key for c in own.tables["officer"]] == ["CB003"]
    # Many units, in the order asked; a unit that issued nothing has no rate.
    assert [(c.key, c.issued, c.rated) for c in province] == [
        ("000.00.21.H41", 3, 0),
        (HOME, 6, 3),
        ("000.00.22.H41", 0, 0),
    ]
    assert province[2].level is Level.NO_RECEIPTS
    text = format_coverage(report)
    assert "3/6 biên nhận được đánh giá / receipts rated (50.0 %)" in text
    assert "ít biên nhận / few receipts" in text  # 6 receipts: too few to judge


def test_the_summary_command_prints_the_response(tmp_path: Path) -> None:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    config = str(target / "hub.toml")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--config", config]).exit_code == 0
    issue = ["receipt", "issue", "--config", config, "--counter", "Q1", "--officer", "CB001",
             "--procedure", "1.001193"]  # fmt: skip
    assert runner.invoke(cli, issue, catch_exceptions=False).exit_code == 0
    result = runner.invoke(cli, ["report", "summary", "--config", config], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "MĐHL theo quầy / Satisfaction by counter" in out
    assert "Phản hồi / Response: 0/1 biên nhận được đánh giá / receipts rated (0.0 %)" in out
    assert "Phản hồi theo công chức / Response by officer" in out
    lan = next(line for line in out.splitlines() if line.strip().startswith("Nguyễn Thị Lan"))
    # issued 1, rated 0, abandoned 0, not reached 1, response 0.0 %, no MĐHL, few receipts
    assert lan.split()[3:9] == ["1", "0", "0", "1", "0.0", "—"]
    assert lan.endswith("ít biên nhận / few receipts")
