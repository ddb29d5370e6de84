"""The province rollups (revision 0018): after a mix of ratings over fields, officers, survey
answers and uncounted ones, ``field_month_rollups`` and ``unit_factor_month_rollups`` equal a
GROUP BY over the counted ratings, the province reads through them equal a plain count for any
bounds, and the migration's backfill folds what was stored before it (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import RatingMessage
from hailong.contract.scale import Factor, Score
from hub.domain.ingest import Attribution
from hub.store.db import _alembic_config, make_engine, session_factory
from hub.store.models import FieldMonthRollupRow, RatingRow, UnitFactorMonthRollupRow
from hub.store.ratings import store_batch
from hub.store.rollups import LOCAL_ZONE, counts_across_units, counts_of_units
from tests.hailong.contract.test_messages import make_rating

HANOI = timezone(timedelta(hours=7))
UNITS = ("000.00.20.H41", "000.00.21.H41", "000.00.22.H41")
START = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 22:00 local on the 29th: over a month's end
FIELDS = ("LV01", "LV02", None)
OFFICERS = ("CB001", "CB002", None)


def _item(i: int) -> tuple[RatingMessage, Attribution]:
    factors = {f: list(Score)[(i + k) % 5] for k, f in enumerate(Factor) if (i + k) % 3}
    rating = make_rating(
        seq=i + 1,
        unit=UNITS[i % 3],
        receipt=None,
        score=list(Score)[(i * 3) % 5],
        rated_at=START + timedelta(minutes=(i * 617) % (60 * 24 * 45)),
        factors=factors if i % 4 else {},
    )
    attribution = Attribution(
        "Q1" if i % 2 else "Q2",
        OFFICERS[i % 3 if i % 7 else 2],
        "1.001193" if i % 5 else None,
        FIELDS[(i // 2) % 3],
        receipt_known=False,
        counted=i % 9 != 4,
    )
    return rating, attribution


def _store(sessions: sessionmaker[Session], count: int, batch: int = 11) -> None:
    items = [_item(i) for i in range(count)]
    for first in range(0, len(items), batch):
        with sessions.begin() as session:
            store_batch(session, items[first : first + batch], START + timedelta(days=60))


def _table(session: Session, model: Any) -> Counter[tuple[Any, ...]]:
    names = [c.name for c in model.__table__.primary_key.columns]
    return Counter(
        {tuple(getattr(row, n) for n in names): row.n for row in session.scalars(select(model))}
    )


def _grouped(session: Session) -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """The GROUP BY over the counted ratings: per unit, month, field and score; per unit, month,
    factor and score (one per survey answer)."""
    fields: Counter[tuple[Any, ...]] = Counter()
    factors: Counter[tuple[Any, ...]] = Counter()
    for row in session.scalars(select(RatingRow).where(RatingRow.counted.is_(True))):
        month = row.rated_at.astimezone(LOCAL_ZONE).date().replace(day=1)
        fields[(row.unit, month, row.field or "", row.score)] += 1
        for factor, score in row.factors.items():
            factors[(row.unit, month, factor, score)] += 1
    return fields, factors


def _assert_rollups_match(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        fields, factors = _grouped(session)
        assert _table(session, FieldMonthRollupRow) == fields
        assert _table(session, UnitFactorMonthRollupRow) == factors
        assert sum(factors.values()) > 0


def _plain(
    session: Session, codes: tuple[str, ...], since: datetime | None, until: datetime | None
) -> dict[str, dict[str, Counter[tuple[Any, ...]]]]:
    found: dict[str, dict[str, Counter[tuple[Any, ...]]]] = {
        c: {"field": Counter(), "factor": Counter(), "month": Counter()} for c in codes
    }
    for row in session.scalars(select(RatingRow).where(RatingRow.counted.is_(True))):
        if (since is None or row.rated_at >= since) and (until is None or row.rated_at < until):
            mine = found[row.unit]
            mine["field"][(row.field or "", row.score)] += 1
            month = row.rated_at.astimezone(LOCAL_ZONE).date().replace(day=1)
            mine["month"][(month, row.score)] += 1
            for factor, score in row.factors.items():
                mine["factor"][(factor, score)] += 1
    return found


BOUNDS = [
    (None, None),
    (datetime(2026, 11, 30, 17, 0, tzinfo=UTC), datetime(2026, 12, 31, 17, 0, tzinfo=UTC)),
    (datetime(2026, 12, 3, 10, 0, tzinfo=HANOI), datetime(2027, 1, 7, 8, 30, tzinfo=HANOI)),
    (datetime(2026, 12, 15, 9, 0, tzinfo=HANOI), None),
    (None, datetime(2026, 12, 2, 12, 0, tzinfo=HANOI)),
]


def test_the_province_rollups_equal_a_group_by_and_read_exactly(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store(sessions, 150)
    _assert_rollups_match(sessions)
    with sessions() as session:
        for since, until in BOUNDS:
            plain = _plain(session, UNITS, since, until)
            for column in ("field", "factor", "month"):
                many = counts_of_units(session, [*UNITS, "nobody"], since, until, column, "score")
                assert many["nobody"] == Counter()
                across = counts_across_units(session, UNITS, since, until, column, "score")
                total: Counter[tuple[Any, ...]] = Counter()
                for code in UNITS:
                    assert many[code] == plain[code][column], (column, since, until)
                    total.update(plain[code][column])
                assert across == total, (column, since, until)
            mine = counts_across_units(session, UNITS, since, until, "score", officer="CB001")
            assert sum(mine.values()) == sum(
                1
                for row in session.scalars(select(RatingRow).where(RatingRow.counted.is_(True)))
                if row.officer == "CB001"
                and (since is None or row.rated_at >= since)
                and (until is None or row.rated_at < until)
            )
        assert counts_across_units(session, [], None, None, "score") == Counter()
        assert counts_across_units(session, ["nobody"], None, None) == Counter()
    engine.dispose()


def test_the_upgrade_to_0018_folds_the_ratings_already_stored(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store(sessions, 90)
    with sessions() as session:
        kept = (_table(session, FieldMonthRollupRow), _table(session, UnitFactorMonthRollupRow))
    with engine.begin() as connection:  # back to 0017 (only the 0018 tables go), then up
        command.downgrade(_alembic_config(connection), "0017")
    tables = inspect(engine).get_table_names()
    assert "field_month_rollups" not in tables
    assert "unit_factor_month_rollups" not in tables
    engine.dispose()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with sessions() as session:
        assert (
            _table(session, FieldMonthRollupRow),
            _table(session, UnitFactorMonthRollupRow),
        ) == kept
    _assert_rollups_match(sessions)
    engine.dispose()
