"""The dashboard's one read of the rating rollups (:func:`hub.report.figures`) gives what the
per-table functions give, on SQLite and PostgreSQL: for whole months, for days cut inside a
day, and for one officer."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hailong.settings import Unit
from hub.report import (
    DIMENSIONS,
    Scope,
    factor_table,
    figures,
    hour_heat_map,
    reason_table,
    score_distribution,
    stage_summary,
    summary,
)
from tests.hub.test_report_analysis import HANOI, MONTH
from tests.hub.test_report_analysis import sessions as sessions  # the fixture: PLAN stored

SPANS = [
    MONTH,
    # cut inside 23/11 and 25/11: whole days from the rollups, the edges from the ratings
    (datetime(2026, 11, 23, 8, 30, tzinfo=HANOI), datetime(2026, 11, 25, 12, 0, tzinfo=HANOI)),
    (datetime(2026, 12, 1, tzinfo=HANOI), datetime(2027, 1, 1, tzinfo=HANOI)),  # no rating
]


@pytest.mark.parametrize("span", SPANS)
@pytest.mark.parametrize("officer", [None, "CB002"])
def test_figures_equal_the_tables_read_one_by_one(
    sessions: sessionmaker[Session],
    unit: Unit,
    span: tuple[datetime, datetime],
    officer: str | None,
) -> None:
    scope = Scope(unit, *span, officer=officer)
    with sessions() as session:
        found = figures(session, scope)
        assert found.tables == {dim: summary(session, scope, dim) for dim in DIMENSIONS}
        assert found.analysis.stages == stage_summary(session, scope)
        assert found.analysis.factors == factor_table(session, scope)
        assert found.analysis.distribution == score_distribution(session, scope)
        assert found.analysis.reasons == reason_table(session, scope)
        if officer is None:
            assert found.analysis.heat_map == hour_heat_map(session, scope)
        else:
            assert found.analysis.heat_map is None
    if span is MONTH and officer is None:
        assert sum(s.n for s in found.tables["counter"]) == 8  # every rating of PLAN
