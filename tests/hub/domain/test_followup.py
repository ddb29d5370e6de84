"""Follow-up states, who may do what, the trail: the rules of hub.domain.followup, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.followup import (
    MAX_NOTE,
    Action,
    Actor,
    Assignee,
    FollowUp,
    FollowUpError,
    NotPermitted,
    State,
    act,
    allowed,
    replay,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
HEAD = Actor("truong", "head")
ADMIN = Actor("admin", "admin")
LAN = Actor("lan", "officer", "CB001")
MINH = Actor("minh", "officer", "CB002")
TO_LAN = Assignee("lan", "CB001")
TO_MINH = Assignee("minh", "CB002")


def _assigned(to: Assignee = TO_LAN) -> FollowUp:
    return act(FollowUp("r1"), HEAD, Action.ASSIGN, NOW, assignee=to)


def test_the_whole_workflow_leaves_a_trail_of_who_did_what_and_when() -> None:
    fu = act(FollowUp("r1"), HEAD, Action.ASSIGN, NOW, note="Gọi lại trong ngày", assignee=TO_LAN)
    assert (fu.state, fu.assignee, fu.assignee_officer) == (State.ASSIGNED, "lan", "CB001")
    fu = act(fu, LAN, Action.ANSWER, NOW + timedelta(hours=1), note="Đã gọi lại, xin lỗi ông")
    assert (fu.state, fu.answer) == (State.ANSWERED, "Đã gọi lại, xin lỗi ông")
    fu = act(fu, HEAD, Action.CLOSE, NOW + timedelta(hours=2))
    assert fu.state is State.CLOSED
    assert [(e.actor, e.action, e.note, e.assignee) for e in fu.events] == [
        ("truong", Action.ASSIGN, "Gọi lại trong ngày", "lan"),
        ("lan", Action.ANSWER, "Đã gọi lại, xin lỗi ông", None),
        ("truong", Action.CLOSE, "", None),
    ]
    assert [e.at for e in fu.events] == [NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=2)]
    assert replay("r1", fu.events) == fu


def test_a_closed_follow_up_is_reopened_to_its_last_officer_or_another() -> None:
    fu = act(_assigned(), LAN, Action.ANSWER, NOW, note="Đã gọi lại")
    fu = act(fu, HEAD, Action.CLOSE, NOW)
    with pytest.raises(FollowUpError, match="Say why"):
        act(fu, HEAD, Action.REOPEN, NOW)
    again = act(fu, HEAD, Action.REOPEN, NOW, note="Người dân gọi lại phàn nàn tiếp")
    assert (again.state, again.assignee) == (State.ASSIGNED, "lan")
    other = act(fu, ADMIN, Action.REOPEN, NOW, note="Giao người khác", assignee=TO_MINH)
    assert (other.state, other.assignee, other.assignee_officer) == (
        State.ASSIGNED,
        "minh",
        "CB002",
    )


def test_only_heads_and_admins_assign_close_and_reopen() -> None:
    for actor in (LAN, MINH):
        with pytest.raises(NotPermitted, match="unit head or an administrator"):
            act(FollowUp("r1"), actor, Action.ASSIGN, NOW, assignee=TO_LAN)
        with pytest.raises(NotPermitted):
            act(_assigned(), actor, Action.CLOSE, NOW, note="x")
    closed = act(FollowUp("r1"), HEAD, Action.CLOSE, NOW, note="Không có thông tin liên hệ")
    with pytest.raises(NotPermitted):
        act(closed, LAN, Action.REOPEN, NOW, note="x", assignee=TO_LAN)
    assert allowed(closed, LAN) == []
    assert allowed(closed, HEAD) == [Action.REOPEN]


def test_only_the_assigned_officer_answers_among_officers() -> None:
    fu = _assigned(TO_LAN)
    assert allowed(fu, LAN) == [Action.ANSWER]
    assert allowed(fu, MINH) == []
    with pytest.raises(NotPermitted, match="assigned officer"):
        act(fu, MINH, Action.ANSWER, NOW, note="Tôi trả lời thay")
    # The same officer code on another login is not the assignee either.
    with pytest.raises(NotPermitted):
        act(fu, Actor("lan2", "officer", "CB001"), Action.ANSWER, NOW, note="x")
    assert act(fu, HEAD, Action.ANSWER, NOW, note="Lãnh đạo đã gọi").state is State.ANSWERED


def test_an_answer_needs_a_note_and_closing_unanswered_needs_a_reason() -> None:
    with pytest.raises(FollowUpError, match="called back") as refused:
        act(_assigned(), LAN, Action.ANSWER, NOW, note="   ")
    assert "gọi lại" in refused.value.vi
    with pytest.raises(FollowUpError, match="without an answer"):
        act(FollowUp("r1"), HEAD, Action.CLOSE, NOW)
    with pytest.raises(FollowUpError, match="without an answer"):
        act(_assigned(), HEAD, Action.CLOSE, NOW, note="")
    closed = act(_assigned(), HEAD, Action.CLOSE, NOW, note="Trùng với phản ánh khác")
    assert (closed.state, closed.events[-1].note) == (State.CLOSED, "Trùng với phản ánh khác")


def test_wrong_state_actions_are_refused_with_the_state_named() -> None:
    with pytest.raises(FollowUpError, match="Cannot answer a follow-up that is open") as refused:
        act(FollowUp("r1"), HEAD, Action.ANSWER, NOW, note="x")
    assert "Chờ xử lý" in refused.value.vi
    with pytest.raises(FollowUpError, match="Cannot reopen a follow-up that is assigned"):
        act(_assigned(), HEAD, Action.REOPEN, NOW, note="x")
    with pytest.raises(FollowUpError, match="already assigned to this officer"):
        act(_assigned(TO_LAN), HEAD, Action.ASSIGN, NOW, assignee=TO_LAN)
    with pytest.raises(FollowUpError, match="Choose the officer"):
        act(FollowUp("r1"), HEAD, Action.ASSIGN, NOW)
    closed = act(FollowUp("r1"), HEAD, Action.CLOSE, NOW, note="x")  # before any assignee
    with pytest.raises(FollowUpError, match="Choose the officer"):
        act(closed, HEAD, Action.REOPEN, NOW, note="x")


def test_an_answered_follow_up_can_be_sent_back_to_an_officer() -> None:
    answered = act(_assigned(), LAN, Action.ANSWER, NOW, note="Đã gọi, không ai nghe")
    back = act(answered, HEAD, Action.ASSIGN, NOW, note="Gọi lại lần nữa", assignee=TO_LAN)
    assert (back.state, back.answer) == (State.ASSIGNED, "Đã gọi, không ai nghe")


def test_notes_are_trimmed_and_bounded() -> None:
    fu = act(_assigned(), LAN, Action.ANSWER, NOW, note="  Đã gọi lại\r\n  ")
    assert fu.answer == "Đã gọi lại"
    with pytest.raises(FollowUpError, match=f"longer than {MAX_NOTE}"):
        act(_assigned(), LAN, Action.ANSWER, NOW, note="x" * (MAX_NOTE + 1))


def test_the_labels_are_vietnamese_first() -> None:
    assert [s.label_vi for s in State] == ["Chờ xử lý", "Đã giao xử lý", "Đã trả lời", "Đã đóng"]
    assert [a.label_en for a in Action] == ["Assign", "Answer", "Close", "Reopen"]


# -- random sequences of actions -----------------------------------------------------------------

ACTORS = st.sampled_from([HEAD, ADMIN, LAN, MINH, Actor("lan2", "officer", "CB001")])
STEPS = st.tuples(
    ACTORS,
    st.sampled_from(list(Action)),
    st.sampled_from(["", "  ", "Đã gọi lại cho người dân"]),
    st.sampled_from([None, TO_LAN, TO_MINH]),
)


def _valid(fu: FollowUp) -> None:
    """What must hold of every follow-up, however it got there."""
    if fu.state is State.OPEN:
        assert fu.assignee is None
        assert fu.events == ()
    if fu.state in (State.ASSIGNED, State.ANSWERED):
        assert fu.assignee in ("lan", "minh")
        assert fu.assignee_officer == {"lan": "CB001", "minh": "CB002"}[fu.assignee]
    if fu.state is State.ANSWERED:
        assert fu.answer
        assert fu.events[-1].action is Action.ANSWER
    if fu.state is State.CLOSED:
        last = fu.events[-1]
        assert last.action is Action.CLOSE
        assert last.note or fu.events[-2].action is Action.ANSWER
    for event in fu.events:
        assert event.action is Action.ANSWER or event.actor in ("truong", "admin")
        if event.action is Action.ANSWER and event.actor not in ("truong", "admin"):
            assert event.actor in ("lan", "minh")
    assert replay(fu.rating_id, fu.events) == fu


@settings(max_examples=300)
@given(steps=st.lists(STEPS, max_size=30))
def test_random_actions_never_reach_an_invalid_state(
    steps: list[tuple[Actor, Action, str, Assignee | None]],
) -> None:
    fu = FollowUp("r1")
    messages: list[tuple[str, str]] = []
    for i, (actor, action, note, assignee) in enumerate(steps):
        at = NOW + timedelta(minutes=i)
        offered = action in allowed(fu, actor)
        try:
            after = act(fu, actor, action, at, note=note, assignee=assignee)
        except NotPermitted:
            assert not offered
            continue
        except FollowUpError as refused:
            messages.append((refused.vi, refused.en))  # frozen: a refusal changes nothing
            continue
        assert offered, f"{action} was accepted but not offered to {actor}"
        assert after.events[:-1] == fu.events  # exactly one event appended
        assert (after.events[-1].actor, after.events[-1].action, after.events[-1].at) == (
            actor.username,
            action,
            at,
        )
        fu = after
        _valid(fu)
    assert all(vi and en for vi, en in messages)  # every refusal says why, in both languages
