"""The summary report: numbers from real databases (SQLite and PostgreSQL), read from the rollups,
equal to a plain GROUP BY over the raw ratings; headings a unit head can read."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import KioskStatusMessage, RatingMessage, ReceiptRef
from hailong.contract.scale import Factor, Score, Stage
from hailong.settings import RegisterPolicy, Unit
from hub.domain.fleet import Flag
from hub.domain.ingest import Attribution, attribute
from hub.domain.satisfaction import GroupSummary, summarize
from hub.fleet_report import kiosk_health
from hub.report import (
    DIMENSIONS,
    Dimension,
    HeatCell,
    Scope,
    Uncounted,
    _names,
    factor_summary,
    format_summary,
    hour_heat_map,
    reason_counts,
    summary,
    uncounted_totals,
)
from hub.store.db import make_engine, session_factory
from hub.store.models import RatingRow
from hub.store.ratings import LOCAL_ZONE, save_kiosk_status, store_batch
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))


def counting(unit: Unit) -> Unit:
    """The unit, counting codes its register does not know (``count_unverified``): these tests
    make their codes up and want them in the figures."""
    return unit.model_copy(update={"register_policy": RegisterPolicy(count_unverified=True)})


def test_summary_per_dimension(database_url: str, unit: Unit) -> None:
    sessions = session_factory(make_engine(database_url))
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
        store_batch(session, [(r, attribute(r, None, counting(unit))) for r in ratings], NOW)
    with sessions() as session:
        tables = {dim: summary(session, Scope(unit), dim) for dim in DIMENSIONS}
        later = summary(session, Scope(unit, datetime(2027, 1, 1, tzinfo=UTC)), "counter")
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
    assert "Để riêng" not in text  # nothing was kept apart: no line about it
    apart = format_summary(unit, tables, Uncounted(unverified=3, suspect=1, mismatched=2))
    assert "MĐHL chung / Overall: 84.6 % of 13" in apart  # the figures do not change
    assert "3 chưa xác minh" in apart
    assert "1 nghi vấn" in apart
    assert "2 máy khai trái với sổ" in apart


def test_periods_that_cut_through_a_day(database_url: str, unit: Unit) -> None:
    """Whole local days come from the rollups, the cut parts of days from the ratings."""
    sessions = session_factory(make_engine(database_url))
    times = [
        datetime(2026, 11, 24, 22, 0, tzinfo=HANOI) + timedelta(hours=h) for h in range(0, 60, 4)
    ]
    ratings = [
        make_rating(seq=i + 1, receipt=None, rated_at=at, score=Score(1 + i % 5))
        for i, at in enumerate(times)
    ]
    with sessions.begin() as session:
        store_batch(session, [(r, attribute(r, None, counting(unit))) for r in ratings], NOW)

    def n(since: datetime | None, until: datetime | None) -> int:
        with sessions() as session:
            return sum(s.n for s in summary(session, Scope(unit, since, until), "counter"))

    def expected(since: datetime | None, until: datetime | None) -> int:
        return sum((since is None or at >= since) and (until is None or at < until) for at in times)

    midnight = datetime(2026, 11, 25, tzinfo=HANOI)
    bounds = [
        None,
        midnight,  # a local day boundary
        midnight.astimezone(UTC).replace(hour=0),  # UTC midnight: 07:00 in Hà Nội
        midnight + timedelta(hours=30, minutes=1),
        midnight + timedelta(days=1),
        midnight + timedelta(hours=2),
        midnight + timedelta(hours=2, seconds=1),
        midnight - timedelta(hours=2),
    ]
    for since, until in itertools.product(bounds, repeat=2):
        assert n(since, until) == expected(since, until), (since, until)


def test_survey_factors_and_reasons(database_url: str, unit: Unit) -> None:
    sessions = session_factory(make_engine(database_url))
    ratings = [
        make_rating(
            seq=1,
            receipt=None,
            score=Score.DISSATISFIED,
            reasons=("late", "rude"),
            factors={Factor.OFFICER: Score.DISSATISFIED, Factor.RESULT: Score.SATISFIED},
        ),
        make_rating(
            seq=2, receipt=None, reasons=("late",), factors={Factor.OFFICER: Score.SATISFIED}
        ),
    ]
    with sessions.begin() as session:
        store_batch(session, [(r, attribute(r, None, counting(unit))) for r in ratings], NOW)
    cut = datetime(2026, 11, 25, 9, 0, tzinfo=HANOI)  # both ratings are at 09:30, in a cut day
    with sessions() as session:
        for since in (None, cut):
            factors = {
                s.key: (s.n, s.satisfied) for s in factor_summary(session, Scope(unit, since))
            }
            assert factors == {"officer": (2, 1), "result": (1, 1)}
            assert reason_counts(session, Scope(unit, since)) == [("late", 2), ("rude", 1)]
        names = [s.name for s in factor_summary(session, Scope(unit))]
    assert "Công chức giải quyết công việc / The officer who handled it" in names


def test_kiosk_health_from_the_stored_statuses(database_url: str, unit: Unit) -> None:
    sessions = session_factory(make_engine(database_url))
    minute = timedelta(minutes=1)
    reports = [
        (NOW - 3 * minute, KioskStatusMessage(kiosk="kiosk-q1", online=True, buffer_depth=0)),
        (NOW - 20 * minute, KioskStatusMessage(kiosk="kiosk-q2", online=True, buffer_depth=2)),
        (NOW - 2 * minute, KioskStatusMessage(kiosk="kiosk-q3", online=True, buffer_depth=75)),
        (NOW - minute, KioskStatusMessage(kiosk="kiosk-q3", online=False)),  # its last will
    ]
    for at, status in reports:
        with sessions.begin() as session:
            save_kiosk_status(session, unit.unit.code, status, at)
    with sessions() as session:
        health = {h.kiosk: (set(h.flags), h.buffer_depth) for h in kiosk_health(session, unit, NOW)}
    assert health == {
        "kiosk-q1": (set(), 0),
        "kiosk-q2": ({Flag.OFFLINE}, 2),  # silent for 20 minutes
        "kiosk-q3": ({Flag.OFFLINE, Flag.BACKLOGGED}, 75),
    }


# -- the rollups against a plain GROUP BY over the raw ratings, for random ratings ---------------

_units = itertools.count()
BASE = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CODES = {
    "counter": [None, "Q1", "Q2"],
    "officer": [None, "CB001", "CB003"],
    "procedure": [None, "1.001193", "2.000815"],
    "field": [None, "ho-tich", "chung-thuc"],
}


@st.composite
def _rated(draw: st.DrawFn) -> tuple[RatingMessage, Attribution]:
    codes = {name: draw(st.sampled_from(values)) for name, values in CODES.items()}
    stage = draw(st.sampled_from(list(Stage)))
    minutes = draw(st.integers(0, 4 * 24 * 60))
    offset = draw(st.sampled_from([7, 0, -5]))
    rated_at = (BASE + timedelta(minutes=minutes)).astimezone(timezone(timedelta(hours=offset)))
    code = draw(st.none() | st.integers(1, 6).map(lambda i: f"000.00.20.H41-261125-{i:04d}"))
    rating = make_rating(
        seq=draw(st.integers(1, 10_000)),
        receipt=ReceiptRef(code=code, verified=True) if code else None,
        stage=stage,
        score=draw(st.sampled_from(list(Score))),
        rated_at=rated_at,
        reasons=tuple(draw(st.lists(st.sampled_from(["late", "rude", "unclear"]), max_size=3))),
        factors=draw(st.dictionaries(st.sampled_from(list(Factor)), st.sampled_from(list(Score)))),
    )
    # Ratings the register kept apart (unverified, suspect) are stored but never in the figures.
    counted = draw(st.booleans()) if not code else draw(st.sampled_from([True, True, False]))
    attribution = Attribution(
        codes["counter"],
        codes["officer"],
        codes["procedure"],
        codes["field"],
        receipt_known=bool(code) and counted,
        stage=stage,
        counted=counted,
        suspect=not counted and draw(st.booleans()),
        claim_mismatch=draw(st.sampled_from([(), ("counter",), ("officer", "stage")])),
    )
    return rating, attribution


_on_the_hour = st.integers(0, 4 * 24).map(lambda h: BASE + timedelta(hours=h))
_any_minute = st.integers(0, 4 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m, seconds=30))
_moment = st.none() | _on_the_hour | _any_minute


def _plain_group_by(
    session: Session,
    unit: Unit,
    dimension: Dimension,
    since: datetime | None,
    until: datetime | None,
) -> list[GroupSummary]:
    """How ``summary`` counted before the rollups: GROUP BY key, score over the counted
    ``ratings``."""
    column = getattr(RatingRow, dimension)
    query = (
        select(column, RatingRow.score, func.count())
        .where(RatingRow.unit == unit.unit.code, RatingRow.counted.is_(True))
        .group_by(column, RatingRow.score)
    )
    if since is not None:
        query = query.where(RatingRow.rated_at >= since)
    if until is not None:
        query = query.where(RatingRow.rated_at < until)
    rows = [(key, int(score), int(count)) for key, score, count in session.execute(query)]
    return summarize(rows, _names(unit, dimension))


def _in(row: RatingRow, since: datetime | None, until: datetime | None) -> bool:
    at = row.rated_at.replace(tzinfo=row.rated_at.tzinfo or UTC)
    return (since is None or at >= since) and (until is None or at < until)


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    """One database for all of a test's examples; each example rates a unit of its own."""
    return session_factory(make_engine(database_url))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rated=st.lists(_rated(), min_size=1, max_size=40),
    redelivered=st.lists(st.integers(0, 39), max_size=6),
    cuts=st.lists(st.integers(1, 40), max_size=3),
    since=_moment,
    until=_moment,
)
def test_rollups_equal_a_plain_group_by_over_the_ratings(
    sessions: sessionmaker[Session],
    unit: Unit,
    rated: list[tuple[RatingMessage, Attribution]],
    redelivered: list[int],
    cuts: list[int],
    since: datetime | None,
    until: datetime | None,
) -> None:
    code = f"T{next(_units):05d}.{uuid.uuid4().hex[:6].upper()}"  # a unit of its own per example
    this = unit.model_copy(update={"unit": unit.unit.model_copy(update={"code": code})})
    items = [
        (rating.model_copy(update={"unit": code}), attribution) for rating, attribution in rated
    ]
    items += [items[i] for i in redelivered if i < len(items)]  # redelivered: duplicates
    edges = [0, *sorted(c for c in cuts if c < len(items)), len(items)]
    for start, end in itertools.pairwise(edges):
        with sessions.begin() as session:
            store_batch(session, items[start:end], NOW)
    scope = Scope(this, since, until)
    with sessions() as session:
        for dimension in DIMENSIONS:
            expected = _plain_group_by(session, this, dimension, since, until)
            assert summary(session, scope, dimension) == expected, dimension
        stored = [
            row
            for row in session.scalars(select(RatingRow).where(RatingRow.unit == code))
            if _in(row, since, until)
        ]
        apart = uncounted_totals(session, scope)
        assert apart == Uncounted(
            unverified=sum(r.dossier_code is not None and not r.receipt_known for r in stored),
            suspect=sum(r.suspect for r in stored),
            mismatched=sum(r.claim_mismatch is not None for r in stored),
        )
        raw = [row for row in stored if row.counted]
        factor_rows = [(f, s, 1) for row in raw for f, s in row.factors.items()]
        factor_names = {f.value: f"{f.label_vi} / {f.label_en}" for f in Factor}
        assert factor_summary(session, scope) == summarize(factor_rows, factor_names)
        cited: dict[str, int] = {}
        for row in raw:
            for reason in set(row.reasons):
                cited[reason] = cited.get(reason, 0) + 1
        assert dict(reason_counts(session, scope)) == cited
        heat: Counter[tuple[int, int, bool]] = Counter()
        for row in raw:
            local = row.rated_at.replace(tzinfo=row.rated_at.tzinfo or UTC).astimezone(LOCAL_ZONE)
            heat[(local.weekday(), local.hour, Score(row.score).is_satisfied)] += 1
        cells = hour_heat_map(session, scope).cells
        assert {(*key, ok): n for key, c in cells.items() for ok, n in _split(c) if n} == heat


def _split(cell: HeatCell) -> list[tuple[bool, int]]:
    return [(True, cell.satisfied), (False, cell.n - cell.satisfied)]


def test_each_counters_printer_shows_its_last_print_and_what_awaits_a_reprint(
    database_url: str, unit: Unit
) -> None:
    from hub.fleet_report import printer_states
    from hub.store.models import ReceiptRow

    sessions = session_factory(make_engine(database_url))
    issued = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    plan = [("Q1", True), ("Q1", False), ("Q2", False), ("Q2", True)]  # in issuing order
    with sessions.begin() as session:
        for n, (counter, printed) in enumerate(plan, start=1):
            session.add(
                ReceiptRow(
                    dossier_code=f"000.00.20.H41-261125-{n:04d}", unit=unit.unit.code,
                    procedure="1.001193", counter=counter, officer="CB001", key_id="k1",
                    url="https://hailong.example.gov.vn/r/x", issued_at=issued + timedelta(minutes=n),
                    printed=printed,
                )
            )  # fmt: skip
    with sessions() as session:
        states = {p.counter: p for p in printer_states(session, unit)}
    assert (states["Q1"].last_printed, states["Q1"].unprinted) == (False, 1)
    assert (states["Q2"].last_printed, states["Q2"].unprinted) == (True, 1)
    assert (states["Q3"].last_printed, states["Q3"].unprinted) == (None, 0)


def test_unit_totals_read_the_smallest_rollup_and_equal_the_sum_of_any_breakdown(
    database_url: str, unit: Unit
) -> None:
    """The headlines' totals (from the smallest rollup that holds the score: the channel
    rollups, plus raw edges) equal the per-counter sums (from ``rating_rollups``), for whole days
    and for a period cut inside a day."""
    from hub.report import unit_totals

    sessions = session_factory(make_engine(database_url))
    base = datetime(2026, 11, 23, 8, 0, tzinfo=HANOI)
    ratings = [
        make_rating(
            seq=i + 1,
            counter=("Q1", "Q2", None)[i % 3],
            score=list(Score)[i % 5],
            rated_at=base + timedelta(hours=5 * i),
            receipt=ReceiptRef(code=f"000.00.20.H41-261125-{i + 1:04d}", verified=True),
        )
        for i in range(24)
    ]
    with sessions.begin() as session:
        store_batch(session, [(r, attribute(r, None, counting(unit))) for r in ratings], NOW)
    bounds = [
        (None, None),
        (datetime(2026, 11, 24, tzinfo=HANOI), datetime(2026, 11, 27, tzinfo=HANOI)),
        (datetime(2026, 11, 24, 10, 30, tzinfo=HANOI), datetime(2026, 11, 26, 15, 0, tzinfo=HANOI)),
    ]
    with sessions() as session:
        for since, until in bounds:
            groups = summary(session, Scope(unit, since, until), "counter")
            expected = (sum(g.n for g in groups), sum(g.satisfied for g in groups))
            assert unit_totals(session, Scope(unit, since, until)) == expected
        assert unit_totals(session, Scope(unit))[0] == 24
