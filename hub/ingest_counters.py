"""What one hub worker has done since it started, for ``/metrics`` (:mod:`hub.metrics`).

Plain counters, written by the worker thread only and read by the web threads: a reader may see
a batch half counted, never a wrong total.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

# Upper bounds (seconds) of the batch latency histogram: from taking a batch off the queue to
# its acks handed to the broker.
BATCH_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class LatencyHistogram:
    """Cumulative-on-read histogram: ``counts[i]`` observations fell in bucket ``i`` (the last
    bucket is +Inf)."""

    bounds: tuple[float, ...] = BATCH_SECONDS_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(BATCH_SECONDS_BUCKETS) + 1))
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations at or below it), ending with (+inf, count)."""
        running = 0
        out: list[tuple[float, int]] = []
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out


@dataclass
class IngestCounters:
    """Running totals since this worker started (exported by :mod:`hub.metrics`)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    already_rated: int = 0
    dead_letters: int = 0
    batches: int = 0
    commit_failures: int = 0
    acks_published: int = 0
    batch_seconds: LatencyHistogram = field(default_factory=LatencyHistogram)
    # Batches split after a commit failed for a reason other than the database being away.
    batches_split: int = 0
    # Dead letters per machine reason (hub.domain.ingest codes), and those not kept for want of
    # their kiosk's quota (counted here all the same).
    dead_letters_by_code: Counter[str] = field(default_factory=Counter)
    dead_letters_dropped: Counter[str] = field(default_factory=Counter)
    # The same rating id with other content (acknowledged "rejected", dead-lettered "conflict").
    conflicts: int = 0
    statuses_rejected: int = 0
    # The supervisor's restarts of the worker and of paho's network thread; broker links lost.
    worker_restarts: int = 0
    network_restarts: int = 0
    broker_disconnects: int = 0
    # What the register made of the ratings (hub.domain.register): refusals by code, and stored
    # ratings flagged claim_mismatch, unverified or suspect.
    register_verdicts: Counter[str] = field(default_factory=Counter)
    # Ratings and abandoned sessions (a receipt scanned, no face tapped: issue 17) stored, per
    # (unit, kiosk) as the records say: each kiosk's abandoned share, whose jump says its faces or
    # buttons stopped working (alert HaiLongKioskAbandonedShareHigh).
    ratings_by_kiosk: Counter[tuple[str, str]] = field(default_factory=Counter)
    abandoned_by_kiosk: Counter[tuple[str, str]] = field(default_factory=Counter)
