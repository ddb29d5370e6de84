"""``hailong report quarterly`` and ``yearly`` as a unit head runs them, on a copy of the example
config with the ratings of tests.hub.exports.test_official (figures worked out there)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from hailong.cli import cli
from hailong.settings import load_hub, load_unit
from hub.store.db import make_engine, session_factory
from tests.hub.exports.test_official import seed

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    hub = target / "hub.toml"
    sessions = session_factory(make_engine(load_hub(hub).hub.database_url))
    seed(sessions, load_unit(target / "unit.toml"))
    return hub


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["report", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_the_quarterly_report_writes_the_pdf_and_the_xlsx(config: Path, tmp_path: Path) -> None:
    pdf, xlsx = tmp_path / "q.pdf", tmp_path / "q.xlsx"
    code, out = run(
        "quarterly", "--config", str(config), "--quarter", "2026Q3", "--pdf", str(pdf),
        "--xlsx", str(xlsx), "--number", "8", "--symbol", "BC-TTPVHCC", "--recipient",
        "Sở Nội vụ", "--signer", "Giám đốc", "--as-of", "2026-10-20",
    )  # fmt: skip
    assert code == 0, out
    assert pdf.read_bytes()[:5] == b"%PDF-"
    book = load_workbook(xlsx)
    cover = [row[0] for row in book["Báo cáo"].iter_rows(values_only=True)]
    assert "Số: 8/BC-TTPVHCC" in cover
    assert "Nghĩa Tân, ngày 20 tháng 10 năm 2026" in cover  # the place from the unit's name
    factors = list(book["2. factors"].iter_rows(min_row=6, max_row=11, values_only=True))
    assert factors[-1][:3] == ("Nói chung (cung ứng dịch vụ hành chính công) / Overall", 18, 12)


def test_the_command_says_what_is_wrong(config: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "x.pdf")
    base = ("--config", str(config), "--pdf", out)
    assert run("quarterly", *base, "--quarter", "2026")[0] == 2  # a year is not a quarter
    assert run("yearly", *base, "--year", "2026Q1")[0] == 2
    assert run("quarterly", "--config", str(config), "--quarter", "2026Q3")[0] == 2  # no file
    assert run("quarterly", *base, "--quarter", "2026Q3", "--unit", "X", "--province")[0] == 2
    code, text = run("quarterly", *base, "--quarter", "2026Q3", "--symbol", "CV-1")
    assert code == 1
    assert "ký hiệu" in text
    code, text = run("quarterly", *base, "--quarter", "2026Q3", "--unit", "000.99.99.H41")
    assert code == 2
    assert "not a unit this hub serves" in text
    assert run("yearly", *base, "--year", "2026", "--as-of", "2026-12-31")[0] == 0
