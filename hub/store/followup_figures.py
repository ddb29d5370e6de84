"""The follow-up figures of a period for the quarterly and yearly reports: of the dissatisfied
ratings given in it, how many were answered, closed, and are overdue (read-only, one query).

A follow-up belongs to the period its rating was given in (``ratings.rated_at``), as the rating
does: the report's "received" line is the period's dissatisfied ratings. The workflow itself is
:mod:`hub.domain.followup`; the pages' lists are :mod:`hub.store.followups`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from hub.domain.followup import Action, State
from hub.store.models import FollowUpEventRow, FollowUpRow, RatingRow


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
    answered = exists().where(
        FollowUpEventRow.rating_id == RatingRow.id,
        FollowUpEventRow.action == Action.ANSWER.value,
    )
    closed = FollowUpRow.state == State.CLOSED.value
    pending = and_(~answered, FollowUpRow.state.is_distinct_from(State.CLOSED.value))
    query = (
        select(
            func.count(),
            func.coalesce(func.sum(case((answered, 1), else_=0)), 0),
            func.coalesce(func.sum(case((closed, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((and_(pending, RatingRow.rated_at < overdue_before), 1), else_=0)),
                0,
            ),
        )
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
