"""Operators' metrics in Prometheus' text format, served at ``/metrics`` (API token required).

Two sources: the ingest worker running in this process (its counters since start, the queue
lag, the broker link) and the database (dead letters kept, the fleet's health). Rates are left to
Prometheus: the ingest rate is ``rate(hailong_ratings_stored_total[1m])``.

Formatting is a pure function of a :class:`MetricsSnapshot`, so it is tested without a hub;
:func:`collect` is the adapter that reads the database and the worker.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hailong.settings import Unit
from hub.domain.fleet import Flag, KioskHealth
from hub.domain.register import VERDICTS
from hub.fleet_report import PrinterState, kiosk_health, printer_states
from hub.store.models import DeadLetterRow

if TYPE_CHECKING:
    from hub.service import HubService

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class IngestFigures:
    received: int
    stored: int
    duplicates: int
    already_rated: int
    dead_letters: int
    commit_failures: int
    acks_published: int
    lag: int
    connected: bool
    batch_buckets: tuple[tuple[float, int], ...]
    batch_seconds_sum: float
    batch_count: int
    # What the register made of ratings (hub.domain.register.VERDICTS), by verdict.
    register_verdicts: tuple[tuple[str, int], ...] = ()
    # Supervision and hostile input (issue 15): the threads, their restarts, batches split to
    # isolate a message the database refused, dead letters by machine reason (received, and not
    # kept for want of quota), id conflicts, refused statuses, broker links lost.
    worker_up: bool = True
    network_up: bool = True
    worker_restarts: int = 0
    network_restarts: int = 0
    batches_split: int = 0
    dead_letters_by_code: tuple[tuple[str, int], ...] = ()
    dead_letters_dropped: tuple[tuple[str, int], ...] = ()
    conflicts: int = 0
    statuses_rejected: int = 0
    broker_disconnects: int = 0


@dataclass(frozen=True)
class MetricsSnapshot:
    unit: str
    dead_letters_kept: int
    kiosks: tuple[KioskHealth, ...]
    ingest: IngestFigures | None = None
    printers: tuple[PrinterState, ...] = ()  # None: no ingest worker in this process
    # Staff logins the web side refused, by reason (wrong_password, unknown_user, locked).
    logins_refused: tuple[tuple[str, int], ...] = ()
    # Dead letters kept in the database, per machine reason (dead_letters.code).
    dead_letters_kept_by_code: tuple[tuple[str, int], ...] = ()


def collect(
    session: Session, unit: Unit, now: datetime, ingest: HubService | None
) -> MetricsSnapshot:
    kept = session.scalar(select(func.count()).select_from(DeadLetterRow)) or 0
    figures = None
    if ingest is not None:
        c = ingest.counters
        h = c.batch_seconds
        figures = IngestFigures(
            received=c.received,
            stored=c.stored,
            duplicates=c.duplicates,
            already_rated=c.already_rated,
            dead_letters=c.dead_letters,
            commit_failures=c.commit_failures,
            acks_published=c.acks_published,
            lag=ingest.inbox_depth,
            connected=ingest.ready.is_set(),
            batch_buckets=tuple(h.cumulative()),
            batch_seconds_sum=h.total,
            batch_count=h.count,
            register_verdicts=tuple(
                (verdict, c.register_verdicts.get(verdict, 0)) for verdict in VERDICTS
            ),
            worker_up=ingest.worker_alive,
            network_up=ingest.network_alive,
            worker_restarts=c.worker_restarts,
            network_restarts=c.network_restarts,
            batches_split=c.batches_split,
            dead_letters_by_code=tuple(sorted(c.dead_letters_by_code.copy().items())),
            dead_letters_dropped=tuple(sorted(c.dead_letters_dropped.copy().items())),
            conflicts=c.conflicts,
            statuses_rejected=c.statuses_rejected,
            broker_disconnects=c.broker_disconnects,
        )
    health = tuple(kiosk_health(session, unit, now))
    printers = tuple(printer_states(session, unit))
    by_code = session.execute(
        select(DeadLetterRow.code, func.count()).group_by(DeadLetterRow.code)
    ).all()
    kept_by_code = tuple(sorted((str(code), int(n)) for code, n in by_code))
    return MetricsSnapshot(
        unit.unit.code,
        int(kept),
        health,
        figures,
        printers,
        dead_letters_kept_by_code=kept_by_code,
    )


def render(snapshot: MetricsSnapshot) -> str:
    """The exposition text: ``# HELP``/``# TYPE`` then samples, one family after another."""
    unit = {"unit": snapshot.unit}
    out: list[str] = []
    _family(out, "hailong_dead_letters", "gauge",
            "Payloads kept in the dead-letter table (refused or second ratings of a receipt).",
            [(unit, snapshot.dead_letters_kept)])  # fmt: skip
    _family(out, "hailong_dead_letters_kept", "gauge",
            "Dead letters kept in the database, by machine reason (docs/protocol.md).",
            [({**unit, "reason": code}, n) for code, n in snapshot.dead_letters_kept_by_code])  # fmt: skip
    _fleet(out, unit, snapshot.kiosks)
    _printers(out, unit, snapshot.printers)
    _family(out, "hailong_logins_refused_total", "counter",
            "Staff logins refused, by reason, since the web side started.",
            [({**unit, "reason": reason}, n) for reason, n in snapshot.logins_refused])  # fmt: skip
    if snapshot.ingest is not None:
        _ingest(out, unit, snapshot.ingest)
    return "\n".join(out) + "\n"


def _fleet(out: list[str], unit: dict[str, str], kiosks: Sequence[KioskHealth]) -> None:
    online = sum(Flag.OFFLINE not in k.flags for k in kiosks)
    backlogged = sum(Flag.BACKLOGGED in k.flags for k in kiosks)
    _family(out, "hailong_kiosks", "gauge", "Kiosks of the unit (configured or heard from).",
            [(unit, len(kiosks))])  # fmt: skip
    _family(out, "hailong_kiosks_online", "gauge", "Kiosks whose last status says online.",
            [(unit, online)])  # fmt: skip
    _family(out, "hailong_kiosks_backlogged", "gauge",
            "Kiosks holding more undelivered ratings than the threshold.",
            [(unit, backlogged)])  # fmt: skip
    _family(out, "hailong_kiosk_up", "gauge", "1 if the kiosk is online, 0 if not.",
            [({**unit, "kiosk": k.kiosk}, int(Flag.OFFLINE not in k.flags)) for k in kiosks])  # fmt: skip
    depths = [
        ({**unit, "kiosk": k.kiosk}, k.buffer_depth) for k in kiosks if k.buffer_depth is not None
    ]
    _family(out, "hailong_kiosk_buffer_depth", "gauge",
            "Ratings in the kiosk's outbox, not yet acknowledged (its last report).", depths)  # fmt: skip


def _printers(out: list[str], unit: dict[str, str], printers: Sequence[PrinterState]) -> None:
    known = [p for p in printers if p.last_printed is not None]
    _family(out, "hailong_printer_ok", "gauge",
            "1 if the counter's last receipt printed, 0 if it did not.",
            [({**unit, "counter": p.counter}, int(bool(p.last_printed))) for p in known])  # fmt: skip
    _family(out, "hailong_receipts_unprinted", "gauge",
            "Receipts in the register waiting for a reprint.",
            [({**unit, "counter": p.counter}, p.unprinted) for p in printers])  # fmt: skip


def _ingest(out: list[str], unit: dict[str, str], f: IngestFigures) -> None:
    counters = (
        ("hailong_ratings_received_total", "Ratings received from the broker.", f.received),
        ("hailong_ratings_stored_total", "Ratings committed to the database.", f.stored),
        ("hailong_ratings_duplicate_total", "Ratings received again (acknowledged, not stored).",
         f.duplicates),
        ("hailong_ratings_already_rated_total",
         "Second ratings of a receipt and stage (kept as dead letters).", f.already_rated),
        ("hailong_dead_letters_received_total", "Invalid payloads kept as dead letters.",
         f.dead_letters),
        ("hailong_commit_failures_total", "Batch commits that failed and were retried.",
         f.commit_failures),
        ("hailong_acks_published_total", "Rating outcomes acknowledged to the kiosks.",
         f.acks_published),
    )  # fmt: skip
    _worker_counters(out, unit, counters)
    _family(out, "hailong_register_verdicts_total", "counter",
            "Ratings the receipt register refused (receipt_* and the like) or stored flagged "
            "(claim_mismatch, unverified, suspect). Since the worker started.",
            [({**unit, "verdict": v}, n) for v, n in f.register_verdicts])  # fmt: skip
    _supervision(out, unit, f)
    _family(out, "hailong_ingest_lag_ratings", "gauge",
            "Ratings received and waiting for the next batch.", [(unit, f.lag)])  # fmt: skip
    _family(out, "hailong_broker_connected", "gauge", "1 while subscribed at the broker.",
            [(unit, int(f.connected))])  # fmt: skip
    name = "hailong_batch_seconds"
    out.append(f"# HELP {name} From taking a batch off the queue to its acks handed to the broker.")
    out.append(f"# TYPE {name} histogram")
    for bound, count in f.batch_buckets:
        out.append(_sample(f"{name}_bucket", {**unit, "le": _number(bound)}, count))
    out.append(_sample(f"{name}_sum", unit, f.batch_seconds_sum))
    out.append(_sample(f"{name}_count", unit, f.batch_count))


def _supervision(out: list[str], unit: dict[str, str], f: IngestFigures) -> None:
    """The hub's threads and what hostile or broken input cost (issue 15)."""
    _family(out, "hailong_ingest_worker_up", "gauge",
            "1 while the ingest worker thread is alive (/healthz answers 503 when it is not).",
            [(unit, int(f.worker_up))])  # fmt: skip
    _family(out, "hailong_mqtt_loop_up", "gauge", "1 while paho's network thread is alive.",
            [(unit, int(f.network_up))])  # fmt: skip
    counters = (
        ("hailong_ingest_worker_restarts_total",
         "Times the supervisor found the ingest worker dead and restarted it.", f.worker_restarts),
        ("hailong_mqtt_loop_restarts_total",
         "Times the supervisor found paho's network thread dead and restarted it.",
         f.network_restarts),
        ("hailong_batches_split_total",
         "Batches split in halves to isolate a message the database refused.", f.batches_split),
        ("hailong_rating_conflicts_total",
         "Ratings whose id was stored with other content (dead-lettered as conflict).",
         f.conflicts),
        ("hailong_statuses_rejected_total", "Kiosk statuses refused (dead-lettered).",
         f.statuses_rejected),
        ("hailong_broker_disconnects_total", "Times the hub lost the broker.",
         f.broker_disconnects),
    )  # fmt: skip
    _worker_counters(out, unit, counters)
    _family(out, "hailong_dead_letters_reason_total", "counter",
            "Dead letters by machine reason (malformed, bounds, stale, conflict, ...). "
            "Since the worker started.",
            [({**unit, "reason": code}, n) for code, n in f.dead_letters_by_code])  # fmt: skip
    _family(out, "hailong_dead_letters_dropped_total", "counter",
            "Dead letters not kept because their kiosk's quota was full, by machine reason. "
            "Since the worker started.",
            [({**unit, "reason": code}, n) for code, n in f.dead_letters_dropped])  # fmt: skip


def _worker_counters(
    out: list[str], unit: dict[str, str], counters: tuple[tuple[str, str, int], ...]
) -> None:
    """One counter family per (name, help, value), each counted since the worker started."""
    for name, help_text, value in counters:
        _family(out, name, "counter", help_text + " Since the worker started.", [(unit, value)])


def _family(
    out: list[str],
    name: str,
    kind: str,
    help_text: str,
    samples: Iterable[tuple[dict[str, str], float | int]],
) -> None:
    out.append(f"# HELP {name} {_escape_help(help_text)}")
    out.append(f"# TYPE {name} {kind}")
    out.extend(_sample(name, labels, value) for labels, value in samples)


def _sample(name: str, labels: dict[str, str], value: float | int) -> str:
    inner = ",".join(f'{key}="{_escape_label(text)}"' for key, text in labels.items())
    return f"{name}{{{inner}}} {_number(value)}" if inner else f"{name} {_number(value)}"


def _number(value: float | int) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return repr(value)
    return str(value)


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")
