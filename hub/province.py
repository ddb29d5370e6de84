"""The province's figures: units ranked by MĐHL, the SIPAS factors per unit, fields across units,
drill-down to a unit, a counter and an officer, trends against last year, and the yearly targets.

One use case (:class:`ProvinceDesk`) for the pages (:mod:`hub.web.province`) and anything else
that wants the same figures; it answers plain dataclasses. Every method takes the caller's
:class:`~hub.domain.access.Reach` and refuses (:class:`NotVisible`) a unit outside it, so a page
cannot forget the check: a commune head asking for another commune gets nothing of it.

Counts come from the rollups through :func:`hub.store.rollups.counts_of_units` (the province
page: :func:`~hub.store.rollups.tallies_of_units`, summed over the scores by the database): every
unit in one query per part of the period, from the smallest rollup holding the columns (the province
page reads revision 0018's field and factor folds, the trend page the channel rollups summed by
the database), so the pages stay flat as ratings grow. The rollups are keyed by unit; a unit
without a catalogue here is counted under a bare :class:`~hailong.settings.Unit` carrying its
code and name, and its counters and officers are shown by code). Coverage (receipts rated out of receipts issued) comes from :mod:`hub.coverage`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Factor, Score
from hailong.settings import Unit, UnitInfo
from hub.coverage import Coverage, units_coverage
from hub.domain.access import Reach, may_set_target, targets_settable
from hub.domain.periods import Period, local_today
from hub.domain.province import Ranking, UnitFigure, rank_units
from hub.domain.satisfaction import GroupSummary, summarize, wilson_interval
from hub.domain.trends import (
    Projection,
    Tally,
    Target,
    TrendRow,
    check_target_rate,
    month_rows,
    months_left,
    pace_window,
    project,
    quarter_rows,
    target_for,
)
from hub.domain.units import UnitNode, UnitTree
from hub.report import FACTOR_NAMES, OVERALL, OVERALL_NAME, factor_table
from hub.store import targets as stored_targets
from hub.store.rollups import Scope, Tallies, counts, counts_across_units, tallies_of_units

FIRST_TARGET_YEAR = 2018  # Decree 61/2018: the first year a target could be set against
LAST_TARGET_YEAR = 2100
Catalogue = Callable[[str], Unit | None]  # a unit's catalogue by code, when the hub has it
Level = Literal["unit", "counter", "officer"]
# The scores MĐHL counts (Score.is_satisfied), as a set: the province page looks up ~10,000 keys.
_SATISFIED = frozenset(s.value for s in Score if s.is_satisfied)


class NotVisible(LookupError):
    """The unit (or officer) is not one the caller may see, or not one the hub serves: the
    pages answer 404 either way, so a refusal does not tell which units exist."""


class NotAllowed(PermissionError):
    """The caller may see the unit but not do this (set its target)."""


@dataclass(frozen=True)
class FactorCell:
    n: int
    satisfied: int
    rate: float | None


@dataclass(frozen=True)
class FactorLine:
    """One unit's row of the SIPAS table: the five factors in the survey's order, then the
    service overall ("nói chung", from every rating's face), as in seed 000."""

    code: str | None  # None for the province's total line
    name: str
    cells: tuple[FactorCell, ...]


@dataclass(frozen=True)
class FieldLine:
    """One field (lĩnh vực) across the units: its total, and how many units rated in it."""

    code: str | None
    name: str
    n: int
    satisfied: int
    rate: float | None
    ci: tuple[float, float]
    units: int


@dataclass(frozen=True)
class ProvinceView:
    root: UnitNode
    path: tuple[UnitNode, ...]  # from the top of what the caller sees down to ``root``
    period: Period
    total: UnitFigure
    ranking: Ranking
    coverage: Mapping[str, Coverage]  # by unit code
    factor_heads: tuple[str, ...]
    factors: tuple[FactorLine, ...]  # one per unit, the total last
    fields: tuple[FieldLine, ...]
    below: Mapping[str, bool]  # unit code -> has units under it (links to its own view)


@dataclass(frozen=True)
class UnitView:
    """A unit, one of its counters, or one officer: the headline, the SIPAS factors (not for a
    counter: the monthly factor rollups are kept per officer only) and the next level down."""

    unit: UnitNode
    level: Level
    counter: str | None
    counter_name: str | None
    officer: str | None
    officer_name: str | None
    period: Period
    total: UnitFigure
    factors: tuple[GroupSummary, ...]
    rows: tuple[GroupSummary, ...]  # counters of a unit, officers of a counter, procedures of one
    coverage: Coverage | None


@dataclass(frozen=True)
class TrendView:
    unit: UnitNode
    officer: str | None
    year: int
    months: tuple[TrendRow, ...]
    quarters: tuple[TrendRow, ...]
    so_far: Tally
    year_before: Tally
    target: Target
    projection: Projection | None  # None for a year already over (or not begun)
    pace: tuple[date, date] | None  # the pace window's months, [first day, end)
    months_left: float

    @property
    def pace_last(self) -> date | None:
        """The last day of the pace window (its last month), for the page."""
        return None if self.pace is None else self.pace[1] - timedelta(days=1)


@dataclass(frozen=True)
class TargetLine:
    unit: UnitNode
    depth: int
    own: float | None  # the target set for this unit itself
    held_to: Target  # what it is held to (its own, the one above, or the catalogue's)
    settable: bool


def bare_unit(node: UnitNode) -> Unit:
    """A catalogue with the unit's code and name only: enough for a :class:`Scope`."""
    return Unit(
        unit=UnitInfo(code=node.code, name=node.name, time_zone=node.time_zone),
        fields=(),
        counters=(),
        officers=(),
        procedures=(),
    )


def _tally(found: Mapping[tuple[Any, ...], int], score_at: int = -1) -> Tally:
    n = satisfied = 0
    for key, count in found.items():
        n += count
        satisfied += count if key[score_at] in _SATISFIED else 0
    return Tally(n, satisfied)


class ProvinceDesk:
    """The province view, drill-down, trends and targets over ``tree``'s units."""

    def __init__(
        self,
        tree: UnitTree,
        catalogue: Catalogue,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
    ) -> None:
        self.tree = tree
        self.catalogue = catalogue
        self.sessions = sessions
        self.clock = clock

    # -- helpers ---------------------------------------------------------------------------------

    def _node(self, reach: Reach, code: str) -> UnitNode:
        node = self.tree.get(code)
        if node is None or not reach.sees(code):
            raise NotVisible(code)
        return node

    def _unit(self, node: UnitNode) -> Unit:
        return self.catalogue(node.code) or bare_unit(node)

    def path(self, reach: Reach, node: UnitNode) -> tuple[UnitNode, ...]:
        """The units above ``node`` that the caller sees, from the top, then ``node``."""
        above = [a for a in reversed(self.tree.ancestors(node.code)) if reach.sees(a.code)]
        return (*above, node)

    def home(self, reach: Reach) -> str | None:
        """The unit a caller's pages open on: the highest unit they see."""
        seen = [n for n in self.tree if reach.sees(n.code)]
        return min(seen, key=lambda n: len(self.tree.ancestors(n.code))).code if seen else None

    # -- the province view -----------------------------------------------------------------------

    def overview(self, reach: Reach, code: str, period: Period) -> ProvinceView:
        """``code`` and every unit under it that the caller sees, ranked, for ``period``."""
        if reach.officer is not None:
            raise NotVisible(code)  # an officer sees themself, not units
        root = self._node(reach, code)
        nodes = [n for n in self.tree.within(code) if reach.sees(n.code)]
        # One clock for the whole view: the root's (a province's units share its zone).
        zone = root.zone
        since, until = period.bounds(zone)
        figures: list[UnitFigure] = []
        factor_lines: list[FactorLine] = []
        per_field: dict[str | None, list[int]] = {}
        field_names: dict[str, str] = {}
        factor_totals: Counter[tuple[str, bool]] = Counter()
        with self.sessions() as session:
            codes = [n.code for n in nodes]
            # Two reads grouped by unit for every unit at once, not two per unit, each folded
            # over the scores by the database: (ratings, satisfied) per unit and field or factor.
            fields_of = tallies_of_units(
                session, codes, since, until, "field", _SATISFIED, zone=zone
            )
            factors_of = tallies_of_units(
                session, codes, since, until, "factor", _SATISFIED, zone=zone
            )
            for node in nodes:
                unit = self._unit(node)
                field_names |= {f.code: f.name for f in unit.fields}
                by_field = fields_of[node.code]
                tally = Tally(
                    sum(n for n, _ in by_field.values()), sum(ok for _, ok in by_field.values())
                )
                figures.append(UnitFigure(node.code, node.name, tally.n, tally.satisfied))
                for field, (n, ok) in by_field.items():
                    line = per_field.setdefault(field or None, [0, 0, 0])
                    line[0] += n
                    line[1] += ok
                units_in = {f or None for f, (n, _) in by_field.items() if n}
                for field in units_in:
                    per_field[field][2] += 1
                cells = _factor_cells(factors_of[node.code], tally)
                for factor, cell in zip((*Factor, OVERALL), cells, strict=True):
                    factor_totals[(str(factor), True)] += cell.satisfied
                    factor_totals[(str(factor), False)] += cell.n
                factor_lines.append(FactorLine(node.code, node.name, cells))
            covered = units_coverage(session, nodes, since, until, zone)
            coverage = {c.key or "": c for c in covered}
        total = UnitFigure(
            root.code,
            root.name,
            sum(f.n for f in figures),
            sum(f.satisfied for f in figures),
        )
        total_cells = tuple(
            FactorCell(
                factor_totals[(str(f), False)],
                factor_totals[(str(f), True)],
                _rate(factor_totals[(str(f), True)], factor_totals[(str(f), False)]),
            )
            for f in (*Factor, OVERALL)
        )
        fields = tuple(
            FieldLine(
                key,
                field_names.get(key, key) if key else "(không rõ / unknown)",
                n,
                ok,
                _rate(ok, n),
                wilson_interval(ok, n),
                units,
            )
            for key, (n, ok, units) in per_field.items()
        )
        return ProvinceView(
            root=root,
            path=self.path(reach, root),
            period=period,
            total=total,
            ranking=rank_units(figures),
            coverage=coverage,
            factor_heads=(*(FACTOR_NAMES[f.value] for f in Factor), OVERALL_NAME),
            factors=(*factor_lines, FactorLine(None, root.name, total_cells)),
            fields=tuple(sorted(fields, key=lambda f: (f.rate is None, f.rate or 0.0, f.name))),
            below={n.code: bool(self.tree.children(n.code)) for n in nodes},
        )

    # -- drill-down ------------------------------------------------------------------------------

    def unit_view(
        self,
        reach: Reach,
        code: str,
        period: Period,
        counter: str | None = None,
        officer: str | None = None,
    ) -> UnitView:
        """A unit (counters listed), a counter (its officers) or an officer (their procedures)."""
        node = self._node(reach, code)
        if reach.officer is not None and officer != reach.officer:
            raise NotVisible(code)
        unit = self._unit(node)
        names = {
            "counter": {c.code: c.name for c in unit.counters},
            "officer": {o.code: o.name for o in unit.officers},
            "procedure": {p.code: f"{p.name} ({p.code})" for p in unit.procedures},
        }
        since, until = period.bounds(unit.zone)
        scope = Scope(unit, since, until, officer=officer)
        level: Level = "officer" if officer else "counter" if counter else "unit"
        with self.sessions() as session:
            if level == "unit":
                found = counts(session, scope, "counter", "score")
                rows = summarize(_keyed(found), names["counter"])
                total = _tally(found)
            elif level == "counter":
                found = counts(session, scope, "counter", "officer", "score")
                mine = {(o, s): n for (c, o, s), n in found.items() if c == counter}
                rows = summarize(_keyed(mine), names["officer"])
                total = _tally(mine)
            else:
                found = counts(session, scope, "counter", "procedure", "score")
                mine = {
                    (p, s): n for (c, p, s), n in found.items() if counter is None or c == counter
                }
                rows = summarize(_keyed(mine), names["procedure"])
                total = _tally(mine)
            factors = factor_table(session, scope) if level != "counter" else []
            coverage = None
            if level == "unit":
                coverage = units_coverage(session, [node], since, until, unit.zone)[0]
        return UnitView(
            unit=node,
            level=level,
            counter=counter,
            counter_name=names["counter"].get(counter, counter) if counter else None,
            officer=officer,
            officer_name=names["officer"].get(officer, officer) if officer else None,
            period=period,
            total=UnitFigure(node.code, node.name, total.n, total.satisfied),
            factors=tuple(factors),
            rows=tuple(rows),
            coverage=coverage,
        )

    # -- trends ----------------------------------------------------------------------------------

    def trends(self, reach: Reach, code: str, year: int) -> TrendView:
        """``code`` and the units under it the caller sees (an officer: their own ratings), month
        by month and quarter by quarter in ``year`` beside ``year - 1``, with the target and, for
        the current year, the year-end projection."""
        node = self._node(reach, code)
        today = local_today(self.clock(), node.zone)
        nodes = [n for n in self.tree.within(code) if reach.sees(n.code)]
        start = Period("year", date(year - 1, 1, 1), date(year, 1, 1)).bounds(node.zone)[0]
        end = Period("year", date(year, 1, 1), date(year + 1, 1, 1)).bounds(node.zone)[1]
        months: dict[date, Tally] = {}
        with self.sessions() as session:
            codes = [n.code for n in nodes]
            # Summed over the units by the database (24 months x 5 scores rows, not x 150 units).
            found = counts_across_units(
                session, codes, start, end, "month", "score", officer=reach.officer, zone=node.zone
            )
            for (month, score), n in found.items():
                ok = n if score in _SATISFIED else 0
                months[month] = months.get(month, Tally()) + Tally(n, ok)
            own = {
                (t.unit, t.year): t.rate
                for t in stored_targets.targets_of(
                    session, [node.code, *(a.code for a in self.tree.ancestors(node.code))], [year]
                )
            }
        catalogue = self.catalogue(node.code)
        target = target_for(
            node.code, year, own, self.tree, catalogue.unit.target_rate if catalogue else None
        )
        so_far = _sum(months, year)
        projection, pace, left = None, None, 0.0
        if year == today.year:
            pace = pace_window(today)
            in_window = Tally()
            for month, tally in months.items():
                if pace[0] <= month < pace[1]:
                    in_window += tally
            left = months_left(today)
            projection = project(so_far, in_window, left)
        return TrendView(
            unit=node,
            officer=reach.officer,
            year=year,
            months=month_rows(year, months),
            quarters=quarter_rows(year, months),
            so_far=so_far,
            year_before=_sum(months, year - 1),
            target=target,
            projection=projection,
            pace=pace,
            months_left=left,
        )

    # -- targets ---------------------------------------------------------------------------------

    def targets(self, reach: Reach, role: str, scope: str, year: int) -> tuple[TargetLine, ...]:
        """Every unit the caller sees with its own target for ``year`` and the one it is held
        to; ``settable`` where the caller may set it (:func:`hub.domain.access.may_set_target`)."""
        _check_year(year)
        if reach.officer is not None or reach.nothing:
            raise NotVisible(scope)
        nodes = [n for n in self.tree if reach.sees(n.code)]
        with self.sessions() as session:
            chain = {a.code for n in nodes for a in self.tree.ancestors(n.code)}
            found = stored_targets.targets_of(session, {n.code for n in nodes} | chain, [year])
        own = {(t.unit, t.year): t.rate for t in found}
        settable = set(targets_settable(role, scope, self.tree))
        lines = []
        for node in nodes:
            catalogue = self.catalogue(node.code)
            lines.append(
                TargetLine(
                    unit=node,
                    depth=len(self.tree.ancestors(node.code)),
                    own=own.get((node.code, year)),
                    held_to=target_for(
                        node.code,
                        year,
                        own,
                        self.tree,
                        catalogue.unit.target_rate if catalogue else None,
                    ),
                    settable=node.code in settable,
                )
            )
        return tuple(lines)

    def set_target(
        self,
        role: str,
        scope: str,
        username: str,
        unit: str,
        year: int,
        rate: float | None,
    ) -> None:
        """Set (or, with ``rate`` None, clear) ``unit``'s target for ``year``; refused unless
        :func:`hub.domain.access.may_set_target` allows it."""
        _check_year(year)
        if unit not in self.tree:
            raise NotVisible(unit)
        if not may_set_target(role, scope, unit, self.tree):
            raise NotAllowed(unit)
        with self.sessions.begin() as session:
            if rate is None:
                stored_targets.clear_target(session, unit, year)
            else:
                stored_targets.set_target(
                    session, unit, year, check_target_rate(rate), username, self.clock()
                )


def _check_year(year: int) -> None:
    if not FIRST_TARGET_YEAR <= year <= LAST_TARGET_YEAR:
        raise ValueError(f"a year from {FIRST_TARGET_YEAR} to {LAST_TARGET_YEAR}, not {year}")


def _rate(satisfied: int, n: int) -> float | None:
    return None if n == 0 else 100.0 * satisfied / n


def _keyed(found: Mapping[tuple[Any, ...], int]) -> Iterable[tuple[str | None, int, int]]:
    """``(key, score) -> n`` as :func:`summarize`'s rows (the rollups' NO_VALUE as None)."""
    return [(key or None, score, n) for (key, score), n in sorted(found.items())]


def _factor_cells(found: Tallies, overall: Tally) -> tuple[FactorCell, ...]:
    """The SIPAS cells of a unit from its (ratings, satisfied) per factor, then the overall."""
    cells = []
    for factor in Factor:
        n, ok = found.get(factor.value, (0, 0))
        cells.append(FactorCell(n, ok, _rate(ok, n)))
    return (*cells, FactorCell(overall.n, overall.satisfied, overall.rate))


def _sum(months: Mapping[date, Tally], year: int) -> Tally:
    total = Tally()
    for month, tally in months.items():
        if month.year == year:
            total += tally
    return total


__all__: Sequence[str] = (
    "NotAllowed",
    "NotVisible",
    "ProvinceDesk",
    "ProvinceView",
    "TargetLine",
    "TrendView",
    "UnitView",
)
