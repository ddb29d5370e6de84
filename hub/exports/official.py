"""The quarterly and yearly report as it is sent upward (pure: no I/O): the tables of one unit, or
of a province with one row per unit and the province's total, built from figures already read.

One builder (:func:`build_report`) feeds every writer: the PDF in the official layout
(:mod:`hub.exports.official_pdf`), the workbook (:func:`hub.exports.csv_xlsx.official_xlsx`) and
the public pages (:mod:`hub.web.public`), so a figure reads the same in each. A table is generic
(:class:`ReportTable`: titled columns of a kind, rows of cells) so a writer lays out any of them
without knowing what it holds. The table and the figures live in :mod:`hub.exports.official_model`
(re-exported here), one builder per table in :mod:`hub.exports.official_tables`.

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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from hailong.contract.scale import Factor
from hub.domain.coverage import Coverage
from hub.domain.periods import Period
from hub.domain.satisfaction import GroupSummary, satisfaction_rate, wilson_interval
from hub.domain.trends import Target, TrendRow
from hub.exports.official_model import (
    FOLLOW_UP_DAYS,
    ROMAN,
    FollowUpFigures,
    ReportTable,
    UnitFigures,
    cell_text,
)
from hub.exports.official_tables import (
    channel_table,
    coverage_table,
    factor_table,
    factors_by_unit,
    field_table,
    follow_up_table,
    indices_table,
    officer_table,
    reason_table,
    summary_table,
    trend_table,
)
from hub.report import FACTOR_NAMES, OVERALL

# The model is imported by the writers and the gatherer from here, the report's one entry point.
__all__ = [
    "FOLLOW_UP_DAYS",
    "FollowUpFigures",
    "Letterhead",
    "Report",
    "ReportTable",
    "Scope",
    "UnitFigures",
    "build_report",
    "cell_text",
    "letterhead",
    "period_vi",
    "place_of",
    "report_filename",
]

Scope = Literal["unit", "province"]

TOTAL_VI = "Tổng"
MAX_RECIPIENTS = 12
KEEP_COPY = "Lưu: VT"  # Decree 30/2020: the archive copy is always the last recipient


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


# -- the report -----------------------------------------------------------------------------------


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


def _sum_factors(units: Sequence[UnitFigures]) -> dict[str, tuple[int, int]]:
    total: Counter[tuple[str, bool]] = Counter()
    for unit in units:
        for line in unit.factors:
            key = line.key or ""
            total[(key, False)] += line.n
            total[(key, True)] += line.satisfied
    keys = [f.value for f in Factor] + [OVERALL]
    return {k: (total[(k, False)], total[(k, True)]) for k in keys}


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
            GroupSummary(
                k, FACTOR_NAMES.get(k, k), n, ok, satisfaction_rate(ok, n), *wilson_interval(ok, n)
            )
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
                code, name, issued, rated, abandoned, satisfaction_rate(rated, issued), low, high
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
