"""What the hub knows of its devices: each kiosk's last status and health, each counter's receipt
printer, and the ratings a kiosk sent that never arrived (the gap report's text). Read by the
dashboard, ``/metrics`` and ``hailong report kiosks|gaps``; the rules live in
:mod:`hub.domain.fleet` and :mod:`hub.domain.gaps`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ARRAY, Select, String, bindparam, func, select, true
from sqlalchemy.orm import Session

from hailong.settings import Unit
from hub.domain.fleet import KioskHealth, KioskReport, Thresholds, assess
from hub.domain.gaps import KioskGaps
from hub.store.models import KioskStatusHistoryRow, KioskStatusRow, ReceiptRow


@dataclass(frozen=True)
class KioskStatus:
    """A kiosk's last status as the pages and the command line show it (a copy, not the row)."""

    kiosk: str
    online: bool
    buffer_depth: int | None
    version: str | None
    refusals: dict[str, int]
    received_at: datetime
    last_ack_at: datetime | None
    devices: dict[str, str]
    last_scan_at: datetime | None


def kiosk_statuses(session: Session, unit: Unit) -> list[KioskStatus]:
    rows = session.scalars(
        select(KioskStatusRow)
        .where(KioskStatusRow.unit == unit.unit.code)
        .order_by(KioskStatusRow.kiosk)
    )
    return [
        KioskStatus(
            row.kiosk,
            row.online,
            row.buffer_depth,
            row.version,
            dict(row.refusals or {}),
            row.received_at,
            row.last_ack_at,
            dict(row.devices or {}),
            row.last_scan_at,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PrinterState:
    """A counter's receipt printer as the register shows it: whether the last receipt printed,
    and how many receipts still wait for a reprint (paper out, cover open, offline)."""

    counter: str
    last_printed: bool | None  # None: nothing issued at this counter yet
    last_at: datetime | None
    unprinted: int


def unprinted_per_counter(unit: str) -> Select[str, int]:
    """The unit's receipts that never printed, per counter: read through the partial index
    ``ix_receipts_unprinted`` (revision 0017), so its cost does not grow with the register."""
    return (
        select(ReceiptRow.counter, func.count())
        .where(ReceiptRow.unit == unit, ReceiptRow.printed.is_(False))
        .group_by(ReceiptRow.counter)
    )


def _newest_first(unit: str, counter: Any) -> Select[bool, datetime]:
    """A counter's receipts, newest first: one probe of ``ix_receipts_unit_counter_issued_at``
    (revision 0019) with ``LIMIT 1``, however long the register and however long the counter
    has been idle (with ``(unit, issued_at)`` alone, the unit's newer receipts were walked)."""
    return (
        select(ReceiptRow.printed, ReceiptRow.issued_at)
        .where(ReceiptRow.unit == unit, ReceiptRow.counter == counter)
        .order_by(ReceiptRow.issued_at.desc())
        .limit(1)
    )


def last_receipts(
    session: Session, unit: str, counters: Sequence[str]
) -> dict[str, tuple[bool, datetime]]:
    """The last receipt of each of ``counters`` as ``counter -> (printed, issued_at)``; a counter
    that never issued one is absent. On PostgreSQL one statement whatever the number of counters
    (140 at a provincial centre: one round trip, not 140), the counters a bound array joined
    LATERAL to :func:`_newest_first`; SQLite, in process and without LATERAL, asks per counter."""
    if session.get_bind().dialect.name != "postgresql":
        found = {c: session.execute(_newest_first(unit, c)).first() for c in counters}
        return {c: (bool(row.printed), row.issued_at) for c, row in found.items() if row}
    both = latest_per_counter(unit, counters)
    return {c: (bool(printed), at) for c, printed, at in session.execute(both)}


def latest_per_counter(unit: str, counters: Sequence[str]) -> Select[str, bool, datetime]:
    """PostgreSQL's :func:`last_receipts`: ``(counter, printed, issued_at)``, the counters one
    bound array (the same statement, cached, for any number of them)."""
    wanted = func.unnest(bindparam("counters", list(counters), type_=ARRAY(String(40))))
    asked = wanted.table_valued("counter").render_derived()
    latest = _newest_first(unit, asked.c.counter).lateral()
    return select(asked.c.counter, latest.c.printed, latest.c.issued_at).join(latest, true())


def printer_states(session: Session, unit: Unit) -> list[PrinterState]:
    """One line per configured counter (the printer is the counter's, driven by the hub)."""
    code = unit.unit.code
    unprinted = dict(session.execute(unprinted_per_counter(code)).all())
    codes = [counter.code for counter in unit.counters]
    last = last_receipts(session, code, codes)
    return [
        PrinterState(
            counter,
            last[counter][0] if counter in last else None,
            last[counter][1] if counter in last else None,
            int(unprinted.get(counter, 0)),
        )
        for counter in codes
    ]


def kiosk_health(
    session: Session, unit: Unit, now: datetime, thresholds: Thresholds | None = None
) -> list[KioskHealth]:
    """Each kiosk flagged offline or backlogged (:func:`hub.domain.fleet.assess`): the latest
    status, and the last buffer depth reported before it (a last will reports none)."""
    reports = [
        KioskReport(row.kiosk, row.online, row.received_at, row.buffer_depth)
        for row in kiosk_statuses(session, unit)
    ]
    for report in list(reports):
        if report.buffer_depth is None:
            depth = session.execute(
                select(KioskStatusHistoryRow.at, KioskStatusHistoryRow.buffer_depth)
                .where(
                    KioskStatusHistoryRow.unit == unit.unit.code,
                    KioskStatusHistoryRow.kiosk == report.kiosk,
                    KioskStatusHistoryRow.buffer_depth.is_not(None),
                )
                .order_by(KioskStatusHistoryRow.at.desc())
                .limit(1)
            ).first()
            if depth is not None:
                reports.append(
                    KioskReport(report.kiosk, report.online, depth.at, depth.buffer_depth)
                )
    configured = [kiosk.id for kiosk in unit.kiosks]
    return assess(configured, reports, now, thresholds or Thresholds())


def _local(value: datetime | None, zone: tzinfo) -> str:
    if value is None:
        return "—"
    return f"{value.astimezone(zone):%d/%m %H:%M}"


def format_kiosks(unit: Unit, rows: list[KioskStatus]) -> str:
    """One line per configured kiosk; a kiosk never heard from says so."""
    by_id = {row.kiosk: row for row in rows}
    lines = [f"Ki-ốt của {unit.unit.name} / Kiosks of {unit.unit.code}"]
    for entry in unit.kiosks:
        row = by_id.get(entry.id)
        if row is None:
            lines.append(f"  {entry.id:<12} chưa kết nối lần nào / never connected")
            continue
        link = "trực tuyến / online" if row.online else "ngoại tuyến / offline"
        seen = row.received_at.astimezone(unit.zone)  # the unit's clock
        refused = ", ".join(f"{reason} {count}" for reason, count in sorted(row.refusals.items()))
        acked = _local(row.last_ack_at, unit.zone)
        scanner = row.devices.get("scanner", "?")
        lines.append(
            f"  {entry.id:<12} {link:<22} chờ gửi / buffered {row.buffer_depth or 0:>5}"
            f"  v{row.version or '?'}  {seen:%d/%m %H:%M}"
            f"  xác nhận cuối / last ack {acked}  máy quét / scanner {scanner}"
            f"  từ chối / refused: {refused or '0'}"
        )
    return "\n".join(lines)


def format_gaps(unit: Unit, gaps: list[KioskGaps]) -> str:
    """One line per kiosk of the unit (configured, or heard from): how many ratings it sent that
    the hub never received, and which seqs. Refused ratings (dead letters) are not missing."""
    by_id = {g.kiosk: g for g in gaps if g.unit == unit.unit.code}
    lines = [f"Đánh giá bị thiếu của {unit.unit.name} / Missing ratings of {unit.unit.code}"]
    for kiosk in sorted({*(entry.id for entry in unit.kiosks), *by_id}):
        found = by_id.get(kiosk)
        if found is None:
            lines.append(f"  {kiosk}: chưa có đánh giá / no ratings yet")
            continue
        # Seqs still in the kiosk's outbox are on their way: not counted, but said.
        queued = (
            f"từ {found.pending_from} còn chờ gửi / from {found.pending_from} still queued"
            if found.queued_below_highest
            else None
        )
        if found.ok:
            upto = f"1–{found.highest}" + (f"; {queued}" if queued else "")
            lines.append(f"  {kiosk}: không thiếu / no gaps ({upto})")
            continue
        ranges = ", ".join(str(span) for span in found.ranges)
        if found.more_ranges:
            ranges += f" (+{found.more_ranges} khoảng khác / more ranges)"
        if queued:
            ranges += f" ({queued})"
        lines.append(f"  {kiosk}: thiếu {found.missing} / {found.missing} missing: {ranges}")
    return "\n".join(lines)
