"""The province use case (hub.province) over a province of five units with stored ratings (the
province view on SQLite and PostgreSQL, the rest on SQLite): the ranking, the SIPAS table, fields across units, the drill-down, the
trend with its projection, targets, and every refusal of a unit outside the caller's reach."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hailong.settings import Unit
from hub.domain.access import reach
from hub.domain.periods import period
from hub.domain.trends import Tally
from hub.province import NotAllowed, NotVisible, ProvinceDesk
from hub.store.db import make_engine, session_factory
from tests.hub.province_data import (
    DEPT,
    NOW,
    PROVINCE,
    SMALL,
    TREE,
    WARD_A,
    WARD_B,
    store_province,
)

NOVEMBER = period("month", NOW.date())


def _desk(database_url: str, unit: Unit) -> ProvinceDesk:
    sessions: sessionmaker[Session] = session_factory(make_engine(database_url))
    store_province(sessions)
    return ProvinceDesk(
        TREE, lambda code: unit if code == unit.unit.code else None, sessions, lambda: NOW
    )


@pytest.fixture
def desk(tmp_path: Path, unit: Unit) -> ProvinceDesk:
    """On SQLite; the province view, whose reads are the most varied, runs on both back-ends."""
    return _desk(f"sqlite:///{tmp_path / 'hub.db'}", unit)


def test_the_province_view(database_url: str, unit: Unit) -> None:
    desk = _desk(database_url, unit)
    view = desk.overview(reach("head", PROVINCE, None, TREE), PROVINCE, NOVEMBER)
    assert [(r.rank, r.figure.code, r.figure.n) for r in view.ranking.ranked] == [
        (1, WARD_B, 50),
        (1, WARD_A, 40),
        (3, DEPT, 35),
    ]
    assert [(f.code, f.n) for f in view.ranking.too_few] == [(SMALL, 10), (PROVINCE, 0)]
    assert (view.total.n, view.total.satisfied) == (135, 112)
    # The SIPAS table: WARD_A's officer factor from its 10 survey answers, the overall last.
    ward_a = next(line for line in view.factors if line.code == WARD_A)
    officer_cell = ward_a.cells[2]
    assert (officer_cell.n, officer_cell.rate) == (10, 100.0)
    assert (ward_a.cells[-1].n, ward_a.cells[-1].satisfied) == (40, 36)
    total = view.factors[-1]
    assert total.code is None
    assert (total.cells[-1].n, total.cells[-1].satisfied) == (135, 112)
    assert (total.cells[2].n, total.cells[0].n) == (10, 0)
    # Fields across units, lowest rate first, named from the catalogue that has them.
    assert [(f.name, f.n, f.satisfied, f.units) for f in view.fields] == [
        ("Đất đai", 35, 21, 1),
        ("Tư pháp – Hộ tịch", 100, 91, 3),
    ]
    assert set(view.coverage) == {PROVINCE, WARD_A, WARD_B, SMALL, DEPT}
    assert view.coverage[WARD_A].issued == 0  # ratings without receipts: no coverage to show


def test_a_unit_head_sees_their_unit_and_nothing_else(desk: ProvinceDesk) -> None:
    mine = reach("head", WARD_B, None, TREE)
    view = desk.overview(mine, WARD_B, NOVEMBER)
    assert [r.figure.code for r in view.ranking.ranked] == [WARD_B]
    assert [n.code for n in view.path] == [WARD_B]  # the province above is not theirs
    for code in (PROVINCE, WARD_A, "999.99.99.X00"):
        with pytest.raises(NotVisible):
            desk.overview(mine, code, NOVEMBER)
        with pytest.raises(NotVisible):
            desk.unit_view(mine, code, NOVEMBER)
        with pytest.raises(NotVisible):
            desk.trends(mine, code, 2026)
    officer = reach("officer", WARD_A, "CB001", TREE)
    with pytest.raises(NotVisible):
        desk.overview(officer, WARD_A, NOVEMBER)
    with pytest.raises(NotVisible):
        desk.unit_view(officer, WARD_A, NOVEMBER, officer="CB002")


def test_drilling_down_to_a_counter_and_an_officer(desk: ProvinceDesk) -> None:
    seen = reach("admin", PROVINCE, None, TREE)
    unit = desk.unit_view(seen, WARD_A, NOVEMBER)
    assert [(r.key, r.name, r.n, r.satisfied) for r in unit.rows] == [
        ("Q2", "Quầy 2 – Chứng thực", 20, 16),
        ("Q1", "Quầy 1 – Hộ tịch", 20, 20),
    ]
    assert unit.factors[-1].n == 40
    assert unit.coverage is not None
    counter = desk.unit_view(seen, WARD_A, NOVEMBER, counter="Q2")
    assert [(r.key, r.name, r.n) for r in counter.rows] == [("CB002", "Trần Văn Minh", 20)]
    assert counter.factors == ()
    officer = desk.unit_view(seen, WARD_A, NOVEMBER, counter="Q1", officer="CB001")
    assert (officer.officer_name, officer.total.n, officer.total.satisfied) == (
        "Nguyễn Thị Lan",
        20,
        20,
    )
    assert [r.key for r in officer.rows] == ["1.001193"]
    # Another unit has no catalogue here: its counters are shown by code.
    other = desk.unit_view(seen, WARD_B, NOVEMBER)
    assert [(r.key, r.name) for r in other.rows] == [("Q1", "Q1")]


def test_the_trend_its_projection_and_targets(desk: ProvinceDesk) -> None:
    province_admin = reach("admin", PROVINCE, None, TREE)
    desk.set_target("admin", PROVINCE, "tinh-admin", PROVINCE, 2026, 90.0)
    view = desk.trends(province_admin, WARD_A, 2026)
    by_month = {row.first: row.now for row in view.months}
    assert by_month[date(2026, 8, 1)] == Tally(10, 9)
    assert by_month[date(2026, 11, 1)] == Tally(40, 36)
    assert view.months[10].year_before == Tally(20, 10)
    assert view.quarters[3].now == Tally(50, 43)
    assert view.quarters[3].year_before == Tally(20, 10)
    assert view.so_far == Tally(70, 60)
    assert view.year_before == Tally(20, 10)
    # 27 November: pace August-October 30 ratings, 24 satisfied (80 %, 10 a month); left 1 + 3/30
    # months, 11 ratings: (60 + 0.8 * 11) / (70 + 11) = 68.8 / 81.
    assert view.pace == (date(2026, 8, 1), date(2026, 11, 1))
    assert view.months_left == pytest.approx(1.1)
    assert view.projection is not None
    assert view.projection.rate == pytest.approx(68.8 / 81 * 100)
    assert (view.target.rate, view.target.source) == (90.0, "above")
    desk.set_target("admin", PROVINCE, "tinh-admin", WARD_A, 2026, 85.0)
    assert desk.trends(province_admin, WARD_A, 2026).target.rate == 85.0
    # The province's trend sums its units; a past year has no projection.
    whole = desk.trends(province_admin, PROVINCE, 2026)
    assert whole.months[10].now == Tally(135, 112)
    assert whole.target.source == "unit"
    assert desk.trends(province_admin, PROVINCE, 2025).projection is None
    # An officer's trend is their own ratings.
    mine = desk.trends(reach("officer", WARD_A, "CB001", TREE), WARD_A, 2026)
    assert mine.so_far == Tally(50, 44)


def test_targets_are_set_from_above_only(desk: ProvinceDesk) -> None:
    with pytest.raises(NotAllowed):  # a unit's admin cannot set their own
        desk.set_target("admin", WARD_A, "phuong-admin", WARD_A, 2026, 70.0)
    with pytest.raises(NotAllowed):  # nor a head, even the province's
        desk.set_target("head", PROVINCE, "tinh-head", WARD_A, 2026, 70.0)
    with pytest.raises(NotVisible):
        desk.set_target("admin", PROVINCE, "tinh-admin", "999.99.99.X00", 2026, 70.0)
    with pytest.raises(ValueError, match="0 to 100"):
        desk.set_target("admin", PROVINCE, "tinh-admin", WARD_A, 2026, 100.5)
    with pytest.raises(ValueError, match="year"):
        desk.set_target("admin", PROVINCE, "tinh-admin", WARD_A, 2017, 90.0)
    desk.set_target("admin", PROVINCE, "tinh-admin", WARD_A, 2026, 88.0)
    lines = desk.targets(reach("admin", PROVINCE, None, TREE), "admin", PROVINCE, 2026)
    by_code = {line.unit.code: line for line in lines}
    assert by_code[WARD_A].own == 88.0
    assert by_code[WARD_A].settable
    assert by_code[WARD_B].held_to.source is None  # nothing set, no catalogue here
    assert by_code[PROVINCE].settable
    assert by_code[PROVINCE].depth == 0
    desk.set_target("admin", PROVINCE, "tinh-admin", WARD_A, 2026, None)  # cleared
    ward = desk.targets(reach("admin", WARD_A, None, TREE), "admin", WARD_A, 2026)
    assert [(line.unit.code, line.own, line.settable) for line in ward] == [(WARD_A, None, False)]
    assert ward[0].held_to.rate == 90.0  # its catalogue's (config/unit.toml)
