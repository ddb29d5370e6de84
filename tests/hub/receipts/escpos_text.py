"""A reader of the text in an ESC/POS stream, independent of the code that wrote it.

It walks the stream command by command, follows the code page (``ESC t n``), emphasis, print mode
and font, and turns the bytes between commands back into characters with a decoder per code page
number: Python's own ``cp1258`` codec, or a TCVN-3 table read from python-escpos's capabilities
data. Raster images are skipped by their declared size (``tests.support.escpos_raster`` reads
them). A command it does not know is an error, never a guess.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from escpos.capabilities import CAPABILITIES

ESC, GS, LF = 0x1B, 0x1D, 0x0A
_ESC_ARGS = {ord("@"): 0, ord("t"): 1, ord("a"): 1, ord("E"): 1, ord("!"): 1, ord("M"): 1}
_ESC_ARGS |= {ord("d"): 1, ord("2"): 0, ord("-"): 1, ord("G"): 1}

Decoder = Callable[[bytes], str]


class EscposTextError(ValueError):
    """A command this reader does not know, or bytes the current code page cannot hold."""


@dataclass
class PrintedLine:
    """One line as the printer would print it: runs of (text, bold) and the line's settings."""

    runs: list[tuple[str, bool]] = field(default_factory=list)
    align: int = 0  # 0 left, 1 centre, 2 right (ESC a)
    mode: int = 0  # ESC ! bits: 0x01 font B, 0x08 emphasis, 0x10 double height, 0x20 double width
    font: int = 0  # ESC M

    @property
    def text(self) -> str:
        return unicodedata.normalize("NFC", "".join(text for text, _ in self.runs))

    @property
    def tall(self) -> bool:
        return bool(self.mode & 0x10)

    @property
    def small(self) -> bool:
        return self.font == 1 or bool(self.mode & 0x01)

    def bold_text(self) -> str:
        return unicodedata.normalize("NFC", "".join(t for t, bold in self.runs if bold)).strip()


@dataclass
class TextStream:
    lines: list[PrintedLine]
    code_pages: list[int]  # every ESC t n, in order
    images: int  # GS v 0 commands skipped

    @property
    def text(self) -> str:
        """All lines joined by single spaces: a wrapped sentence reads back whole."""
        return " ".join(line.text.strip() for line in self.lines if line.text.strip())


def cp1258(data: bytes) -> str:
    return data.decode("cp1258")


def table_decoder(name: str) -> Decoder:
    """A decoder for a code page python-escpos describes as a table (upper half; lower = ASCII)."""
    upper = "".join(CAPABILITIES["encodings"][name]["data"])
    start = 256 - len(upper)
    # ASCII, and LF: the encoder keeps line breaks as they are
    chars = {byte: chr(byte) for byte in range(0x20, 0x7F)} | {LF: "\n"}
    chars |= {start + i: c for i, c in enumerate(upper) if c != " " and start + i >= 0x80}
    # The TCVN-3 capitals page prints Đ where python-escpos lists its look-alike Ð (U+00D0).
    chars = {byte: "Đ" if char == "Ð" else char for byte, char in chars.items()}

    def decode(data: bytes) -> str:
        try:
            return "".join(chars[byte] for byte in data)
        except KeyError as exc:
            raise EscposTextError(f"byte {exc.args[0]:#04x} is not in {name}") from exc

    return decode


def decoders_for(profile: str) -> dict[int, Decoder]:
    """A decoder for each Vietnamese code page the profile lists, by its number."""
    out: dict[int, Decoder] = {}
    for number, name in CAPABILITIES["profiles"][profile]["codePages"].items():
        if name == "CP1258":
            out[int(number)] = cp1258
        elif name.startswith("TCVN-3"):
            out[int(number)] = table_decoder(name)
    return out


def read_text(data: bytes, decoders: Mapping[int, Decoder]) -> TextStream:
    """Every printed line of ``data``; text before any ``ESC t`` is an error (page unknown)."""
    lines: list[PrintedLine] = []
    pages: list[int] = []
    images = 0
    page: int | None = None
    bold, align, mode, font = False, 0, 0, 0
    line = PrintedLine()
    text = bytearray()

    def flush() -> None:
        if not text:
            return
        if page is None or page not in decoders:
            raise EscposTextError(f"text {bytes(text)!r} in code page {page}, which is unknown")
        line.runs.append((decoders[page](bytes(text)), bold))
        text.clear()

    i = 0
    while i < len(data):
        byte = data[i]
        if byte == ESC:
            op = data[i + 1]
            if op not in _ESC_ARGS:
                raise EscposTextError(f"unknown ESC {op:#04x} at {i}")
            arg = data[i + 2] if _ESC_ARGS[op] else 0
            flush()
            if op == ord("@"):
                page, bold, align, mode, font = None, False, 0, 0, 0
            elif op == ord("t"):
                page = arg
                pages.append(arg)
            elif op == ord("E"):
                bold = bool(arg & 1)
            elif op == ord("a"):
                align = arg
            elif op == ord("!"):
                mode, bold, font = arg, bool(arg & 0x08), arg & 0x01
            elif op == ord("M"):
                font = arg
            i += 2 + _ESC_ARGS[op]
        elif byte == GS:
            op = data[i + 1]
            flush()
            if op == ord("v"):  # GS v 0 m xL xH yL yH data
                width, height = data[i + 4] + 256 * data[i + 5], data[i + 6] + 256 * data[i + 7]
                i += 8 + width * height
                images += 1
            elif op == ord("V"):
                i += 4 if data[i + 2] in (65, 66, 97, 98, 103, 104) else 3
            elif op == ord("!"):
                i += 3
            else:
                raise EscposTextError(f"unknown GS {op:#04x} at {i}")
        elif byte == LF:
            flush()
            line.align, line.mode, line.font = align, mode, font
            lines.append(line)
            line = PrintedLine()
            i += 1
        elif byte < 0x20 or byte == 0x7F:
            raise EscposTextError(f"control byte {byte:#04x} at {i}")
        else:
            if not text:
                line.align, line.mode, line.font = align, mode, font
            text.append(byte)
            i += 1
    flush()
    if line.runs:
        lines.append(line)
    return TextStream(lines, pages, images)
