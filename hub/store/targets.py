"""The yearly targets (chỉ tiêu) the province sets: the ``targets`` table, read and written here.

Who may set which target is decided above (:func:`hub.domain.access.may_set_target`, asked by
:mod:`hub.province`); which target holds for a unit (its own, the one above, the catalogue's) by
:func:`hub.domain.trends.target_for`. This module only keeps the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.domain.trends import check_target_rate
from hub.store.models import TargetRow


@dataclass(frozen=True)
class StoredTarget:
    unit: str
    year: int
    rate: float
    set_by: str
    set_at: datetime


def targets_of(session: Session, units: Iterable[str], years: Iterable[int]) -> list[StoredTarget]:
    """The stored targets of ``units`` in ``years``, by unit then year."""
    query = (
        select(TargetRow)
        .where(TargetRow.unit.in_(list(units)), TargetRow.year.in_(list(years)))
        .order_by(TargetRow.unit, TargetRow.year)
    )
    return [
        StoredTarget(row.unit, row.year, row.rate, row.set_by, row.set_at)
        for row in session.scalars(query)
    ]


def set_target(
    session: Session, unit: str, year: int, rate: float, set_by: str, now: datetime
) -> None:
    """Store ``unit``'s target for ``year`` (replacing one set before); the caller commits."""
    check_target_rate(rate)
    values = {"unit": unit, "year": year, "rate": rate, "set_by": set_by, "set_at": now}
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TargetRow)
    session.execute(
        insert.values(values).on_conflict_do_update(
            index_elements=["unit", "year"],
            set_={"rate": rate, "set_by": set_by, "set_at": now},
        )
    )


def clear_target(session: Session, unit: str, year: int) -> bool:
    """Remove ``unit``'s own target for ``year`` (it is then held to the one above); whether
    there was one."""
    done = session.execute(delete(TargetRow).where(TargetRow.unit == unit, TargetRow.year == year))
    return bool(getattr(done, "rowcount", 0))
