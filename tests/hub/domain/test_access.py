"""Who sees which units (hub.domain.access): province, commune and officer logins, at every
level of a small province, and who may set targets."""

from __future__ import annotations

import pytest

from hub.domain.access import NOTHING, may_set_target, reach, sees_units, targets_settable
from hub.domain.units import UnitKind, UnitNode, UnitTree

PROVINCE = "000.00.00.H41"
WARD_A = "000.00.20.H41"
WARD_B = "000.00.21.H41"
DEPT = "000.00.30.H41"
DEPT_BRANCH = "000.00.31.H41"

TREE = UnitTree.of(
    [
        UnitNode(PROVINCE, "Tỉnh Khánh Hòa", UnitKind.PROVINCE),
        UnitNode(WARD_A, "Phường Nha Trang", UnitKind.COMMUNE, PROVINCE),
        UnitNode(WARD_B, "Xã Cam Lâm", UnitKind.COMMUNE, PROVINCE),
        UnitNode(DEPT, "Sở Tư pháp", UnitKind.DEPARTMENT, PROVINCE),
        UnitNode(DEPT_BRANCH, "Chi nhánh VP đăng ký", UnitKind.DEPARTMENT, DEPT),
    ]
)
EVERY = (PROVINCE, WARD_A, WARD_B, DEPT, DEPT_BRANCH)


@pytest.mark.parametrize("role", ["head", "admin"])
def test_province_heads_and_admins_see_every_unit(role: str) -> None:
    seen = reach(role, PROVINCE, None, TREE)
    assert seen.units == EVERY
    assert seen.officer is None


@pytest.mark.parametrize("role", ["head", "admin"])
def test_a_unit_head_and_admin_see_their_unit_only(role: str) -> None:
    seen = reach(role, WARD_A, None, TREE)
    assert seen.units == (WARD_A,)
    assert not seen.sees(WARD_B)
    assert not seen.sees(PROVINCE)


def test_a_unit_with_units_under_it_sees_them_but_not_its_siblings() -> None:
    seen = reach("head", DEPT, None, TREE)
    assert seen.units == (DEPT, DEPT_BRANCH)
    assert not seen.sees(WARD_A)


def test_an_officer_sees_themself_in_their_unit() -> None:
    seen = reach("officer", WARD_B, "CB007", TREE)
    assert seen.units == (WARD_B,)
    assert seen.officer == "CB007"
    assert not sees_units("officer", WARD_B, TREE)


@pytest.mark.parametrize(
    ("role", "scope", "officer"),
    [
        ("head", "999.99.99.X00", None),  # a unit the hub does not serve
        ("officer", WARD_A, None),  # an officer login without an officer code
        ("auditor", PROVINCE, None),  # a role that does not exist
    ],
)
def test_anything_unknown_sees_nothing(role: str, scope: str, officer: str | None) -> None:
    assert reach(role, scope, officer, TREE) == NOTHING
    assert NOTHING.nothing


def test_only_admins_set_targets_and_only_from_above() -> None:
    # The province admin: every unit, and the province's own (it is the top, with units under it).
    assert targets_settable("admin", PROVINCE, TREE) == EVERY
    # A department admin sets its branch's target, not its own nor a ward's.
    assert targets_settable("admin", DEPT, TREE) == (DEPT_BRANCH,)
    assert not may_set_target("admin", DEPT, DEPT, TREE)
    # A ward's admin sets nothing, not even their own.
    assert targets_settable("admin", WARD_A, TREE) == ()
    # Heads and officers never.
    assert targets_settable("head", PROVINCE, TREE) == ()
    assert not may_set_target("officer", PROVINCE, WARD_A, TREE)
    # A unit the hub does not serve.
    assert not may_set_target("admin", PROVINCE, "999.99.99.X00", TREE)


def test_a_hub_of_one_unit_keeps_its_catalogue_target() -> None:
    alone = UnitTree.of([UnitNode(WARD_A, "Phường Nha Trang")])
    assert reach("head", WARD_A, None, alone).units == (WARD_A,)
    assert targets_settable("admin", WARD_A, alone) == ()
