"""The official report's generic table and the figures it is built from (pure: no I/O).

A table (:class:`ReportTable`: titled columns of a kind, rows of cells) is generic so a writer lays
out any of them without knowing what it holds; :class:`UnitFigures` is what the report says about
one unit, read for the period by :mod:`hub.exports.official_gather`. The tables themselves are
built in :mod:`hub.exports.official_tables`, the report in :mod:`hub.exports.official`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from hub.domain.channels import ChannelSplit
from hub.domain.coverage import Coverage
from hub.domain.satisfaction import GroupSummary
from hub.domain.trends import Target
from hub.indices import UnitIndices
from hub.report import ReasonLine

Kind = Literal["text", "count", "percent", "index", "points"]
Cell = str | int | float | None

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
# Decree 20/2008/NĐ-CP gives an agency 10 working days to handle a citizen's feedback (phản ánh,
# kiến nghị); a follow-up neither answered nor closed this many days after the rating is overdue.
FOLLOW_UP_DAYS = 10


@dataclass(frozen=True)
class Column:
    heading_vi: str
    heading_en: str
    kind: Kind
    width: float = 1.0  # relative share of the table's width (the PDF), or Excel width ÷ 10

    @property
    def heading(self) -> str:
        return f"{self.heading_vi} / {self.heading_en}"


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    total: bool = False  # the "Nói chung" or province line: set in bold


@dataclass(frozen=True)
class ReportTable:
    """One table of the report. ``public``: shown on the public pages (no officer's line)."""

    key: str
    title_vi: str
    title_en: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    note: str = ""
    public: bool = True

    @property
    def title(self) -> str:
        return f"{self.title_vi} / {self.title_en}"


def cell_text(kind: Kind, value: Cell) -> str:
    """How every writer but the workbook shows a cell (the workbook keeps numbers as numbers)."""
    if value is None:
        return "—"
    if kind == "percent" and isinstance(value, int | float):
        return f"{value:.1f}"
    if kind == "index" and isinstance(value, int | float):
        return f"{value:.1f}"
    if kind == "points" and isinstance(value, int | float):
        return f"{value:+.1f}"
    if kind == "count" and isinstance(value, int):
        return f"{value:,}".replace(",", ".")  # Vietnamese thousands: 1.234
    return str(value)


# -- the figures a report is built from --------------------------------------------------------


@dataclass(frozen=True)
class FollowUpFigures:
    """Follow-ups (phản ánh) of the period's dissatisfied ratings, as of the report's day."""

    received: int = 0  # dissatisfied ratings of the period: each one is a follow-up
    answered: int = 0  # of which answered (the citizen told what was done)
    closed: int = 0  # of which closed
    overdue: int = 0  # neither answered nor closed, older than FOLLOW_UP_DAYS

    def __add__(self, other: FollowUpFigures) -> FollowUpFigures:
        return FollowUpFigures(
            self.received + other.received,
            self.answered + other.answered,
            self.closed + other.closed,
            self.overdue + other.overdue,
        )


@dataclass(frozen=True)
class UnitFigures:
    """Everything the report says about one unit, read for the period."""

    code: str
    name: str
    factors: Sequence[GroupSummary]  # hub.report.factor_table: 5 factors, then OVERALL
    fields: Sequence[GroupSummary]  # rated fields (hub.report.summary(..., "field"))
    catalogue_fields: Mapping[str, str]  # every field of the unit's catalogue, code -> name
    reasons: Sequence[ReasonLine]
    follow_ups: FollowUpFigures
    target: Target
    coverage: Coverage | None = None
    indices: UnitIndices | None = None
    officer_names: Mapping[str, str] = field(default_factory=dict)
    # The counted ratings per channel, the assisted apart (hub.channels); None: not read.
    channels: ChannelSplit | None = None
