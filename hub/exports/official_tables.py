"""The official report's tables, one builder each (pure: no I/O), from the units' figures
(:class:`hub.exports.official_model.UnitFigures`); :func:`hub.exports.official.build_report` picks
and orders them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal

from hailong.contract.scale import Factor
from hub.domain.channels import CHANNEL_NAMES, CHANNEL_ORDER
from hub.domain.periods import Period
from hub.domain.satisfaction import satisfaction_rate, wilson_interval
from hub.domain.trends import TrendRow
from hub.exports.official_model import (
    FOLLOW_UP_DAYS,
    ROMAN,
    Cell,
    Column,
    ReportTable,
    Row,
    UnitFigures,
)
from hub.report import FACTOR_NAMES, OVERALL, ReasonLine

FACTOR_SHORT = {
    Factor.ACCESS.value: "Tiếp cận dịch vụ",
    Factor.PROCEDURE.value: "Thủ tục hành chính",
    Factor.OFFICER.value: "Công chức",
    Factor.RESULT.value: "Kết quả dịch vụ",
    Factor.FEEDBACK.value: "Phản ánh, kiến nghị",
    OVERALL: "Nói chung",
}
OVERALL_ROW = "Nói chung (cung ứng dịch vụ hành chính công) / Overall"


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
