"""Missing seqs per kiosk: holes, refused ratings that did arrive, ratings still pending, the cap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.gaps import KioskGaps, SeqRange, find_gaps, holes, kiosk_gaps, without

KEY = ("000.00.20.H41", "kiosk-q1")


def _gaps(seqs: list[int], **options: object) -> KioskGaps:
    (found,) = find_gaps({KEY: seqs}, **options)  # type: ignore[arg-type]
    return found


def test_no_gaps_when_every_seq_from_one_is_there() -> None:
    found = _gaps([1, 2, 3, 4])
    assert (found.ok, found.missing, found.ranges, found.highest) == (True, 0, (), 4)


def test_holes_in_the_middle_and_before_the_first() -> None:
    found = _gaps([3, 4, 6, 9])
    assert found.ranges == (SeqRange(1, 2), SeqRange(5, 5), SeqRange(7, 8))
    assert found.missing == 5
    assert [str(span) for span in found.ranges] == ["1–2", "5", "7–8"]


def test_repeated_seqs_hide_nothing() -> None:
    assert list(holes([1, 1, 2, 2, 5])) == [SeqRange(3, 4)]


def test_refused_ratings_arrived_so_they_are_not_missing() -> None:
    found = _gaps([1, 10], arrived={KEY: [3, 9, 42, 1]})
    assert found.ranges == (SeqRange(2, 2), SeqRange(4, 8))
    assert found.missing == 6
    assert list(without([SeqRange(2, 4)], [2, 3, 4])) == []


def test_seqs_still_in_the_outbox_are_late_not_lost() -> None:
    found = _gaps([1, 5, 10], pending_from={KEY: 7})
    assert found.ranges == (SeqRange(2, 4), SeqRange(6, 6))
    assert (found.missing, found.pending_from, found.queued_below_highest) == (4, 7, True)
    assert _gaps([1, 5, 10], pending_from={KEY: 2}).ok
    assert not _gaps([1, 5, 10], pending_from={KEY: 11}).queued_below_highest


def test_the_list_is_capped_but_the_count_is_not() -> None:
    seqs = list(range(2, 100, 2))  # 1, 3, 5, ... 97 missing: 49 ranges
    found = _gaps(seqs, max_ranges=3)
    assert found.ranges == (SeqRange(1, 1), SeqRange(3, 3), SeqRange(5, 5))
    assert (found.missing, found.more_ranges) == (49, 46)


def test_kiosks_are_sorted_and_those_without_ratings_left_out() -> None:
    found = find_gaps({("u", "k2"): [2], ("u", "k1"): [1], ("u", "k3"): []})
    assert [(g.kiosk, g.missing) for g in found] == [("k1", 0), ("k2", 1)]


def test_kiosk_gaps_sums_ranges_found_by_the_store() -> None:
    found = kiosk_gaps("u", "k", [SeqRange(1, 4), SeqRange(8, 8)], 20, arrived=[2])
    assert found.ranges == (SeqRange(1, 1), SeqRange(3, 4), SeqRange(8, 8))
    assert (found.missing, found.highest) == (4, 20)


@given(
    seqs=st.sets(st.integers(1, 300), min_size=1, max_size=120),
    arrived=st.sets(st.integers(1, 320), max_size=30),
    cap=st.integers(0, 5),
)
def test_ranges_cover_exactly_the_missing_seqs(seqs: set[int], arrived: set[int], cap: int) -> None:
    """Uncapped, the ranges cover exactly the numbers from 1 to the highest that are neither
    stored nor dead letters, ascending and apart; capped, the count and the first ranges agree."""
    top = max(seqs)
    expected = set(range(1, top + 1)) - seqs - arrived
    found = _gaps(sorted(seqs), arrived={KEY: arrived}, max_ranges=None)
    covered = [seq for span in found.ranges for seq in range(span.first, span.last + 1)]
    assert covered == sorted(expected)
    assert found.missing == len(expected)
    assert found.highest == top
    assert all(a.last + 1 < b.first for a, b in zip(found.ranges, found.ranges[1:], strict=False))
    capped = _gaps(sorted(seqs), arrived={KEY: arrived}, max_ranges=cap)
    assert capped.ranges == found.ranges[:cap]
    assert capped.missing == found.missing
    assert capped.more_ranges == len(found.ranges) - len(capped.ranges)
