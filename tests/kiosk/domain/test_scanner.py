"""USB scanner detection: bursts at scanner speed are scans, people typing are not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hailong.contract.receipt import MAX_SCAN_LENGTH
from kiosk.domain.scanner import ScanDetector


def _type(detector: ScanDetector, text: str, interval: float, start: float = 100.0) -> float:
    at = start
    for char in text:
        detector.key(char, at)
        at += interval
    return at


def test_fast_burst_ending_in_enter_is_a_scan() -> None:
    detector = ScanDetector()
    end = _type(detector, "https://hub/r/000.00.20.H41-261125-0001?p=1", 0.008)
    assert detector.enter(end) == "https://hub/r/000.00.20.H41-261125-0001?p=1"


def test_person_typing_is_not_a_scan() -> None:
    detector = ScanDetector()
    end = _type(detector, "000.00.20.H41-261125-0001", 0.15)
    assert detector.enter(end) is None


def test_short_bursts_and_pauses_are_not_scans() -> None:
    detector = ScanDetector()
    assert detector.enter(_type(detector, "1234", 0.005)) is None
    end = _type(detector, "abcdefghij", 0.005)
    assert detector.enter(end + 1.0) is None  # Enter long after the burst


def test_four_kilobytes_of_junk_is_capped_but_still_too_long() -> None:
    detector = ScanDetector()
    end = _type(detector, "x" * 4096, 0.001)
    scanned = detector.enter(end)
    assert scanned is not None
    assert MAX_SCAN_LENGTH < len(scanned) < 4096


@given(
    text=st.text(min_size=1, max_size=60),
    intervals=st.lists(st.floats(min_value=0.06, max_value=2.0), min_size=60, max_size=60),
)
def test_human_speed_typing_is_never_a_scan(text: str, intervals: list[float]) -> None:
    detector = ScanDetector()
    at = 0.0
    for char, gap in zip(text, intervals, strict=False):
        at += gap
        detector.key(char, at)
    assert detector.enter(at + 0.06) is None


@given(st.lists(st.tuples(st.text(max_size=3), st.floats(0, 1e6)), max_size=200))
def test_any_key_sequence_never_crashes(keys: list[tuple[str, float]]) -> None:
    detector = ScanDetector()
    for char, at in keys:
        detector.key(char, at)
    detector.enter(1e6 + 1)
