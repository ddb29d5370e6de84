"""The summary report: numbers from a real database, headings a unit head can read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score
from hailong.settings import Unit
from hub.domain.ingest import attribute
from hub.report import DIMENSIONS, format_summary, summary
from hub.store.db import make_engine, session_factory
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def test_summary_per_dimension(tmp_path: Path, unit: Unit) -> None:
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    plan = (
        [("Q1", "CB001", "1.001193", Score.VERY_SATISFIED)] * 8
        + [("Q1", "CB002", "1.000894", Score.DISSATISFIED)] * 2
        + [("Q2", "CB003", "2.000815", Score.SATISFIED)] * 3
    )
    ratings = [
        make_rating(
            seq=i + 1,
            counter=c,
            officer=o,
            procedure=p,
            score=s,
            receipt=ReceiptRef(code=f"000.00.20.H41-261125-{i + 1:04d}", verified=True),
        )
        for i, (c, o, p, s) in enumerate(plan)
    ]
    with sessions.begin() as session:
        store_batch(session, [(r, attribute(r, None, unit)) for r in ratings], NOW)
    with sessions() as session:
        tables = {dim: summary(session, unit, dim) for dim in DIMENSIONS}
        later = summary(session, unit, "counter", since=datetime(2027, 1, 1, tzinfo=UTC))
    counters = {s.key: (s.n, s.satisfied) for s in tables["counter"]}
    assert counters == {"Q1": (10, 8), "Q2": (3, 3)}
    officers = {s.key: s.rate for s in tables["officer"]}
    assert officers == {"CB001": 100.0, "CB002": 0.0, "CB003": 100.0}
    fields = {s.key: s.n for s in tables["field"]}
    assert fields == {"ho-tich": 10, "chung-thuc": 3}
    assert later == []
    text = format_summary(unit, tables)
    assert "MĐHL chung / Overall: 84.6 % of 13" in text
    assert "MĐHL theo quầy / Satisfaction by counter" in text
    assert "Quầy 1 – Hộ tịch" in text
    assert "Đăng ký khai sinh (1.001193)" in text
    assert "chưa đủ tin cậy" in text
