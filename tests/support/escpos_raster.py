"""An independent reader of ESC/POS byte streams, so tests can check what a printer would print.

It walks the stream command by command (never searching for a pattern, which could match inside
image data), collects the raster images (``GS v 0`` and ``GS ( L`` graphics) and skips everything
else it knows. An ESC or GS command it does not know is an error: guessing its length could turn
the rest of the stream into garbage without anyone noticing.
"""

from __future__ import annotations

import zxingcpp
from PIL import Image

ESC, GS, DLE, FS = 0x1B, 0x1D, 0x10, 0x1C

# Total length (prefix included) of the fixed-size commands this reader may meet.
_ESC_FIXED = {
    ord("@"): 2,  # initialise
    ord("2"): 2,  # default line spacing
    ord("3"): 3,  # line spacing n
    ord("a"): 3,  # justification
    ord("t"): 3,  # code page
    ord("d"): 3,  # print and feed n lines
    ord("J"): 3,  # print and feed n dots
    ord("!"): 3,  # print mode
    ord("E"): 3,  # emphasis
    ord("G"): 3,  # double strike
    ord("-"): 3,  # underline
    ord("M"): 3,  # font
    ord("V"): 3,  # rotation
    ord("{"): 3,  # upside down
    ord("R"): 3,  # international character set
    ord("c"): 4,  # ESC c 5 n: panel buttons (ESC c 3/4 n likewise)
    ord("p"): 5,  # cash drawer pulse
}
_GS_FIXED = {
    ord("!"): 3,  # character size
    ord("B"): 3,  # reverse
    ord("H"): 3,  # HRI position
    ord("f"): 3,  # HRI font
    ord("h"): 3,  # barcode height
    ord("w"): 3,  # barcode width
    ord("L"): 4,  # left margin
    ord("W"): 4,  # print area width
}

_FS_FIXED = {ord("."): 2, ord("&"): 2}  # Kanji mode off / on


class EscposParseError(ValueError):
    """The stream holds a command this reader does not know, or is cut short."""


def extract_raster_images(data: bytes) -> list[Image.Image]:
    """Every raster image in ``data``, in order, as mode "1" images (black = printed dot)."""
    images: list[Image.Image] = []
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == ESC:
            i += _esc_length(data, i)
        elif byte == GS:
            length, image = _gs_command(data, i)
            if image is not None:
                images.append(image)
            i += length
        elif byte == DLE:
            i += 3  # DLE EOT n / DLE ENQ n: real-time status requests
        elif byte == FS:
            i += _fixed(data, i, _FS_FIXED, "FS")
        else:
            i += 1  # text, LF, CR, HT: nothing to decode
    return images


def _need(data: bytes, start: int, length: int) -> None:
    if start + length > len(data):
        raise EscposParseError(f"command at offset {start} is cut short")


def _esc_length(data: bytes, i: int) -> int:
    _need(data, i, 2)
    op = data[i + 1]
    if op == ord("*"):  # column bit image: ESC * m nL nH d..., 3 bytes per column in 24-dot modes
        _need(data, i, 5)
        columns = data[i + 3] + 256 * data[i + 4]
        return 5 + columns * (3 if data[i + 2] in (32, 33) else 1)
    return _fixed(data, i, _ESC_FIXED, "ESC")


def _fixed(data: bytes, i: int, table: dict[int, int], prefix: str) -> int:
    _need(data, i, 2)
    op = data[i + 1]
    if op not in table:
        raise EscposParseError(f"unknown command {prefix} {op:#04x} at offset {i}")
    _need(data, i, table[op])
    return table[op]


def _gs_command(data: bytes, i: int) -> tuple[int, Image.Image | None]:
    _need(data, i, 2)
    op = data[i + 1]
    if op == ord("v"):
        return _raster_bit_image(data, i)
    if op == ord("("):
        return _graphics(data, i)
    if op == ord("V"):  # cut: GS V m, or GS V m n for the feed-and-cut variants
        _need(data, i, 3)
        return (4 if data[i + 2] in (65, 66, 97, 98, 103, 104) else 3), None
    if op == ord("k"):  # barcode: GS k m n d1..dn (function B) or NUL-terminated (function A)
        _need(data, i, 4)
        if data[i + 2] >= 65:
            return 4 + data[i + 3], None
        end = data.index(0, i + 3)
        return end + 1 - i, None
    return _fixed(data, i, _GS_FIXED, "GS"), None


def _raster_bit_image(data: bytes, i: int) -> tuple[int, Image.Image]:
    """GS v 0 m xL xH yL yH d1..dk, k = (xL + 256 xH) * (yL + 256 yH); a 1 bit is a black dot."""
    _need(data, i, 8)
    if data[i + 2] != ord("0"):
        raise EscposParseError(f"GS v {data[i + 2]:#04x} at offset {i} is not GS v 0")
    width_bytes = data[i + 4] + 256 * data[i + 5]
    height = data[i + 6] + 256 * data[i + 7]
    _need(data, i, 8 + width_bytes * height)
    return 8 + width_bytes * height, _bitmap(
        data[i + 8 : i + 8 + width_bytes * height], width_bytes * 8, height
    )


def _graphics(data: bytes, i: int) -> tuple[int, Image.Image | None]:
    """GS ( L pL pH m fn ...: only fn 112 (store raster graphics) carries an image."""
    _need(data, i, 5)
    if data[i + 2] not in (ord("L"), ord("8")):
        raise EscposParseError(f"GS ( {data[i + 2]:#04x} at offset {i} is not handled")
    size = data[i + 3] + 256 * data[i + 4]
    _need(data, i, 5 + size)
    body = data[i + 5 : i + 5 + size]
    if len(body) >= 10 and body[1] == 112:  # m fn a bx by c xL xH yL yH d...
        width = body[6] + 256 * body[7]
        height = body[8] + 256 * body[9]
        width_bytes = (width + 7) // 8
        image = _bitmap(body[10 : 10 + width_bytes * height], width_bytes * 8, height)
        return 5 + size, image.crop((0, 0, width, height))
    return 5 + size, None


def _bitmap(raster: bytes, width: int, height: int) -> Image.Image:
    # PIL's "1;I" raw mode reads a set bit as black, exactly the printer's convention.
    return Image.frombytes("1", (width, height), raster, "raw", "1;I")


def stack(images: list[Image.Image]) -> Image.Image:
    """Put fragments back together: python-escpos splits tall images into several blocks."""
    width = max(image.width for image in images)
    page = Image.new("1", (width, sum(image.height for image in images)), 1)
    y = 0
    for image in images:
        page.paste(image, (0, y))
        y += image.height
    return page


def decode_qr(images: list[Image.Image]) -> list[str]:
    """The texts of every QR code on the stitched page, top to bottom."""
    if not images:
        return []
    page = stack(images).convert("L")
    found = zxingcpp.read_barcodes(page, formats=zxingcpp.barcode_formats_from_str("QRCode"))
    return [result.text for result in sorted(found, key=lambda r: r.position.top_left.y)]
