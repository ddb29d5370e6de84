"""The catalogue in tables (revision 0009): a unit file goes in and the same ``Unit`` comes out,
on SQLite and PostgreSQL; importing again changes nothing; a bad parent, a cycle or a kiosk id
another unit has is refused and leaves the tables as they were."""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Factor
from hailong.settings import Unit
from hub.domain.units import UnitKind, UnitNode
from hub.store.catalogue import (
    CatalogueStoreError,
    home_unit,
    import_unit,
    load_tree,
    load_unit,
    load_units,
    summaries,
)
from hub.store.db import make_engine, session_factory
from hub.store.models import Base, UnitOfficerRow, UnitProcedureRow, UnitRow


def other_unit(unit: Unit, code: str, kiosk_prefix: str) -> Unit:
    """The test unit under another code, its kiosks renamed (ids are unique across units)."""
    data = unit.model_dump()
    data["unit"]["code"] = code
    data["unit"]["name"] = f"Đơn vị {code}"
    for kiosk in data["kiosks"]:
        kiosk["id"] = f"{kiosk_prefix}-{kiosk['id']}"
    return Unit.model_validate(data)


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    return session_factory(make_engine(database_url))


def test_a_unit_file_round_trips_through_the_tables(
    sessions: sessionmaker[Session], unit: Unit
) -> None:
    with sessions.begin() as session:
        import_unit(session, unit)
    with sessions() as session:
        assert load_unit(session, unit.unit.code) == unit
        tree = load_tree(session)
    assert list(tree) == [UnitNode(unit.unit.code, unit.unit.name, UnitKind.COMMUNE, None)]


def test_importing_again_replaces_the_lists_and_changes_nothing_else(
    sessions: sessionmaker[Session], unit: Unit
) -> None:
    with sessions.begin() as session:
        import_unit(session, unit)
    with sessions.begin() as session:
        import_unit(session, unit)
    with sessions() as session:
        assert load_unit(session, unit.unit.code) == unit
        assert session.scalar(select(func.count()).select_from(UnitOfficerRow)) == len(
            unit.officers
        )
    # A smaller catalogue replaces the bigger one: removed entries are gone, order is kept.
    data = unit.model_dump()
    data["officers"] = list(reversed(data["officers"][:2]))
    data["procedures"] = data["procedures"][:1]
    data["kiosk_policy"]["faces"] = 3
    data["register_policy"]["count_unverified"] = True
    data["unit"]["target_rate"] = 85.5
    smaller = Unit.model_validate(data)
    with sessions.begin() as session:
        import_unit(session, smaller)
    with sessions() as session:
        assert load_unit(session, unit.unit.code) == smaller
        assert session.scalar(select(func.count()).select_from(UnitProcedureRow)) == 1


def test_a_province_with_its_units(sessions: sessionmaker[Session], unit: Unit) -> None:
    province = Unit.model_validate(
        {
            "unit": {"code": "000.00.00.H41", "name": "Tỉnh Mẫu"},
            "fields": [],
            "counters": [],
            "officers": [],
            "procedures": [],
        }
    )
    ward_b = other_unit(unit, "000.00.21.H41", "b")
    with sessions.begin() as session:
        import_unit(session, province, kind="province")
        import_unit(session, unit, parent="000.00.00.H41")
        import_unit(session, ward_b, parent="000.00.00.H41", kind=UnitKind.COMMUNE)
    with sessions() as session:
        tree = load_tree(session)
        units = load_units(session)
        lines = summaries(session)
        home = home_unit(session, None)
        named = home_unit(session, ward_b.unit.code)
    assert [n.code for n in tree.children("000.00.00.H41")] == [unit.unit.code, "000.00.21.H41"]
    assert tree.get("000.00.00.H41") == UnitNode(
        "000.00.00.H41", "Tỉnh Mẫu", UnitKind.PROVINCE, None
    )
    assert units == {p.unit.code: p for p in (province, unit, ward_b)}
    assert [(s.code, s.kiosks) for s in lines] == [
        ("000.00.00.H41", 0),
        (unit.unit.code, len(unit.kiosks)),
        ("000.00.21.H41", len(unit.kiosks)),
    ]
    assert home == province  # the only top unit
    assert named == ward_b


def test_bad_parents_cycles_and_shared_kiosks_are_refused(
    sessions: sessionmaker[Session], unit: Unit
) -> None:
    ward_b = other_unit(unit, "000.00.21.H41", "b")
    orphan = r"parent “000\.00\.99\.H41”.*import it first"
    with pytest.raises(CatalogueStoreError, match=orphan), sessions.begin() as session:
        import_unit(session, unit, parent="000.00.99.H41")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(UnitRow)) == 0
    with sessions.begin() as session:
        import_unit(session, unit)
        import_unit(session, ward_b, parent=unit.unit.code)
    with pytest.raises(CatalogueStoreError, match="cycle"), sessions.begin() as session:
        import_unit(session, unit, parent=ward_b.unit.code)
    with pytest.raises(CatalogueStoreError, match="cycle"), sessions.begin() as session:
        import_unit(session, unit, parent=unit.unit.code)
    with pytest.raises(CatalogueStoreError, match="Unknown unit kind"), sessions.begin() as session:
        import_unit(session, unit, kind="district")
    # A third unit with a kiosk of the first: the id is one MQTT user name.
    clash = other_unit(unit, "000.00.22.H41", "c").model_dump()
    clash["kiosks"][0]["id"] = unit.kiosks[0].id
    shared = re.escape(f"{unit.kiosks[0].id} ({unit.unit.code})")
    with pytest.raises(CatalogueStoreError, match=shared), sessions.begin() as session:
        import_unit(session, Unit.model_validate(clash))
    with sessions() as session:  # nothing of the refused imports was kept
        assert load_tree(session).get(unit.unit.code) == UnitNode(
            unit.unit.code, unit.unit.name, UnitKind.COMMUNE, None
        )
        assert set(load_units(session)) == {unit.unit.code, ward_b.unit.code}
        with pytest.raises(CatalogueStoreError, match=r"No unit “000\.00\.22\.H41”"):
            load_unit(session, "000.00.22.H41")
        assert home_unit(session, None) == unit  # the only top unit
    with sessions.begin() as session:  # two top units: the hub must be told which is its own
        import_unit(session, other_unit(unit, "000.00.23.H41", "d"))
    with sessions() as session, pytest.raises(CatalogueStoreError, match="set \\[hub\\] unit"):
        home_unit(session, None)


# -- any valid unit survives the round trip (SQLite; PostgreSQL stores the same columns) --------

_code = st.from_regex(r"[a-z0-9][a-z0-9-]{0,11}", fullmatch=True)
_name = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)


@st.composite
def units(draw: st.DrawFn) -> Unit:
    fields = draw(st.lists(_code, max_size=4, unique=True))
    counters = draw(st.lists(_code, max_size=4, unique=True))
    data: dict[str, Any] = {
        "unit": {
            "code": draw(st.from_regex(r"[0-9A-Z][0-9A-Z.]{2,19}", fullmatch=True)),
            "name": draw(_name),
            "target_rate": draw(st.floats(0, 100, allow_nan=False)),
        },
        "fields": [{"code": f, "name": draw(_name)} for f in fields],
        "counters": [{"code": c, "name": draw(_name)} for c in counters],
        "officers": [
            {"code": o, "name": draw(_name), "counter": draw(st.sampled_from([None, *counters]))}
            for o in draw(st.lists(_code, max_size=4, unique=True))
        ],
        "procedures": [
            {"code": p, "name": draw(_name), "field": draw(st.sampled_from(fields))}
            for p in draw(st.lists(st.from_regex(r"\d\.\d{6}", fullmatch=True), unique=True))
        ]
        if fields
        else [],
        "reasons": [
            {
                "code": r,
                "name": draw(_name),
                "name_en": draw(_name),
                "factor": draw(st.sampled_from(list(Factor))).value,
            }
            for r in draw(st.lists(_code, max_size=3, unique=True))
        ],
        "kiosk_policy": {
            "faces": draw(st.sampled_from([3, 4, 5])),
            "survey_share": draw(st.floats(0, 1, allow_nan=False)),
        },
        "register_policy": {"count_unverified": draw(st.booleans())},
        "kiosks": [
            {"id": k, "counter": draw(st.sampled_from([None, *counters]))}
            for k in draw(st.lists(_code, max_size=3, unique=True))
        ],
    }
    return Unit.model_validate(data)


@functools.cache
def _memory() -> sessionmaker[Session]:
    return session_factory(make_engine("sqlite://"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=units())
def test_any_valid_unit_round_trips(generated: Unit) -> None:
    sessions = _memory()
    with sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name.startswith("unit"):
                session.execute(table.delete())
        import_unit(session, generated)
    with sessions() as session:
        assert load_unit(session, generated.unit.code) == generated
