"""``hailong report indices`` as a unit head runs it, on a copy of the example config."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from hailong.cli import cli
from hailong.settings import ConfigError, load_hub
from hub.store.db import make_engine, session_factory
from tests.hub.store.test_indices import UNIT, add_receipt

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """config/ copied beside a fresh var/, so the test writes nothing into the repository."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target / "hub.toml"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["report", "indices", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_report_indices(config: Path) -> None:
    sessions = session_factory(make_engine(load_hub(config).hub.database_url))
    with sessions.begin() as session:
        # Promised 10 July: returned on the day (1 point); the second still out on 1 October.
        add_receipt(
            session,
            f"{UNIT}-260701-0001",
            datetime(2026, 7, 1, 2, 0, tzinfo=UTC),
            date(2026, 7, 10),
            returned_at=datetime(2026, 7, 10, 9, 0, tzinfo=UTC),
            returned_by="CB001",
        )
        add_receipt(
            session,
            f"{UNIT}-260702-0001",
            datetime(2026, 7, 2, 2, 0, tzinfo=UTC),
            date(2026, 7, 20),
        )
    code, out = run("--config", str(config), "--quarter", "2026Q3", "--as-of", "2026-10-01")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == (
        "Chỉ số đánh giá / Official indices: Quý 3/2026 / Q3 2026 (01/07/2026 – 30/09/2026),"
        " tính đến / as of 01/10/2026"
    )
    # Indicator 1: (1 + 0) / 2 = 0.5; nothing else has data: 0.5 of 2, scaled 0.5 × 18 / 2 = 4.5.
    assert "  Chỉ số đơn vị / Unit index: 0.5 / 2 (quy đổi / scaled 4.5 / 18): Yếu / Weak" in lines
    assert any(
        line.startswith("      1. Tổng thời gian") and "0.5 / 2 (2 hồ sơ" in line for line in lines
    )
    assert any(
        line.startswith("      7. Thái độ") and "không có dữ liệu / no data" in line
        for line in lines
    )
    # 766: the second dossier is late: (2 - 1) / 2.
    assert any("satisfaction ratio: 50.0 % = (2 − 1) / 2" in line for line in lines)
    officer = next(line for line in lines if line.startswith("    CB001"))
    assert officer.endswith(
        ": 0.5 / 2 (quy đổi / scaled 2.5 / 10): Hoàn thành dưới 70 % nhiệm vụ"
        " / under 70 % of duty done (2 hồ sơ / dossiers)"
    )
    # A year reads the same dossiers.
    code, out = run("--config", str(config), "--year", "2026", "--as-of", "2026-10-01")
    assert code == 0
    assert "Năm 2026 / Year 2026" in out
    assert "Unit index: 0.5 / 2" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --quarter (e.g. 2026Q3) or --year (e.g. 2026)"),
        (("--quarter", "2026Q3", "--year", "2026"), "give --quarter"),
        (("--quarter", "2026Q5"), "expected a quarter such as 2026Q3"),
        (("--quarter", "2026"), "'2026' is not a quarter"),
        (("--year", "2026Q1"), "'2026Q1' is not a year"),
    ],
)
def test_report_indices_refuses_a_bad_period(
    config: Path, args: tuple[str, ...], message: str
) -> None:
    code, out = run("--config", str(config), *args)
    assert code == 2
    assert message in out


def test_report_indices_before_any_criteria(config: Path) -> None:
    code, out = run("--config", str(config), "--quarter", "2018Q4")
    assert code == 1
    assert "no criteria version in force on 2018-12-31" in out


def test_report_indices_names_a_bad_criteria_file(config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad-criteria"
    bad.mkdir()
    text = (config.parent / "criteria" / "tt01-2018.toml").read_text(encoding="utf-8")
    (bad / "tt01-2018.toml").write_text(text.replace("max = 10", "max = 12"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"officer\.max is 12 but its indicators add up to 10"):
        run("--config", str(config), "--quarter", "2026Q3", "--criteria", str(bad))
