"""A small province for the province-view tests: five units, ratings stored for each through the
real ingest path (``store_batch``, so the rollups are filled as in production).

November 2026 (the month of :data:`NOW`), counted ratings, satisfied:

    WARD_A   40, 36 (90 %)  CB001 at Q1: 20 of 20; CB002 at Q2: 16 of 20; 10 answer the survey
    WARD_B   50, 45 (90 %)  a tie with WARD_A: more ratings, listed first, same rank
    DEPT     35, 21 (60 %)
    SMALL    10, 10         too few to rank
    PROVINCE  0

and for WARD_A's trend, CB001 at Q1: August 10 (9), September 10 (8), October 10 (7) of 2026 and
November 2025 20 (10).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import RatingMessage
from hailong.contract.scale import Factor, Score, Stage
from hailong.settings import ReceiptKeys, Unit
from hub.domain.ingest import Attribution
from hub.domain.units import UnitKind, UnitNode, UnitTree
from hub.store.db import make_engine, session_factory
from hub.store.ratings import store_batch
from hub.web.app import create_app
from tests.hailong.contract.test_messages import make_rating
from tests.hub.web.conftest import hub_settings

HANOI = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=HANOI)
PROVINCE = "000.00.00.H41"
WARD_A = "000.00.20.H41"  # config/unit.toml's unit: its catalogue names counters and officers
WARD_B = "000.00.21.H41"
DEPT = "000.00.30.H41"
SMALL = "000.00.22.H41"

TREE = UnitTree.of(
    [
        UnitNode(PROVINCE, "Tỉnh Khánh Hòa", UnitKind.PROVINCE),
        UnitNode(WARD_A, "Trung tâm Phục vụ hành chính công phường Nghĩa Tân", parent=PROVINCE),
        UnitNode(WARD_B, "Phường Bắc Nha Trang", parent=PROVINCE),
        UnitNode(SMALL, "Xã Đắk Lắk", parent=PROVINCE),
        UnitNode(DEPT, "Sở Tài nguyên và Môi trường", UnitKind.DEPARTMENT, PROVINCE),
    ]
)


def _ratings(
    unit: str,
    n: int,
    satisfied: int,
    month: tuple[int, int],
    *,
    officer: str = "CB001",
    counter: str = "Q1",
    field: str = "ho-tich",
    surveyed: int = 0,
) -> list[tuple[RatingMessage, Attribution]]:
    items = []
    for i in range(n):
        score = Score.SATISFIED if i < satisfied else Score.DISSATISFIED
        at = datetime(month[0], month[1], 2 + i % 20, 8 + i % 8, i % 60, tzinfo=HANOI)
        factors = _survey(i, score) if i < surveyed else {}
        rating = make_rating(
            id=uuid.uuid4(),
            unit=unit,
            kiosk=f"kiosk-{unit[-6:-4]}",
            seq=i + 1,
            receipt=None,
            counter=counter,
            officer=officer,
            score=score,
            rated_at=at,
            factors=factors,
        )
        items.append(
            (rating, Attribution(counter, officer, "1.001193", field, False, Stage.RECEPTION))
        )
    return items


def _survey(i: int, score: Score) -> dict[Factor, Score]:
    """The five factors' answers of the ``i``-th surveyed rating: the officer's always very
    satisfied (what WARD_A's 10 survey answers in November are), the others near the face."""
    if i < 10:
        return {Factor.OFFICER: Score.VERY_SATISFIED}
    return {f: Score(max(1, min(5, score + (i + k) % 3 - 1))) for k, f in enumerate(Factor)}


def store_province(sessions: sessionmaker[Session]) -> None:
    items = [
        *_ratings(WARD_A, 20, 20, (2026, 11), surveyed=10),
        *_ratings(WARD_A, 20, 16, (2026, 11), officer="CB002", counter="Q2"),
        *_ratings(WARD_B, 50, 45, (2026, 11)),
        *_ratings(DEPT, 35, 21, (2026, 11), field="dat-dai"),
        *_ratings(SMALL, 10, 10, (2026, 11)),
        *_ratings(WARD_A, 10, 9, (2026, 8)),
        *_ratings(WARD_A, 10, 8, (2026, 9)),
        *_ratings(WARD_A, 10, 7, (2026, 10)),
        *_ratings(WARD_A, 20, 10, (2025, 11)),
    ]
    with sessions.begin() as session:
        store_batch(session, items, NOW.astimezone(UTC))


PASSWORD = "correct horse battery"  # as tests.hub.web.conftest's
LOGINS = {  # user name: (role, officer, unit); None: no scope (the home unit, WARD_A)
    "head": ("head", None, None),
    "lan": ("officer", "CB001", None),
    "tinh-head": ("head", None, PROVINCE),
    "tinh-admin": ("admin", None, PROVINCE),
    "phuong-b": ("head", None, WARD_B),
    "phuong-b-admin": ("admin", None, WARD_B),
    "lan-b": ("officer", "CB001", WARD_B),
}


def store_history(sessions: sessionmaker[Session]) -> None:
    """January 2025 to October 2026 for WARD_B, DEPT and SMALL (seeded, so the same every run):
    what the trend page's screenshot draws. Leaves November 2026 and WARD_A as above."""
    chance = random.Random(17)
    items = []
    for unit, base, volume in ((WARD_B, 0.86, 40), (DEPT, 0.7, 35), (SMALL, 0.8, 8)):
        for year, month in [(y, m) for y in (2025, 2026) for m in range(1, 13)]:
            if (year, month) >= (2026, 11):
                break
            n = volume + chance.randrange(10)
            rate = min(0.98, base + (0.04 if year == 2026 else 0) + chance.uniform(-0.05, 0.05))
            items += _ratings(unit, n, round(n * rate), (year, month), surveyed=n // 3)
    with sessions.begin() as session:
        store_batch(session, items, NOW.astimezone(UTC))


def province_app(
    folder: Path, unit: Unit, receipt_keys: ReceiptKeys, *, history: bool = False
) -> tuple[FastAPI, Path]:
    """The hub's web app serving :data:`TREE` at :data:`NOW` on a SQLite file in ``folder``, with
    the province's ratings (with ``history``, :func:`store_history` too) and the :data:`LOGINS`.
    Returns the app and ``folder``. Built
    once per test module: logins hash passwords with argon2, which is slow on purpose."""
    settings = hub_settings(folder, receipt_keys, LOGINS)
    sessions = session_factory(make_engine(settings.hub.database_url))
    store_province(sessions)
    if history:
        store_history(sessions)
    app = create_app(settings, unit, sessions, clock=lambda: NOW, units=TREE)
    return app, folder
