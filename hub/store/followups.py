"""Follow-ups of dissatisfied ratings: listing, the live feed, loading one and recording an action.

The ingest path does not know about follow-ups. A rating with a score at or below the unit's
``reasons_at_or_below`` is a follow-up from the moment it is stored; its ``follow_ups`` row is
made by the first action taken on it, so a dissatisfied rating without a row is *open*. Lists are
read newest first (``rated_at``) through ``ix_ratings_unit_rated_at``; follow-ups someone acted on
(a small table) are read from ``follow_ups`` and joined to their ratings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.domain.followup import Action, Event, FollowUp, State, replay
from hub.store.models import FollowUpEventRow, FollowUpRow, RatingRow
from hub.store.rollups import all_time_at_or_below

if TYPE_CHECKING:
    Query = Select[*tuple[Any, ...]]

PAGE_SIZE = 50
# The live feed looks for new ratings made within this window (through ix_ratings_unit_rated_at).
# A rating delivered later than that (a kiosk offline for days) shows when the page is next loaded.
FEED_WINDOW = timedelta(days=2)


class Conflict(RuntimeError):
    """Someone else acted on the follow-up since it was read: read it again."""


@dataclass(frozen=True)
class FollowUpItem:
    """A dissatisfied rating and where its follow-up stands. Holds personal data (comment,
    call-back phone): the web layer decides who sees it."""

    rating_id: str
    unit: str
    kiosk: str
    channel: str
    dossier_code: str | None
    stage: str
    counter: str | None
    officer: str | None
    procedure: str | None
    field: str | None
    score: int
    reasons: tuple[str, ...]
    comment: str | None
    callback_phone: str | None
    rated_at: datetime
    received_at: datetime
    state: State
    assignee: str | None
    assignee_officer: str | None
    updated_at: datetime | None  # None: nobody acted on it yet
    version: int  # the number of events in its trail

    @property
    def changed_at(self) -> datetime:
        """When it last changed: arrived, or the last action."""
        return max(self.received_at, self.updated_at or self.received_at)


@dataclass(frozen=True)
class Cursor:
    """Where a page of a newest-first list ends: the next page starts after it."""

    rated_at: datetime
    rating_id: str

    def encode(self) -> str:
        return f"{self.rated_at.astimezone(UTC):%Y%m%dT%H%M%S.%f}_{self.rating_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """None for anything that is not a cursor this module made."""
        stamp, _, rating_id = text.partition("_")
        try:
            at = datetime.strptime(stamp, "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
        except ValueError:
            return None
        if not 1 <= len(rating_id) <= 36:
            return None
        return cls(at, rating_id)


_COLUMNS = (
    RatingRow.id,
    RatingRow.unit,
    RatingRow.kiosk,
    RatingRow.channel,
    RatingRow.dossier_code,
    RatingRow.stage,
    RatingRow.counter,
    RatingRow.officer,
    RatingRow.procedure,
    RatingRow.field,
    RatingRow.score,
    RatingRow.reasons,
    RatingRow.comment,
    RatingRow.callback_phone,
    RatingRow.rated_at,
    RatingRow.received_at,
    FollowUpRow.state,
    FollowUpRow.assignee,
    FollowUpRow.assignee_officer,
    FollowUpRow.updated_at,
    FollowUpRow.version,
)


def _ratings_first() -> Query:
    """Ratings, with their follow-up row when there is one."""
    return select(*_COLUMNS).outerjoin(FollowUpRow, FollowUpRow.rating_id == RatingRow.id)


def _rows_first() -> Query:
    """Follow-up rows, with their ratings."""
    return (
        select(*_COLUMNS)
        .select_from(FollowUpRow)
        .join(RatingRow, RatingRow.id == FollowUpRow.rating_id)
    )


def _item(row: Any) -> FollowUpItem:
    return FollowUpItem(
        rating_id=row.id,
        unit=row.unit,
        kiosk=row.kiosk,
        channel=row.channel,
        dossier_code=row.dossier_code,
        stage=row.stage,
        counter=row.counter,
        officer=row.officer,
        procedure=row.procedure,
        field=row.field,
        score=row.score,
        reasons=tuple(row.reasons or ()),
        comment=row.comment,
        callback_phone=row.callback_phone,
        rated_at=row.rated_at,
        received_at=row.received_at,
        state=State(row.state) if row.state else State.OPEN,
        assignee=row.assignee,
        assignee_officer=row.assignee_officer,
        updated_at=row.updated_at,
        version=row.version or 0,
    )


def _newest_first(query: Query, before: Cursor | None, limit: int) -> Query:
    if before is not None:
        at = before.rated_at
        query = query.where(
            RatingRow.rated_at <= at,
            or_(
                RatingRow.rated_at < at,
                and_(RatingRow.rated_at == at, RatingRow.id < before.rating_id),
            ),
        )
    return query.order_by(RatingRow.rated_at.desc(), RatingRow.id.desc()).limit(limit)


def list_follow_ups(
    session: Session,
    unit: str,
    at_or_below: int,
    *,
    state: State | None = None,
    assignee: str | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> list[FollowUpItem]:
    """Newest first: every follow-up of ``unit`` (``state`` None), those in ``state``, or only
    those assigned to the user ``assignee`` (an officer's own list)."""
    if assignee is None and state in (None, State.OPEN):
        dissatisfied = RatingRow.score <= at_or_below
        query = _ratings_first().where(RatingRow.unit == unit)
        if state is State.OPEN:
            query = query.where(dissatisfied, FollowUpRow.rating_id.is_(None))
        else:  # a row keeps a follow-up listed if the unit later lowers its threshold
            query = query.where(or_(dissatisfied, FollowUpRow.rating_id.is_not(None)))
    else:
        query = _rows_first().where(FollowUpRow.unit == unit)
        if state is not None:
            query = query.where(FollowUpRow.state == state.value)
        if assignee is not None:
            query = query.where(FollowUpRow.assignee == assignee)
    return [_item(row) for row in session.execute(_newest_first(query, before, limit))]


def counts(
    session: Session, unit: str, at_or_below: int, *, assignee: str | None = None
) -> dict[State, int]:
    """How many follow-ups are in each state. Open ones are counted from the rollups (the number
    of dissatisfied ratings) less those with a row, so nothing scans the ratings."""
    query = select(FollowUpRow.state, func.count()).where(FollowUpRow.unit == unit)
    if assignee is not None:
        query = query.where(FollowUpRow.assignee == assignee)
    found = {State(state): n for state, n in session.execute(query.group_by(FollowUpRow.state))}
    result = {state: found.get(state, 0) for state in State}
    if assignee is None:
        dissatisfied = all_time_at_or_below(session, unit, at_or_below)
        acted_on = session.scalar(
            select(func.count())
            .select_from(FollowUpRow)
            .join(RatingRow, RatingRow.id == FollowUpRow.rating_id)
            .where(FollowUpRow.unit == unit, RatingRow.score <= at_or_below)
        )
        result[State.OPEN] += max(0, dissatisfied - int(acted_on or 0))
    return result


def changes(
    session: Session,
    unit: str,
    at_or_below: int,
    *,
    since: datetime,
    now: datetime,
    assignee: str | None = None,
    limit: int = 200,
) -> list[FollowUpItem]:
    """What changed after ``since``: dissatisfied ratings that arrived (made within
    :data:`FEED_WINDOW` of ``now``) and follow-ups acted on; for an officer (``assignee``), only
    follow-ups assigned to them. Oldest change first."""
    acted = _rows_first().where(FollowUpRow.unit == unit, FollowUpRow.updated_at > since)
    if assignee is not None:
        acted = acted.where(FollowUpRow.assignee == assignee)
    acted = acted.order_by(FollowUpRow.updated_at).limit(limit)
    found = {item.rating_id: item for item in map(_item, session.execute(acted))}
    if assignee is None:
        arrived = _ratings_first().where(
            RatingRow.unit == unit,
            RatingRow.rated_at >= now - FEED_WINDOW,
            RatingRow.score <= at_or_below,
            RatingRow.received_at > since,
        )
        for row in session.execute(arrived.order_by(RatingRow.received_at).limit(limit)):
            found.setdefault(row.id, _item(row))
    return sorted(found.values(), key=lambda item: (item.changed_at, item.rating_id))


def load(
    session: Session, unit: str, at_or_below: int, rating_id: str
) -> tuple[FollowUpItem, FollowUp] | None:
    """One follow-up and its trail; None when ``rating_id`` is not a follow-up of ``unit``."""
    row = session.execute(
        _ratings_first().where(RatingRow.id == rating_id, RatingRow.unit == unit)
    ).first()
    if row is None:
        return None
    item = _item(row)
    if item.score > at_or_below and item.updated_at is None:
        return None
    events = session.scalars(
        select(FollowUpEventRow)
        .where(FollowUpEventRow.rating_id == rating_id)
        .order_by(FollowUpEventRow.id)
    )
    return item, replay(rating_id, _events(events))


def _events(rows: Iterable[FollowUpEventRow]) -> list[Event]:
    return [
        Event(
            at=row.at,
            actor=row.actor,
            action=Action(row.action),
            note=row.note,
            assignee=row.assignee,
            assignee_officer=row.assignee_officer,
        )
        for row in rows
    ]


def record(session: Session, item: FollowUpItem, before: FollowUp, after: FollowUp) -> None:
    """Store ``after`` (``before`` with the events an action appended): the row, made on the
    first action, and the new events. Raises :class:`Conflict` when someone else acted first."""
    new: Sequence[Event] = after.events[len(before.events) :]
    if after.events[: len(before.events)] != before.events or not new:
        raise ValueError("after must be before with events appended")
    values = {
        "state": after.state.value,
        "assignee": after.assignee,
        "assignee_officer": after.assignee_officer,
        "updated_at": new[-1].at,
        "version": len(after.events),
    }
    if not before.events:
        try:
            with session.begin_nested():
                session.execute(
                    insert(FollowUpRow).values(
                        rating_id=item.rating_id,
                        unit=item.unit,
                        opened_at=item.received_at,
                        **values,
                    )
                )
        except IntegrityError as exc:
            raise Conflict(item.rating_id) from exc
    else:
        done = session.execute(
            update(FollowUpRow)
            .where(
                FollowUpRow.rating_id == item.rating_id,
                FollowUpRow.version == len(before.events),
            )
            .values(**values)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(item.rating_id)
    session.execute(
        insert(FollowUpEventRow),
        [
            {
                "rating_id": item.rating_id,
                "at": event.at,
                "actor": event.actor,
                "action": event.action.value,
                "assignee": event.assignee,
                "assignee_officer": event.assignee_officer,
                "note": event.note,
            }
            for event in new
        ],
    )
