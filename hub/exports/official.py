"""The quarterly and yearly report as it is sent upward (pure: no I/O): the tables of one unit, or
of a province with one row per unit and the province's total, built from figures already read.

One builder (:func:`build_report`) feeds every writer: the PDF in the official layout
(:mod:`hub.exports.official_pdf`), the workbook (:func:`hub.exports.csv_xlsx.official_xlsx`) and
the public pages (:mod:`hub.web.public`), so a figure reads the same in each. A table is generic
(:class:`ReportTable`: titled columns of a kind, rows of cells) so a writer lays out any of them
without knowing what it holds.

The letterhead (:class:`Letterhead`) follows Decree 30/2020/NĐ-CP on administrative documents:
the governing body and the issuing unit top left with the number and symbol ("Số: 12/BC-UBND"),
the national name and motto top right with the place and date, the recipients ("Nơi nhận")
bottom left, the signer's title bottom right. Its number and recipients come from whoever asks
for the report (a form, the command line), checked by :func:`letterhead`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from hailong.contract.scale import Factor
from hub.domain.channels import CHANNEL_NAMES, CHANNEL_ORDER, ChannelSplit
from hub.domain.coverage import Coverage
from hub.domain.periods import Period
from hub.domain.satisfaction import GroupSummary, satisfaction_rate, wilson_interval
from hub.domain.trends import Target, TrendRow
from hub.indices import UnitIndices
from hub.report import FACTOR_NAMES, OVERALL, ReasonLine

Kind = Literal["text", "count", "percent", "index", "points"]
Cell = str | int | float | None
Scope = Literal["unit", "province"]

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
FACTOR_SHORT = {
    Factor.ACCESS.value: "Tiếp cận dịch vụ",
    Factor.PROCEDURE.value: "Thủ tục hành chính",
    Factor.OFFICER.value: "Công chức",
    Factor.RESULT.value: "Kết quả dịch vụ",
    Factor.FEEDBACK.value: "Phản ánh, kiến nghị",
    OVERALL: "Nói chung",
}
OVERALL_ROW = "Nói chung (cung ứng dịch vụ hành chính công) / Overall"
TOTAL_VI = "Tổng"
# Decree 20/2008/NĐ-CP gives an agency 10 working days to handle a citizen's feedback (phản ánh,
# kiến nghị); a follow-up neither answered nor closed this many days after the rating is overdue.
FOLLOW_UP_DAYS = 10
MAX_RECIPIENTS = 12
KEEP_COPY = "Lưu: VT"  # Decree 30/2020: the archive copy is always the last recipient


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


# -- the letterhead --------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[0-9]{0,6}$")
_SYMBOL = re.compile(r"^BC-[A-ZĐ0-9][A-ZĐ0-9.&-]{0,30}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Letterhead:
    """What Decree 30/2020 puts around the tables. ``number`` empty: left blank for the clerk
    (văn thư) who registers the outgoing document and writes its number in by hand."""

    issuer: str  # the issuing unit, e.g. "Trung tâm Phục vụ hành chính công phường Nghĩa Tân"
    symbol: str  # "BC-TTPVHCC": the document type (BC = báo cáo) and the issuer's abbreviation
    place: str  # the place name of the date line, e.g. "Nghĩa Tân"
    day: date
    signer_title: str  # chức vụ: "GIÁM ĐỐC"; the name is left for the signer to write
    authority: str = ""  # cơ quan chủ quản (the unit above), e.g. "UBND TỈNH ĐẮK NÔNG"
    number: str = ""
    recipients: tuple[str, ...] = (KEEP_COPY,)
    signer_for: str = ""  # "TM." / "KT." (on behalf of) before the title, or nothing

    @property
    def number_line(self) -> str:
        """ "Số: 12/BC-UBND", or "Số:      /BC-UBND" with the number left blank."""
        return f"Số: {self.number or ' ' * 6}/{self.symbol}"

    def date_line(self) -> str:
        d = self.day
        return f"{self.place}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


_PLACE = re.compile(
    r"\b(?:phường|xã|thị trấn|đặc khu|thị xã|tỉnh|thành phố)\s+(.+)$", re.IGNORECASE
)


def place_of(name: str) -> str:
    """The place of the date line from a unit's name: "… phường Nghĩa Tân" → "Nghĩa Tân";
    empty when the name holds no commune, ward or province (the caller must then give it)."""
    found = _PLACE.search(unicodedata.normalize("NFC", name))
    return found.group(1).strip() if found else ""


def _clean(text: str, what: str, limit: int, *, required: bool = True) -> str:
    value = unicodedata.normalize("NFC", text).strip()
    if _CONTROL.search(value):
        raise ValueError(f"{what}: ký tự điều khiển không hợp lệ / control characters")
    if required and not value:
        raise ValueError(f"{what}: bắt buộc / required")
    if len(value) > limit:
        raise ValueError(f"{what}: tối đa {limit} ký tự / at most {limit} characters")
    return value


def letterhead(
    *,
    issuer: str,
    symbol: str,
    place: str,
    day: date,
    signer_title: str,
    authority: str = "",
    number: str = "",
    recipients: Sequence[str] = (),
    signer_for: str = "",
) -> Letterhead:
    """A checked :class:`Letterhead`, or a :class:`ValueError` naming the field (Vietnamese
    first). Recipients are one per line; "Lưu: VT" is added last when not given."""
    number = number.strip()
    if not _NUMBER.fullmatch(number):
        raise ValueError("số: chỉ gồm chữ số, tối đa 6 / number: digits only, at most 6")
    if number and int(number) == 0:
        raise ValueError("số: phải lớn hơn 0 / number: must be above 0")
    symbol = unicodedata.normalize("NFC", symbol.strip().upper())
    if not _SYMBOL.fullmatch(symbol):
        raise ValueError(
            "ký hiệu: dạng BC-<viết tắt cơ quan>, ví dụ BC-UBND / symbol: BC-<issuer>, e.g. BC-UBND"
        )
    if signer_for.strip() not in ("", "TM.", "KT.", "Q.", "TL.", "TUQ."):
        raise ValueError("thẩm quyền ký: TM., KT., Q., TL., TUQ. hoặc để trống / signing authority")
    lines = [_clean(r, "nơi nhận / recipient", 120) for r in recipients if r.strip()]
    lines = [line.lstrip("-– ").rstrip(";.") for line in lines]
    if not any(line.startswith("Lưu") for line in lines):
        lines.append(KEEP_COPY)
    if len(lines) > MAX_RECIPIENTS:
        raise ValueError(
            f"nơi nhận: tối đa {MAX_RECIPIENTS} dòng / at most {MAX_RECIPIENTS} recipients"
        )
    return Letterhead(
        issuer=_clean(issuer, "cơ quan / issuer", 160),
        symbol=symbol,
        place=_clean(place, "địa danh / place", 60),
        day=day,
        signer_title=_clean(signer_title, "chức vụ / signer's title", 80).upper(),
        authority=_clean(authority, "cơ quan chủ quản / governing body", 160, required=False),
        number=number,
        recipients=tuple(lines),
        signer_for=signer_for.strip(),
    )


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


@dataclass(frozen=True)
class Report:
    """The report: its heading, the period and scope, and the tables in order."""

    letterhead: Letterhead
    scope: Scope
    code: str  # the unit's or the province's code
    name: str
    period: Period
    tables: tuple[ReportTable, ...]
    left_out: tuple[str, ...]  # sections without data here, said so in the notes
    notes: tuple[str, ...]

    @property
    def period_vi(self) -> str:
        return period_vi(self.period)

    @property
    def title_vi(self) -> str:
        return (
            "Kết quả đánh giá sự hài lòng của người dân, tổ chức đối với việc giải quyết "
            f"thủ tục hành chính {self.period_vi}"
        )

    def table(self, key: str) -> ReportTable | None:
        return next((t for t in self.tables if t.key == key), None)

    def filename(self, extension: str) -> str:
        return report_filename(self.scope, self.code, self.period, extension)


def report_filename(scope: Scope, code: str, period: Period, extension: str) -> str:
    """``bao-cao-unit-000.00.20.H41-2026-Q3.pdf``, ``bao-cao-province-<code>-2026.xlsx``."""
    first = period.first
    quarter = (first.month - 1) // 3 + 1
    span = f"{first.year}-Q{quarter}" if period.kind == "quarter" else str(first.year)
    return f"bao-cao-{scope}-{code}-{span}.{extension}"


def period_vi(period: Period) -> str:
    """ "Quý III năm 2026" or "năm 2026", as the title of an official report names it."""
    if period.kind == "quarter":
        return f"Quý {ROMAN[(period.first.month - 1) // 3 + 1]} năm {period.first.year}"
    return f"năm {period.first.year}"


# -- building ----------------------------------------------------------------------------------


def _pct(satisfied: int, n: int) -> float | None:
    return satisfaction_rate(satisfied, n)


def _line(name: str, n: int, satisfied: int, *extra: Cell, total: bool = False) -> Row:
    low, high = wilson_interval(satisfied, n)
    rate = _pct(satisfied, n)
    return Row(
        (name, n, satisfied, rate, low if n else None, high if n else None, *extra), total=total
    )


RATE_COLUMNS = (
    Column("Số lượt", "Ratings (n)", "count", 0.8),
    Column("Hài lòng", "Satisfied", "count", 0.8),
    Column("MĐHL (%)", "Rate (%)", "percent", 0.8),
    Column("Cận dưới 95 %", "CI low", "percent", 0.8),
    Column("Cận trên 95 %", "CI high", "percent", 0.8),
)


def _sum_factors(units: Sequence[UnitFigures]) -> dict[str, tuple[int, int]]:
    total: Counter[tuple[str, bool]] = Counter()
    for unit in units:
        for line in unit.factors:
            key = line.key or ""
            total[(key, False)] += line.n
            total[(key, True)] += line.satisfied
    keys = [f.value for f in Factor] + [OVERALL]
    return {k: (total[(k, False)], total[(k, True)]) for k in keys}


def _overall(unit: UnitFigures) -> tuple[int, int]:
    line = next((f for f in unit.factors if f.key == OVERALL), None)
    return (line.n, line.satisfied) if line else (0, 0)


def summary_table(units: Sequence[UnitFigures], total: UnitFigures | None) -> ReportTable:
    """The headline: MĐHL with its interval against the target, per unit (and the province)."""
    columns = (
        Column("Đơn vị", "Unit", "text", 2.6),
        *RATE_COLUMNS,
        Column("Chỉ tiêu (%)", "Target (%)", "percent", 0.8),
        Column("Kết quả", "Verdict", "text", 0.9),
    )
    rows = []
    for unit in (*units, *((total,) if total else ())):
        n, ok = _overall(unit)
        target = unit.target.rate
        rate = _pct(ok, n)
        verdict = (
            "—" if rate is None or target is None else ("Đạt" if rate >= target else "Chưa đạt")
        )
        rows.append(_line(unit.name, n, ok, target, verdict, total=unit is total))
    return ReportTable(
        "summary",
        "Kết quả chung và chỉ tiêu",
        "Overall result and target",
        columns,
        tuple(rows),
        note="MĐHL = số lượt “Hài lòng” và “Rất hài lòng” / tổng số lượt; khoảng tin cậy 95 % Wilson.",
    )


def factor_table(name: str, figures: Mapping[str, tuple[int, int]]) -> ReportTable:
    """The SIPAS table (seed 000's layout): the five factors, then the "nói chung" row."""
    rows = [_line(FACTOR_NAMES[f.value], *figures.get(f.value, (0, 0))) for f in Factor]
    rows.append(_line(OVERALL_ROW, *figures.get(OVERALL, (0, 0)), total=True))
    return ReportTable(
        "factors",
        f"MĐHL theo yếu tố SIPAS – {name}",
        "Satisfaction by SIPAS factor",
        (Column("Yếu tố", "Factor", "text", 3.0), *RATE_COLUMNS),
        tuple(rows),
        note="Năm yếu tố theo câu hỏi khảo sát; dòng “nói chung” theo mặt cười của mỗi lượt "
        "đánh giá. Yếu tố chưa ai trả lời: n = 0.",
    )


def factors_by_unit(units: Sequence[UnitFigures], total: UnitFigures) -> ReportTable:
    """The province's comparison: one row per unit, MĐHL (%) per factor and "nói chung"."""
    keys = [f.value for f in Factor] + [OVERALL]
    columns = (
        Column("Đơn vị", "Unit", "text", 2.4),
        Column("Số lượt", "n", "count", 0.7),
        *(Column(FACTOR_SHORT[k], "%", "percent", 0.9) for k in keys),
    )
    rows = []
    for unit in (*units, total):
        by = {f.key: f for f in unit.factors}
        cells: list[Cell] = [unit.name, _overall(unit)[0]]
        for key in keys:
            line = by.get(key)
            cells.append(None if line is None else line.rate)
        rows.append(Row(tuple(cells), total=unit is total))
    return ReportTable(
        "factors_by_unit",
        "MĐHL theo yếu tố, theo đơn vị",
        "Satisfaction by factor, per unit",
        columns,
        tuple(rows),
        note="Số lượt: tổng số lượt đánh giá (dòng “nói chung”).",
    )


def field_table(units: Sequence[UnitFigures]) -> ReportTable:
    """Every field of the catalogue(s), rated or not (n = 0), then any other rated field."""
    names: dict[str, str] = {}
    for unit in units:
        for code, name in unit.catalogue_fields.items():
            names.setdefault(code, name)
    totals: dict[str | None, list[int]] = {code: [0, 0] for code in names}
    for unit in units:
        for line in unit.fields:
            got = totals.setdefault(line.key, [0, 0])
            got[0] += line.n
            got[1] += line.satisfied
            if line.key is not None:
                names.setdefault(line.key, line.name)
    rows = [
        Row(
            (code or "", names.get(code or "", "(không rõ / unknown)"), *_line("", n, ok).cells[1:])
        )
        for code, (n, ok) in totals.items()
    ]
    return ReportTable(
        "fields",
        "MĐHL theo lĩnh vực",
        "Satisfaction by field",
        (
            Column("Mã", "Code", "text", 1.0),
            Column("Lĩnh vực", "Field", "text", 2.4),
            *RATE_COLUMNS,
        ),
        tuple(rows),
        note="Mọi lĩnh vực trong danh mục, kể cả lĩnh vực chưa có lượt đánh giá (n = 0).",
    )


def reason_table(units: Sequence[UnitFigures]) -> ReportTable:
    """Reasons for dissatisfaction ranked within each factor, the factors in the survey's order."""
    counted: Counter[str] = Counter()
    known: dict[str, ReasonLine] = {}
    for unit in units:
        for line in unit.reasons:
            counted[line.code] += line.n
            known.setdefault(line.code, line)
    order = {f: i for i, f in enumerate(Factor)}
    rows: list[Row] = []
    groups: dict[Factor | None, list[tuple[str, int]]] = {}
    for code, n in counted.items():
        groups.setdefault(known[code].factor, []).append((code, n))
    for factor in sorted(groups, key=lambda f: len(order) if f is None else order[f]):
        lines = sorted(groups[factor], key=lambda item: (-item[1], item[0]))
        in_factor = sum(n for _, n in lines)
        label = FACTOR_SHORT[factor.value] if factor else "(khác / other)"
        for rank, (code, n) in enumerate(lines, start=1):
            share = 100.0 * n / in_factor if in_factor else None
            rows.append(Row((label, rank, code, known[code].name, n, share)))
    return ReportTable(
        "reasons",
        "Lý do chưa hài lòng, xếp hạng theo yếu tố",
        "Reasons for dissatisfaction, ranked by factor",
        (
            Column("Yếu tố", "Factor", "text", 1.5),
            Column("Hạng", "Rank", "count", 0.6),
            Column("Mã", "Code", "text", 1.5),
            Column("Lý do", "Reason", "text", 2.4),
            Column("Số lượt", "Cited", "count", 0.7),
            Column("Tỷ lệ trong yếu tố (%)", "Share in factor (%)", "percent", 0.9),
        ),
        tuple(rows),
        note="Một lượt đánh giá có thể nêu nhiều lý do.",
    )


def follow_up_table(units: Sequence[UnitFigures], total: UnitFigures | None) -> ReportTable:
    rows = []
    for unit in (*units, *((total,) if total else ())):
        f = unit.follow_ups
        rows.append(Row((unit.name, f.received, f.answered, f.closed, f.overdue), unit is total))
    return ReportTable(
        "follow_ups",
        "Tiếp nhận, xử lý phản ánh (lượt chưa hài lòng)",
        "Follow-up of dissatisfied ratings",
        (
            Column("Đơn vị", "Unit", "text", 2.6),
            Column("Tiếp nhận", "Received", "count", 0.8),
            Column("Đã trả lời", "Answered", "count", 0.8),
            Column("Đã đóng", "Closed", "count", 0.8),
            Column("Quá hạn", "Overdue", "count", 0.8),
        ),
        tuple(rows),
        note=f"Quá hạn: chưa trả lời, chưa đóng sau {FOLLOW_UP_DAYS} ngày kể từ lượt đánh giá "
        "(tính đến ngày lập báo cáo).",
    )


def coverage_table(units: Sequence[UnitFigures], total: UnitFigures | None) -> ReportTable:
    rows = []
    for unit in (*units, *((total,) if total else ())):
        c = unit.coverage
        if c is None:
            continue
        rows.append(
            Row((unit.name, c.issued, c.rated, c.abandoned, c.not_reached, c.rate), unit is total)
        )
    return ReportTable(
        "coverage",
        "Tỷ lệ phản hồi (biên nhận được đánh giá)",
        "Response: receipts rated",
        (
            Column("Đơn vị", "Unit", "text", 2.6),
            Column("Biên nhận", "Receipts", "count", 0.8),
            Column("Đã đánh giá", "Rated", "count", 0.8),
            Column("Bỏ dở", "Abandoned", "count", 0.9),
            Column("Chưa đánh giá", "Not reached", "count", 0.8),
            Column("Phản hồi (%)", "Response (%)", "percent", 0.8),
        ),
        tuple(rows),
        note="Phản hồi = biên nhận cấp trong kỳ đã được đánh giá / số biên nhận cấp trong kỳ.",
    )


def channel_table(units: Sequence[UnitFigures], total: UnitFigures | None) -> ReportTable:
    """How many of the counted ratings came from each channel (Decree 61, Article 29: the
    device, paper forms and online rating are channels of one system), the assisted ones apart,
    per unit; a province's total is the units' sum. The last column is the summary's n."""
    rows: list[Row] = []
    sums = [0] * (len(CHANNEL_ORDER) + 2)
    for unit in units:
        split = unit.channels
        if split is None:
            continue
        counts = [split.n_of(c.value) for c in CHANNEL_ORDER]
        counts += [split.assisted.n, split.total.n]
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        rows.append(Row((unit.name, *counts)))
    if total is not None:
        rows.append(Row((total.name, *sums), total=True))
    return ReportTable(
        "channels",
        "Kênh đánh giá",
        "Rating channels",
        (
            Column("Đơn vị", "Unit", "text", 2.6),
            *(Column(*CHANNEL_NAMES[c.value], "count", 0.75) for c in CHANNEL_ORDER),
            Column("Trong đó có hỗ trợ", "Of which assisted", "count", 0.8),
            Column("Tổng", "Total", "count", 0.75),
        ),
        tuple(rows),
        note="Mọi kênh được tính chung vào MĐHL. Có hỗ trợ: cán bộ, tình nguyện viên giúp người "
        "dân đánh giá (Nghị định 61/2018, Điều 29), đã tính trong kênh của lượt đó.",
        # Per unit and period, a handful of assisted ratings could point at who was helped.
        public=False,
    )


def _dec(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def indices_table(units: Sequence[UnitFigures]) -> ReportTable:
    rows = []
    for unit in units:
        found = unit.indices
        if found is None:
            continue
        index, ratio = found.index, found.ratio_766
        band = index.band.label_vi if index.band else "—"
        rows.append(
            Row(
                (
                    unit.name,
                    index.dossiers,
                    _dec(index.index),
                    index.max_available,
                    _dec(index.scaled),
                    band,
                    _dec(ratio.percent),
                )
            )
        )
    return ReportTable(
        "indices",
        "Chỉ số đánh giá của đơn vị (Thông tư 01/2018/TT-VPCP) và tỷ lệ theo Quyết định 766",
        "Official unit index and the Decision 766 ratio",
        (
            Column("Đơn vị", "Unit", "text", 2.4),
            Column("Số hồ sơ", "Dossiers", "count", 0.7),
            Column("Chỉ số", "Index", "index", 0.6),
            Column("Tối đa có dữ liệu", "Max with data", "count", 0.8),
            Column("Quy đổi /18", "Scaled /18", "index", 0.7),
            Column("Xếp loại", "Band", "text", 0.9),
            Column("Tỷ lệ 766 (%)", "766 ratio (%)", "percent", 0.8),
        ),
        tuple(rows),
        note="Chỉ tiêu không có dữ liệu được loại khỏi chỉ số; xếp loại theo điểm quy đổi "
        "(docs/indices.md).",
    )


def officer_table(unit: UnitFigures) -> ReportTable:
    rows = []
    for result in unit.indices.officers if unit.indices else ():
        name = unit.officer_names.get(result.subject, result.subject)
        band = result.band.label_vi if result.band else "—"
        rows.append(Row((name, result.dossiers, _dec(result.index), _dec(result.scaled), band)))
    return ReportTable(
        "officers",
        "Chỉ số đánh giá của cán bộ, công chức",
        "Officers' indices",
        (
            Column("Cán bộ, công chức", "Officer", "text", 2.4),
            Column("Số hồ sơ", "Dossiers", "count", 0.7),
            Column("Chỉ số", "Index", "index", 0.6),
            Column("Quy đổi /10", "Scaled /10", "index", 0.7),
            Column("Mức hoàn thành", "Band", "text", 2.0),
        ),
        tuple(rows),
        public=False,  # feeds the officers' appraisal (Decree 61, Art. 32): not for the public page
    )


def trend_table(period: Period, rows_of: Sequence[TrendRow]) -> ReportTable:
    """Quarter by quarter of the report's year up to its period, against the year before."""
    last = 4 if period.kind == "year" else (period.first.month - 1) // 3 + 1
    rows = []
    for row in rows_of[:last]:
        quarter = ROMAN[(row.first.month - 1) // 3 + 1]
        rows.append(
            Row(
                (
                    f"Quý {quarter}/{row.first.year}",
                    row.now.n,
                    row.now.rate,
                    row.year_before.n,
                    row.year_before.rate,
                    row.change,
                )
            )
        )
    return ReportTable(
        "trend",
        "Diễn biến theo quý, so với cùng kỳ năm trước",
        "Quarter by quarter, against the same quarter last year",
        (
            Column("Kỳ", "Period", "text", 1.4),
            Column("Số lượt", "n", "count", 0.8),
            Column("MĐHL (%)", "Satisfaction (%)", "percent", 0.9),
            Column("Cùng kỳ: số lượt", "Last year: n", "count", 0.9),
            Column("Cùng kỳ: MĐHL (%)", "Last year (%)", "percent", 0.9),
            Column("Tăng, giảm (điểm %)", "Change (points)", "points", 0.9),
        ),
        tuple(rows),
    )


def build_report(
    head: Letterhead,
    scope: Scope,
    code: str,
    name: str,
    period: Period,
    units: Sequence[UnitFigures],
    *,
    trend: Sequence[TrendRow] = (),
    province_target: Target | None = None,
    left_out: Sequence[str] = (),
) -> Report:
    """The report's tables for one unit (``units`` holds it alone) or a province (one row per
    unit, then the total). ``trend`` is :func:`hub.domain.trends.quarter_rows` of the year over
    every unit; ``left_out`` names the sections the hub could not fill (said in the notes)."""
    if scope == "unit" and len(units) != 1:
        raise ValueError("a unit's report holds exactly one unit")
    total: UnitFigures | None = None
    if scope == "province":
        sums = _sum_factors(units)
        factors = [
            GroupSummary(k, FACTOR_NAMES.get(k, k), n, ok, _pct(ok, n), *wilson_interval(ok, n))
            for k, (n, ok) in sums.items()
        ]
        follow = FollowUpFigures()
        for unit in units:
            follow += unit.follow_ups
        coverage = None
        if all(u.coverage is not None for u in units) and units:
            issued = sum(u.coverage.issued for u in units if u.coverage)
            rated = sum(u.coverage.rated for u in units if u.coverage)
            abandoned = sum(u.coverage.abandoned for u in units if u.coverage)
            low, high = wilson_interval(rated, issued)
            coverage = Coverage(
                code, name, issued, rated, abandoned, _pct(rated, issued), low, high
            )
        total = UnitFigures(
            code=code,
            name=f"{TOTAL_VI}: {name}",
            factors=factors,
            fields=(),
            catalogue_fields={},
            reasons=(),
            follow_ups=follow,
            target=province_target or Target(None, None, None),
            coverage=coverage,
        )
    figures = total if total is not None else units[0]
    tables = [summary_table(units, total)]
    tables.append(factor_table(name, dict(_factor_pairs(figures.factors))))
    if scope == "province" and total is not None:
        tables.append(factors_by_unit(units, total))
    tables += [field_table(units), reason_table(units), follow_up_table(units, total)]
    left = list(left_out)
    if all(u.coverage is not None for u in units):
        tables.append(coverage_table(units, total))
    if units and all(u.channels is not None for u in units):
        tables.append(channel_table(units, total))
    if any(u.indices is not None for u in units):
        tables.append(indices_table(units))
        if scope == "unit":
            tables.append(officer_table(units[0]))
    if trend:
        tables.append(trend_table(period, trend))
    notes = (
        "Số liệu lấy từ hệ thống đánh giá Hài Lòng (kiosk, nút bấm, trực tuyến, phiếu giấy); "
        "không chứa thông tin cá nhân của người đánh giá.",
        *(f"Chưa có số liệu: {what}." for what in left),
    )
    return Report(head, scope, code, name, period, tuple(tables), tuple(left), notes)


def _factor_pairs(lines: Sequence[GroupSummary]) -> list[tuple[str, tuple[int, int]]]:
    return [(line.key or "", (line.n, line.satisfied)) for line in lines]
