"""The quarterly and yearly report (:class:`hub.exports.official.Report`) as a PDF in the layout of
Decree 30/2020/NĐ-CP on administrative documents (Phụ lục I):

* top left, the governing body (cơ quan chủ quản) in capitals, the issuing unit in bold capitals
  with a short rule under it, then "Số: 12/BC-…" (blank when the clerk numbers it by hand);
* top right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and "Độc lập - Tự do - Hạnh phúc" in bold with a
  rule under the motto, then the place and date in italics;
* the type "BÁO CÁO" and the summary line (trích yếu) centred in bold, a short rule under them;
* the body: the parts numbered I, II, …, one per table;
* bottom left "Nơi nhận:" in bold italics with one "- …;" line per recipient, "- Lưu: VT." last;
  bottom right the signer's title (with TM./KT. when signing for someone) in bold capitals and room
  for the signature, seal and name.

Fonts, their embedding and the NFC rule are :mod:`hub.exports.pdf`'s.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable

from hub.exports.gather import Progress
from hub.exports.official import Letterhead, Report, ReportTable, cell_text
from hub.exports.pdf import (
    FONT_BOLD,
    FONT_ITALIC,
    GREY,
    LIGHT,
    MEDIA_TYPE,
    _build_lock,
    _footer,
    _nfc,
    _style,
    _text,
    register_fonts,
)

__all__ = ["MEDIA_TYPE", "report_pdf"]

PAGE_WIDTH, _ = A4
LEFT_MARGIN, RIGHT_MARGIN = 25 * mm, 15 * mm  # Decree 30: 30–35 mm left, 15–20 mm right; A4 tables
WIDTH = PAGE_WIDTH - LEFT_MARGIN - RIGHT_MARGIN
GRID = colors.HexColor("#90A4AE")

HEAD = _style("o-head", 11.5, alignment=TA_CENTER, leading=14)
HEAD_BOLD = _style("o-head-bold", 11.5, fontName=FONT_BOLD, alignment=TA_CENTER, leading=14)
NATION = _style("o-nation", 11.5, fontName=FONT_BOLD, alignment=TA_CENTER, leading=14)
MOTTO = _style("o-motto", 12.5, fontName=FONT_BOLD, alignment=TA_CENTER, leading=15)
DATE = _style("o-date", 12, fontName=FONT_ITALIC, alignment=TA_CENTER)
NUMBER = _style("o-number", 12, alignment=TA_CENTER)
KIND = _style("o-kind", 14, fontName=FONT_BOLD, alignment=TA_CENTER, spaceBefore=8 * mm)
SUMMARY = _style("o-summary", 13, fontName=FONT_BOLD, alignment=TA_CENTER, leading=17)
BODY = _style("o-body", 11.5, alignment=TA_JUSTIFY, leading=15, firstLineIndent=10 * mm)
PART = _style("o-part", 12, fontName=FONT_BOLD, spaceBefore=5 * mm, spaceAfter=2 * mm)
HEAD_CELL = _style("o-cell-head", 7.5, fontName=FONT_BOLD, alignment=TA_CENTER, leading=9)
TEXT_CELL = _style("o-cell", 8, leading=10)
TEXT_CELL_BOLD = _style("o-cell-bold", 8, fontName=FONT_BOLD, leading=10)
NUMBER_CELL = _style("o-cell-number", 8, alignment=TA_RIGHT, leading=10)
NUMBER_CELL_BOLD = _style(
    "o-cell-number-bold", 8, fontName=FONT_BOLD, alignment=TA_RIGHT, leading=10
)
NOTE = _style("o-note", 8, fontName=FONT_ITALIC, textColor=GREY, leading=10)
TO_HEAD = _style("o-to-head", 11, fontName=FONT_BOLD, leading=14)
TO_LINE = _style("o-to", 10.5, leading=13, alignment=TA_LEFT)
SIGNER = _style("o-signer", 12.5, fontName=FONT_BOLD, alignment=TA_CENTER, leading=15)
SIGN_HINT = _style("o-sign-hint", 9, fontName=FONT_ITALIC, alignment=TA_CENTER, textColor=GREY)


def report_pdf(report: Report, progress: Progress | None = None) -> bytes:
    """The report as PDF bytes; ``progress`` hears 65–99 % while it is laid out."""
    tell: Progress = progress or (lambda _percent, _stage: None)
    register_fonts()
    tell(65, "Đang dàn trang / Laying out the pages")
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=LEFT_MARGIN,
        rightMargin=RIGHT_MARGIN,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=_nfc(f"Báo cáo {report.title_vi}"),
        author=_nfc(report.letterhead.issuer),
        subject=_nfc(report.title_vi),
        creator="Hài Lòng",
    )
    footer = _footer(f"{report.letterhead.issuer} · {report.letterhead.number_line}")
    story = _story(report)
    with _build_lock:
        document.build(story, onFirstPage=footer, onLaterPages=footer)
    tell(99, "Đang hoàn tất tệp PDF / Finishing the PDF")
    return out.getvalue()


def _rule(width: float) -> HRFlowable:
    return HRFlowable(width=width, thickness=0.7, color=colors.black, spaceBefore=7, spaceAfter=3)


def heading(head: Letterhead) -> Table:
    """The two heading columns of Decree 30's first lines."""
    left: list[Flowable] = []
    if head.authority:
        left.append(Paragraph(_text(head.authority.upper()), HEAD))
    left += [
        Paragraph(_text(head.issuer.upper()), HEAD_BOLD),
        _rule(28 * mm),
        Paragraph(_text(head.number_line), NUMBER),
    ]
    right: list[Flowable] = [
        Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", NATION),
        Paragraph(_text("Độc lập - Tự do - Hạnh phúc"), MOTTO),
        _rule(60 * mm),
        Spacer(0, 2 * mm),
        Paragraph(_text(head.date_line()), DATE),
    ]
    table = Table([[left, right]], colWidths=[WIDTH * 0.42, WIDTH * 0.58])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),  # the rules under the names, centred
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _story(report: Report) -> list[Flowable]:
    first, last = report.period.first, report.period.last
    story: list[Flowable] = [
        heading(report.letterhead),
        Paragraph("BÁO CÁO", KIND),
        Paragraph(_text(report.title_vi), SUMMARY),
        _rule(40 * mm),
        Spacer(0, 3 * mm),
        Paragraph(
            _text(
                f"{report.letterhead.issuer} báo cáo kết quả đánh giá sự hài lòng của người dân, "
                f"tổ chức {report.period_vi} (từ ngày {first:%d/%m/%Y} đến ngày "
                f"{last:%d/%m/%Y}) như sau:"
            ),
            BODY,
        ),
    ]
    for number, table in enumerate(report.tables, start=1):
        title = Paragraph(_text(f"{_roman(number)}. {table.title_vi}"), PART)
        english = Paragraph(_text(table.title_en), NOTE)
        parts: list[Flowable] = [title, english, Spacer(0, 1 * mm), pdf_table(table)]
        if table.note:
            parts.append(Paragraph(_text(table.note), NOTE))
        story.append(KeepTogether(parts))
    story.append(Paragraph("Ghi chú / Notes", PART))
    story += [Paragraph(_text(f"– {note}"), NOTE) for note in report.notes]
    story += [Spacer(0, 6 * mm), KeepTogether([closing(report.letterhead)])]
    return story


def _roman(number: int) -> str:
    values = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in values:
        while number >= value:
            out += letters
            number -= value
    return out


def pdf_table(table: ReportTable) -> Table:
    """A report table: a two-language header, numbers right-aligned, total rows in bold."""
    header = [
        Paragraph(
            f"{_text(c.heading_vi)}<br/><font size='6.5' color='#546E7A'>{_text(c.heading_en)}</font>",
            HEAD_CELL,
        )
        for c in table.columns
    ]
    data: list[list[Any]] = [header]
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for index, row in enumerate(table.rows, start=1):
        cells = []
        for column, value in zip(table.columns, row.cells, strict=True):
            text = _text(cell_text(column.kind, value))
            if column.kind == "text":
                cells.append(Paragraph(text, TEXT_CELL_BOLD if row.total else TEXT_CELL))
            else:
                cells.append(Paragraph(text, NUMBER_CELL_BOLD if row.total else NUMBER_CELL))
        data.append(cells)
        if row.total:
            style.append(("BACKGROUND", (0, index), (-1, index), colors.HexColor("#E8EAF6")))
    if not table.rows:
        data.append(
            [Paragraph(_text("Không có số liệu trong kỳ / Nothing in this period"), TEXT_CELL)]
            + [""] * (len(table.columns) - 1)
        )
        style.append(("SPAN", (0, 1), (-1, 1)))
    share = sum(c.width for c in table.columns)
    widths = [WIDTH * c.width / share for c in table.columns]
    pdf = Table(data, colWidths=widths, repeatRows=1)
    pdf.setStyle(TableStyle(style))
    return pdf


def closing(head: Letterhead) -> Table:
    """ "Nơi nhận" bottom left, the signer bottom right (the name left for the signer)."""
    lines = list(head.recipients)
    to: list[Flowable] = [Paragraph("<i>Nơi nhận:</i>", TO_HEAD)]
    for index, line in enumerate(lines):
        end = "." if index == len(lines) - 1 else ";"
        to.append(Paragraph(_text(f"- {line}{end}"), TO_LINE))
    title = f"{head.signer_for} {head.signer_title}".strip()
    sign: list[Flowable] = [
        Paragraph(_text(title), SIGNER),
        Paragraph(_text("(Ký, ghi rõ họ tên, đóng dấu)"), SIGN_HINT),
        Spacer(0, 24 * mm),
    ]
    table = Table([[to, sign]], colWidths=[WIDTH * 0.5, WIDTH * 0.5])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table
