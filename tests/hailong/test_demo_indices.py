"""``hailong demo`` ends with the quarter's official indices, under the criteria it finds beside
its hub configuration (``config/criteria/``), and says so plainly when there are none."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hailong.demo import _print_indices
from hailong.settings import load_hub, load_unit
from hub.store.db import make_engine, session_factory
from tests.hub.store.test_indices import UNIT, add_receipt

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """config/ copied beside a fresh var/, so the test writes nothing into the repository."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target / "hub.toml"


def test_the_demo_prints_the_quarters_indices_under_the_shipped_criteria(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_hub(config)
    unit = load_unit(settings.hub.unit_file)
    issued = datetime.now(UTC) - timedelta(minutes=5)
    with session_factory(make_engine(settings.hub.database_url)).begin() as session:
        add_receipt(session, f"{UNIT}-{issued:%y%m%d}-0001", issued, None)
    _print_indices(config, settings, unit)
    out = capsys.readouterr().out
    assert "Bộ tiêu chí / Criteria: Thông tư 01/2018/TT-VPCP" in out
    assert f"Đơn vị / Unit {UNIT}" in out
    assert "1 hồ sơ / dossiers" in out


def test_without_criteria_the_demo_says_so_and_goes_on(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(config.parent / "criteria")
    settings = load_hub(config)
    _print_indices(config, settings, load_unit(settings.hub.unit_file))
    out = capsys.readouterr().out
    assert "Official indices: no criteria" in out
    assert "criteria folder not found" in out
