"""The official report reads each table once for all its units (grouped by unit) and splits the
figures in Python: the batched figures must be the very figures the per-unit reads give, on
SQLite and on PostgreSQL, for a unit with ratings, one without and the province above them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hailong.settings import Unit, load_unit
from hub.domain.indices import parse_period
from hub.domain.units import UnitKind, UnitNode
from hub.exports.official import FOLLOW_UP_DAYS
from hub.exports.official_gather import UnitCounts
from hub.province import bare_unit
from hub.report import (
    factor_table,
    factor_table_of,
    reason_table,
    reason_table_of,
    summary,
    summary_of,
)
from hub.store.db import make_engine, session_factory
from hub.store.followup_figures import follow_up_counts
from hub.store.models import RatingRow
from hub.store.rollups import Scope
from tests.conftest import REPO
from tests.hub.exports.test_official import NOW, PROVINCE, WARD_A, WARD_B, seed


def _units() -> dict[str, Unit]:
    ward_a = load_unit(REPO / "config" / "unit.toml")
    return {
        WARD_A: ward_a,
        WARD_B: bare_unit(UnitNode(WARD_B, "Phường Nghĩa Đức", parent=PROVINCE)),
        PROVINCE: bare_unit(UnitNode(PROVINCE, "Tỉnh Đắk Nông", UnitKind.PROVINCE)),
    }


def test_the_batched_figures_equal_the_per_unit_ones(database_url: str) -> None:
    sessions = session_factory(make_engine(database_url))
    units = _units()
    seed(sessions, units[WARD_A])
    span = parse_period("2026Q3")
    since, until = span.bounds()
    overdue_before = NOW - timedelta(days=FOLLOW_UP_DAYS)
    with sessions() as session:
        read = UnitCounts.read(session, units, since, until, span.zone, overdue_before)
        for code, unit in units.items():
            scope = Scope(unit, since, until)
            expected_follow_ups = follow_up_counts(
                session, code, unit.kiosk_policy.reasons_at_or_below, since, until, overdue_before
            )
            assert read.follow_ups[code] == expected_follow_ups
            desk_figures = _figures_of(read, code, unit)
            assert desk_figures == (
                factor_table(session, scope),
                summary(session, scope, "field"),
                reason_table(session, scope),
            )
        # Not vacuous: both wards have ratings in the quarter, ward A four dissatisfied ones.
        assert _rated(session, WARD_A) > 0
        assert sum(read.scores[WARD_B].values()) == 10
        assert read.follow_ups[WARD_A][0] == 4
        assert read.follow_ups[PROVINCE] == (0, 0, 0, 0)


def _figures_of(read: UnitCounts, code: str, unit: Unit) -> tuple[object, ...]:
    return (
        factor_table_of(read.factors[code], read.scores[code]),
        summary_of(read.fields[code], unit, "field"),
        reason_table_of({r: n for (r,), n in read.reasons[code].items()}, unit),
    )


def _rated(session: Session, code: str) -> int:
    return int(session.scalar(select(func.count()).where(RatingRow.unit == code)) or 0)
