"""Reading what an export shows from the database: :func:`hub.report.summary` per breakdown, and
:func:`hub.report.score_distribution` for the quarterly report's chart (both from the rollups)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Score
from hailong.settings import Unit
from hub.domain.periods import Period
from hub.domain.satisfaction import GroupSummary
from hub.exports.tables import Export, Overall, build_export, overall_of
from hub.report import DIMENSIONS, Dimension, Scope, score_distribution, summary

Progress = Callable[[int, str], None]  # percent done, what is happening ("vi / en")


def _quiet(_percent: int, _stage: str) -> None:
    return None


def dashboard_export(
    session: Session,
    unit: Unit,
    shown: Period,
    dimension: Dimension | None = None,
    *,
    only_officer: str | None = None,
) -> Export:
    """What the dashboard shows for ``shown``: every breakdown, or just ``dimension``.

    ``only_officer`` is an officer's login: their own line only (whatever ``dimension`` asks), as
    on the dashboard; the overall figure stays the unit's."""
    scope = Scope(unit, *shown.bounds(unit.zone))  # the unit's days
    counters = summary(session, scope, "counter")
    overall = overall_of(counters, unit.unit.target_rate)
    tables: dict[Dimension, Sequence[GroupSummary]]
    if only_officer is not None:
        officers = summary(session, scope, "officer")
        tables = {"officer": [s for s in officers if s.key == only_officer]}
    else:
        wanted = DIMENSIONS if dimension is None else (dimension,)
        tables = {d: counters if d == "counter" else summary(session, scope, d) for d in wanted}
    return build_export(unit, shown, tables, overall)


@dataclass(frozen=True)
class Quarterly:
    """What the quarterly report shows."""

    export: Export  # the quarter: overall figure and the four tables
    previous: Overall  # the quarter before, for the change
    levels: Mapping[Score, int]  # ratings per level in the quarter
    generated_at: datetime  # local time

    @property
    def change(self) -> float | None:
        now, before = self.export.overall.rate, self.previous.rate
        return None if now is None or before is None else now - before


def quarterly(
    sessions: sessionmaker[Session],
    unit: Unit,
    quarter: Period,
    now: datetime,
    progress: Progress = _quiet,
) -> Quarterly:
    """The quarter's figures, one query at a time, telling ``progress`` as it goes (0–60 %)."""
    target = unit.unit.target_rate
    scope = Scope(unit, *quarter.bounds(unit.zone))  # the unit's days
    tables: dict[Dimension, list[GroupSummary]] = {}
    with sessions() as session:
        for index, dimension in enumerate(DIMENSIONS):
            vi, en = _READING[dimension]
            progress(5 + 12 * index, f"{vi} / {en}")
            tables[dimension] = summary(session, scope, dimension)
        progress(50, "Đang đọc quý trước / Reading the previous quarter")
        before = Scope(unit, *quarter.previous().bounds(unit.zone))
        previous = overall_of(summary(session, before, "counter"), target)
        progress(55, "Đang đếm theo mức đánh giá / Counting the five levels")
        levels = {share.score: share.n for share in score_distribution(session, scope)}
    export = build_export(unit, quarter, tables, overall_of(tables["counter"], target))
    return Quarterly(export, previous, levels, now.astimezone(unit.zone))


_READING: dict[Dimension, tuple[str, str]] = {
    "counter": ("Đang đọc số liệu theo quầy", "Reading the figures by counter"),
    "officer": ("Đang đọc số liệu theo công chức", "Reading the figures by officer"),
    "procedure": ("Đang đọc số liệu theo thủ tục", "Reading the figures by procedure"),
    "field": ("Đang đọc số liệu theo lĩnh vực", "Reading the figures by field"),
}
