"""The follow-up desk: the one code path behind the follow-up pages, as :mod:`hub.receipts.desk`
is for receipts. It takes plain values and gives back plain dataclasses (never table rows).

Who reaches what is decided here, once for every caller: a unit head or an administrator (the
:data:`~hub.domain.followup.MANAGERS`) reaches every follow-up of the unit; an officer only those
assigned to them, and any other id answers exactly as one that does not exist (:class:`NotFound`),
so ids cannot be probed. What may be done is :mod:`hub.domain.followup`'s rule; the desk adds the
version check that keeps a stale or replayed form from doing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from hailong.settings import Unit
from hub.domain.followup import (
    MANAGERS,
    Action,
    Actor,
    Assignee,
    FollowUp,
    FollowUpError,
    State,
    act,
)
from hub.store import followups as store
from hub.store.followups import Conflict, Cursor, FollowUpItem

# A rating stored a little before the feed's cursor (a batch committed late, clocks a little apart)
# is still found: the feed looks back this far, and the page ignores items it already shows.
OVERLAP = timedelta(seconds=5)


class NotFound(LookupError):
    """No follow-up with this id that the viewer may reach."""


@dataclass(frozen=True)
class FollowUpPage:
    items: list[FollowUpItem]  # newest first
    tally: dict[State, int]
    older: Cursor | None  # where the next, older page starts; None on the last page
    as_of: datetime  # when it was read: where the live feed starts


@dataclass(frozen=True)
class FollowUpChanges:
    items: list[FollowUpItem]  # oldest change first
    cursor: datetime  # ``since`` of the next call
    tally: dict[State, int] | None  # None when nothing changed


def is_manager(viewer: Actor) -> bool:
    return viewer.role in MANAGERS


def may_see(viewer: Actor, item: FollowUpItem) -> bool:
    return is_manager(viewer) or (viewer.role == "officer" and item.assignee == viewer.username)


def may_see_phone(viewer: Actor, item: FollowUpItem) -> bool:
    """Heads and admins; the assigned officer until the follow-up is closed."""
    return is_manager(viewer) or (may_see(viewer, item) and item.state is not State.CLOSED)


class FollowUpDesk:
    def __init__(
        self,
        unit: Unit,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        staff: Callable[[], Iterable[Assignee]] = tuple,
    ) -> None:
        """``staff``: the officer logins (user name, officer code) a follow-up may be given to;
        the desk keeps those whose officer is in the unit catalogue."""
        self.unit, self.sessions, self.clock, self.staff = unit, sessions, clock, staff

    @property
    def threshold(self) -> int:
        """The score at or below which a rating is a follow-up."""
        return self.unit.kiosk_policy.reasons_at_or_below

    def _mine(self, viewer: Actor) -> str | None:
        return None if is_manager(viewer) else viewer.username

    def page(
        self, viewer: Actor, *, state: State | None = None, before: Cursor | None = None
    ) -> FollowUpPage:
        """Newest first, a page at a time: the unit's for a manager, an officer's own."""
        code, mine, as_of = self.unit.unit.code, self._mine(viewer), self.clock()
        with self.sessions() as session:
            items = store.list_follow_ups(
                session, code, self.threshold, state=state, assignee=mine, before=before
            )
            tally = store.counts(session, code, self.threshold, assignee=mine)
        last = items[-1] if len(items) == store.PAGE_SIZE else None
        older = Cursor(last.rated_at, last.rating_id) if last else None
        return FollowUpPage(items, tally, older, as_of)

    def changes(self, viewer: Actor, since: datetime) -> FollowUpChanges:
        """Follow-ups that arrived or changed after ``since``, the viewer's own as on the page."""
        code, mine = self.unit.unit.code, self._mine(viewer)
        with self.sessions() as session:
            items = store.changes(
                session,
                code,
                self.threshold,
                since=since - OVERLAP,
                now=self.clock(),
                assignee=mine,
            )
            tally = store.counts(session, code, self.threshold, assignee=mine) if items else None
        cursor = max([since, *(item.changed_at for item in items)])
        return FollowUpChanges(items, cursor, tally)

    def view(self, viewer: Actor, rating_id: str) -> tuple[FollowUpItem, FollowUp]:
        """One follow-up and its trail; :class:`NotFound` unless the viewer reaches it."""
        with self.sessions() as session:
            found = store.load(session, self.unit.unit.code, self.threshold, rating_id)
        if found is None or not may_see(viewer, found[0]):
            raise NotFound(rating_id)
        return found

    def assignable(self) -> list[Assignee]:
        """The officer logins a follow-up may be given to (their officer in the catalogue)."""
        officers = {officer.code for officer in self.unit.officers}
        return [login for login in self.staff() if login.officer in officers]

    def act(
        self,
        viewer: Actor,
        rating_id: str,
        action: Action,
        *,
        version: int,
        note: str = "",
        assignee: str = "",
    ) -> FollowUp:
        """Take ``action`` on the follow-up as the form made from ``version`` of it saw it; raises
        :class:`NotFound`, :class:`Conflict` (someone acted since), or the domain's
        :class:`FollowUpError` (:class:`~hub.domain.followup.NotPermitted`) saying why not."""
        item, before = self.view(viewer, rating_id)
        if version != item.version:
            raise Conflict(rating_id)
        target = None
        if assignee:
            target = next((a for a in self.assignable() if a.username == assignee), None)
            if target is None:
                raise FollowUpError("Không có cán bộ này.", "There is no such officer.")
        after = act(before, viewer, action, self.clock(), note=note, assignee=target)
        with self.sessions.begin() as session:
            # Read again in the write's transaction: the version check in record() is what
            # stops two people acting on the same version.
            fresh = store.load(session, self.unit.unit.code, self.threshold, rating_id)
            if fresh is None or fresh[1] != before:
                raise Conflict(rating_id)
            store.record(session, item, before, after)
        return after
