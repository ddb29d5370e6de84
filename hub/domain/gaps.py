"""Ratings a kiosk sent that never reached the hub (pure: no I/O).

A kiosk numbers its ratings ``seq`` 1, 2, 3, ... without gaps (see
:class:`hailong.contract.messages.RatingMessage`), so every number below the highest the hub holds
is a rating that was made: if the hub holds neither it nor a dead letter of it, it is missing. The
acknowledgement protocol should make that impossible; a gap means an outbox was wiped, a kiosk
restored from an old image, or a bug, and a unit head must hear of it rather than trust a count
that is silently short.

Numbers at or above the kiosk's oldest pending seq (when its status says so) are still in its
outbox, on their way: late, not lost, so they are not counted.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

# A report line lists at most this many ranges; the count still covers every missing seq.
MAX_RANGES = 10

KioskKey = tuple[str, str]  # unit, kiosk: kiosk ids are only unique within their unit


@dataclass(frozen=True, order=True)
class SeqRange:
    """The seqs ``first`` through ``last``, both included."""

    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}–{self.last}"


@dataclass(frozen=True)
class KioskGaps:
    """What is missing from one kiosk's ratings, as far as the hub can tell."""

    unit: str
    kiosk: str
    highest: int  # the highest seq the hub holds: nothing above it can be known missing
    missing: int  # every missing seq, including those in ranges left off the list
    ranges: tuple[SeqRange, ...]  # the lowest missing ranges, ascending, at most the cap
    more_ranges: int = 0  # ranges left off the list by the cap
    pending_from: int | None = None  # seqs from here on are still in the kiosk's outbox

    @property
    def queued_below_highest(self) -> bool:
        """Some seqs below the highest stored one are still on their way (not counted)."""
        return self.pending_from is not None and self.pending_from <= self.highest

    @property
    def ok(self) -> bool:
        return self.missing == 0


def holes(seqs: Iterable[int]) -> Iterator[SeqRange]:
    """The ranges of ``1 .. max(seqs)`` not in ``seqs``, which must be ascending (repeats are
    harmless: a reinstalled kiosk may reuse numbers, and a repeat hides nothing)."""
    expected = 1
    for seq in seqs:
        if seq > expected:
            yield SeqRange(expected, seq - 1)
        expected = max(expected, seq + 1)


def without(ranges: Iterable[SeqRange], present: Iterable[int]) -> Iterator[SeqRange]:
    """``ranges`` (ascending, disjoint) less the seqs in ``present``: a rating the hub refused
    arrived all the same (it is in the dead letters), so it is not lost."""
    found = sorted(set(present))
    for span in ranges:
        start = span.first
        for seq in found[bisect_left(found, span.first) :]:
            if seq > span.last:
                break
            if seq > start:
                yield SeqRange(start, seq - 1)
            start = seq + 1
        if start <= span.last:
            yield SeqRange(start, span.last)


def below(ranges: Iterable[SeqRange], pending_from: int | None) -> Iterator[SeqRange]:
    """``ranges`` cut at ``pending_from``: seqs from there on are still in the kiosk's outbox."""
    for span in ranges:
        if pending_from is not None and span.last >= pending_from:
            if span.first < pending_from:
                yield SeqRange(span.first, pending_from - 1)
            return
        yield span


def kiosk_gaps(
    unit: str,
    kiosk: str,
    ranges: Iterable[SeqRange],
    highest: int,
    *,
    arrived: Iterable[int] = (),
    pending_from: int | None = None,
    max_ranges: int | None = MAX_RANGES,
) -> KioskGaps:
    """Sum up one kiosk's ``ranges`` (ascending, disjoint, all below ``highest``): less the seqs
    that ``arrived`` but were refused and those still pending, counted, the list capped at
    ``max_ranges`` (None: no cap) so one wiped outbox does not bury the report."""
    missing = 0
    listed: list[SeqRange] = []
    more = 0
    for span in below(without(ranges, arrived), pending_from):
        missing += span.size
        if max_ranges is None or len(listed) < max_ranges:
            listed.append(span)
        else:
            more += 1
    return KioskGaps(unit, kiosk, highest, missing, tuple(listed), more, pending_from)


def find_gaps(
    seqs: Mapping[KioskKey, Sequence[int]],
    *,
    arrived: Mapping[KioskKey, Iterable[int]] | None = None,
    pending_from: Mapping[KioskKey, int] | None = None,
    max_ranges: int | None = MAX_RANGES,
) -> list[KioskGaps]:
    """The gaps of each kiosk in ``seqs`` (its stored seqs, ascending), sorted by unit and kiosk.

    ``arrived``: seqs kept as dead letters; ``pending_from``: the oldest seq each kiosk still holds
    in its outbox, where known. A kiosk without seqs has nothing to measure against and is left out.
    """
    found = []
    for key in sorted(seqs):
        stored = seqs[key]
        if not stored:
            continue
        found.append(
            kiosk_gaps(
                *key,
                holes(stored),
                stored[-1],
                arrived=(arrived or {}).get(key, ()),
                pending_from=(pending_from or {}).get(key),
                max_ranges=max_ranges,
            )
        )
    return found
