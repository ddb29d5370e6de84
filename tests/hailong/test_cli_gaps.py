"""``hailong report gaps`` as a unit head runs it, on a copy of the example config."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from hailong.cli import cli
from hailong.contract import topics
from hailong.settings import load_hub
from hub.domain.ingest import Attribution
from hub.store.db import make_engine, session_factory
from hub.store.ratings import store_batch, store_dead_letter
from tests.hailong.contract.test_messages import make_rating

CONFIG = Path(__file__).resolve().parents[2] / "config"
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ATTR = Attribution("Q1", "CB001", "1.001193", "ho-tich", receipt_known=False)
UNIT = "000.00.20.H41"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """config/ copied beside a fresh var/, so the test writes nothing into the repository."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target / "hub.toml"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_report_gaps(config: Path) -> None:
    code, out = run("report", "gaps", "--config", str(config))
    assert code == 0, out
    assert "  kiosk-q1: chưa có đánh giá / no ratings yet" in out

    sessions = session_factory(make_engine(load_hub(config).hub.database_url))
    ratings = {
        kiosk: [make_rating(kiosk=kiosk, seq=seq, receipt=None) for seq in seqs]
        for kiosk, seqs in {"kiosk-q1": [1, 2, 5, 16, 18, 19, 42], "kiosk-q2": [1, 2]}.items()
    }
    with sessions.begin() as session:
        store_batch(session, [(r, ATTR) for rs in ratings.values() for r in rs], NOW)
        refused = make_rating(kiosk="kiosk-q1", seq=3, receipt=None).to_bytes()
        store_dead_letter(session, topics.ratings(UNIT, "kiosk-q1"), refused, "refused", NOW)

    code, out = run("report", "gaps", "--config", str(config))
    assert code == 0, out
    assert out.splitlines()[1:] == [
        "  kiosk-q1: thiếu 34 / 34 missing: 4, 6–15, 17, 20–41",
        "  kiosk-q2: không thiếu / no gaps (1–2)",
        "  kiosk-q3: chưa có đánh giá / no ratings yet",
    ]
