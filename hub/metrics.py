"""Operators' metrics for Prometheus, served at ``/metrics`` (API token required).

Two sources, read at each scrape so every figure keeps one home: the ingest worker running in
this process (:class:`hub.ingest_counters.IngestCounters`, the queue lag, the broker link, its
threads) and the database (dead letters kept, the fleet's health, the printers). prometheus-client
writes the text. Rates are left to Prometheus: the ingest rate is
``rate(hailong_ratings_stored_total[1m])``; the alert rules on these names ship in
``deploy/prometheus/alerts.yml``.

:func:`families` is a pure function of a :class:`Snapshot`, so it is tested without a hub;
:class:`HubCollector` is the adapter that reads the database and the worker, in a registry of
its own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.settings import Unit
from hub.domain.fleet import Flag, KioskHealth
from hub.domain.register import VERDICTS
from hub.fleet_report import PrinterState, kiosk_health, printer_states
from hub.ingest_counters import IngestCounters
from hub.store.models import DeadLetterRow

if TYPE_CHECKING:
    from hub.service import HubService

# What generate_latest writes: Prometheus' text format 0.0.4 (no name here needs escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SINCE_START = " Since the worker started."
# The worker's plain counters: (exported name, IngestCounters attribute, help).
WORKER_COUNTERS = (
    ("hailong_ratings_received_total", "received", "Ratings received from the broker."),
    ("hailong_ratings_stored_total", "stored", "Ratings committed to the database."),
    ("hailong_ratings_duplicate_total", "duplicates",
     "Ratings received again (acknowledged, not stored)."),
    ("hailong_ratings_already_rated_total", "already_rated",
     "Second ratings of a receipt and stage (kept as dead letters)."),
    ("hailong_dead_letters_received_total", "dead_letters",
     "Invalid payloads kept as dead letters."),
    ("hailong_commit_failures_total", "commit_failures",
     "Batch commits that failed and were retried."),
    ("hailong_acks_published_total", "acks_published",
     "Rating outcomes acknowledged to the kiosks."),
    ("hailong_ingest_worker_restarts_total", "worker_restarts",
     "Times the supervisor found the ingest worker dead and restarted it."),
    ("hailong_mqtt_loop_restarts_total", "network_restarts",
     "Times the supervisor found paho's network thread dead and restarted it."),
    ("hailong_batches_split_total", "batches_split",
     "Batches split in halves to isolate a message the database refused."),
    ("hailong_rating_conflicts_total", "conflicts",
     "Ratings whose id was stored with other content (dead-lettered as conflict)."),
    ("hailong_statuses_rejected_total", "statuses_rejected",
     "Kiosk statuses refused (dead-lettered)."),
    ("hailong_broker_disconnects_total", "broker_disconnects", "Times the hub lost the broker."),
)  # fmt: skip


@dataclass(frozen=True)
class Worker:
    """The ingest worker running in this process: its counters and its live state."""

    counters: IngestCounters
    lag: int
    connected: bool
    worker_up: bool = True
    network_up: bool = True


@dataclass(frozen=True)
class Snapshot:
    unit: str
    dead_letters_kept: tuple[tuple[str, int], ...]  # rows in the database, by machine reason
    kiosks: tuple[KioskHealth, ...]
    printers: tuple[PrinterState, ...] = ()
    logins_refused: tuple[tuple[str, int], ...] = ()  # by reason, since the web side started
    worker: Worker | None = None  # None: no ingest worker in this process


class HubCollector:
    """Reads a :class:`Snapshot` at each scrape (a prometheus-client custom collector)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        unit: Unit,
        clock: Callable[[], datetime],
        ingest: HubService | None,
        logins_refused: Callable[[], tuple[tuple[str, int], ...]],
    ) -> None:
        self._sessions, self._unit, self._clock = sessions, unit, clock
        self._ingest, self._logins_refused = ingest, logins_refused

    def collect(self) -> Iterator[Metric]:
        return families(self.snapshot())

    def snapshot(self) -> Snapshot:
        with self._sessions() as session:
            query = select(DeadLetterRow.code, func.count()).group_by(DeadLetterRow.code)
            kept = tuple(sorted((str(code), int(n)) for code, n in session.execute(query)))
            kiosks = tuple(kiosk_health(session, self._unit, self._clock()))
            printers = tuple(printer_states(session, self._unit))
        worker = None
        if (hub := self._ingest) is not None:
            live = (hub.inbox_depth, hub.ready.is_set(), hub.worker_alive, hub.network_alive)
            worker = Worker(hub.counters, *live)
        code = self._unit.unit.code
        return Snapshot(code, kept, kiosks, printers, self._logins_refused(), worker)

    def registry(self) -> CollectorRegistry:
        """A registry holding only this collector (never the process-wide default one, where two
        hubs in one process would clash)."""
        own = CollectorRegistry()
        own.register(self)
        return own


def families(s: Snapshot) -> Iterator[Metric]:
    """Every family, in the order the text shows them."""
    gauge, counter, unit = GaugeMetricFamily, CounterMetricFamily, s.unit
    yield _one(gauge, "hailong_dead_letters",
               "Payloads kept in the dead-letter table (refused or second ratings of a receipt).",
               unit, sum(n for _, n in s.dead_letters_kept))  # fmt: skip
    yield _by(gauge, "hailong_dead_letters_kept",
              "Dead letters kept in the database, by machine reason (docs/protocol.md).",
              unit, "reason", s.dead_letters_kept)  # fmt: skip
    online = [Flag.OFFLINE not in k.flags for k in s.kiosks]
    backlogged = sum(Flag.BACKLOGGED in k.flags for k in s.kiosks)
    yield _one(gauge, "hailong_kiosks", "Kiosks of the unit (configured or heard from).",
               unit, len(s.kiosks))  # fmt: skip
    yield _one(gauge, "hailong_kiosks_online", "Kiosks whose last status says online.",
               unit, sum(online))  # fmt: skip
    yield _one(gauge, "hailong_kiosks_backlogged",
               "Kiosks holding more undelivered ratings than the threshold.", unit, backlogged)  # fmt: skip
    yield _by(gauge, "hailong_kiosk_up", "1 if the kiosk is online, 0 if not.", unit, "kiosk",
              ((k.kiosk, up) for k, up in zip(s.kiosks, online, strict=True)))  # fmt: skip
    yield _by(gauge, "hailong_kiosk_buffer_depth",
              "Ratings in the kiosk's outbox, not yet acknowledged (its last report).",
              unit, "kiosk",
              ((k.kiosk, k.buffer_depth) for k in s.kiosks if k.buffer_depth is not None))  # fmt: skip
    yield _by(gauge, "hailong_printer_ok",
              "1 if the counter's last receipt printed, 0 if it did not.", unit, "counter",
              ((p.counter, bool(p.last_printed)) for p in s.printers if p.last_printed is not None))  # fmt: skip
    yield _by(gauge, "hailong_receipts_unprinted",
              "Receipts in the register waiting for a reprint.", unit, "counter",
              ((p.counter, p.unprinted) for p in s.printers))  # fmt: skip
    yield _by(counter, "hailong_logins_refused_total",
              "Staff logins refused, by reason, since the web side started.",
              unit, "reason", s.logins_refused)  # fmt: skip
    if s.worker is not None:
        yield from _worker(unit, s.worker)


def _worker(unit: str, w: Worker) -> Iterator[Metric]:
    """What the ingest worker counted since it started, and its threads (issue 15)."""
    gauge, counter, c = GaugeMetricFamily, CounterMetricFamily, w.counters
    for name, attribute, help_text in WORKER_COUNTERS:
        yield _one(counter, name, help_text + SINCE_START, unit, getattr(c, attribute))
    yield _by(counter, "hailong_register_verdicts_total",
              "Ratings the receipt register refused (receipt_* and the like) or stored flagged "
              "(claim_mismatch, unverified, suspect)." + SINCE_START, unit, "verdict",
              ((v, c.register_verdicts.get(v, 0)) for v in VERDICTS))  # fmt: skip
    yield _by(counter, "hailong_dead_letters_reason_total",
              "Dead letters by machine reason (malformed, bounds, stale, conflict, ...)."
              + SINCE_START, unit, "reason", sorted(c.dead_letters_by_code.copy().items()))  # fmt: skip
    yield _by(counter, "hailong_dead_letters_dropped_total",
              "Dead letters not kept because their kiosk's quota was full, by machine reason."
              + SINCE_START, unit, "reason", sorted(c.dead_letters_dropped.copy().items()))  # fmt: skip
    yield _by_kiosk(counter, "hailong_kiosk_ratings_stored_total",
                    "Ratings committed to the database, per kiosk." + SINCE_START,
                    c.ratings_by_kiosk)  # fmt: skip
    yield _by_kiosk(counter, "hailong_abandoned_sessions_stored_total",
                    "Abandoned sessions (a receipt scanned, no face tapped) committed to the "
                    "database, per kiosk." + SINCE_START, c.abandoned_by_kiosk)  # fmt: skip
    yield _one(gauge, "hailong_ingest_worker_up",
               "1 while the ingest worker thread is alive (/healthz answers 503 when it is not).",
               unit, w.worker_up)  # fmt: skip
    yield _one(gauge, "hailong_mqtt_loop_up", "1 while paho's network thread is alive.",
               unit, w.network_up)  # fmt: skip
    yield _one(gauge, "hailong_ingest_lag_ratings",
               "Ratings received and waiting for the next batch.", unit, w.lag)  # fmt: skip
    yield _one(gauge, "hailong_broker_connected", "1 while subscribed at the broker.",
               unit, w.connected)  # fmt: skip
    batch = HistogramMetricFamily("hailong_batch_seconds",
        "From taking a batch off the queue to its acks handed to the broker.", labels=["unit"])  # fmt: skip
    buckets = [("+Inf" if math.isinf(b) else repr(b), n) for b, n in c.batch_seconds.cumulative()]
    batch.add_metric([unit], buckets, c.batch_seconds.total)
    yield batch


_Kind = type[CounterMetricFamily] | type[GaugeMetricFamily]


def _one(kind: _Kind, name: str, help_text: str, unit: str, value: float) -> Metric:
    family = kind(name, help_text, labels=["unit"])
    family.add_metric([unit], value)
    return family


def _by(
    kind: _Kind, name: str, help_text: str, unit: str, label: str, rows: Iterable[tuple[str, float]]
) -> Metric:
    """One sample per (label value, value), each labelled with the unit too."""
    family = kind(name, help_text, labels=["unit", label])
    for key, value in rows:
        family.add_metric([unit, key], value)
    return family


def _by_kiosk(kind: _Kind, name: str, help_text: str, counts: Counter[tuple[str, str]]) -> Metric:
    """One sample per (unit, kiosk) the worker stored something for, labelled with the record's
    own unit (a hub serving many units sees the same kiosk code in several)."""
    family = kind(name, help_text, labels=["unit", "kiosk"])
    for (unit, kiosk), value in sorted(counts.copy().items()):
        family.add_metric([unit, kiosk], value)
    return family
