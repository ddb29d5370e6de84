"""Follow-up of a dissatisfied rating (tiếp nhận, xử lý phản ánh): states, who may do what, and
the audit trail (pure: no I/O).

Every rating at or below the unit's ``reasons_at_or_below`` score is a follow-up. It starts
*open*; a unit head or an administrator *assigns* it to an officer (and may reassign it); the
assigned officer, a head or an administrator *answers* it with a note of what was done (the
citizen was called back, the papers were corrected, ...); a head or an administrator *closes* it.
A closed follow-up can be *reopened*, which assigns it again:

=======  =========================  ========  =================================  ================
action   from                       to        who                                note
=======  =========================  ========  =================================  ================
assign   open, assigned, answered   assigned  head, admin                        optional
answer   assigned                   answered  the assigned officer, head, admin  required
close    answered                   closed    head, admin                        optional
close    open, assigned             closed    head, admin                        required (why)
reopen   closed                     assigned  head, admin                        required (why)
=======  =========================  ========  =================================  ================

Closing without an answer (nothing to follow up: no comment, no consent to a call-back) needs a
note saying why. Every accepted action appends exactly one :class:`Event`; the state is always
what :func:`replay` makes of the events, so the trail alone explains every follow-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal

Role = Literal["officer", "head", "admin"]  # the staff roles of hub.web.accounts
MAX_NOTE = 2000


class State(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"

    @property
    def label_vi(self) -> str:
        return _STATE_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _STATE_LABELS[self][1]


_STATE_LABELS = {
    State.OPEN: ("Chờ xử lý", "Open"),
    State.ASSIGNED: ("Đã giao xử lý", "Assigned"),
    State.ANSWERED: ("Đã trả lời", "Answered"),
    State.CLOSED: ("Đã đóng", "Closed"),
}


class Action(StrEnum):
    ASSIGN = "assign"
    ANSWER = "answer"
    CLOSE = "close"
    REOPEN = "reopen"

    @property
    def label_vi(self) -> str:
        return _ACTION_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _ACTION_LABELS[self][1]


_ACTION_LABELS = {
    Action.ASSIGN: ("Giao xử lý", "Assign"),
    Action.ANSWER: ("Trả lời", "Answer"),
    Action.CLOSE: ("Đóng", "Close"),
    Action.REOPEN: ("Mở lại", "Reopen"),
}

# Who may take each action (the assigned officer may also answer: see allowed()).
MANAGERS: frozenset[Role] = frozenset({"head", "admin"})


class FollowUpError(ValueError):
    """An action that is not allowed now; ``vi`` and ``en`` say why, for the person who tried."""

    def __init__(self, vi: str, en: str) -> None:
        self.vi = vi
        self.en = en
        super().__init__(en)


class NotPermitted(FollowUpError):
    """The actor's role (or not being the assignee) does not allow the action."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff account (``officer`` is the officer code of an ``officer`` account)."""

    username: str
    role: Role
    officer: str | None = None


@dataclass(frozen=True)
class Assignee:
    """An officer account a follow-up can be given to."""

    username: str
    officer: str  # the officer code in the unit catalogue


@dataclass(frozen=True)
class Event:
    """One line of the audit trail: who did what, when, with which note."""

    at: datetime
    actor: str  # user name
    action: Action
    note: str = ""
    assignee: str | None = None  # user name, for assign and reopen
    assignee_officer: str | None = None  # officer code, for assign and reopen


@dataclass(frozen=True)
class FollowUp:
    rating_id: str
    state: State = State.OPEN
    assignee: str | None = None  # user name of the officer it is assigned to
    assignee_officer: str | None = None
    answer: str | None = None  # the note of the latest answer
    events: tuple[Event, ...] = field(default=())


def _clean(note: str) -> str:
    text = note.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(text) > MAX_NOTE:
        raise FollowUpError(
            f"Ghi chú dài quá {MAX_NOTE} ký tự.", f"The note is longer than {MAX_NOTE} characters."
        )
    return text


def allowed(follow_up: FollowUp, actor: Actor) -> list[Action]:
    """The actions ``actor`` may take on ``follow_up`` now (what the page offers)."""
    manager = actor.role in MANAGERS
    state = follow_up.state
    actions: list[Action] = []
    if manager and state is not State.CLOSED:
        actions.append(Action.ASSIGN)
    if state is State.ASSIGNED and (manager or _is_assignee(follow_up, actor)):
        actions.append(Action.ANSWER)
    if manager and state is not State.CLOSED:
        actions.append(Action.CLOSE)
    if manager and state is State.CLOSED:
        actions.append(Action.REOPEN)
    return actions


def _is_assignee(follow_up: FollowUp, actor: Actor) -> bool:
    return (
        actor.role == "officer"
        and follow_up.assignee is not None
        and actor.username == follow_up.assignee
    )


def act(
    follow_up: FollowUp,
    actor: Actor,
    action: Action,
    at: datetime,
    *,
    note: str = "",
    assignee: Assignee | None = None,
) -> FollowUp:
    """``follow_up`` after ``action``, with exactly one event appended; raises
    :class:`FollowUpError` (or :class:`NotPermitted`) and changes nothing when not allowed."""
    text = _clean(note)
    if action not in allowed(follow_up, actor):
        _refuse(follow_up, actor, action)
    if action is Action.ASSIGN:
        if assignee is None:
            raise FollowUpError(
                "Chọn cán bộ được giao xử lý.", "Choose the officer to assign it to."
            )
        if follow_up.state is State.ASSIGNED and assignee.username == follow_up.assignee:
            raise FollowUpError(
                "Phản ánh đã được giao cho cán bộ này.", "It is already assigned to this officer."
            )
    elif action is Action.ANSWER:
        if not text:
            raise FollowUpError(
                "Ghi rõ đã xử lý thế nào (ví dụ: đã gọi lại cho người dân).",
                "Say what was done (e.g. the citizen was called back).",
            )
    elif action is Action.CLOSE:
        if follow_up.state is not State.ANSWERED and not text:
            raise FollowUpError(
                "Đóng khi chưa trả lời: ghi rõ lý do.", "Closing without an answer: say why."
            )
    elif action is Action.REOPEN:
        if not text:
            raise FollowUpError("Ghi rõ lý do mở lại.", "Say why it is reopened.")
        if assignee is None and follow_up.assignee is not None and follow_up.assignee_officer:
            assignee = Assignee(follow_up.assignee, follow_up.assignee_officer)
        if assignee is None:
            raise FollowUpError(
                "Chọn cán bộ được giao xử lý.", "Choose the officer to assign it to."
            )
    event = Event(
        at=at,
        actor=actor.username,
        action=action,
        note=text,
        assignee=assignee.username if assignee and action in _ASSIGNING else None,
        assignee_officer=assignee.officer if assignee and action in _ASSIGNING else None,
    )
    return apply(follow_up, event)


_ASSIGNING = (Action.ASSIGN, Action.REOPEN)


def _refuse(follow_up: FollowUp, actor: Actor, action: Action) -> None:
    manager = actor.role in MANAGERS
    if action is Action.ANSWER and not manager and not _is_assignee(follow_up, actor):
        raise NotPermitted(
            "Chỉ cán bộ được giao hoặc lãnh đạo mới trả lời được phản ánh này.",
            "Only the assigned officer or a unit head may answer this.",
        )
    if action is not Action.ANSWER and not manager:
        raise NotPermitted(
            "Chỉ lãnh đạo đơn vị hoặc quản trị viên mới được làm việc này.",
            "Only a unit head or an administrator may do this.",
        )
    state = follow_up.state
    raise FollowUpError(
        f"Không thể {action.label_vi.lower()} khi phản ánh ở trạng thái «{state.label_vi}».",
        f"Cannot {action.label_en.lower()} a follow-up that is {state.label_en.lower()}.",
    )


def apply(follow_up: FollowUp, event: Event) -> FollowUp:
    """The follow-up after ``event`` (already accepted by :func:`act`, or read back from the
    trail); the one place that says what each action does to the state."""
    events = (*follow_up.events, event)
    if event.action in _ASSIGNING:
        return replace(
            follow_up,
            state=State.ASSIGNED,
            assignee=event.assignee,
            assignee_officer=event.assignee_officer,
            events=events,
        )
    if event.action is Action.ANSWER:
        return replace(follow_up, state=State.ANSWERED, answer=event.note, events=events)
    return replace(follow_up, state=State.CLOSED, events=events)


def replay(rating_id: str, events: Iterable[Event]) -> FollowUp:
    """The follow-up its trail describes (events oldest first)."""
    follow_up = FollowUp(rating_id)
    for event in events:
        follow_up = apply(follow_up, event)
    return follow_up
