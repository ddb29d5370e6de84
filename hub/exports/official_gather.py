"""Reading the quarterly and yearly report's figures from the database, for one unit or for a
province (every unit under it), and handing them to :func:`hub.exports.official.build_report`.

One use case (:class:`ReportDesk`) for the command line, the export page and the public pages.
Each source is the one the rest of the hub uses, so the report cannot disagree with the pages:
the rollups through :mod:`hub.report` (factors with "nói chung", fields, reasons), the follow-ups
(:mod:`hub.store.followup_figures`), the official indices (:func:`hub.indices.indices_for`), the
coverage (:func:`hub.coverage.units_coverage`), the targets (:mod:`hub.store.targets` and
:func:`hub.domain.trends.target_for`) and the months of the year for the trend.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Score
from hailong.settings import Unit
from hub.channels import units_channel_figures
from hub.coverage import Coverage, units_coverage
from hub.domain.criteria import CriteriaBook
from hub.domain.periods import Period
from hub.domain.trends import Tally, quarter_rows, target_for
from hub.domain.units import UnitNode, UnitTree
from hub.exports.gather import Progress
from hub.exports.official import (
    FOLLOW_UP_DAYS,
    FollowUpFigures,
    Letterhead,
    Report,
    Scope,
    UnitFigures,
    build_report,
)
from hub.indices import NoCriteria, UnitIndices, indices_for
from hub.province import bare_unit
from hub.report import factor_table_of, reason_table_of, summary_of
from hub.store import targets as stored_targets
from hub.store.followup_figures import follow_up_counts_of_units
from hub.store.rollups import counts_of_units

log = logging.getLogger(__name__)
Catalogue = Callable[[str], Unit | None]

LEFT_OUT_INDICES = "chỉ số đánh giá (chưa có bộ tiêu chí cho kỳ này) / official indices"
LEFT_OUT_COVERAGE = "tỷ lệ phản hồi / coverage"


def _quiet(_percent: int, _stage: str) -> None:
    return None


class UnknownUnit(LookupError):
    """The report names a unit this hub does not serve."""


class ReportDesk:
    """The quarterly and yearly reports over ``tree``'s units."""

    def __init__(
        self,
        tree: UnitTree,
        catalogue: Catalogue,
        sessions: sessionmaker[Session],
        criteria: CriteriaBook | None,
    ) -> None:
        self.tree = tree
        self.catalogue = catalogue
        self.sessions = sessions
        self.criteria = criteria

    def units_of(self, scope: Scope, code: str) -> list[UnitNode]:
        """The units a report covers: the unit alone, or the province and every unit under it."""
        node = self.tree.get(code)
        if node is None:
            raise UnknownUnit(code)
        return [node] if scope == "unit" else list(self.tree.within(code))

    def province_code(self) -> str:
        """The top of the tree: the province a ``--province`` report is about."""
        roots = self.tree.roots()
        if not roots:
            raise UnknownUnit("(no unit)")
        return roots[0].code

    def authority(self, code: str) -> str:
        """The governing body (cơ quan chủ quản) of the letterhead: the unit above, if any."""
        above = self.tree.ancestors(code)
        return above[0].name.upper() if above else ""

    def report(
        self,
        scope: Scope,
        code: str,
        period: Period,
        now: datetime,
        head: Letterhead,
        progress: Progress = _quiet,
    ) -> Report:
        nodes = self.units_of(scope, code)
        root = nodes[0]
        # The report's days are on its unit's clock (a province report: the province's, which its
        # units share); every read below takes the zone from the period or is given it.
        period = period.on(root.zone)
        since, until = period.bounds()
        year = period.first.year
        overdue_before = now - timedelta(days=FOLLOW_UP_DAYS)
        figures: list[UnitFigures] = []
        left_out: list[str] = []
        months: dict[date, Tally] = {}
        with self.sessions() as session:
            codes = [n.code for n in nodes]
            chain = {a.code for n in nodes for a in self.tree.ancestors(n.code)}
            own = {
                (t.unit, t.year): t.rate
                for t in stored_targets.targets_of(session, set(codes) | chain, [year])
            }
            progress(10, "Đang đọc chỉ số đánh giá / Reading the official indices")
            indices = self._indices(session, codes, period, now, left_out)
            progress(20, "Đang đọc tỷ lệ phản hồi / Reading the coverage")
            covered = units_coverage(session, nodes, since, until, period.zone)
            coverage = {c.key: c for c in covered}
            channels = units_channel_figures(session, codes, since, until, period.zone)
            progress(25, "Đang đọc số liệu các đơn vị / Reading the units' figures")
            catalogues = {n.code: self.catalogue(n.code) for n in nodes}
            units = {n.code: catalogues[n.code] or bare_unit(n) for n in nodes}
            read = UnitCounts.read(session, units, since, until, period.zone, overdue_before)
            for node in nodes:
                figures.append(
                    replace(
                        self._unit(
                            node,
                            catalogues[node.code],
                            units[node.code],
                            read,
                            period,
                            own,
                            indices.get(node.code),
                            coverage.get(node.code),
                        ),
                        channels=channels[node.code],
                    )
                )
            self._months(session, codes, year, months, period.zone)
        target = target_for(
            root.code, year, own, self.tree, _catalogue_rate(self.catalogue(root.code))
        )
        progress(60, "Đang lập các bảng / Building the tables")
        return build_report(
            head,
            scope,
            root.code,
            root.name,
            period,
            figures,
            trend=quarter_rows(year, months),
            province_target=target,
            left_out=left_out,
        )

    def _indices(
        self,
        session: Session,
        codes: Sequence[str],
        period: Period,
        now: datetime,
        left_out: list[str],
    ) -> dict[str, UnitIndices]:
        if self.criteria is None:
            left_out.append(LEFT_OUT_INDICES)
            return {}
        try:
            found = indices_for(session, self.criteria, codes, period, now)
        except NoCriteria:
            left_out.append(LEFT_OUT_INDICES)
            return {}
        return {u.unit: u for u in found.units}

    def _unit(
        self,
        node: UnitNode,
        catalogue: Unit | None,
        unit: Unit,
        read: UnitCounts,
        period: Period,
        own: dict[tuple[str, int], float],
        indices: UnitIndices | None,
        coverage: Coverage | None,
    ) -> UnitFigures:
        code = node.code
        return UnitFigures(
            code=code,
            name=node.name,
            factors=factor_table_of(read.factors[code], read.scores[code]),
            fields=summary_of(read.fields[code], unit, "field"),
            catalogue_fields={f.code: f.name for f in unit.fields},
            reasons=reason_table_of({r: n for (r,), n in read.reasons[code].items()}, unit),
            follow_ups=FollowUpFigures(*read.follow_ups[code]),
            target=target_for(
                node.code, period.first.year, own, self.tree, _catalogue_rate(catalogue)
            ),
            coverage=coverage,
            indices=indices,
            officer_names={o.code: o.name for o in unit.officers},
        )

    def _months(
        self,
        session: Session,
        codes: Sequence[str],
        year: int,
        into: dict[date, Tally],
        zone: tzinfo,
    ) -> None:
        """The units' ratings per month of ``year`` and the year before, added ``into``: one
        read grouped by unit for all of them (a province's 150 units), not one per unit."""
        first = Period("year", date(year - 1, 1, 1), date(year, 1, 1)).bounds(zone)[0]
        end = Period("year", date(year, 1, 1), date(year + 1, 1, 1)).bounds(zone)[1]
        months = counts_of_units(session, codes, first, end, "month", "score", zone=zone)
        for found in months.values():
            for (month, score), n in found.items():
                ok = n if Score(score).is_satisfied else 0
                into[month] = into.get(month, Tally()) + Tally(n, ok)


@dataclass(frozen=True)
class UnitCounts:
    """What a report's unit tables count, for every unit at once: each rollup read once, grouped
    by unit (:func:`hub.store.rollups.counts_of_units`), and the follow-ups in one query per
    threshold; each unit's share is then split off in Python. A province report of 150 units so
    makes a handful of queries here instead of five per unit."""

    factors: Mapping[str, Counter[tuple[Any, ...]]]  # (factor, score)
    scores: Mapping[str, Counter[tuple[Any, ...]]]  # (score,)
    fields: Mapping[str, Counter[tuple[Any, ...]]]  # (field, score)
    reasons: Mapping[str, Counter[tuple[Any, ...]]]  # (reason,)
    follow_ups: Mapping[str, tuple[int, int, int, int]]  # received, answered, closed, overdue

    @classmethod
    def read(
        cls,
        session: Session,
        units: Mapping[str, Unit],
        since: datetime,
        until: datetime,
        zone: tzinfo,
        overdue_before: datetime,
    ) -> UnitCounts:
        codes = list(units)

        def grouped(*columns: str) -> dict[str, Counter[tuple[Any, ...]]]:
            return counts_of_units(session, codes, since, until, *columns, zone=zone)

        thresholds = {code: u.kiosk_policy.reasons_at_or_below for code, u in units.items()}
        return cls(
            factors=grouped("factor", "score"),
            scores=grouped("score"),
            fields=grouped("field", "score"),
            reasons=grouped("reason"),
            follow_ups=follow_up_counts_of_units(session, thresholds, since, until, overdue_before),
        )


def _catalogue_rate(unit: Unit | None) -> float | None:
    return unit.unit.target_rate if unit is not None else None


__all__ = ["ReportDesk", "UnknownUnit"]
