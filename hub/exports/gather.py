"""Reading what an export shows from the database: :func:`hub.report.summary` per breakdown (the
rollups), and the spread over the five levels for the quarterly report's chart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.scale import Score
from hailong.settings import Unit
from hub.domain.periods import Period
from hub.domain.satisfaction import GroupSummary
from hub.exports.tables import Export, Overall, build_export, overall_of
from hub.report import DIMENSIONS, Dimension, rollup_parts, summary
from hub.report import Period as Span
from hub.store.models import HourMonthRollupRow, HourRollupRow, RatingRow
from hub.store.ratings import LOCAL_ZONE

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
    since, until = shown.bounds()
    counters = summary(session, unit, "counter", since, until)
    overall = overall_of(counters, unit.unit.target_rate)
    tables: dict[Dimension, Sequence[GroupSummary]]
    if only_officer is not None:
        officers = summary(session, unit, "officer", since, until)
        tables = {"officer": [s for s in officers if s.key == only_officer]}
    else:
        wanted = DIMENSIONS if dimension is None else (dimension,)
        tables = {
            d: counters if d == "counter" else summary(session, unit, d, since, until)
            for d in wanted
        }
    return build_export(unit, shown, tables, overall)


def score_counts(
    session: Session,
    unit: Unit,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    zone: tzinfo = LOCAL_ZONE,
) -> dict[Score, int]:
    """Ratings per level of the 5-level scale in ``[since, until)``, every level present.

    Whole months and days come from the rollups and partial days from ``ratings``, as in
    ``summary``."""
    span = Span.split(since, until, zone)
    counts: Counter[Score] = Counter()
    # The whole unit per score: the hourly rollups are the smallest that hold it.
    for table, when in rollup_parts(span, HourRollupRow, HourMonthRollupRow):
        rolled = (
            select(table.score, func.sum(table.n))
            .where(table.unit == unit.unit.code, when)
            .group_by(table.score)
        )
        for score, n in session.execute(rolled):
            counts[Score(int(score))] += int(n)
    for start, end in span.edges:
        raw = (
            select(RatingRow.score, func.count())
            .where(
                RatingRow.unit == unit.unit.code,
                RatingRow.rated_at >= start,
                RatingRow.rated_at < end,
                RatingRow.counted.is_(True),  # as the rollups (hub.domain.register)
            )
            .group_by(RatingRow.score)
        )
        for score, n in session.execute(raw):
            counts[Score(int(score))] += int(n)
    return {score: counts[score] for score in Score}


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
    since, until = quarter.bounds()
    tables: dict[Dimension, list[GroupSummary]] = {}
    with sessions() as session:
        for index, dimension in enumerate(DIMENSIONS):
            vi, en = _READING[dimension]
            progress(5 + 12 * index, f"{vi} / {en}")
            tables[dimension] = summary(session, unit, dimension, since, until)
        progress(50, "Đang đọc quý trước / Reading the previous quarter")
        previous = overall_of(
            summary(session, unit, "counter", *quarter.previous().bounds()), target
        )
        progress(55, "Đang đếm theo mức đánh giá / Counting the five levels")
        levels = score_counts(session, unit, since, until)
    export = build_export(unit, quarter, tables, overall_of(tables["counter"], target))
    return Quarterly(export, previous, levels, now.astimezone(LOCAL_ZONE))


_READING: dict[Dimension, tuple[str, str]] = {
    "counter": ("Đang đọc số liệu theo quầy", "Reading the figures by counter"),
    "officer": ("Đang đọc số liệu theo công chức", "Reading the figures by officer"),
    "procedure": ("Đang đọc số liệu theo thủ tục", "Reading the figures by procedure"),
    "field": ("Đang đọc số liệu theo lĩnh vực", "Reading the figures by field"),
}
