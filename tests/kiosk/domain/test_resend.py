"""The resend wait: doubles once per round of duplicates, capped, reset once caught up."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from hailong.contract.messages import AckOutcome
from kiosk.domain.resend import ResendPatience


def _ack(*outcomes: str) -> list[AckOutcome]:
    return [AckOutcome(id=uuid.uuid4(), seq=n + 1, outcome=o) for n, o in enumerate(outcomes)]  # type: ignore[arg-type]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_duplicates_double_the_wait_once_a_round_up_to_the_cap_and_catching_up_resets_it() -> None:
    clock = _Clock()
    patience = ResendPatience(base=30.0, cap=200.0, clock=clock)
    patience.acked(_ack("stored", "stored"), nothing_pending=False)
    assert patience.wait == 30.0  # prompt acks: nothing to learn
    patience.acked(_ack("stored", "duplicate"), nothing_pending=False)
    assert patience.wait == 60.0
    for _ in range(5):
        clock.now += 61
        patience.acked(_ack("duplicate"), nothing_pending=False)
    assert patience.wait == 200.0
    patience.acked(_ack("duplicate"), nothing_pending=True)
    assert patience.wait == 30.0


def test_one_round_answered_in_many_ack_messages_doubles_the_wait_once() -> None:
    """A hub restarted after committing but before acking answers a round of resends in many
    messages; a rating it really lost is in that same backlog and must not wait for the cap."""
    clock = _Clock()
    patience = ResendPatience(base=2.0, clock=clock)
    for _ in range(40):
        clock.now += 0.01
        patience.acked(_ack("duplicate", "duplicate"), nothing_pending=False)
    assert patience.wait == 4.0
    clock.now += 4.0  # the next round
    patience.acked(_ack("duplicate"), nothing_pending=False)
    assert patience.wait == 8.0


@given(
    st.lists(st.tuples(st.booleans(), st.booleans(), st.floats(0, 1000)), max_size=50),
    st.floats(0.1, 3600),
)
def test_the_wait_stays_between_the_configured_value_and_the_cap(
    steps: list[tuple[bool, bool, float]], base: float
) -> None:
    clock = _Clock()
    patience = ResendPatience(base=base, clock=clock)
    for duplicate, caught_up, elapsed in steps:
        clock.now += elapsed
        patience.acked(_ack("duplicate" if duplicate else "stored"), nothing_pending=caught_up)
        assert base <= patience.wait <= max(base, 600.0)
