"""The resend wait: doubles on duplicates, capped, back to the configured value once caught up."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from hailong.contract.messages import AckOutcome
from kiosk.domain.resend import ResendPatience


def _ack(*outcomes: str) -> list[AckOutcome]:
    return [AckOutcome(id=uuid.uuid4(), seq=n + 1, outcome=o) for n, o in enumerate(outcomes)]  # type: ignore[arg-type]


def test_duplicates_double_the_wait_up_to_the_cap_and_catching_up_resets_it() -> None:
    patience = ResendPatience(base=30.0, cap=200.0)
    patience.acked(_ack("stored", "stored"), nothing_pending=False)
    assert patience.wait == 30.0  # prompt acks: nothing to learn
    patience.acked(_ack("stored", "duplicate"), nothing_pending=False)
    assert patience.wait == 60.0
    for _ in range(5):
        patience.acked(_ack("duplicate"), nothing_pending=False)
    assert patience.wait == 200.0
    patience.acked(_ack("duplicate"), nothing_pending=True)
    assert patience.wait == 30.0


@given(st.lists(st.tuples(st.booleans(), st.booleans()), max_size=50), st.floats(0.1, 3600))
def test_the_wait_stays_between_the_configured_value_and_the_cap(
    steps: list[tuple[bool, bool]], base: float
) -> None:
    patience = ResendPatience(base=base)
    for duplicate, caught_up in steps:
        patience.acked(_ack("duplicate" if duplicate else "stored"), nothing_pending=caught_up)
        assert base <= patience.wait <= max(base, 600.0)
