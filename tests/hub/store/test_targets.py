"""The targets table (hub.store.targets) on SQLite and PostgreSQL: set, replace, clear, read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.store.db import make_engine, session_factory
from hub.store.targets import clear_target, set_target, targets_of

WARD, PROVINCE = "000.00.20.H41", "000.00.00.H41"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_targets_are_set_replaced_and_cleared(database_url: str) -> None:
    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        set_target(session, WARD, 2026, 85.0, "tinh-admin", NOW)
        set_target(session, PROVINCE, 2026, 90.0, "tinh-admin", NOW)
        set_target(session, WARD, 2025, 80.0, "tinh-admin", NOW)
    with sessions.begin() as session:
        set_target(session, WARD, 2026, 87.5, "other-admin", NOW)  # replaces, no second row
    with sessions() as session:
        found = targets_of(session, [WARD, PROVINCE], [2026])
    assert [(t.unit, t.year, t.rate, t.set_by) for t in found] == [
        (PROVINCE, 2026, 90.0, "tinh-admin"),
        (WARD, 2026, 87.5, "other-admin"),
    ]
    assert found[0].set_at == NOW  # aware UTC back
    with sessions.begin() as session:
        assert clear_target(session, WARD, 2026)
        assert not clear_target(session, WARD, 2026)
    with sessions() as session:
        assert [(t.unit, t.year) for t in targets_of(session, [WARD], [2025, 2026])] == [
            (WARD, 2025)
        ]


@pytest.mark.parametrize("rate", [-0.1, 100.01])
def test_a_target_outside_0_to_100_is_refused(rate: float, tmp_path: object) -> None:
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path}/hub.db"))
    with pytest.raises(ValueError, match="0 to 100"), sessions.begin() as session:
        set_target(session, WARD, 2026, rate, "admin", NOW)
    with sessions.begin() as session:  # the bounds themselves are targets
        set_target(session, WARD, 2026, 0.0, "admin", NOW)
        set_target(session, WARD, 2027, 100.0, "admin", NOW)
