"""The export tables (pure): MĐHL per counter, officer, procedure and field with n, the number
satisfied, the rate and its 95 % Wilson interval, built from :func:`hub.report.summary` results.

Every writer (CSV, XLSX, PDF) lays out the same :class:`Export`, so a figure reads the same in
every file and on the dashboard. Headings are Vietnamese first, English second.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from hailong.settings import Unit
from hub.domain.periods import Period
from hub.domain.periods import period as period_of
from hub.domain.satisfaction import SMALL_SAMPLE, GroupSummary, satisfaction_rate, wilson_interval
from hub.report import DIMENSIONS, Dimension

ColumnKind = Literal["text", "count", "percent"]


@dataclass(frozen=True)
class Column:
    heading_vi: str
    heading_en: str
    kind: ColumnKind
    width: float  # in spreadsheet character widths

    @property
    def heading(self) -> str:
        return f"{self.heading_vi} / {self.heading_en}"


COLUMNS: tuple[Column, ...] = (
    Column("Mã", "Code", "text", 14),
    Column("Tên", "Name", "text", 46),
    Column("Số lượt đánh giá", "Ratings (n)", "count", 16),
    Column("Hài lòng", "Satisfied", "count", 12),
    Column("MĐHL (%)", "Satisfaction (%)", "percent", 16),
    Column("Cận dưới 95 %", "95 % CI low (%)", "percent", 16),
    Column("Cận trên 95 %", "95 % CI high (%)", "percent", 16),
    Column("Ghi chú", "Note", "text", 40),
)
# The CSV holds every table in one sheet of rows; this first column says which table a row is of.
BREAKDOWN_COLUMN = Column("Phân theo", "Breakdown", "text", 16)

TITLES: dict[Dimension, tuple[str, str]] = {
    "counter": ("MĐHL theo quầy", "Satisfaction by counter"),
    "officer": ("MĐHL theo công chức", "Satisfaction by officer"),
    "procedure": ("MĐHL theo thủ tục", "Satisfaction by procedure"),
    "field": ("MĐHL theo lĩnh vực", "Satisfaction by field"),
}
SHORT: dict[Dimension, tuple[str, str]] = {
    "counter": ("Quầy", "Counter"),
    "officer": ("Công chức", "Officer"),
    "procedure": ("Thủ tục", "Procedure"),
    "field": ("Lĩnh vực", "Field"),
}
SMALL_NOTE = (f"dưới {SMALL_SAMPLE} lượt", f"fewer than {SMALL_SAMPLE}")
ATTENTION_NOTE = ("cần quan tâm", "needs attention")
FOOTNOTES: tuple[str, ...] = (
    "MĐHL = số lượt “Hài lòng” và “Rất hài lòng” / tổng số lượt đánh giá. "
    "Satisfaction = “satisfied” and “very satisfied” answers / all answers.",
    "Khoảng tin cậy 95 % theo phương pháp Wilson. 95 % confidence interval (Wilson score).",
    f"Dưới {SMALL_SAMPLE} lượt đánh giá: số liệu chưa đủ tin cậy. "
    f"Fewer than {SMALL_SAMPLE} ratings: not yet reliable.",
    "Nhóm cần quan tâm nhất đứng đầu mỗi bảng. The groups most in need of attention come first.",
)
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
MONTHS_EN = tuple(calendar.month_name)


@dataclass(frozen=True)
class Row:
    """One group's line: a counter, an officer, a procedure or a field."""

    key: str | None
    name: str
    n: int
    satisfied: int
    rate: float | None
    ci_low: float
    ci_high: float
    small_sample: bool
    needs_attention: bool  # enough ratings to trust, and below the unit's target

    @property
    def note(self) -> str:
        notes = []
        if self.small_sample:
            notes.append(SMALL_NOTE)
        if self.needs_attention:
            notes.append(ATTENTION_NOTE)
        return "; ".join(f"{vi} / {en}" for vi, en in notes)

    def values(self) -> tuple[str, str, int, int, float | None, float, float, str]:
        """The row in :data:`COLUMNS` order; percentages unrounded (writers round for display)."""
        return (
            self.key or "",
            self.name,
            self.n,
            self.satisfied,
            self.rate,
            self.ci_low,
            self.ci_high,
            self.note,
        )


@dataclass(frozen=True)
class Table:
    dimension: Dimension
    rows: tuple[Row, ...]

    @property
    def title(self) -> tuple[str, str]:
        return TITLES[self.dimension]

    @property
    def heading(self) -> str:
        vi, en = self.title
        return f"{vi} / {en}"


@dataclass(frozen=True)
class Overall:
    """The unit's MĐHL for the period, against the target the province set."""

    n: int
    satisfied: int
    rate: float | None
    ci_low: float
    ci_high: float
    target: float

    @property
    def meets_target(self) -> bool | None:
        return None if self.rate is None else self.rate >= self.target

    @property
    def verdict(self) -> tuple[str, str]:
        if self.meets_target is None:
            return ("chưa có đánh giá", "no ratings yet")
        return ("đạt", "met") if self.meets_target else ("chưa đạt", "not met")

    def sentence(self) -> str:
        """One line for a file's title block."""
        target = f"chỉ tiêu / target {self.target:.0f} %"
        if self.rate is None:
            return f"MĐHL chung / Overall: — (0 lượt / ratings); {target}"
        vi, en = self.verdict
        return (
            f"MĐHL chung / Overall: {self.rate:.1f} % ({self.satisfied}/{self.n} lượt / ratings; "
            f"95 % CI {self.ci_low:.1f}–{self.ci_high:.1f} %); {target}: {vi} / {en}"
        )


@dataclass(frozen=True)
class Export:
    """Everything a file shows: the unit, the period, the overall figure and the tables."""

    unit_code: str
    unit_name: str
    period: Period
    overall: Overall
    tables: tuple[Table, ...]

    @property
    def period_title(self) -> tuple[str, str]:
        return period_title(self.period)

    @property
    def period_range(self) -> str:
        return f"{self.period.first:%d/%m/%Y} – {self.period.last:%d/%m/%Y}"

    @property
    def period_line(self) -> str:
        vi, en = self.period_title
        return f"Kỳ báo cáo / Period: {vi} / {en} ({self.period_range})"

    def table(self, dimension: Dimension) -> Table | None:
        return next((t for t in self.tables if t.dimension == dimension), None)

    def filename(self, extension: str, stem: str = "mdhl") -> str:
        return (
            f"{stem}-{self.unit_code}-{self.period.kind}-{self.period.first:%Y-%m-%d}.{extension}"
        )


def period_title(period: Period) -> tuple[str, str]:
    """How a report names its period: "Quý IV năm 2026" / "Q4 2026"."""
    first = period.first
    if period.kind == "today":
        return (f"Ngày {first:%d/%m/%Y}", f"{first:%d/%m/%Y}")
    if period.kind == "week":
        span = f"{first:%d/%m/%Y} – {period.last:%d/%m/%Y}"
        return (f"Tuần {span}", f"Week {span}")
    if period.kind == "month":
        return (f"Tháng {first.month:02d}/{first.year}", f"{MONTHS_EN[first.month]} {first.year}")
    if period.kind == "quarter":
        quarter = (first.month - 1) // 3 + 1
        return (f"Quý {ROMAN[quarter]} năm {first.year}", f"Q{quarter} {first.year}")
    return (f"Năm {first.year}", f"Year {first.year}")


def overall_of(groups: Sequence[GroupSummary], target: float) -> Overall:
    """The overall figure from any one dimension's complete table (every rating is in one group)."""
    n = sum(g.n for g in groups)
    satisfied = sum(g.satisfied for g in groups)
    low, high = wilson_interval(satisfied, n)
    return Overall(n, satisfied, satisfaction_rate(satisfied, n), low, high, target)


def build_row(group: GroupSummary, target: float) -> Row:
    attention = not group.small_sample and group.rate is not None and group.rate < target
    return Row(
        group.key,
        group.name,
        group.n,
        group.satisfied,
        group.rate,
        group.ci_low,
        group.ci_high,
        group.small_sample,
        attention,
    )


def build_table(dimension: Dimension, groups: Sequence[GroupSummary], target: float) -> Table:
    """Rows in the summary's order: the groups most in need of attention first."""
    return Table(dimension, tuple(build_row(g, target) for g in groups))


def build_export(
    unit: Unit,
    period: Period,
    summaries: Mapping[Dimension, Sequence[GroupSummary]],
    overall: Overall,
) -> Export:
    """The tables of ``summaries`` in the usual order (counter, officer, procedure, field).

    ``overall`` is passed in rather than summed from ``summaries``: an officer's export holds only
    their own line, yet shows the unit's overall figure, as the dashboard does."""
    target = unit.unit.target_rate
    tables = tuple(
        build_table(dimension, summaries[dimension], target)
        for dimension in DIMENSIONS
        if dimension in summaries
    )
    return Export(unit.unit.code, unit.unit.name, period, overall, tables)


def quarter_period(spec: str, today: date) -> Period:
    """The quarter a request names: ``current``, ``previous`` or ``2026-Q4``; not a future one."""
    current = period_of("quarter", today)
    if spec in ("", "current"):
        return current
    if spec == "previous":
        return current.previous()
    match = re.fullmatch(r"(\d{4})-Q([1-4])", spec.strip(), re.IGNORECASE)
    if match is None:
        raise ValueError(f"quarter {spec!r}: expected current, previous or YYYY-Qn (2026-Q4)")
    chosen = period_of("quarter", date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1))
    if chosen.first > current.first:
        raise ValueError(f"quarter {spec!r} has not started yet")
    return chosen
