"""Flagging kiosks: offline (said so, silent too long, never heard from) and backlogged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.domain.fleet import Flag, KioskReport, Thresholds, assess

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
DEFAULT = Thresholds()


def _flags(
    *reports: KioskReport, kiosks: tuple[str, ...] = ("k1",), limits: Thresholds = DEFAULT
) -> dict[str, set[Flag]]:
    thresholds = limits
    return {h.kiosk: set(h.flags) for h in assess(kiosks, reports, NOW, thresholds)}


def test_a_kiosk_that_reported_a_minute_ago_with_an_empty_outbox_is_fine() -> None:
    health = assess(["k1"], [KioskReport("k1", True, NOW - MINUTE, 0)], NOW)
    assert [(h.kiosk, h.ok, h.last_heard, h.buffer_depth) for h in health] == [
        ("k1", True, NOW - MINUTE, 0)
    ]


def test_offline_when_its_last_status_says_so() -> None:
    assert _flags(KioskReport("k1", False, NOW)) == {"k1": {Flag.OFFLINE}}


def test_offline_when_silent_for_longer_than_the_threshold() -> None:
    report = KioskReport("k1", True, NOW - 6 * MINUTE, 0)
    assert _flags(report) == {"k1": {Flag.OFFLINE}}
    assert _flags(report, limits=Thresholds(silent_after=10 * MINUTE)) == {"k1": set()}
    exactly = KioskReport("k1", True, NOW - 5 * MINUTE, 0)
    assert _flags(exactly) == {"k1": set()}  # "more than" N minutes


def test_offline_when_never_heard_from_and_unknown_kiosks_are_listed_too() -> None:
    assert _flags(KioskReport("k9", True, NOW), kiosks=("k1",)) == {
        "k1": {Flag.OFFLINE},
        "k9": set(),
    }


def test_backlogged_above_the_threshold() -> None:
    assert _flags(KioskReport("k1", True, NOW, 20)) == {"k1": set()}
    assert _flags(KioskReport("k1", True, NOW, 21)) == {"k1": {Flag.BACKLOGGED}}
    assert _flags(KioskReport("k1", True, NOW, 21), limits=Thresholds(max_buffer=50)) == {
        "k1": set()
    }


def test_history_the_latest_status_decides_and_the_last_known_depth_stays() -> None:
    history = [
        KioskReport("k1", True, NOW - 3 * MINUTE, 40),
        KioskReport("k1", False, NOW - MINUTE),  # the last will: no depth
        KioskReport("k1", True, NOW - 2 * MINUTE, 30),
    ]
    (health,) = assess(["k1"], history, NOW)
    assert health.flags == {Flag.OFFLINE, Flag.BACKLOGGED}
    assert (health.last_heard, health.buffer_depth) == (NOW - MINUTE, 30)
    recovered = [*history, KioskReport("k1", True, NOW, 0)]
    assert _flags(*recovered) == {"k1": set()}
