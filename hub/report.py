"""``hailong report summary``: MĐHL per counter, officer, procedure and field, as plain text.

Counting happens in SQL (GROUP BY key, score); the arithmetic lives in :mod:`hub.domain.satisfaction`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hailong.settings import Unit
from hub.domain.satisfaction import (
    SMALL_SAMPLE,
    GroupSummary,
    satisfaction_rate,
    summarize,
    wilson_interval,
)
from hub.store.models import KioskStatusRow, RatingRow

Dimension = Literal["counter", "officer", "procedure", "field"]
DIMENSIONS: tuple[Dimension, ...] = ("counter", "officer", "procedure", "field")

_HEADINGS: dict[Dimension, str] = {
    "counter": "MĐHL theo quầy / Satisfaction by counter",
    "officer": "MĐHL theo công chức / Satisfaction by officer",
    "procedure": "MĐHL theo thủ tục / Satisfaction by procedure",
    "field": "MĐHL theo lĩnh vực / Satisfaction by field",
}


def _names(unit: Unit, dimension: Dimension) -> dict[str, str]:
    if dimension == "counter":
        return {c.code: c.name for c in unit.counters}
    if dimension == "officer":
        return {o.code: o.name for o in unit.officers}
    if dimension == "procedure":
        return {p.code: f"{p.name} ({p.code})" for p in unit.procedures}
    return {f.code: f.name for f in unit.fields}


def summary(
    session: Session,
    unit: Unit,
    dimension: Dimension,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[GroupSummary]:
    """One row per group of ``dimension`` for the unit, ratings in ``[since, until)``."""
    column = getattr(RatingRow, dimension)
    query = (
        select(column, RatingRow.score, func.count())
        .where(RatingRow.unit == unit.unit.code)
        .group_by(column, RatingRow.score)
    )
    if since is not None:
        query = query.where(RatingRow.rated_at >= since)
    if until is not None:
        query = query.where(RatingRow.rated_at < until)
    rows = [(key, int(score), int(count)) for key, score, count in session.execute(query)]
    return summarize(rows, _names(unit, dimension))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:5.1f}"


def _line(name: str, n: int, rate: float | None, low: float, high: float) -> str:
    mark = "*" if n < SMALL_SAMPLE else " "
    interval = f"[{low:5.1f} – {high:5.1f}]" if n else ""
    return f"  {name[:56]:<56} {n:>6}{mark} {_pct(rate):>6}  {interval}"


def format_summary(unit: Unit, tables: Mapping[Dimension, list[GroupSummary]]) -> str:
    """The report a unit head reads: overall MĐHL against the target, then one table per dimension."""
    any_table = next(iter(tables.values()), [])
    n = sum(s.n for s in any_table)
    satisfied = sum(s.satisfied for s in any_table)
    rate = satisfaction_rate(satisfied, n)
    low, high = wilson_interval(satisfied, n)
    target = unit.unit.target_rate
    lines = [
        f"{unit.unit.name} ({unit.unit.code})",
        f"MĐHL chung / Overall: {_pct(rate).strip()} % of {n} "
        f"(95 % CI {low:.1f}–{high:.1f}); chỉ tiêu / target {target:.0f} %"
        + ("" if rate is None else (" ✔" if rate >= target else " ✘")),
    ]
    header = f"  {'':<56} {'n':>7} {'MĐHL%':>6}  95 % CI"
    for dimension, groups in tables.items():
        lines += ["", _HEADINGS[dimension], header]
        lines += [_line(g.name, g.n, g.rate, g.ci_low, g.ci_high) for g in groups]
        if not groups:
            lines.append("  (chưa có đánh giá / no ratings yet)")
    lines += [
        "",
        f"* dưới {SMALL_SAMPLE} lượt đánh giá: số liệu chưa đủ tin cậy / "
        f"fewer than {SMALL_SAMPLE} ratings: not yet reliable",
        "Nhóm cần quan tâm nhất đứng đầu mỗi bảng / the groups most in need of attention come first",
    ]
    return "\n".join(lines)


def kiosk_statuses(session: Session, unit: Unit) -> list[KioskStatusRow]:
    rows = session.scalars(select(KioskStatusRow).where(KioskStatusRow.unit == unit.unit.code))
    return sorted(rows, key=lambda row: row.kiosk)


def format_kiosks(unit: Unit, rows: list[KioskStatusRow]) -> str:
    """One line per configured kiosk; a kiosk never heard from says so."""
    by_id = {row.kiosk: row for row in rows}
    lines = [f"Ki-ốt của {unit.unit.name} / Kiosks of {unit.unit.code}"]
    for entry in unit.kiosks:
        row = by_id.get(entry.id)
        if row is None:
            lines.append(f"  {entry.id:<12} chưa kết nối lần nào / never connected")
            continue
        link = "trực tuyến / online" if row.online else "ngoại tuyến / offline"
        seen = row.received_at.replace(tzinfo=row.received_at.tzinfo or UTC).astimezone()
        refused = ", ".join(f"{reason} {count}" for reason, count in sorted(row.refusals.items()))
        lines.append(
            f"  {entry.id:<12} {link:<22} chờ gửi / buffered {row.buffer_depth or 0:>5}"
            f"  v{row.version or '?'}  {seen:%d/%m %H:%M}"
            f"  từ chối / refused: {refused or '0'}"
        )
    return "\n".join(lines)
