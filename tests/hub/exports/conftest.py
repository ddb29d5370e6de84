"""A quarter of ratings whose figures are worked out by hand below, for every export's tests.

Q4 2026 (1 October – 31 December; "now" is 25 November). Per line: counter, officer, procedure
(its field), then how many ratings at each level 5, 4, 3, 2, 1:

    Q1 CB001 1.001193 (ho-tich)     22 14  3  1  0   n 40, satisfied 36, 90.0 %
    Q1 CB002 1.000894 (ho-tich)     10 15  6  3  1   n 35, satisfied 25, 71.4 %  (needs attention)
    Q2 CB003 2.000815 (chung-thuc)  30 12  2  0  1   n 45, satisfied 42, 93.3 %
    Q3 CB004 1.001612 (kinh-doanh)   5  4  2  1  0   n 12, satisfied  9, 75.0 %  (small sample)
    Q3 CB005 2.000575 (kinh-doanh)   4  3  1  0  0   n  8, satisfied  7, 87.5 %  (small sample)

Quarter: n 140, satisfied 119, 85.0 %; levels 5: 71, 4: 48, 3: 14, 2: 5, 1: 2.
Counters: Q1 75/61 (81.3 %), Q2 45/42 (93.3 %), Q3 20/16 (80.0 %); fields likewise.
Q3 2026 (the quarter before): Q1 CB001 1.001193, 20 ratings, 15 satisfied (75.0 %): +10.0 points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score
from hailong.settings import Unit
from hub.domain.ingest import Attribution
from hub.store.db import make_engine, session_factory
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
FIELDS = {"1.001193": "ho-tich", "1.000894": "ho-tich", "2.000815": "chung-thuc"}
FIELDS |= {"1.001612": "kinh-doanh", "2.000575": "kinh-doanh"}
QUARTER = [  # counter, officer, procedure, ratings at levels 5, 4, 3, 2, 1
    ("Q1", "CB001", "1.001193", (22, 14, 3, 1, 0)),
    ("Q1", "CB002", "1.000894", (10, 15, 6, 3, 1)),
    ("Q2", "CB003", "2.000815", (30, 12, 2, 0, 1)),
    ("Q3", "CB004", "1.001612", (5, 4, 2, 1, 0)),
    ("Q3", "CB005", "2.000575", (4, 3, 1, 0, 0)),
]
PREVIOUS = [("Q1", "CB001", "1.001193", (8, 7, 3, 2, 0))]
LEVELS = (Score.VERY_SATISFIED, Score.SATISFIED, Score.NEUTRAL, Score.DISSATISFIED)
LEVELS += (Score.VERY_DISSATISFIED,)


@dataclass
class Seeded:
    unit: Unit
    sessions: sessionmaker[Session]


def seed_quarter(sessions: sessionmaker[Session], unit: Unit) -> None:
    """Store the ratings above: this quarter's from 1 October on, the quarter before's in August."""
    items = []
    seq = 0
    for plan, first_day in ((QUARTER, datetime(2026, 10, 1, 2, 0, tzinfo=UTC)),
                            (PREVIOUS, datetime(2026, 8, 3, 2, 0, tzinfo=UTC))):  # fmt: skip
        for counter, officer, procedure, counts in plan:
            for score, count in zip(LEVELS, counts, strict=True):
                for _ in range(count):
                    seq += 1
                    rating = make_rating(
                        seq=seq,
                        score=score,
                        counter=counter,
                        officer=officer,
                        procedure=procedure,
                        # one rating every 9 hours or so: spread over the weeks, all before NOW
                        rated_at=first_day + timedelta(minutes=541 * seq % (50 * 24 * 60)),
                        receipt=ReceiptRef(code=f"000.00.20.H41-261001-{seq:04d}", verified=True),
                    )
                    attribution = Attribution(counter, officer, procedure, FIELDS[procedure], True)
                    items.append((rating, attribution))
    with sessions.begin() as session:
        store_batch(session, items, NOW)


@pytest.fixture
def quarter_db(tmp_path: Path, unit: Unit) -> Seeded:
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    seed_quarter(sessions, unit)
    return Seeded(unit, sessions)
