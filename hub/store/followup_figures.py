"""The follow-up figures of a period for the quarterly and yearly reports: of the dissatisfied
ratings given in it, how many were answered, closed, and are overdue (read-only, one query).

A follow-up belongs to the period its rating was given in (``ratings.rated_at``), as the rating
does: the report's "received" line is the period's dissatisfied ratings. The workflow itself is
:mod:`hub.domain.followup`; the pages' lists are :mod:`hub.store.followups`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import Session

from hub.domain.followup import Action, State
from hub.store.models import FollowUpEventRow, FollowUpRow, RatingRow


def _figures(overdue_before: datetime) -> list[ColumnElement[Any]]:
    """received, answered, closed, overdue: the aggregates both reads below select."""
    answered = exists().where(
        FollowUpEventRow.rating_id == RatingRow.id,
        FollowUpEventRow.action == Action.ANSWER.value,
    )
    closed = FollowUpRow.state == State.CLOSED.value
    pending = and_(~answered, FollowUpRow.state.is_distinct_from(State.CLOSED.value))
    late = and_(pending, RatingRow.rated_at < overdue_before)
    return [
        func.count(),
        func.coalesce(func.sum(case((answered, 1), else_=0)), 0),
        func.coalesce(func.sum(case((closed, 1), else_=0)), 0),
        func.coalesce(func.sum(case((late, 1), else_=0)), 0),
    ]


def follow_up_counts(
    session: Session,
    unit: str,
    at_or_below: int,
    since: datetime,
    until: datetime,
    overdue_before: datetime,
) -> tuple[int, int, int, int]:
    """``(received, answered, closed, overdue)`` for ``unit``'s counted ratings scored
    ``at_or_below`` or lower and given in ``[since, until)``. Answered: the trail has an answer
    (a follow-up answered and then closed counts in both). Overdue: neither answered nor closed,
    and given before ``overdue_before`` (the report's day less the time allowed)."""
    query = (
        select(*_figures(overdue_before))
        .select_from(RatingRow)
        .outerjoin(FollowUpRow, FollowUpRow.rating_id == RatingRow.id)
        .where(
            RatingRow.unit == unit,
            RatingRow.counted.is_(True),
            RatingRow.score <= at_or_below,
            RatingRow.rated_at >= since,
            RatingRow.rated_at < until,
        )
    )
    row = session.execute(query).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def follow_up_counts_of_units(
    session: Session,
    at_or_below: Mapping[str, int],
    since: datetime,
    until: datetime,
    overdue_before: datetime,
) -> dict[str, tuple[int, int, int, int]]:
    """:func:`follow_up_counts` of many units at once (unit code -> its ``reasons_at_or_below``),
    grouped by unit in one query per distinct threshold (a province's 150 units share one or
    two), not one per unit. Every unit asked for is in the answer, ``(0, 0, 0, 0)`` when none."""
    found = {code: (0, 0, 0, 0) for code in at_or_below}
    by_threshold: dict[int, list[str]] = {}
    for code, threshold in at_or_below.items():
        by_threshold.setdefault(threshold, []).append(code)
    for threshold, codes in sorted(by_threshold.items()):
        query = (
            select(RatingRow.unit, *_figures(overdue_before))
            .select_from(RatingRow)
            .outerjoin(FollowUpRow, FollowUpRow.rating_id == RatingRow.id)
            .where(
                RatingRow.unit.in_(sorted(codes)),
                RatingRow.counted.is_(True),
                RatingRow.score <= threshold,
                RatingRow.rated_at >= since,
                RatingRow.rated_at < until,
            )
            .group_by(RatingRow.unit)
        )
        for unit, received, answered, closed, overdue in session.execute(query):
            found[unit] = (int(received), int(answered), int(closed), int(overdue))
    return found
