"""Telling a USB barcode scanner from a person at the keyboard (pure: fed timestamps, no clock).

A keyboard-wedge scanner "types" the QR text in a fast burst and ends it with Enter. People type
slowly. The kiosk listens to every key press on every screen, so a scan works whether or not a text
field has focus; only bursts that look like a scanner are taken as scans.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hailong.contract.receipt import MAX_SCAN_LENGTH

MIN_SCAN_CHARS = 8
MAX_MEAN_INTERVAL_S = 0.035
MAX_GAP_S = 0.25  # a longer pause starts a new burst
BUFFER_LIMIT = MAX_SCAN_LENGTH + 64  # keep a little more, so an overlong scan is seen as such


@dataclass
class ScanDetector:
    """Collects key presses; :meth:`enter` returns the scanned text when the burst was a scan."""

    _chars: list[str] = field(default_factory=list)
    _first: float = 0.0
    _last: float = 0.0

    def key(self, char: str, at: float) -> None:
        if not char or not char.isprintable():
            return
        if self._chars and at - self._last > MAX_GAP_S:
            self.reset()
        if not self._chars:
            self._first = at
        self._last = at
        if len(self._chars) < BUFFER_LIMIT:
            self._chars.append(char)

    def enter(self, at: float) -> str | None:
        """End of a burst: the text if it came at scanner speed, else None (a person typed it)."""
        chars, first, last = self._chars, self._first, self._last
        self.reset()
        if len(chars) < MIN_SCAN_CHARS or at - last > MAX_GAP_S:
            return None
        mean = (last - first) / (len(chars) - 1)
        if mean > MAX_MEAN_INTERVAL_S:
            return None
        # An overflowing burst is kept at BUFFER_LIMIT characters, longer than any receipt, so the
        # receipt parser refuses it as too long instead of acting on a truncated prefix.
        return "".join(chars)

    def reset(self) -> None:
        self._chars = []
