"""The province page's read (:func:`hub.store.rollups.tallies_of_units`, revision 0018's folds
summed over the scores by the database) equals :func:`~hub.store.rollups.counts_of_units` folded
in Python, the read it replaced, and the dashboard's :func:`~hub.store.rollups.grouped_counts`
equals one :func:`~hub.store.rollups.counts` per grouping, for bounds on local midnights, over a
month's end and cutting days (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from hailong.contract.scale import Score
from hailong.settings import Unit
from hub.store.db import make_engine, session_factory
from hub.store.rollups import Scope, counts, counts_of_units, grouped_counts, tallies_of_units
from tests.hub.store.test_province_rollups import BOUNDS, UNITS, _store

SATISFIED = frozenset(s.value for s in Score if s.is_satisfied)


def test_the_tallies_equal_the_counts_folded_over_the_scores(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store(sessions, 150)
    asked = [*UNITS, "nobody"]
    with sessions() as session:
        for since, until in BOUNDS:
            for column in ("field", "factor"):
                counted = counts_of_units(session, asked, since, until, column, "score")
                found = tallies_of_units(session, asked, since, until, column, SATISFIED)
                for code in asked:
                    expected: dict[Any, list[int]] = {}
                    for (key, score), n in counted[code].items():
                        line = expected.setdefault(key, [0, 0])
                        line[0] += n
                        line[1] += n if score in SATISFIED else 0
                    assert found[code] == {k: (n, ok) for k, (n, ok) in expected.items()}, (
                        column,
                        since,
                        until,
                    )
                assert found["nobody"] == {}
                assert any(found[code] for code in UNITS)
        assert tallies_of_units(session, [], None, None, "field", SATISFIED) == {}
        with pytest.raises(ValueError, match="month"):
            tallies_of_units(session, UNITS, None, None, "month", SATISFIED)
    engine.dispose()


GROUPINGS = [
    ("counter", "score"),
    ("officer", "score"),
    ("procedure", "score"),
    ("field", "score"),
    ("stage", "score"),
    ("score",),
]


def test_grouped_counts_equal_one_count_per_grouping(database_url: str, unit: Unit) -> None:
    """The dashboard's one read (``GROUPING SETS`` on PostgreSQL, a fold elsewhere) answers what
    a :func:`counts` per grouping does, with or without an officer, for every kind of bound."""
    assert unit.unit.code == UNITS[0]
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _store(sessions, 150)
    with sessions() as session:
        for since, until in BOUNDS:
            for officer in (None, "CB001"):
                scope = Scope(unit, since, until, officer=officer)
                found = grouped_counts(session, scope, GROUPINGS)
                expected = [counts(session, scope, *grouping) for grouping in GROUPINGS]
                assert found == expected, (since, until, officer)
                assert sum(found[-1].values()) > 0 or officer is not None
    engine.dispose()
