"""Every channel in one count, each still visible (pure: no I/O).

Decree 61/2018 Article 29 names the channels of one rating system: the electronic device at the
one-stop counter, paper survey forms, online rating. The hub counts them all in MĐHL; here the
counts of one scope (:func:`hub.store.rollups.channel_counts`, per channel, assisted and score)
are folded into the lines the dashboard, the official report and ``hailong report summary``
show: the four channels always (a channel nobody used has n = 0, so a reader sees it is unused
rather than missing), then the assisted ratings (Article 29, clause 4), then the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hailong.contract.scale import Channel, Score
from hub.domain.satisfaction import SMALL_SAMPLE, satisfaction_rate, wilson_interval

# The order the figures list them in: the counter's devices, then the citizen's phone, then paper.
CHANNEL_ORDER: tuple[Channel, ...] = (
    Channel.KIOSK,
    Channel.BUTTON_BOX,
    Channel.ONLINE,
    Channel.PAPER,
)
CHANNEL_NAMES: dict[str, tuple[str, str]] = {
    Channel.KIOSK.value: ("Kiosk", "Kiosk"),
    Channel.BUTTON_BOX.value: ("Nút bấm", "Button box"),
    Channel.ONLINE.value: ("Điện thoại", "Online"),
    Channel.PAPER.value: ("Phiếu giấy", "Paper"),
}
ASSISTED = "assisted"
ASSISTED_NAME = ("Trong đó có hỗ trợ", "Of which assisted")
TOTAL = "total"
TOTAL_NAME = ("Tổng", "Total")


@dataclass(frozen=True)
class ChannelLine:
    """MĐHL of one channel (or of the assisted ratings, or of all)."""

    key: str  # a Channel value, ASSISTED or TOTAL
    name_vi: str
    name_en: str
    n: int
    satisfied: int

    @property
    def name(self) -> str:
        return f"{self.name_vi} / {self.name_en}"

    @property
    def rate(self) -> float | None:
        return satisfaction_rate(self.satisfied, self.n)

    @property
    def ci(self) -> tuple[float, float]:
        return wilson_interval(self.satisfied, self.n)


@dataclass(frozen=True)
class ChannelSplit:
    """The channels of one scope: ``channels`` in :data:`CHANNEL_ORDER` (and any other value
    stored, after them), ``assisted`` (counted in their channel too: a part, not a fifth
    channel) and ``total`` (every channel: the scope's headline n)."""

    channels: tuple[ChannelLine, ...]
    assisted: ChannelLine
    total: ChannelLine

    def n_of(self, channel: str) -> int:
        return next((line.n for line in self.channels if line.key == channel), 0)

    @property
    def lines(self) -> tuple[ChannelLine, ...]:
        return (*self.channels, self.assisted, self.total)


def channel_split(counts: Mapping[tuple[str, bool, int], int]) -> ChannelSplit:
    """Fold ``(channel, assisted, score) -> n`` into a :class:`ChannelSplit`."""
    n: dict[str, int] = {}
    ok: dict[str, int] = {}
    for (channel, assisted, score), count in counts.items():
        good = count if Score(score).is_satisfied else 0
        for key in (channel, TOTAL, *((ASSISTED,) if assisted else ())):
            n[key] = n.get(key, 0) + count
            ok[key] = ok.get(key, 0) + good
    known = [c.value for c in CHANNEL_ORDER]
    others = sorted(k for k in n if k not in (*known, ASSISTED, TOTAL))

    def line(key: str, names: tuple[str, str]) -> ChannelLine:
        return ChannelLine(key, *names, n.get(key, 0), ok.get(key, 0))

    return ChannelSplit(
        channels=tuple(line(k, CHANNEL_NAMES.get(k, (k, k))) for k in (*known, *others)),
        assisted=line(ASSISTED, ASSISTED_NAME),
        total=line(TOTAL, TOTAL_NAME),
    )


def format_channels(split: ChannelSplit, small: int = SMALL_SAMPLE) -> str:
    """The channel lines as ``hailong report summary`` prints them, under the summary's tables."""
    lines = [
        "Theo kênh / By channel (mọi kênh tính chung vào MĐHL / every channel in the rate)",
        f"  {'':<40} {'n':>7} {'MĐHL%':>6}",
    ]
    for line in split.lines:
        mark = "*" if line.n < small else " "
        rate = "—" if line.rate is None else f"{line.rate:5.1f}"
        indent = "  " if line.key == ASSISTED else ""
        lines.append(f"  {indent + line.name:<40} {line.n:>6}{mark} {rate:>6}")
    return "\n".join(lines)
