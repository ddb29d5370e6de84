"""Vietnamese text as characters of the printer's own code page (``ESC t n``), not as a raster.

python-escpos's capability data lists, per printer model (profile), the code pages its firmware
holds and the number that selects each. Two kinds carry Vietnamese, chosen by name:

* ``CP1258`` (Windows-1258, "WPC1258" in printer manuals): one page with every base letter (ă â đ
  ê ô ơ ư and their capitals) and the five tone marks as *combining* characters; only some toned
  letters are precomposed. Python's ``cp1258`` codec encodes just what is precomposed, so a letter
  such as "ấ" is split here into "â" plus a combining acute, which the printer overlays.
* ``TCVN-3-1`` with ``TCVN-3-2`` (TCVN 5712, "ABC"): precomposed letters, the lower-case ones on
  one page and the capitals on the other; the encoder switches page when it has to.

CP1258 is preferred (one page, no switching). Text is NFC normalised first. A character that no
page of the printer holds raises :class:`Unencodable` (the caller then prints that slip as an
image): nothing is ever replaced by "?". Control characters are refused too, so a name in the
catalogue can never smuggle a printer command into the stream.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from escpos.capabilities import CAPABILITIES

from hailong.settings import VIETNAMESE_CODE_PAGES

SELECT_CODE_PAGE = b"\x1bt"  # ESC t n

# The tone marks (dấu thanh) as combining characters: huyền, sắc, ngã, hỏi, nặng.
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"

# Typographic characters a page may lack, and the plain ones that stand in for them on paper.
PLAIN_STAND_INS: Mapping[str, str] = {
    "\u2013": "-",  # en dash, as in "Quầy 1 – Hộ tịch"
    "\u2014": "-",  # em dash
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u00a0": " ",
}

# python-escpos's TCVN-3 capitals table lists Ð (U+00D0, Icelandic eth) where the page's glyph is
# the Vietnamese Đ (U+0110): that byte is Đ here.
_TABLE_CORRECTIONS: Mapping[str, str] = {"\u00d0": "\u0110"}


class Unencodable(ValueError):
    """A character that none of the printer's Vietnamese code pages can print."""

    def __init__(self, char: str, pages: Sequence[CodePage]) -> None:
        names = " + ".join(page.name for page in pages)
        super().__init__(f"{char!r} (U+{ord(char):04X}) is not in the code page {names}")
        self.char = char


class CodePage(Protocol):
    """One code page of the printer: its name, the number ``ESC t`` selects it by, a codec."""

    @property
    def name(self) -> str: ...
    @property
    def number(self) -> int: ...
    def encode_char(self, char: str) -> bytes | None:
        """The bytes for one NFC character, or None when the page does not hold it."""
        ...

    def decode(self, data: bytes) -> str:
        """Bytes of this page back to NFC text."""
        ...


def split_tone(char: str) -> tuple[str, str]:
    """A letter and its tone mark: "ấ" gives ("â", U+0301), "ặ" gives ("ă", U+0323).

    NFD puts the vowel's own mark (circumflex, breve, horn) and the tone in canonical order; the
    tone is taken out and the rest recomposed, which is exactly CP1258's letter + combining tone.
    """
    decomposed = unicodedata.normalize("NFD", char)
    tones = "".join(c for c in decomposed if c in TONE_MARKS)
    rest = "".join(c for c in decomposed if c not in TONE_MARKS)
    return unicodedata.normalize("NFC", rest), tones


@dataclass(frozen=True)
class Cp1258Page:
    """Windows-1258 through Python's codec, splitting off tones the page has no letter for."""

    number: int
    name: str = "CP1258"

    def encode_char(self, char: str) -> bytes | None:
        try:
            return char.encode("cp1258")
        except UnicodeEncodeError:
            pass
        base, tones = split_tone(char)
        if not tones or len(base) != 1:
            return None
        try:
            return (base + tones).encode("cp1258")
        except UnicodeEncodeError:
            return None

    def decode(self, data: bytes) -> str:
        return unicodedata.normalize("NFC", data.decode("cp1258"))


@dataclass(frozen=True)
class TablePage:
    """A page given as python-escpos's table of its upper half; the lower half is ASCII."""

    name: str
    number: int
    table: Mapping[str, int]
    reverse: Mapping[int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reverse", {byte: char for char, byte in self.table.items()})

    @classmethod
    def from_capabilities(cls, name: str, number: int) -> TablePage:
        rows: list[str] = CAPABILITIES["encodings"][name]["data"]
        upper = "".join(rows)
        start = 256 - len(upper)  # tables list the upper half (128) or the whole page (256)
        table = {chr(byte): byte for byte in range(0x20, 0x7F)}
        for offset, char in enumerate(upper):
            if char != " " and start + offset >= 0x80:
                table.setdefault(_TABLE_CORRECTIONS.get(char, char), start + offset)
        return cls(name, number, table)

    def encode_char(self, char: str) -> bytes | None:
        byte = self.table.get(char)
        return None if byte is None else bytes([byte])

    def decode(self, data: bytes) -> str:
        return "".join(self.reverse[byte] for byte in data)


def vietnamese_pages(profile: str | None) -> tuple[CodePage, ...] | None:
    """The Vietnamese code pages of a python-escpos profile, best first; None when it has none."""
    listed: dict[str, int] = {}
    for number, name in CAPABILITIES["profiles"][profile or "default"]["codePages"].items():
        listed[name] = min(int(number), listed.get(name, 256))
    for names in VIETNAMESE_CODE_PAGES:
        if all(name in listed for name in names):
            return tuple(_page(name, listed[name]) for name in names)
    return None


def _page(name: str, number: int) -> CodePage:
    if name == "CP1258":
        return Cp1258Page(number)
    return TablePage.from_capabilities(name, number)


class VietnameseEncoder:
    """Encodes text for one slip, selecting pages with ``ESC t n`` only when the page changes.

    Make a new encoder after ``ESC @``: initialising the printer resets its code page.
    """

    def __init__(self, pages: Sequence[CodePage]) -> None:
        if not pages:
            raise ValueError("no code pages")
        self.pages = tuple(pages)
        self.current: CodePage | None = None

    def encode(self, text: str) -> bytes:
        """Selection commands and character bytes for ``text``; raises :class:`Unencodable`."""
        out = bytearray()
        for char in unicodedata.normalize("NFC", text):
            for page, data in self._encode_char(char):
                if page is not self.current:
                    out += SELECT_CODE_PAGE + bytes([page.number])
                    self.current = page
                out += data
        return bytes(out)

    def _encode_char(self, char: str) -> list[tuple[CodePage, bytes]]:
        if char == "\n":
            return [(self.current or self.pages[0], b"\n")]
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise Unencodable(char, self.pages)
        preferred = [self.current] if self.current is not None else []
        for page in [*preferred, *(p for p in self.pages if p is not self.current)]:
            data = page.encode_char(char)
            if data is not None:
                return [(page, data)]
        stand_in = PLAIN_STAND_INS.get(char)
        if stand_in is None:
            raise Unencodable(char, self.pages)
        return [pair for plain in stand_in for pair in self._encode_char(plain)]

    def can_encode(self, text: str) -> bool:
        """Whether every character of ``text`` fits (the encoder's state is left as it was)."""
        current = self.current
        try:
            self.encode(text)
        except Unencodable:
            return False
        finally:
            self.current = current
        return True
