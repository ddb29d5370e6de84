"""The receipt slip ("Giấy tiếp nhận hồ sơ và hẹn trả kết quả"): what it says, and two layouts.

:func:`slip_content` gathers what every slip says. :func:`render_slip` lays it out as one 1-bit
image (``text_mode = "image"``): a raster prints the same on every ESC/POS printer, code page or
not. :func:`text_layout` lays it out as lines of characters for printers with a Vietnamese code
page (``text_mode = "codepage"``, see :mod:`hub.receipts.codepage`); there only the QR is an image.

The printable width at 203 dpi is 384 dots on 58 mm paper and 576 on 80 mm paper; a printer
profile may say less (a 180 dpi head prints 512 dots on 80 mm paper), see :func:`style_for`.

Text is drawn antialiased in greyscale with DejaVu Sans (complete Vietnamese coverage) and then
thresholded towards black, so the thin tone marks (dấu) survive on thermal paper. Strings are NFC
normalised so every letter with its marks is one precomposed glyph.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

import qrcode
from PIL import Image, ImageDraw, ImageFont

from hailong.contract.receipt import ReceiptRefused, SignedReceipt, parse_scan
from hailong.settings import Unit
from hub.receipts.issuing import IssuedReceipt

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
FONT_PACKAGE = "fonts-dejavu-core"

TITLE = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
CODE_LABEL = "Mã hồ sơ:"
CALL_TO_RATE_VI = "Mời Ông/Bà quét mã QR tại ki-ốt để đánh giá mức độ hài lòng"
CALL_TO_RATE_EN = "Please scan the QR code at the kiosk to rate our service"
# The same QR opens the hub's rating page (hub/web/citizen.py, ``/r/<code>``) on a phone. Printed
# only when a phone can reach the QR's address: see :func:`opens_on_a_phone`.
ON_A_PHONE_VI = "Hoặc quét mã QR bằng điện thoại để đánh giá trực tuyến"
ON_A_PHONE_EN = "Or scan it with your phone to rate online"
NO_DATE = "—"  # the promised date when none was set

# Glyphs reaching highest and lowest, so every line gets room for stacked tone marks.
_EXTENT_PROBE = "ẤỖỄẶỸÁẮgjpqyỵỹ|"
_INK_THRESHOLD = 170  # grey levels at or below this print black: keeps antialiased marks visible

Font = ImageFont.FreeTypeFont
Word = tuple[str, Font]
Line = tuple[Word, ...]
PaperWidth = Literal[58, 80]


class FontMissingError(RuntimeError):
    """The slip font is not installed."""


@dataclass(frozen=True)
class SlipContent:
    """What a slip says, whatever the layout: the rows are (label, value) pairs."""

    unit_name: str
    code: str
    rows: tuple[tuple[str, str], ...]
    url: str


def slip_content(
    issued: IssuedReceipt, unit: Unit, *, citizen_name: str | None = None
) -> SlipContent:
    """The slip's text. ``citizen_name`` wins over the receipt's own, when it has one."""
    claims = issued.claims
    procedure = unit.procedure(claims.procedure)
    procedure_text = f"{procedure.name} ({procedure.code})" if procedure else claims.procedure
    counters = {c.code: c.name for c in unit.counters}
    officers = {o.code: o.name for o in unit.officers}
    citizen = citizen_name or getattr(issued, "citizen_name", None)
    promised = issued.promised_on
    rows = [
        *([("Người nộp hồ sơ:", str(citizen))] if citizen else []),
        ("Thủ tục:", procedure_text),
        ("Quầy:", counters.get(claims.counter, claims.counter)),
        ("Cán bộ tiếp nhận:", officers.get(claims.officer, claims.officer)),
        ("Ngày tiếp nhận:", f"{issued.issued_at:%d/%m/%Y %H:%M}"),
        ("Ngày hẹn trả:", f"{promised:%d/%m/%Y}" if promised is not None else NO_DATE),
    ]
    return SlipContent(unit.unit.name, str(claims.code), tuple(rows), issued.url)


def opens_on_a_phone(url: str) -> bool:
    """Whether a phone that scans the slip's QR reaches the hub's rating page: the URL is a
    signed receipt's (what ``/r/<code>`` reads) on an http(s) address that is not this machine
    alone (``localhost``, a loopback or unspecified address, as in a hub tried out on a laptop).
    The slip promises the phone path only when this holds."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or address.is_unspecified):
        return False
    try:
        return isinstance(parse_scan(url), SignedReceipt)
    except (ReceiptRefused, ValueError):
        return False


def rating_invitation(url: str) -> tuple[tuple[str, str], ...]:
    """The slip's closing sentences, (Vietnamese, English) each: the kiosk, then the phone."""
    phone = ((ON_A_PHONE_VI, ON_A_PHONE_EN),) if opens_on_a_phone(url) else ()
    return ((CALL_TO_RATE_VI, CALL_TO_RATE_EN), *phone)


@dataclass(frozen=True)
class SlipStyle:
    """Sizes in printer dots for one paper width."""

    width: int
    margin: int
    body: int
    small: int
    title: int
    code_max: int
    gap: int
    qr_share: float = 0.6


STYLES: dict[int, SlipStyle] = {
    58: SlipStyle(width=384, margin=8, body=20, small=18, title=22, code_max=44, gap=10),
    80: SlipStyle(width=576, margin=16, body=25, small=21, title=29, code_max=60, gap=12),
}


def style_for(paper_width_mm: PaperWidth, printable_dots: int | None = None) -> SlipStyle:
    """The paper's style, narrowed to ``printable_dots`` when the printer prints fewer dots."""
    style = STYLES[paper_width_mm]
    if printable_dots is None or printable_dots >= style.width:
        return style
    return dataclasses.replace(style, width=printable_dots)


def render_slip(
    issued: IssuedReceipt,
    unit: Unit,
    *,
    paper_width_mm: PaperWidth,
    citizen_name: str | None = None,
    style: SlipStyle | None = None,
) -> Image.Image:
    """Lay out the whole slip, top to bottom, as a mode "1" image as wide as the paper."""
    style = style or STYLES[paper_width_mm]
    content = slip_content(issued, unit, citizen_name=citizen_name)
    blocks = [
        *header_blocks(content.unit_name, style),
        rule(style),
        *code_blocks(content.code, style),
        *detail_blocks(content, style),
        rule(style),
        qr_block(content.url, style),
        *footer_blocks(style, content.url),
    ]
    return to_bitmap(stack(blocks, style))


def header_blocks(unit_name: str, style: SlipStyle) -> list[Image.Image]:
    return [
        text_block([(unit_name, font(style.body, bold=True))], style, align="center"),
        text_block([(TITLE, font(style.title, bold=True))], style, align="center"),
    ]


def code_blocks(code: str, style: SlipStyle) -> list[Image.Image]:
    """The "Mã hồ sơ:" label, then the code in the largest bold type that fits on one line."""
    size = fitting_size(code, style.code_max, style.width - 2 * style.margin, bold=True)
    return [
        text_block([(CODE_LABEL, font(style.body))], style, align="center"),
        text_block([(code, font(size, bold=True))], style, align="center"),
    ]


def detail_blocks(content: SlipContent, style: SlipStyle) -> list[Image.Image]:
    return [labelled(label, value, style) for label, value in content.rows]


def footer_blocks(style: SlipStyle, url: str = "") -> list[Image.Image]:
    """Under the QR: rate at the kiosk (bold), and on a phone where the QR's address allows."""
    blocks = []
    for index, (vi, en) in enumerate(rating_invitation(url)):
        blocks.append(text_block([(vi, font(style.body, bold=index == 0))], style, align="center"))
        blocks.append(text_block([(en, font(style.small))], style, align="center"))
    return blocks


def labelled(label: str, value: str, style: SlipStyle) -> Image.Image:
    """A bold label followed by its value, wrapped together."""
    runs = [(label, font(style.body, bold=True)), (value, font(style.body))]
    return text_block(runs, style, align="left")


@lru_cache(maxsize=32)
def font(size: int, *, bold: bool = False) -> Font:
    path = FONT_DIR / FONT_FILES[bold]
    if not path.is_file():
        raise FontMissingError(
            f"font {path} is missing: install the Debian package {FONT_PACKAGE} "
            f"(apt-get install {FONT_PACKAGE})"
        )
    return ImageFont.truetype(str(path), size)


def fitting_size(text: str, largest: int, width: int, *, bold: bool) -> int:
    """The largest font size, at most ``largest``, at which ``text`` fits in ``width`` dots."""
    size = largest
    while size > 8 and font(size, bold=bold).getlength(nfc(text)) > width:
        size -= 1
    return size


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def words_of(runs: Iterable[tuple[str, Font]]) -> list[Word]:
    return [(word, fnt) for text, fnt in runs for word in nfc(text).split()]


def wrap(words: Sequence[Word], width: int) -> list[Line]:
    """Greedy word wrap; a word longer than the line is broken between characters."""
    lines: list[Line] = []
    current: list[Word] = []
    for word in _split_long(words, width):
        if current and line_width([*current, word]) > width:
            lines.append(tuple(current))
            current = []
        current.append(word)
    if current:
        lines.append(tuple(current))
    return lines


def balanced_wrap(words: Sequence[Word], width: int) -> list[Line]:
    """Wrap into as few lines as :func:`wrap`, but as even as possible: no lone last word."""
    lines = wrap(words, width)
    low, high = 1, width
    while low < high:  # narrowest width that still needs no more lines
        mid = (low + high) // 2
        if len(wrap(words, mid)) <= len(lines):
            high = mid
        else:
            low = mid + 1
    return wrap(words, high)


def _split_long(words: Sequence[Word], width: int) -> list[Word]:
    out: list[Word] = []
    for text, fnt in words:
        piece = ""
        for ch in text:
            if piece and fnt.getlength(piece + ch) > width:
                out.append((piece, fnt))
                piece = ""
            piece += ch
        out.append((piece, fnt))
    return out


def line_width(line: Sequence[Word]) -> float:
    spaces = sum(fnt.getlength(" ") for _, fnt in line[1:])
    return sum(fnt.getlength(text) for text, fnt in line) + spaces


def extent(fnt: Font) -> tuple[int, int]:
    """(ascent, descent) in dots, measured on the tallest Vietnamese capitals and descenders."""
    _, top, _, bottom = fnt.getbbox(_EXTENT_PROBE, anchor="ls")
    return int(-top) + 1, int(bottom) + 1


def text_block(
    runs: Sequence[tuple[str, Font]], style: SlipStyle, *, align: Literal["left", "center"]
) -> Image.Image:
    """Wrap ``runs`` to the printable width and draw them, one greyscale strip per block."""
    inner = style.width - 2 * style.margin
    words = words_of(runs)
    lines = balanced_wrap(words, inner) if align == "center" else wrap(words, inner)
    metrics = [_line_extent(line) for line in lines]
    height = sum(up + down for up, down in metrics) + 2 * (len(lines) - 1)
    image = Image.new("L", (style.width, max(height, 1)), 255)
    draw = ImageDraw.Draw(image)
    y = 0
    for line, (up, down) in zip(lines, metrics, strict=True):
        x = style.margin + (inner - line_width(line)) / 2 if align == "center" else style.margin
        for text, fnt in line:
            draw.text((x, y + up), text, font=fnt, fill=0, anchor="ls")
            x += fnt.getlength(text) + fnt.getlength(" ")
        y += up + down + 2
    return image


def _line_extent(line: Line) -> tuple[int, int]:
    extents = [extent(fnt) for _, fnt in line]
    return max(up for up, _ in extents), max(down for _, down in extents)


def rule(style: SlipStyle) -> Image.Image:
    """A dashed separator line."""
    image = Image.new("L", (style.width, 2), 255)
    draw = ImageDraw.Draw(image)
    for x in range(style.margin, style.width - style.margin, 12):
        draw.line([(x, 0), (min(x + 7, style.width - style.margin), 0)], fill=0, width=2)
    return image


class _QrCode(Protocol):
    """The part of ``qrcode.QRCode`` used here (the library ships no type information)."""

    def add_data(self, data: str) -> None: ...
    def make(self, fit: bool = True) -> None: ...
    def get_matrix(self) -> list[list[bool]]: ...


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR symbol's modules, including the 4-module quiet zone, error correction level M."""
    code: _QrCode = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4
    )
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def qr_module_size(modules: int, total: int, style: SlipStyle) -> int:
    """Whole dots per module so the symbol is about ``qr_share`` of the width, quiet zone fitting."""
    size = max(1, int(style.width * style.qr_share / modules))
    while size > 1 and total * size > style.width:
        size -= 1
    return size


def qr_block(url: str, style: SlipStyle) -> Image.Image:
    matrix = qr_matrix(url)
    total = len(matrix)
    size = qr_module_size(total - 8, total, style)
    symbol = Image.new("L", (total, total), 255)
    symbol.putdata([0 if dark else 255 for row in matrix for dark in row])
    symbol = symbol.resize((total * size, total * size), Image.Resampling.NEAREST)
    image = Image.new("L", (style.width, symbol.height), 255)
    image.paste(symbol, ((style.width - symbol.width) // 2, 0))
    return image


def stack(blocks: Sequence[Image.Image], style: SlipStyle) -> Image.Image:
    """Blocks one under the other with a gap, plus a top and bottom margin."""
    height = sum(b.height for b in blocks) + style.gap * (len(blocks) + 1)
    page = Image.new("L", (style.width, height), 255)
    y = style.gap
    for block in blocks:
        page.paste(block, (0, y))
        y += block.height + style.gap
    return page


def to_bitmap(page: Image.Image) -> Image.Image:
    """Threshold (no dithering: it would fray the QR edges and the letters) to mode "1"."""
    return page.point(lambda v: 255 if v > _INK_THRESHOLD else 0, mode="1")


# The code-page layout: lines of characters, the QR as the only image.

Run = tuple[str, bool]  # text, bold

# Characters per line in font A (12x24 dots) and font B (9x17 dots) on a 203 dpi head.
COLUMNS: dict[int, tuple[int, int]] = {58: (32, 42), 80: (48, 64)}


@dataclass(frozen=True)
class TextLine:
    """One printed line: runs of (text, bold) in one alignment and one type size.

    ``size`` "tall" is double height, "large" double height and width; ``small`` is font B.
    """

    runs: tuple[Run, ...]
    align: Literal["left", "center"] = "left"
    size: Literal["normal", "tall", "large"] = "normal"
    small: bool = False

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.runs)


@dataclass(frozen=True)
class QrImage:
    """The QR holding ``url``, printed as the raster :func:`qr_block` draws."""

    url: str


SlipElement = TextLine | QrImage


def text_layout(content: SlipContent, columns: int, small_columns: int) -> list[SlipElement]:
    """The slip as lines of at most ``columns`` characters (``small_columns`` in font B)."""
    rule_line = TextLine((("-" * columns, False),))
    large = 2 * len(content.code) <= columns
    code_lines = wrap_columns([(content.code, True)], columns // 2 if large else columns)
    return [
        *centred([(content.unit_name, True)], columns),
        *centred([(TITLE, True)], columns),
        rule_line,
        *centred([(CODE_LABEL, False)], columns),
        *(TextLine(runs, "center", "large" if large else "tall") for runs in code_lines),
        *(
            TextLine(runs)
            for label, value in content.rows
            for runs in wrap_columns([(label, True), (value, False)], columns)
        ),
        rule_line,
        QrImage(content.url),
        *(
            line
            for index, (vi, en) in enumerate(rating_invitation(content.url))
            for line in (
                *centred([(vi, index == 0)], columns),
                *centred([(en, False)], small_columns, small=True),
            )
        ),
    ]


def centred(runs: Sequence[Run], columns: int, *, small: bool = False) -> list[TextLine]:
    return [
        TextLine(line, "center", small=small) for line in wrap_columns(runs, columns, balanced=True)
    ]


def wrap_columns(
    runs: Sequence[Run], columns: int, *, balanced: bool = False
) -> list[tuple[Run, ...]]:
    """Word-wrap runs to ``columns`` characters (NFC letters count one each, tone and all).

    A word longer than a line is broken between characters. ``balanced`` keeps the same number
    of lines but evens them out, for centred text.
    """
    words: list[Run] = []
    for text, bold in runs:
        for word in nfc(text).split():
            words += [(word[i : i + columns], bold) for i in range(0, len(word), columns)]
    lines = _greedy(words, columns)
    if balanced:
        low, high = 1, columns
        while low < high:  # the narrowest width that still needs no more lines
            mid = (low + high) // 2
            if len(_greedy(words, mid)) <= len(lines) and all(len(w) <= mid for w, _ in words):
                high = mid
            else:
                low = mid + 1
        lines = _greedy(words, high)
    return [_join(line) for line in lines]


def _greedy(words: Sequence[Run], columns: int) -> list[list[Run]]:
    lines: list[list[Run]] = []
    current: list[Run] = []
    used = 0
    for word in words:
        needed = len(word[0]) + (1 if current else 0)
        if current and used + needed > columns:
            lines.append(current)
            current, used, needed = [], 0, len(word[0])
        current.append(word)
        used += needed
    if current:
        lines.append(current)
    return lines


def _join(words: Sequence[Run]) -> tuple[Run, ...]:
    """Words back into runs, one per change of weight; a space goes with the word after it."""
    runs: list[Run] = []
    for i, (word, bold) in enumerate(words):
        text = word if i == 0 else " " + word
        if runs and runs[-1][1] == bold:
            runs[-1] = (runs[-1][0] + text, bold)
        else:
            runs.append((text, bold))
    return tuple(runs)
