"""Coverage beside every rate: receipts issued, rated, abandoned and not reached, per unit, counter,
officer, procedure and field, for the dashboard, ``hailong report summary``, the reports and the
province view (one use case for all of them).

The rule is :mod:`hub.domain.coverage`'s; the counts come from :mod:`hub.store.coverage`. Who may
see what is the caller's scope: an officer's :class:`Scope` names the officer, and the register is
then read for their receipts only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from hailong.settings import Unit
from hub.domain.coverage import (
    FEW_RECEIPTS,
    LOW_RESPONSE,
    Coverage,
    Dimension,
    GroupKey,
    Tally,
    coverage_of,
    fold,
    total,
)
from hub.domain.satisfaction import GroupSummary
from hub.domain.units import UnitNode
from hub.store.coverage import (
    coverage_by_unit,
    coverage_of_spans,
    coverage_sums,
    coverage_tallies,
)
from hub.store.rollups import LOCAL_ZONE, Scope

__all__ = [
    "DIMENSIONS",
    "FEW_RECEIPTS",
    "LOW_RESPONSE",
    "Coverage",
    "CoverageReport",
    "coverage_report",
    "format_coverage",
    "spans_coverage",
    "units_coverage",
]

DIMENSIONS: tuple[Dimension, ...] = ("counter", "officer", "procedure", "field")

_HEADINGS: dict[Dimension, str] = {
    "unit": "Phản hồi theo đơn vị / Response by unit",
    "counter": "Phản hồi theo quầy / Response by counter",
    "officer": "Phản hồi theo công chức / Response by officer",
    "procedure": "Phản hồi theo thủ tục / Response by procedure",
    "field": "Phản hồi theo lĩnh vực / Response by field",
}


def _names(unit: Unit, dimension: Dimension) -> dict[str, str]:
    if dimension == "counter":
        return {c.code: c.name for c in unit.counters}
    if dimension == "officer":
        return {o.code: o.name for o in unit.officers}
    if dimension == "procedure":
        return {p.code: f"{p.name} ({p.code})" for p in unit.procedures}
    if dimension == "field":
        return {f.code: f.name for f in unit.fields}
    return {unit.unit.code: unit.unit.name}


@dataclass(frozen=True)
class CoverageReport:
    """The response of one scope: ``overall`` (the unit, or the officer when the scope names one)
    and one table per dimension, lowest response first."""

    overall: Coverage
    tables: Mapping[Dimension, list[Coverage]]

    def line(self, dimension: Dimension, key: str | None) -> Coverage | None:
        """The line of ``key`` in ``dimension``'s table; None when it issued no receipt (a
        walk-in's counter, a group with ratings of unknown codes only)."""
        return self._lines.get(dimension, {}).get(key)

    @cached_property
    def _lines(self) -> dict[Dimension, dict[str | None, Coverage]]:
        """The lines by dimension and key: the dashboard asks for one per row of every MĐHL
        table (thousands at a provincial centre), a scan of the table each time otherwise."""
        found: dict[Dimension, dict[str | None, Coverage]] = {}
        for dimension, table in self.tables.items():
            lines = found.setdefault(dimension, {})
            for line in table:
                lines.setdefault(line.key, line)  # the first, as a scan would find it
        return found

    def without_ratings(
        self, dimension: Dimension, shown: Iterable[GroupSummary]
    ) -> list[Coverage]:
        """The groups that issued receipts but have no rating in the MĐHL table ``shown``: the
        lines a table of rates alone would hide."""
        keys = {s.key for s in shown}
        return [c for c in self.tables.get(dimension, []) if c.key not in keys and c.issued]


def coverage_report(
    session: Session, scope: Scope, dimensions: Sequence[Dimension] = DIMENSIONS
) -> CoverageReport:
    """The coverage of ``scope`` (receipts issued in its period, its officer's only when named)
    as one overall line and a table per dimension, from one query."""
    unit = scope.unit
    name = unit.unit.name
    if scope.officer is not None:
        name = _names(unit, "officer").get(scope.officer, scope.officer)
    fields = {p.code: p.field for p in unit.procedures}
    summed = coverage_sums(session, scope) if set(dimensions) <= set(_SUMMED_BY) else None
    if summed is not None:  # PostgreSQL summed each dimension (~400 rows, not ~4,300 keys)
        overall, sums = summed
        tables = {
            dim: fold(_spread(sums[_SUMMED_BY[dim]], dim), dim, _names(unit, dim), fields)
            for dim in dimensions
        }
        return CoverageReport(coverage_of(None, name, overall), tables)
    tallies = coverage_tallies(session, scope)
    tables = {
        dim: fold(_narrowed(tallies, dim), dim, _names(unit, dim), fields) for dim in dimensions
    }
    return CoverageReport(total(tallies, name), tables)


# The column of :func:`hub.store.coverage.coverage_sums` each dimension folds (a field: its
# procedures').
_SUMMED_BY: dict[Dimension, str] = {
    "counter": "counter",
    "officer": "officer",
    "procedure": "procedure",
    "field": "procedure",
}


_KEPT: dict[Dimension, int] = {"unit": 0, "counter": 1, "officer": 2, "procedure": 3, "field": 3}


def _narrowed(tallies: Mapping[GroupKey, Tally], dimension: Dimension) -> dict[GroupKey, Tally]:
    """``tallies`` summed in plain integers to the one part of the key ``dimension`` reads (a
    field is its procedure's), the others blank: what :func:`fold` makes of them is unchanged,
    and it adds up a few hundred tallies rather than every (counter, officer, procedure) of a
    provincial centre's period, thousands, five times over."""
    at = _KEPT[dimension]
    sums: dict[str, list[int]] = {}
    for key, t in tallies.items():
        counted = sums.setdefault(key[at], [0, 0, 0])
        counted[0] += t.issued
        counted[1] += t.rated
        counted[2] += t.abandoned
    narrowed: dict[GroupKey, Tally] = {}
    for value, (issued, rated, abandoned) in sums.items():
        parts = ["", "", "", ""]
        parts[at] = value
        narrowed[(parts[0], parts[1], parts[2], parts[3])] = Tally(issued, rated, abandoned)
    return narrowed


def _spread(sums: Mapping[str | None, Tally], dimension: Dimension) -> dict[GroupKey, Tally]:
    """``sums`` (per value of the key part ``dimension`` reads) as :func:`_narrowed` keys them:
    that part set, the others blank."""
    at = _KEPT[dimension]
    spread: dict[GroupKey, Tally] = {}
    for value, counted in sums.items():
        parts: list[Any] = ["", "", "", ""]
        parts[at] = value
        spread[(parts[0], parts[1], parts[2], parts[3])] = counted
    return spread


def units_coverage(
    session: Session,
    units: Sequence[UnitNode],
    since: datetime | None,
    until: datetime | None,
    zone: tzinfo | None = None,
) -> list[Coverage]:
    """One line per unit of ``units`` (keyed by its code, named from the node; a unit that issued
    nothing has ``issued == 0`` and no rate), in the order given: the province view's column.
    Whole days are the ``zone``'s (default: the first unit's clock)."""
    clock = zone if zone is not None else units[0].zone if units else LOCAL_ZONE
    found = coverage_by_unit(session, [u.code for u in units], since, until, clock)
    return [coverage_of(u.code, u.name, found.get(u.code, Tally())) for u in units]


# -- text ------------------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:5.1f}"


def _text_line(line: Coverage, rate: GroupSummary | None) -> str:
    note = " / ".join(part for part in line.label if part)
    mdhl = _percent(rate.rate) if rate is not None else "—"
    return (
        f"  {line.name[:44]:<44} {line.issued:>6} {line.rated:>6} {line.abandoned:>6} "
        f"{line.not_reached:>6} {_percent(line.rate):>6} {mdhl:>6}  {note}"
    ).rstrip()


def format_coverage(
    report: CoverageReport, rates: Mapping[Any, list[GroupSummary]] | None = None
) -> str:
    """The coverage tables as text: receipts issued, rated, abandoned, not reached, the response
    rate and, beside it, the MĐHL of the same group from ``rates`` (the summary's tables)."""
    overall = report.overall
    note = " / ".join(part for part in overall.label if part)
    lines = [
        f"Phản hồi / Response: {overall.rated}/{overall.issued} biên nhận được đánh giá "
        f"/ receipts rated ({_percent(overall.rate).strip()} %); {overall.abandoned} bỏ dở "
        f"/ abandoned; {overall.not_reached} chưa đánh giá / not reached"
        + (f" — {note}" if note else "")
    ]
    header = (
        f"  {'':<44} {'cấp':>6} {'đ.giá':>6} {'bỏ dở':>6} {'chưa':>6} {'P.hồi%':>6} {'MĐHL%':>6}"
        "\n"
        f"  {'':<44} {'issued':>6} {'rated':>6} {'aband.':>6} {'none':>6} {'resp.%':>6}"
    )
    for dimension, table in report.tables.items():
        by_key = {s.key: s for s in (rates or {}).get(dimension, [])}
        lines += ["", _HEADINGS[dimension], header]
        lines += [_text_line(line, by_key.get(line.key)) for line in table]
        if not table:
            lines.append("  (chưa cấp biên nhận nào / no receipts issued)")
    lines += [
        "",
        f"Phản hồi = biên nhận cấp trong kỳ có đánh giá tiếp nhận / response = receipts issued in "
        f"the period rated at reception; dưới {LOW_RESPONSE:.0f} %: tỷ lệ phản hồi thấp / "
        f"under {LOW_RESPONSE:.0f} %: low response; dưới {FEW_RECEIPTS} biên nhận: ít biên nhận "
        f"/ under {FEW_RECEIPTS} receipts: few receipts",
    ]
    return "\n".join(lines)


def spans_coverage(
    session: Session, unit: Unit, spans: Sequence[tuple[datetime, datetime]]
) -> list[Coverage]:
    """The unit's response in each ``[since, until)`` of ``spans``, in that order, from one pass
    over the register (the dashboard's headline periods)."""
    tallies = coverage_of_spans(session, unit.unit.code, spans, unit.zone)
    return [coverage_of(unit.unit.code, unit.unit.name, t) for t in tallies]
