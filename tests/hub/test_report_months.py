"""Periods longer than a month read whole months from the ``*_month_rollups`` and only the days
around them from the daily rollups (issue 6): the figures must stay exactly the plain counts over
``ratings``, for periods that cut months, cover whole ones, cross the year's end, or have bounds
near a local midnight expressed in UTC. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from hailong.contract.messages import RatingMessage
from hailong.contract.scale import Factor, Score, Stage
from hailong.settings import Unit
from hub.domain.ingest import Attribution
from hub.domain.satisfaction import summarize
from hub.report import (
    DIMENSIONS,
    Scope,
    factor_summary,
    hour_heat_map,
    reason_counts,
    score_distribution,
    summary,
    unit_totals,
)
from hub.store.db import make_engine, session_factory
from hub.store.models import RatingRow
from hub.store.ratings import LOCAL_ZONE, store_batch
from tests.hailong.contract.test_messages import make_rating
from tests.hub.test_report import _in, _plain_group_by, _split

HANOI = timezone(timedelta(hours=7))
NOW = datetime(2027, 2, 10, tzinfo=UTC)
FIRST = datetime(2026, 10, 27, 6, 0, tzinfo=HANOI)  # every 7 h 13 min from here to February
MONTH_STARTS = [datetime(2026, m, 1, tzinfo=HANOI) for m in (11, 12)] + [
    datetime(2027, m, 1, tzinfo=HANOI) for m in (1, 2)
]
CODES = {
    "counter": (None, "Q1", "Q2"),
    "officer": (None, "CB001", "CB003", "CB002"),
    "procedure": (None, "1.001193", "2.000815"),
    "field": (None, "ho-tich", "dat-dai", "tu-phap", "xay-dung"),
}


def _moments() -> list[datetime]:
    """Regular ratings, plus one exactly at each local month start and one a microsecond before."""
    regular = [FIRST + timedelta(minutes=433 * i) for i in range(340)]
    around = [
        m + delta for m in MONTH_STARTS for delta in (timedelta(), -timedelta(microseconds=1))
    ]
    return regular + around


def _rated(i: int, at: datetime) -> tuple[RatingMessage, Attribution]:
    codes = {name: values[i % len(values)] for name, values in CODES.items()}
    stage = Stage.RETURN if i % 4 == 0 else Stage.RECEPTION
    rating = make_rating(
        seq=i + 1,
        receipt=None,  # walk-ins: a receipt is rated once only
        score=list(Score)[(i * 7) % 5],
        rated_at=at,
        reasons=("late", "rude", "unclear")[: i % 4],
        factors={f: list(Score)[(i + k) % 5] for k, f in enumerate(Factor) if (i + k) % 3 == 0},
        stage=stage,
    )
    attribution = Attribution(
        codes["counter"],
        codes["officer"],
        codes["procedure"],
        codes["field"],
        receipt_known=False,
        stage=stage,
    )
    return rating, attribution


def _local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=HANOI)


PERIODS: dict[str, tuple[datetime | None, datetime | None]] = {
    "whole month": (_local(2026, 12, 1), _local(2027, 1, 1)),
    "whole months over the year's end": (_local(2026, 11, 1), _local(2027, 2, 1)),
    "partial months at both ends": (_local(2026, 11, 15, 10, 30), _local(2027, 1, 20, 15, 0)),
    "days around the year's end, no whole month": (_local(2026, 12, 20), _local(2027, 1, 10)),
    "days then a whole month": (_local(2026, 12, 20), _local(2027, 2, 1)),
    "a whole month then days": (_local(2026, 12, 1), _local(2027, 1, 10)),
    "UTC midnights (07:00 local)": (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    ),
    "local midnights written in UTC": (
        datetime(2026, 11, 30, 17, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 17, 0, tzinfo=UTC),
    ),
    "naive bounds (UTC)": (datetime(2026, 11, 30, 17, 0), datetime(2027, 1, 31, 17, 0)),
    "a microsecond before month starts": (
        _local(2026, 12, 1) - timedelta(microseconds=1),
        _local(2027, 1, 1) - timedelta(microseconds=1),
    ),
    "from the first rating": (None, _local(2026, 12, 15)),
    "to the last rating": (_local(2026, 11, 1, 12, 0), None),
    "everything": (None, None),
}


def test_monthly_rollups_give_the_plain_counts(database_url: str, unit: Unit) -> None:
    """One database, every period of :data:`PERIODS` (one store per period would take minutes)."""
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    items = [_rated(i, at) for i, at in enumerate(_moments())]
    for start in range(0, len(items), 50):
        with sessions.begin() as session:
            store_batch(session, items[start : start + 50], NOW)
    with sessions() as session:
        for name, (since, until) in PERIODS.items():
            try:
                _check_period(session, unit, since, until)
            except AssertionError as failure:
                raise AssertionError(f"{name}: {failure}") from failure
    engine.dispose()


def _check_period(
    session: Session, unit: Unit, since: datetime | None, until: datetime | None
) -> None:
    bounds = (_utc(since), _utc(until))  # SQLite compares the stored UTC text: UTC bounds only
    scope = Scope(unit, since, until)
    for dimension in DIMENSIONS:
        expected = _plain_group_by(session, unit, dimension, *bounds)
        assert summary(session, scope, dimension) == expected, dimension
    raw = [row for row in session.scalars(select(RatingRow)) if _in(row, *bounds)]
    assert raw, "every period holds ratings"
    factor_rows = [(f, s, 1) for row in raw for f, s in row.factors.items()]
    names = {f.value: f"{f.label_vi} / {f.label_en}" for f in Factor}
    assert factor_summary(session, scope) == summarize(factor_rows, names)
    cited = Counter(reason for row in raw for reason in set(row.reasons))
    assert dict(reason_counts(session, scope)) == dict(cited)
    satisfied = sum(1 for row in raw if Score(row.score).is_satisfied)
    assert unit_totals(session, scope) == (len(raw), satisfied)
    levels = Counter(Score(row.score) for row in raw)
    shares = {share.score: share.n for share in score_distribution(session, scope)}
    assert shares == {s: levels[s] for s in Score}
    heat: Counter[tuple[int, int, bool]] = Counter()
    for row in raw:
        local = row.rated_at.replace(tzinfo=row.rated_at.tzinfo or UTC).astimezone(LOCAL_ZONE)
        heat[(local.weekday(), local.hour, Score(row.score).is_satisfied)] += 1
    cells = hour_heat_map(session, scope).cells
    assert {(*key, ok): n for key, c in cells.items() for ok, n in _split(c) if n} == heat


def _utc(moment: datetime | None) -> datetime | None:
    """The bound in UTC; a naive one is UTC already, as ``summary`` takes it."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
