"""The dashboard's coverage tables summed per dimension in the database (``GROUPING SETS`` on
PostgreSQL, :func:`hub.store.coverage.coverage_sums`) equal the fold in Python of every finest
key (:func:`hub.store.coverage.coverage_tallies`), the way they were read before: the overall
line and every table, for whole quarters and months, cut days (read the old way), an officer's
own receipts, a period without receipts (and the headline periods' response, read in one
statement, equals the register's), and a finest key counted rated without an issued
receipt (left out by both). SQLite always folds in Python."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from hailong.settings import Unit
from hub.coverage import DIMENSIONS, CoverageReport, _names, coverage_report
from hub.domain.coverage import Tally, fold, total
from hub.store.coverage import (
    coverage_of_spans,
    coverage_sums,
    coverage_tallies,
    register_by_unit,
)
from hub.store.db import make_engine, session_factory
from hub.store.models import CoverageMonthRollupRow
from hub.store.rollups import Scope
from tests.hub.store.test_month_coverage import HANOI, HOME, PERIODS, _fill

# Whole local days: summed in the database on PostgreSQL.
WHOLE = [
    (datetime(2026, 10, 1, tzinfo=HANOI), datetime(2027, 1, 1, tzinfo=HANOI)),  # a quarter
    (datetime(2026, 11, 1, tzinfo=HANOI), datetime(2026, 12, 1, tzinfo=HANOI)),  # a month
    (datetime(2026, 9, 20, tzinfo=HANOI), datetime(2026, 12, 3, tzinfo=HANOI)),  # months + days
    (datetime(2026, 10, 31, tzinfo=HANOI), datetime(2026, 11, 2, tzinfo=HANOI)),  # days only
    (datetime(2025, 1, 1, tzinfo=HANOI), datetime(2025, 4, 1, tzinfo=HANOI)),  # no receipts
]


def _folded(session: Session, scope: Scope) -> CoverageReport:
    """The report as it was read before: every finest key, folded per dimension in Python."""
    unit = scope.unit
    tallies = coverage_tallies(session, scope)
    fields = {p.code: p.field for p in unit.procedures}
    name = unit.unit.name
    if scope.officer is not None:
        name = _names(unit, "officer").get(scope.officer, scope.officer)
    tables = {dim: fold(tallies, dim, _names(unit, dim), fields) for dim in DIMENSIONS}
    return CoverageReport(total(tallies, name), tables)


def test_the_summed_tables_equal_the_fold(database_url: str, unit: Unit) -> None:
    assert unit.unit.code == HOME
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _fill(sessions)
    with sessions.begin() as session:  # rated, never issued: no line of its own, either way
        session.execute(
            insert(CoverageMonthRollupRow).values(
                unit=HOME,
                month=date(2026, 11, 1),
                counter="Q9",
                officer="CB009",
                procedure="9.999999",
                outcome="rated",
                n=3,
            )
        )
    postgres = engine.dialect.name == "postgresql"
    with sessions() as session:
        for since, until in [*WHOLE, *PERIODS]:
            for officer in (None, "CB002", "CB009"):
                scope = Scope(unit, since, until, officer)
                assert coverage_report(session, scope) == _folded(session, scope), scope
        for since, until in WHOLE:  # the database's sums are the ones read on PostgreSQL
            summed = coverage_sums(session, Scope(unit, since, until))
            assert (summed is not None) is postgres
        quarter = coverage_report(session, Scope(unit, *WHOLE[0]))
        assert quarter.overall.issued > 0
        assert {c.key for c in quarter.tables["officer"]} == {"CB001", "CB002", "CB003"}
        # The headline periods in one statement: each equals the register's count of it.
        spans = [*WHOLE, *((s or WHOLE[2][0], u or WHOLE[0][1]) for s, u in PERIODS)]
        assert coverage_of_spans(session, HOME, spans, HANOI) == [
            register_by_unit(session, [HOME], s, u).get(HOME, Tally()) for s, u in spans
        ]
        empty = coverage_report(session, Scope(unit, *WHOLE[-1]))
        assert empty.overall.issued == 0
        assert all(not table for table in empty.tables.values())
    engine.dispose()


@pytest.mark.parametrize("dimensions", [("field",), ("counter", "procedure")])
def test_a_subset_of_the_tables(database_url: str, unit: Unit, dimensions: tuple[str, ...]) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _fill(sessions)
    with sessions() as session:
        scope = Scope(unit, *WHOLE[0])
        report = coverage_report(session, scope, dimensions)  # type: ignore[arg-type]
        assert list(report.tables) == list(dimensions)
        whole = _folded(session, scope)
        assert report.overall == whole.overall
        assert all(report.tables[d] == whole.tables[d] for d in dimensions)  # type: ignore[index]
    engine.dispose()
