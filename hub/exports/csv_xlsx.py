"""An :class:`~hub.exports.tables.Export` as CSV and as an Excel workbook (XLSX).

The CSV is one plain table (every breakdown, one row per group, a first column naming the
breakdown) for other programs; it starts with a UTF-8 byte order mark, without which Excel reads
the file in the Windows code page and mangles every Vietnamese letter. Numbers use a decimal point.

The workbook is for people: one sheet per breakdown, each with a title block (unit, period,
overall MĐHL against the target), a bold frozen header, column widths, number formats, a filter,
the rows needing attention shaded as on the dashboard, and the notes on method underneath.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from hub.exports.official import Report, ReportTable
from hub.exports.tables import BREAKDOWN_COLUMN, COLUMNS, FOOTNOTES, SHORT, Export, Table

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
NO_RATINGS = "Chưa có đánh giá trong kỳ / No ratings in this period"

NUMBER_FORMATS = {"count": "#,##0", "percent": "0.0", "text": "@"}
HEADER_FILL = PatternFill("solid", start_color="1A237E", end_color="1A237E")
ATTENTION_FILL = PatternFill("solid", start_color="FFF3E0", end_color="FFF3E0")
THIN = Side(style="thin", color="B0BEC5")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_ROW = 6  # below the title block


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def to_csv(export: Export) -> bytes:
    """Header, then every table's rows; percentages with one decimal, as on the dashboard."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([BREAKDOWN_COLUMN.heading, *(c.heading for c in COLUMNS)])
    for table in export.tables:
        breakdown = " / ".join(SHORT[table.dimension])
        for row in table.rows:
            key, name, n, satisfied, rate, low, high, note = row.values()
            writer.writerow(
                [
                    breakdown,
                    key,
                    name,
                    n,
                    satisfied,
                    _percent(rate),
                    _percent(low),
                    _percent(high),
                    note,
                ]
            )
    return (BOM + out.getvalue()).encode("utf-8")


def to_xlsx(export: Export) -> bytes:
    workbook = Workbook()
    first = workbook.active
    assert first is not None  # a new workbook always has one sheet
    workbook.remove(first)
    for table in export.tables:
        _sheet(workbook.create_sheet(_sheet_name(table)), export, table)
    if not export.tables:  # nothing the reader may see: still a valid workbook that says so
        _sheet(workbook.create_sheet("MĐHL"), export, None)
    vi, en = export.period_title
    workbook.properties.title = f"MĐHL {export.unit_name} – {vi} / {en}"
    workbook.properties.creator = "Hài Lòng"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_name(table: Table) -> str:
    vi, en = SHORT[table.dimension]
    return f"{vi} - {en}"[:31]  # Excel's limit; "/" is not allowed in a sheet name


def _sheet(sheet: Worksheet, export: Export, table: Table | None) -> None:
    title = table.heading if table else "MĐHL / Satisfaction"
    sheet.append([title])
    sheet.append([f"{export.unit_name} ({export.unit_code})"])
    sheet.append([export.period_line])
    sheet.append([export.overall.sentence()])
    sheet.append([])
    sheet["A1"].font = Font(bold=True, size=14, color="1A237E")
    sheet["A2"].font = Font(bold=True)
    verdict = export.overall.meets_target
    sheet["A4"].font = Font(bold=True, color="2E7D32" if verdict else "B71C1C")

    sheet.append([c.heading for c in COLUMNS])
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = GRID
    sheet.row_dimensions[HEADER_ROW].height = 32
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width

    rows = table.rows if table else ()
    for row in rows:
        sheet.append(list(row.values()))
        for column, cell in zip(COLUMNS, sheet[sheet.max_row], strict=True):
            cell.number_format = NUMBER_FORMATS[column.kind]
            cell.border = GRID
            if column.kind == "text":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if row.needs_attention:
                cell.fill = ATTENTION_FILL
    if rows:
        last = get_column_letter(len(COLUMNS))
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{sheet.max_row}"
    else:
        sheet.append([NO_RATINGS])
    _notes(sheet, FOOTNOTES)

    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    if sheet.sheet_properties.pageSetUpPr is not None:
        sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _notes(sheet: Worksheet, notes: Sequence[str]) -> None:
    sheet.append([])
    for note in notes:
        sheet.append([note])
        sheet.cell(sheet.max_row, 1).font = Font(italic=True, size=9, color="546E7A")


# -- the quarterly and yearly report sent upward (hub.exports.official) -----------------------------

OFFICIAL_FORMATS = {
    "count": "#,##0",
    "percent": "0.0",
    "index": "0.0",
    "points": "+0.0;-0.0;0.0",
    "text": "@",
}
TOTAL_FILL = PatternFill("solid", start_color="E8EAF6", end_color="E8EAF6")
OFFICIAL_HEADER_ROW = 5


def official_xlsx(report: Report) -> bytes:
    """The report's tables, one sheet each in the PDF's order, with the same numbers (stored
    unrounded; the format shows one decimal): a title block (the unit, "Số", the period), a bold
    header and the total rows ("Nói chung", the province) in bold. A first sheet holds the
    letterhead and the notes."""
    workbook = Workbook()
    cover = workbook.active
    assert cover is not None  # a new workbook always has one sheet
    cover.title = "Báo cáo"
    head = report.letterhead
    for line in (
        head.authority,
        head.issuer.upper(),
        head.number_line,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        head.date_line(),
        "",
        "BÁO CÁO",
        report.title_vi,
        "",
        *(f"{index}. {t.title_vi} / {t.title_en}" for index, t in enumerate(report.tables, 1)),
        "",
        "Ghi chú / Notes",
        *report.notes,
        "",
        "Nơi nhận:",
        *(f"- {r}" for r in head.recipients),
        "",
        f"{head.signer_for} {head.signer_title}".strip(),
    ):
        cover.append([line])
    cover.column_dimensions["A"].width = 100
    for cell in (cover["A2"], cover["A8"], cover["A9"]):
        cell.font = Font(bold=True)
    for index, table in enumerate(report.tables, start=1):
        _official_sheet(workbook.create_sheet(f"{index}. {table.key}"[:31]), report, table)
    workbook.properties.title = f"Báo cáo {report.title_vi}"
    workbook.properties.creator = "Hài Lòng"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _official_sheet(sheet: Worksheet, report: Report, table: ReportTable) -> None:
    sheet.append([table.title])
    sheet.append([f"{report.name} ({report.code})"])
    sheet.append([f"{report.letterhead.number_line} – {report.period_vi}"])
    sheet.append([])
    sheet["A1"].font = Font(bold=True, size=13, color="1A237E")
    sheet.append([c.heading for c in table.columns])
    for cell in sheet[OFFICIAL_HEADER_ROW]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = GRID
    sheet.row_dimensions[OFFICIAL_HEADER_ROW].height = 44
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, 12 * column.width)
    for row in table.rows:
        sheet.append(list(row.cells))
        for column, cell in zip(table.columns, sheet[sheet.max_row], strict=True):
            cell.number_format = OFFICIAL_FORMATS[column.kind]
            cell.border = GRID
            if row.total:
                cell.font = Font(bold=True)
                cell.fill = TOTAL_FILL
    if not table.rows:
        sheet.append(["Không có số liệu trong kỳ / Nothing in this period"])
    if table.note:
        _notes(sheet, (table.note,))
    sheet.freeze_panes = f"A{OFFICIAL_HEADER_ROW + 1}"
    sheet.page_setup.orientation = "landscape"
