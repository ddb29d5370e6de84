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


@dataclass(frozen=True)
class MetricsSnapshot:
    unit: str
    dead_letters_kept: int
    kiosks: tuple[KioskHealth, ...]
    ingest: IngestFigures | None = None
    printers: tuple[PrinterState, ...] = ()  # None: no ingest worker in this process


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
        )
    health = tuple(kiosk_health(session, unit, now))
    printers = tuple(printer_states(session, unit))
    return MetricsSnapshot(unit.unit.code, int(kept), health, figures, printers)


def render(snapshot: MetricsSnapshot) -> str:
    """The exposition text: ``# HELP``/``# TYPE`` then samples, one family after another."""
    unit = {"unit": snapshot.unit}
    out: list[str] = []
    _family(out, "hailong_dead_letters", "gauge",
            "Payloads kept in the dead-letter table (refused or second ratings of a receipt).",
            [(unit, snapshot.dead_letters_kept)])  # fmt: skip
    _fleet(out, unit, snapshot.kiosks)
    _printers(out, unit, snapshot.printers)
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
    for name, help_text, value in counters:
        _family(out, name, "counter", help_text + " Since the worker started.", [(unit, value)])
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
