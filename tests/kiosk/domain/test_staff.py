"""The staff PIN and its lock-out against guessing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kiosk.domain.staff import LOCKOUT, MAX_ATTEMPTS, PinGuard

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def test_right_pin_opens_and_wrong_ones_lock_out() -> None:
    guard = PinGuard("482913")
    assert guard.check("482913", T0)
    for attempt in range(MAX_ATTEMPTS):
        assert not guard.check(f"00000{attempt}", T0)
    assert guard.locked(T0)
    assert not guard.check("482913", T0 + LOCKOUT - timedelta(seconds=1))  # even the right one
    assert guard.check("482913", T0 + LOCKOUT)
    assert not guard.locked(T0 + LOCKOUT)


def test_no_configured_pin_never_opens() -> None:
    guard = PinGuard(None)
    assert not guard.check("", T0)
    assert not guard.check("000000", T0)
