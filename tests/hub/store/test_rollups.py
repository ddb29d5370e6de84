"""The rollup module's plan (whole local months, whole days, cut days) and its reads: for any
bounds, the plan's parts tile ``[since, until)`` exactly, and the counts read through them equal a
plain count over the stored ratings, for every rollup table (SQLite, one database for every
example; ``tests/hub/test_report*.py`` check the reports built on them on both databases)."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.settings import Unit
from hub.store.db import make_engine, session_factory
from hub.store.models import NO_VALUE, RatingRow
from hub.store.ratings import store_batch
from hub.store.rollups import LOCAL_ZONE, Plan, Scope, counts
from tests.hub.test_report_months import _rated

HANOI = timezone(timedelta(hours=7))
FIRST = datetime(2026, 10, 28, 6, 0, tzinfo=HANOI)  # to February, over the year's end
MONTH_STARTS = [datetime(2026, m, 1, tzinfo=HANOI) for m in (11, 12)] + [
    datetime(2027, m, 1, tzinfo=HANOI) for m in (1, 2)
]
ZONES = (HANOI, UTC, timezone(timedelta(hours=-5)), None)  # None: naive, taken as UTC


def _local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=HANOI)


# -- the plan --------------------------------------------------------------------------------------


def test_a_period_splits_into_whole_months_days_and_cut_days() -> None:
    plan = Plan.split(_local(2026, 11, 15, 10, 30), _local(2027, 1, 20, 15, 0), LOCAL_ZONE)
    assert plan.months == (date(2026, 12, 1), date(2027, 1, 1))
    assert plan.days == (
        (date(2026, 11, 16), date(2026, 12, 1)),
        (date(2027, 1, 1), date(2027, 1, 20)),
    )
    assert plan.edges == (
        (_local(2026, 11, 15, 10, 30), _local(2026, 11, 16)),
        (_local(2027, 1, 20), _local(2027, 1, 20, 15, 0)),
    )


def test_whole_months_need_no_day_and_short_periods_no_month() -> None:
    year = Plan.split(_local(2026, 1, 1), _local(2027, 1, 1), LOCAL_ZONE)
    assert (year.months, year.days, year.edges) == ((date(2026, 1, 1), date(2027, 1, 1)), (), ())
    weeks = Plan.split(_local(2026, 12, 20), _local(2027, 1, 10), LOCAL_ZONE)
    assert weeks.months is None
    assert weeks.days == ((date(2026, 12, 20), date(2027, 1, 10)),)
    open_ended = Plan.split(None, _local(2026, 12, 15), LOCAL_ZONE)
    assert open_ended.months == (None, date(2026, 12, 1))
    assert open_ended.days == ((date(2026, 12, 1), date(2026, 12, 15)),)
    in_a_day = Plan.split(_local(2026, 12, 3, 8), _local(2026, 12, 3, 17), LOCAL_ZONE)
    assert (in_a_day.months, in_a_day.days) == (None, ())


# Near the month starts and local midnights, where the plan's cases meet, and anywhere.
_special = st.sampled_from([*MONTH_STARTS, _local(2026, 12, 15), _local(2027, 1, 31)])
_nudge = st.sampled_from([0, 1, -1, 3_600_000_000, -3_600_000_000]).map(
    lambda us: timedelta(microseconds=us)
)
_anywhere = st.datetimes(datetime(2026, 10, 20), datetime(2027, 2, 10))


@st.composite
def _bound(draw: st.DrawFn) -> datetime | None:
    if draw(st.booleans()):
        moment = draw(_special) + draw(_nudge)
    else:
        moment = draw(_anywhere).replace(tzinfo=HANOI)
    zone = draw(st.sampled_from(ZONES))
    return moment.astimezone(zone).replace(tzinfo=None) if zone is None else moment.astimezone(zone)


_bounds = st.none() | _bound()
NEVER, EVER = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def _utc(moment: datetime | None, instead: datetime) -> datetime:
    if moment is None:
        return instead
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _midnight(day: date | None, instead: datetime) -> datetime:
    return instead if day is None else datetime.combine(day, time(), LOCAL_ZONE).astimezone(UTC)


@settings(max_examples=400, deadline=None)
@given(since=_bounds, until=_bounds)
def test_the_plan_tiles_the_period_exactly(since: datetime | None, until: datetime | None) -> None:
    """Months, days and cut days, as instants, follow one another without gap or overlap from
    ``since`` to ``until``; months begin on the 1st; a cut day is part of one local day."""
    plan = Plan.split(since, until, LOCAL_ZONE)
    spans = [*([plan.months] if plan.months else []), *plan.days]
    pieces = [(_midnight(first, NEVER), _midnight(end, EVER)) for first, end in spans]
    pieces += list(plan.edges)
    start, end = _utc(since, NEVER), _utc(until, EVER)
    if start >= end:
        assert pieces == []
        return
    pieces.sort()
    assert all(a < b for a, b in pieces), pieces
    assert pieces[0][0] == start
    assert pieces[-1][1] == end
    assert all(left[1] == right[0] for left, right in itertools.pairwise(pieces))
    if plan.months is not None:
        assert all(day is None or day.day == 1 for day in plan.months)
    for cut_start, cut_end in plan.edges:  # no whole local day inside: those come from the rollups
        first_day = cut_start.astimezone(LOCAL_ZONE).date()
        if _midnight(first_day, NEVER) < cut_start:
            first_day += timedelta(days=1)
        assert _midnight(first_day + timedelta(days=1), EVER) > cut_end


_TICK = timedelta(microseconds=1)


# -- the reads -------------------------------------------------------------------------------------


def _moments() -> list[datetime]:
    regular = [FIRST + timedelta(minutes=97 * i) for i in range(1400)]
    around = [m + delta for m in MONTH_STARTS for delta in (timedelta(), -_TICK, _TICK)]
    return regular + around


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    """One SQLite database for every example: ratings every 97 minutes from late October to
    February and at the month starts, one in seven kept out of the figures."""
    path: Path = tmp_path_factory.mktemp("rollups") / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    items = []
    for i, at in enumerate(_moments()):
        rating, attribution = _rated(i, at)
        items.append((rating, dataclasses.replace(attribution, counted=i % 7 != 3)))
    for start in range(0, len(items), 200):
        with sessions.begin() as session:
            store_batch(session, items[start : start + 200], datetime(2027, 2, 10, tzinfo=UTC))
    yield sessions
    engine.dispose()


def _local_of(row: RatingRow) -> datetime:
    return row.rated_at.astimezone(LOCAL_ZONE)


# The columns a report reads, and what each means for one stored rating (its rows of that table).
READS: dict[tuple[str, ...], Callable[[RatingRow], list[tuple[Any, ...]]]] = {
    ("score",): lambda row: [(row.score,)],
    ("officer", "score"): lambda row: [(row.officer or NO_VALUE, row.score)],
    ("stage", "score"): lambda row: [(row.stage, row.score)],
    ("field", "score"): lambda row: [(row.field or NO_VALUE, row.score)],
    ("factor", "score"): lambda row: [(f, s) for f, s in row.factors.items()],
    ("reason",): lambda row: [(reason,) for reason in set(row.reasons)],
    ("weekday", "hour", "score"): lambda row: [
        (_local_of(row).weekday(), _local_of(row).hour, row.score)
    ],
}


@settings(max_examples=60, deadline=None)
@given(
    since=_bounds,
    until=_bounds,
    officer=st.sampled_from([None, None, "CB001", "CB003", NO_VALUE]),
)
def test_counts_through_the_plan_equal_a_plain_count(
    stored: sessionmaker[Session],
    unit: Unit,
    since: datetime | None,
    until: datetime | None,
    officer: str | None,
) -> None:
    start, end = _utc(since, NEVER), _utc(until, EVER)
    scope = Scope(unit, since, until, officer=officer)
    with stored() as session:
        raw = [
            row
            for row in session.scalars(select(RatingRow).where(RatingRow.counted.is_(True)))
            if start <= row.rated_at < end
            and (officer is None or (row.officer or NO_VALUE) == officer)
        ]
        for columns, rows_of in READS.items():
            if officer is not None and columns[0] == "weekday":
                continue  # the hours have no officer (see the next test)
            expected = Counter(key for row in raw for key in rows_of(row))
            assert counts(session, scope, *columns) == expected, columns


def test_a_read_no_rollup_holds_is_refused(stored: sessionmaker[Session], unit: Unit) -> None:
    with stored() as session, pytest.raises(ValueError, match="no rollup holds"):
        counts(session, Scope(unit, officer="CB001"), "weekday", "hour", "score")
