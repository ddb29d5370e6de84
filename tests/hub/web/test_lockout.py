"""The login throttle alone, on an injected clock: per (user, address), with back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.web.lockout import BASE, CEILING, FORGET_AFTER, THRESHOLD, LoginThrottle

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LOBBY = "192.0.2.10"
DESK = "192.0.2.20"


def _fail(throttle: LoginThrottle, times: int, at: datetime, address: str = LOBBY) -> None:
    for _ in range(times):
        throttle.failed("admin", address, at)


def test_the_nth_failure_locks_and_the_one_before_does_not() -> None:
    throttle = LoginThrottle()
    _fail(throttle, THRESHOLD - 1, T0)
    assert throttle.locked_until("admin", LOBBY, T0) is None
    assert throttle.failed("admin", LOBBY, T0) == T0 + BASE  # the Nth
    assert throttle.locked_until("admin", LOBBY, T0) == T0 + BASE
    # The (N+1)th, during the lock, is refused unchecked and does not lengthen it.
    assert throttle.failed("admin", LOBBY, T0 + timedelta(minutes=1)) == T0 + BASE


def test_the_lock_is_per_address_nobody_locks_the_admin_out_from_the_lobby() -> None:
    throttle = LoginThrottle()
    _fail(throttle, THRESHOLD * 3, T0, LOBBY)
    assert throttle.locked_until("admin", LOBBY, T0) is not None
    assert throttle.locked_until("admin", DESK, T0) is None
    assert throttle.locked_until("someone", LOBBY, T0) is None


def test_the_lock_ends_on_time_and_each_further_failure_doubles_it() -> None:
    throttle = LoginThrottle()
    _fail(throttle, THRESHOLD, T0)
    end = T0 + BASE
    assert throttle.locked_until("admin", LOBBY, end - timedelta(seconds=1)) == end
    assert throttle.locked_until("admin", LOBBY, end) is None  # expired at its bound
    assert throttle.failed("admin", LOBBY, end) == end + 2 * BASE
    later = end + 2 * BASE
    assert throttle.failed("admin", LOBBY, later) == later + 4 * BASE


def test_the_back_off_stops_at_the_ceiling() -> None:
    throttle = LoginThrottle()
    now = T0
    for _ in range(THRESHOLD + 40):
        until = throttle.failed("admin", LOBBY, now)
        if until is not None:
            assert until - now <= CEILING
            now = until
    assert throttle.failed("admin", LOBBY, now) == now + CEILING


def test_a_success_forgets_the_failures() -> None:
    throttle = LoginThrottle()
    _fail(throttle, THRESHOLD - 1, T0)
    throttle.succeeded("admin", LOBBY)
    _fail(throttle, THRESHOLD - 1, T0)
    assert throttle.locked_until("admin", LOBBY, T0) is None


def test_a_quiet_day_forgets_the_failures() -> None:
    throttle = LoginThrottle()
    _fail(throttle, THRESHOLD, T0)
    assert throttle.failed("admin", LOBBY, T0 + FORGET_AFTER - timedelta(seconds=1)) is not None
    quiet = LoginThrottle()
    _fail(quiet, THRESHOLD - 1, T0)
    assert quiet.failed("admin", LOBBY, T0 + FORGET_AFTER) is None  # counted afresh: one failure


def test_the_table_is_bounded() -> None:
    throttle = LoginThrottle(capacity=100)
    for n in range(1000):
        throttle.failed(f"made-up-{n}", LOBBY, T0 + timedelta(seconds=n))
    assert len(throttle) == 100
    assert throttle.locked_until("made-up-999", LOBBY, T0) is None


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LoginThrottle(threshold=0)
