"""Ratings per channel in ``hailong report summary`` and in the paper page's count (issue 17): the
channel lines read from the channel rollups, the assisted apart, the total equal to the
summary's n; the desk's count equal to the one it replaced (a GROUP BY over ``ratings``)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from hailong.cli import cli
from hailong.contract.scale import Channel, Score
from hailong.settings import Unit
from hub.domain.channels import channel_split, format_channels
from hub.domain.ingest import Attribution
from hub.paper.desk import ChannelCount, PaperDesk
from hub.store.db import make_engine, session_factory
from hub.store.models import RatingRow
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

CONFIG = Path(__file__).resolve().parents[2] / "config"
DAY = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
# channel, score, assisted, counted, days before DAY
PLAN = [
    (Channel.KIOSK, Score.SATISFIED, False, True, 0),
    (Channel.KIOSK, Score.DISSATISFIED, False, True, 0),
    (Channel.KIOSK, Score.SATISFIED, False, False, 0),  # kept apart: in no count
    (Channel.BUTTON_BOX, Score.VERY_SATISFIED, False, True, 0),
    (Channel.ONLINE, Score.NEUTRAL, False, True, 0),
    (Channel.PAPER, Score.SATISFIED, True, True, 0),
    (Channel.PAPER, Score.SATISFIED, False, True, 30),  # October: before the month
]


def _store(url: str) -> None:
    sessions = session_factory(make_engine(url))
    items = []
    for seq, (channel, score, assisted, counted, back) in enumerate(PLAN, start=1):
        rating = make_rating(
            seq=seq,
            receipt=None,
            score=score,
            channel=channel,
            rated_at=DAY - timedelta(days=back, minutes=seq),
        )
        attribution = Attribution(
            "Q1",
            "CB001",
            "1.001193",
            "ho-tich",
            receipt_known=False,
            counted=counted,
            entered_by="nhap-lieu" if channel is Channel.PAPER else None,
            assisted=assisted,
        )
        items.append((rating, attribution))
    with sessions.begin() as session:
        store_batch(session, items, DAY)


def test_the_summary_command_prints_the_channels(tmp_path: Path) -> None:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    config = str(target / "hub.toml")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--config", config]).exit_code == 0
    _store(f"sqlite:///{tmp_path / 'var' / 'hub' / 'hailong.db'}")
    period = ["--since", "2026-11-01", "--until", "2026-12-01"]
    result = runner.invoke(
        cli, ["report", "summary", "--config", config, *period], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Theo kênh / By channel" in out
    assert "MĐHL chung / Overall: 60.0 % of 5" in out

    def line(name: str) -> list[str]:
        found = next(row for row in out.splitlines() if row.strip().startswith(name))
        return found.split()[-2:]

    assert line("Kiosk / Kiosk") == ["2*", "50.0"]
    assert line("Nút bấm / Button box") == ["1*", "100.0"]
    assert line("Điện thoại / Online") == ["1*", "0.0"]
    assert line("Phiếu giấy / Paper") == ["1*", "100.0"]
    assert line("Trong đó có hỗ trợ / Of which assisted") == ["1*", "100.0"]
    assert line("Tổng / Total") == ["5*", "60.0"]


def test_an_empty_split_prints_every_channel_at_zero() -> None:
    text = format_channels(channel_split({}))
    assert text.count(" 0*      —") == 6


def test_the_paper_page_count_reads_the_rollups_as_the_raw_rows_did(
    tmp_path: Path, unit: Unit
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    _store(url)
    sessions = session_factory(make_engine(url))
    desk = PaperDesk(unit, sessions, clock=lambda: DAY)
    for since in (DAY - timedelta(days=40), datetime(2026, 10, 31, 17, 0, tzinfo=UTC), DAY):
        raw = (
            select(RatingRow.channel, RatingRow.assisted, func.count())
            .where(RatingRow.rated_at >= since, RatingRow.counted.is_(True))
            .group_by(RatingRow.channel, RatingRow.assisted)
            .order_by(RatingRow.channel, RatingRow.assisted)
        )
        with sessions() as session:
            expected = [ChannelCount(c, bool(a), int(n)) for c, a, n in session.execute(raw)]
        assert desk.channel_counts(since) == expected, since
    month = desk.channel_counts(datetime(2026, 10, 31, 17, 0, tzinfo=UTC))
    assert ChannelCount("paper", True, 1) in month
    assert ChannelCount("paper", False, 1) not in month  # October's form
