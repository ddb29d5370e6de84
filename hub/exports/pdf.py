"""The quarterly report as a PDF, the kind a unit sends to the district's Home Affairs office
(Phòng Nội vụ) and on to the province: the administrative heading, the title, the unit and the
quarter, the overall MĐHL against the target and the change since the quarter before, a chart of
the five levels, a chart per counter, the four tables and the notes on method.

Text is set in DejaVu Sans, the font the receipt slips are drawn with (complete Vietnamese
coverage, :data:`hub.receipts.slip.FONT_DIR`), embedded in the file so that every reader shows the
tone marks. Strings are NFC-normalised so every letter with its marks is one precomposed glyph.
"""

from __future__ import annotations

import io
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from hailong.contract.scale import Score
from hub.exports.gather import Progress, Quarterly
from hub.exports.tables import FOOTNOTES, Overall, Row, period_title
from hub.exports.tables import Table as ExportTable
from hub.receipts.slip import FONT_DIR, FONT_PACKAGE, FontMissingError

MEDIA_TYPE = "application/pdf"
FONT = "HaiLong-Sans"
FONT_BOLD = "HaiLong-Sans-Bold"
FONT_ITALIC = "HaiLong-Sans-Oblique"
_FONT_FILES = {
    FONT: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
    FONT_ITALIC: "DejaVuSans-Oblique.ttf",
}
_fonts_lock = threading.Lock()
# reportlab keeps module-level state (fonts, caches): one layout at a time, the queries before it
# still run side by side. A report lays out in well under a second.
_build_lock = threading.Lock()

INK = colors.HexColor("#1A237E")
GREY = colors.HexColor("#546E7A")
LIGHT = colors.HexColor("#ECEFF1")
ATTENTION = colors.HexColor("#FFF3E0")
MET = colors.HexColor("#2E7D32")
NOT_MET = colors.HexColor("#B71C1C")
BELOW = colors.HexColor("#EF6C00")
# The kiosk's face colours, "very dissatisfied" to "very satisfied".
LEVEL_COLOURS: dict[Score, colors.Color] = {
    Score.VERY_DISSATISFIED: colors.HexColor("#C62828"),
    Score.DISSATISFIED: colors.HexColor("#EF6C00"),
    Score.NEUTRAL: colors.HexColor("#F9A825"),
    Score.SATISFIED: colors.HexColor("#7CB342"),
    Score.VERY_SATISFIED: colors.HexColor("#2E7D32"),
}

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN  # the text block

TITLE_VI = (
    "Kết quả đánh giá mức độ hài lòng của người dân, tổ chức "
    "đối với việc giải quyết thủ tục hành chính"
)
TITLE_EN = "Citizen and organisation satisfaction with administrative services"
NO_RATINGS = "Chưa có đánh giá trong kỳ. / No ratings in this period."


def register_fonts() -> None:
    """Register the report's fonts with reportlab once (embedded as subsets in each PDF)."""
    with _fonts_lock:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name, file in _FONT_FILES.items():
            if name in registered:
                continue
            path = FONT_DIR / file
            if not path.exists():
                raise FontMissingError(
                    f"font {path} is missing: install the Debian package {FONT_PACKAGE} "
                    f"(apt-get install {FONT_PACKAGE})"
                )
            pdfmetrics.registerFont(TTFont(name, str(path)))
        pdfmetrics.registerFontFamily(
            FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD
        )


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _text(text: str) -> str:
    """Plain text made safe for a Paragraph's markup."""
    return escape(_nfc(text))


def _style(name: str, size: float = 9.5, **extra: Any) -> ParagraphStyle:
    settings: dict[str, Any] = {"fontName": FONT, "fontSize": size, "leading": size * 1.3}
    return ParagraphStyle(name, **(settings | extra))


SMALL = _style("small", 8, textColor=GREY)
CELL = _style("cell", 8.5)
HEAD_CELL = _style("head-cell", 8, fontName=FONT_BOLD, textColor=colors.white, alignment=TA_CENTER)
CENTRE = _style("centre", 10, alignment=TA_CENTER)
CENTRE_BOLD = _style("centre-bold", 10, fontName=FONT_BOLD, alignment=TA_CENTER)
TITLE = _style("title", 16, fontName=FONT_BOLD, alignment=TA_CENTER, spaceBefore=10)
SUBTITLE = _style("subtitle", 11.5, fontName=FONT_BOLD, alignment=TA_CENTER, spaceAfter=2)
SECTION = _style("section", 11.5, fontName=FONT_BOLD, textColor=INK, spaceBefore=10, spaceAfter=4)


def quarterly_pdf(report: Quarterly, progress: Progress | None = None) -> bytes:
    """The report as PDF bytes; ``progress`` hears 65–99 % while the pages are laid out."""
    tell: Progress = progress or (lambda _percent, _stage: None)
    register_fonts()
    export = report.export
    vi, en = export.period_title
    tell(65, "Đang vẽ biểu đồ / Drawing the charts")
    story = _story(report)
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=15 * mm,
        bottomMargin=16 * mm,
        title=_nfc(f"Báo cáo MĐHL {vi} – {export.unit_name}"),
        author=_nfc(export.unit_name),
        subject=_nfc(f"{TITLE_VI} / {TITLE_EN} – {vi} / {en}"),
        creator="Hài Lòng",
    )
    document.setProgressCallBack(_layout_progress(tell, len(story)))
    footer = _footer(f"Hài Lòng · {export.unit_name} · {vi} / {en}")
    with _build_lock:
        document.build(story, onFirstPage=footer, onLaterPages=footer)
    tell(99, "Đang hoàn tất tệp PDF / Finishing the PDF")
    return out.getvalue()


def _layout_progress(tell: Progress, total: int) -> Callable[[str, int], None]:
    """70–98 % as the story's flowables are placed (a split one may count twice: never back)."""
    done = [70]

    def hook(kind: str, value: int) -> None:
        if kind == "PROGRESS" and total:
            percent = 70 + 28 * min(value, total) // total
            if percent > done[0]:
                done[0] = percent
                tell(percent, "Đang dàn trang / Laying out the pages")

    return hook


def _footer(text: str) -> Callable[[Canvas, SimpleDocTemplate], None]:
    def draw(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, 9 * mm, _nfc(text))
        canvas.drawRightString(
            PAGE_WIDTH - MARGIN, 9 * mm, f"Trang / Page {canvas.getPageNumber()}"
        )
        canvas.restoreState()

    return draw


def _story(report: Quarterly) -> list[Flowable]:
    export = report.export
    vi, en = export.period_title
    first, last = export.period.first, export.period.last
    story: list[Flowable] = [
        _letterhead(export.unit_name, export.unit_code, report.generated_at),
        Paragraph("BÁO CÁO", TITLE),
        Paragraph(_text(TITLE_VI), SUBTITLE),
        Paragraph(_text(f"{vi} (từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y})"), CENTRE),
        Paragraph(_text(f"{TITLE_EN}, {en}"), _style("en", 9, textColor=GREY, alignment=TA_CENTER)),
        Spacer(0, 3 * mm),
        Paragraph("1. Kết quả chung / Overall result", SECTION),
        _overall_table(export.overall, report),
        KeepTogether(
            [
                Paragraph("2. Phân bố theo 5 mức đánh giá / Ratings on the five levels", SECTION),
                levels_chart(report.levels),
            ]
        ),
    ]
    number = 3
    for table in export.tables:
        title_vi, title_en = table.title
        heading = Paragraph(_text(f"{number}. {title_vi} / {title_en}"), SECTION)
        number += 1
        if table.dimension == "counter" and table.rows:
            chart = counter_chart(table.rows, export.overall.target)
            story.append(KeepTogether([heading, chart, Spacer(0, 2 * mm), _table(table)]))
        else:  # a long table splits across pages (its header repeats), a short one does not
            story.append(KeepTogether([heading, _table(table)]))
    story += [
        KeepTogether(
            [
                Paragraph(_text(f"{number}. Ghi chú / Notes"), SECTION),
                *(Paragraph(_text(f"– {note}"), SMALL) for note in FOOTNOTES),
                Spacer(0, 8 * mm),
                _signatures(),
            ]
        )
    ]
    return story


def _letterhead(unit_name: str, unit_code: str, when: datetime) -> Table:
    """The administrative heading: the unit on the left, the national motto and date right."""
    left = [
        Paragraph(_text(unit_name.upper()), CENTRE_BOLD),
        Paragraph(_text(f"Mã định danh: {unit_code}"), _style("code", 8.5, alignment=TA_CENTER)),
    ]
    right = [
        Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", CENTRE_BOLD),
        Paragraph("Độc lập – Tự do – Hạnh phúc", CENTRE_BOLD),
        Spacer(0, 2 * mm),
        Paragraph(
            f"<i>Ngày {when.day:02d} tháng {when.month:02d} năm {when.year}</i>",
            _style("date", 9.5, alignment=TA_CENTER),
        ),
    ]
    heading = Table([[left, right]], colWidths=[WIDTH * 0.45, WIDTH * 0.55])
    heading.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return heading


def _overall_table(overall: Overall, report: Quarterly) -> Table:
    verdict_vi, verdict_en = overall.verdict
    colour = "#2E7D32" if overall.meets_target else "#B71C1C"
    rate = "—" if overall.rate is None else f"{overall.rate:.1f} %"
    previous_vi, previous_en = period_title(report.export.period.previous())
    previous = report.previous
    if report.change is None:
        change = "không có số liệu để so sánh / nothing to compare with"
    else:
        change = f"{report.change:+.1f} điểm phần trăm / percentage points"
    before = "—" if previous.rate is None else f"{previous.rate:.1f} %"
    rows = [
        ("MĐHL của quý / Satisfaction this quarter", f"<b>{rate}</b>"),
        (
            "Số lượt đánh giá / Ratings",
            f"{overall.n} (hài lòng / satisfied: {overall.satisfied})",
        ),
        (
            "Khoảng tin cậy 95 % / 95 % confidence interval",
            "—" if not overall.n else f"{overall.ci_low:.1f} – {overall.ci_high:.1f} %",
        ),
        (
            "Chỉ tiêu / Target",
            f"{overall.target:.0f} %: <font color='{colour}'><b>{verdict_vi} / {verdict_en}</b></font>",
        ),
        (
            f"So với {previous_vi} / vs {previous_en}",
            f"{change} ({previous_vi}: {before}, n = {previous.n})",
        ),
    ]
    data = [[Paragraph(_text(label), CELL), Paragraph(_nfc(value), CELL)] for label, value in rows]
    table = Table(data, colWidths=[WIDTH * 0.42, WIDTH * 0.58])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#B0BEC5")),
                ("BACKGROUND", (0, 0), (0, -1), LIGHT),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


_COLUMNS = (
    ("Tên", "Name", 0.38),
    ("Số lượt", "Ratings", 0.10),
    ("Hài lòng", "Satisfied", 0.10),
    ("MĐHL", "Satisf.", 0.10),
    ("Khoảng tin cậy 95 %", "95 % CI", 0.14),
    ("Ghi chú", "Note", 0.18),
)


def _table(table: ExportTable) -> Table:
    header = [
        Paragraph(f"{_text(vi)}<br/><font size='7'>{_text(en)}</font>", HEAD_CELL)
        for vi, en, _share in _COLUMNS
    ]
    data: list[list[Any]] = [header]
    flagged: list[tuple[Any, ...]] = []
    for index, row in enumerate(table.rows, start=1):
        data.append(_cells(row))
        if row.needs_attention:
            flagged.append(("BACKGROUND", (0, index), (-1, index), ATTENTION))
    if not table.rows:
        data.append([Paragraph(_text(NO_RATINGS), CELL), "", "", "", "", ""])
        flagged.append(("SPAN", (0, 1), (-1, 1)))
    widths = [WIDTH * share for _vi, _en, share in _COLUMNS]
    pdf_table = Table(data, colWidths=widths, repeatRows=1)
    pdf_table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), INK),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#B0BEC5")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("FONTNAME", (1, 1), (-1, -1), FONT),
                ("FONTSIZE", (1, 1), (-1, -1), 8.5),
                ("ALIGN", (1, 1), (4, -1), "RIGHT"),
                *flagged,
            ]
        )
    )
    return pdf_table


def _cells(row: Row) -> list[Any]:
    rate = "—" if row.rate is None else f"{row.rate:.1f} %"
    mark = "*" if row.small_sample else ""
    note = "cần quan tâm / needs attention" if row.needs_attention else ""
    return [
        Paragraph(_text(row.name), CELL),
        f"{row.n}{mark}",
        str(row.satisfied),
        rate,
        f"{row.ci_low:.1f} – {row.ci_high:.1f}",
        Paragraph(_text(note), _style("note", 7.5, textColor=NOT_MET)),
    ]


def _box(x: float, y: float, width: float, height: float, colour: colors.Color) -> Rect:
    """A filled rectangle without an outline."""
    box = Rect(x, y, width, height)
    box.fillColor = colour
    box.strokeColor = None
    return box


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text``, shortened with an ellipsis to fit ``width`` points."""
    text = _nfc(text)
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def counter_chart(rows: Sequence[Row], target: float, width: float = WIDTH) -> Drawing:
    """One horizontal bar per counter: MĐHL with its 95 % interval as a whisker, the target as a
    dashed line; a bar is green at or above the target, orange below."""
    register_fonts()
    rows = sorted(rows, key=lambda r: (r.key is None, r.key or ""))
    bar = 9 * mm
    label_width, value_width = 48 * mm, 30 * mm
    left, top_margin, bottom_margin = label_width, 9 * mm, 10 * mm
    plot = width - label_width - value_width
    height = bottom_margin + bar * len(rows) + top_margin
    drawing = Drawing(width, height)
    base = bottom_margin

    def x_of(value: float) -> float:
        return left + plot * max(0.0, min(value, 100.0)) / 100

    for tick in range(0, 101, 20):
        drawing.add(Line(x_of(tick), base, x_of(tick), base + bar * len(rows), strokeColor=LIGHT))
        drawing.add(
            String(
                x_of(tick),
                base - 10,
                f"{tick} %",
                fontName=FONT,
                fontSize=7,
                textAnchor="middle",
                fillColor=GREY,
            )
        )
    for index, row in enumerate(rows):
        y = base + bar * (len(rows) - 1 - index)
        middle = y + bar / 2
        rate = row.rate or 0.0
        colour = MET if row.rate is not None and row.rate >= target else BELOW
        drawing.add(_box(left, y + 1.6 * mm, x_of(rate) - left, bar - 3.2 * mm, colour))
        for x1, x2, y1, y2 in (
            (x_of(row.ci_low), x_of(row.ci_high), middle, middle),
            (x_of(row.ci_low), x_of(row.ci_low), middle - 4, middle + 4),
            (x_of(row.ci_high), x_of(row.ci_high), middle - 4, middle + 4),
        ):
            drawing.add(Line(x1, y1, x2, y2, strokeColor=colors.black, strokeWidth=0.8))
        drawing.add(
            String(
                left - 4,
                middle - 3,
                _fit(row.name, FONT, 8, label_width - 6),
                fontName=FONT,
                fontSize=8,
                textAnchor="end",
            )
        )
        value = "—" if row.rate is None else f"{row.rate:.1f} %"
        drawing.add(
            String(
                left + plot + 6,
                middle - 3,
                f"{value} (n = {row.n})",
                fontName=FONT_BOLD,
                fontSize=8,
            )
        )
    target_x = x_of(target)
    drawing.add(
        Line(
            target_x,
            base - 2,
            target_x,
            base + bar * len(rows) + 2,
            strokeColor=NOT_MET,
            strokeWidth=1.2,
            strokeDashArray=[3, 2],
        )
    )
    drawing.add(
        String(
            target_x,
            base + bar * len(rows) + 4,
            _nfc(f"Chỉ tiêu / target {target:.0f} %"),
            fontName=FONT,
            fontSize=7.5,
            textAnchor="middle",
            fillColor=NOT_MET,
        )
    )
    drawing.add(
        String(
            left,
            height - 8,
            "Thanh: MĐHL; vạch đen: khoảng tin cậy 95 % / bar: satisfaction; whisker: 95 % CI",
            fontName=FONT,
            fontSize=6.5,
            fillColor=GREY,
        )
    )
    return drawing


def levels_chart(levels: Mapping[Score, int], width: float = WIDTH) -> Drawing:
    """One vertical bar per level of the 5-level scale: the share of ratings, with the count."""
    register_fonts()
    total = sum(levels.values())
    height = 54 * mm
    left, bottom, top = 14 * mm, 15 * mm, 7 * mm
    plot_width, plot_height = width - left - 4 * mm, height - bottom - top
    shares = {s: (100.0 * levels.get(s, 0) / total if total else 0.0) for s in Score}
    ceiling = max(10, -(-int(max(shares.values(), default=0.0)) // 10) * 10)
    drawing = Drawing(width, height)
    for tick in range(0, ceiling + 1, 10 if ceiling <= 50 else 20):
        y = bottom + plot_height * tick / ceiling
        drawing.add(Line(left, y, left + plot_width, y, strokeColor=LIGHT))
        drawing.add(
            String(
                left - 3,
                y - 2.5,
                f"{tick} %",
                fontName=FONT,
                fontSize=7,
                textAnchor="end",
                fillColor=GREY,
            )
        )
    slot = plot_width / len(Score)
    for index, score in enumerate(Score):
        x = left + slot * index
        bar_height = plot_height * shares[score] / ceiling
        drawing.add(_box(x + slot * 0.2, bottom, slot * 0.6, bar_height, LEVEL_COLOURS[score]))
        centre = x + slot / 2
        count = levels.get(score, 0)
        drawing.add(
            String(
                centre,
                bottom + bar_height + 3,
                f"{count} ({shares[score]:.1f} %)",
                fontName=FONT_BOLD,
                fontSize=8,
                textAnchor="middle",
            )
        )
        drawing.add(
            String(
                centre,
                bottom - 10,
                _nfc(f"{score.value}. {score.label_vi}"),
                fontName=FONT,
                fontSize=7.5,
                textAnchor="middle",
            )
        )
        drawing.add(
            String(
                centre,
                bottom - 19,
                score.label_en,
                fontName=FONT,
                fontSize=6.5,
                textAnchor="middle",
                fillColor=GREY,
            )
        )
    drawing.add(Line(left, bottom, left + plot_width, bottom, strokeColor=GREY))
    if not total:
        drawing.add(
            String(
                left + plot_width / 2,
                bottom + plot_height / 2,
                NO_RATINGS,
                fontName=FONT,
                fontSize=9,
                textAnchor="middle",
                fillColor=GREY,
            )
        )
    return drawing


def _signatures() -> Table:
    cells = [
        [
            Paragraph("NGƯỜI LẬP BÁO CÁO", CENTRE_BOLD),
            Paragraph("THỦ TRƯỞNG ĐƠN VỊ", CENTRE_BOLD),
        ],
        [
            Paragraph("<i>Prepared by</i>", _style("by", 8.5, alignment=TA_CENTER)),
            Paragraph(
                "<i>Head of unit (ký, ghi rõ họ tên, đóng dấu / signature, name, seal)</i>",
                _style("by2", 8.5, alignment=TA_CENTER),
            ),
        ],
    ]
    table = Table(cells, colWidths=[WIDTH / 2, WIDTH / 2], rowHeights=[None, 26 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table
