"""The spellings of a dossier code (mã hồ sơ) a unit accepts, in a small template language.

The national form is ``<unit code>-<yymmdd>-<sequence>`` (``000.00.20.H41-261125-0007``), the one
this hub issues. Provincial one-stop systems print variants, e.g. a VNPT iGate sample
``G09.20-20260609-0092637`` (its own unit code, ``yyyymmdd``, seven digits). A unit lists the
variants it accepts for receipts registered from another system (``[receipt_codes]
external_patterns`` in its unit file) as templates, never as regular expressions typed by a person:

* ``{unit}``: a unit's electronic code, ``[0-9A-Z][0-9A-Z.]{2,19}`` (the code read back is checked
  against the unit's own, so another unit's code is refused as such);
* ``{yymmdd}`` or ``{yyyymmdd}``: the reception date, years 2000 to 2099 (exactly one per template:
  the date is what lets a kiosk and the hub refuse a code dated in the future, or too old);
* ``{seq:N}`` (exactly N digits) or ``{seq:M-N}`` (M to N digits, zero-padded to M, no other
  leading zero), 1 <= M <= N <= 9 (exactly one per template);
* anything else is literal text in ``[0-9A-Z.-]`` (``G09.20-``), the characters of the kiosk's
  code keypad; a code without ``{unit}`` is the unit's own by its literal text.

Why a template and not a regex: a pattern compiled from these tokens is anchored, has only bounded
repetitions, and a token of variable width must be followed by the end or by a literal character
it cannot contain, so a text is read in at most one way and in time linear in its length; texts
longer than the template allows are refused before any matching. Every code a template can write is
between :data:`MIN_CODE_LENGTH` and :data:`MAX_CODE_LENGTH` characters, the bounds of the wire
(``ReceiptRef.code``) and of the hub's ``dossier_code`` columns. Each code has one spelling: what is
read back is written again and compared, so two texts never name the same dossier.

Pure, imported by :mod:`hailong.contract.receipt`; it imports nothing of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Final, Literal

MIN_CODE_LENGTH: Final = 8  # ReceiptRef.code's minimum on the wire
MAX_CODE_LENGTH: Final = 40  # ReceiptRef.code, ratings.dossier_code and receipts.dossier_code
MAX_TEMPLATE_LENGTH: Final = 80
MAX_PATTERNS: Final = 16  # per unit: the unit file and the unit config message
MAX_SEQUENCE_DIGITS: Final = 9
NATIONAL_TEMPLATE: Final = "{unit}-{yymmdd}-{seq:4-6}"

_UNIT_RE = r"[0-9A-Z][0-9A-Z.]{2,19}"
_UNIT_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.")
_DIGITS = frozenset("0123456789")
_LITERAL = re.compile(r"[0-9A-Z.-]+", re.ASCII)
_TOKEN = re.compile(r"\{(unit|yymmdd|yyyymmdd|seq:([1-9])(?:-([1-9]))?)\}", re.ASCII)
_FIRST_YEAR, _LAST_YEAR = 2000, 2099


class PatternError(ValueError):
    """A template that is not one of the language's: the message says where and what is allowed."""


@dataclass(frozen=True)
class CodeParts:
    """What a code says: its unit code where the template has ``{unit}`` (``None``: the unit's
    own by its literal text), its reception date and its sequence."""

    unit: str | None
    received_on: date
    sequence: int


@dataclass(frozen=True)
class _Piece:
    kind: Literal["literal", "unit", "date", "seq"]
    text: str = ""  # the literal, or the date token
    low: int = 0  # seq: fewest digits (and the zero padding)
    high: int = 0  # seq: most digits

    @property
    def widths(self) -> tuple[int, int]:
        if self.kind == "literal":
            return len(self.text), len(self.text)
        if self.kind == "unit":
            return 3, 20
        if self.kind == "date":
            return (6, 6) if self.text == "yymmdd" else (8, 8)
        return self.low, self.high

    @property
    def chars(self) -> frozenset[str]:
        return _UNIT_CHARS if self.kind == "unit" else _DIGITS

    def regex(self) -> str:
        if self.kind == "literal":
            return re.escape(self.text)
        if self.kind == "unit":
            return f"(?P<unit>{_UNIT_RE})"
        if self.kind == "date":
            year = "[0-9]{2}" if self.text == "yymmdd" else "20[0-9]{2}"
            return f"(?P<date>{year}[01][0-9][0-3][0-9])"
        return f"(?P<seq>[0-9]{{{self.low},{self.high}}})"


@dataclass(frozen=True)
class CodePattern:
    """One compiled template (:func:`compile_pattern`): reads a code and writes one back."""

    template: str
    pieces: tuple[_Piece, ...] = field(repr=False)
    min_length: int
    max_length: int
    _regex: re.Pattern[str] = field(repr=False, compare=False)

    @property
    def has_unit(self) -> bool:
        """Whether the code carries a unit code (otherwise its literal text says whose it is)."""
        return any(piece.kind == "unit" for piece in self.pieces)

    @property
    def max_sequence(self) -> int:
        seq = next(piece for piece in self.pieces if piece.kind == "seq")
        return int(10**seq.high) - 1

    def read(self, text: str) -> CodeParts | None:
        """The parts of ``text`` if it is a code of this template in its one spelling, else None.

        Never raises: any text (any length, any character) is either a code or not."""
        if not self.min_length <= len(text) <= self.max_length:
            return None
        match = self._regex.fullmatch(text)
        if match is None:
            return None
        digits = match["date"]
        year = 2000 + int(digits[:2]) if len(digits) == 6 else int(digits[:4])
        try:
            day = date(year, int(digits[-4:-2]), int(digits[-2:]))
        except ValueError:
            return None
        unit = match.groupdict().get("unit")
        parts = CodeParts(unit, day, int(match["seq"]))
        # One spelling per code: a variable-width sequence with a leading zero past its padding
        # would otherwise name the same dossier as the code without it.
        return parts if self.write(parts.unit, day, parts.sequence) == text else None

    def write(self, unit: str | None, received_on: date, sequence: int) -> str:
        """The code's text; ``unit`` is used only where the template has ``{unit}``."""
        if not _FIRST_YEAR <= received_on.year <= _LAST_YEAR:
            raise ValueError(f"{received_on} is outside {_FIRST_YEAR}..{_LAST_YEAR}")
        if not 0 <= sequence <= self.max_sequence:
            raise ValueError(
                f"sequence {sequence} is not 0..{self.max_sequence} in {self.template}"
            )
        out: list[str] = []
        for piece in self.pieces:
            if piece.kind == "literal":
                out.append(piece.text)
            elif piece.kind == "unit":
                if unit is None or not re.fullmatch(_UNIT_RE, unit, re.ASCII):
                    raise ValueError(f"unit code {unit!r} is not a unit's electronic code")
                out.append(unit)
            elif piece.kind == "date":
                out.append(f"{received_on:%y%m%d}" if piece.text == "yymmdd" else _ymd(received_on))
            else:
                out.append(f"{sequence:0{piece.low}d}")
        return "".join(out)


def _ymd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


@lru_cache(maxsize=256)
def compile_pattern(template: str) -> CodePattern:
    """Compile one template, or raise :class:`PatternError` saying what is wrong and where."""
    if not template:
        raise PatternError("the template is empty")
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise PatternError(f"the template is longer than {MAX_TEMPLATE_LENGTH} characters")
    pieces = _tokenize(template)
    counts = {kind: sum(p.kind == kind for p in pieces) for kind in ("unit", "date", "seq")}
    if counts["date"] != 1:
        raise PatternError(
            "a template has exactly one date, {yymmdd} or {yyyymmdd} "
            f"(found {counts['date']}): the date is what a code is checked against the clock by"
        )
    if counts["seq"] != 1:
        raise PatternError(f"a template has exactly one {{seq:N}} (found {counts['seq']})")
    if counts["unit"] > 1:
        raise PatternError("a template has at most one {unit}")
    for i, piece in enumerate(pieces):
        low, high = piece.widths
        if low == high or piece.kind == "literal":
            continue
        after = pieces[i + 1] if i + 1 < len(pieces) else None
        if after is not None and (after.kind != "literal" or after.text[0] in piece.chars):
            what = "{unit}" if piece.kind == "unit" else "a {seq:M-N} of varying width"
            raise PatternError(
                f"{what} must be followed by the end or by a separator it cannot contain "
                "(such as '-'), so a code is read in one way only"
            )
    min_length = sum(p.widths[0] for p in pieces)
    max_length = sum(p.widths[1] for p in pieces)
    if min_length < MIN_CODE_LENGTH:
        raise PatternError(
            f"its codes can be {min_length} characters, fewer than {MIN_CODE_LENGTH}"
        )
    if max_length > MAX_CODE_LENGTH:
        raise PatternError(f"its codes can be {max_length} characters, more than {MAX_CODE_LENGTH}")
    regex = re.compile("".join(piece.regex() for piece in pieces), re.ASCII)
    return CodePattern(template, pieces, min_length, max_length, regex)


def _tokenize(template: str) -> tuple[_Piece, ...]:
    pieces: list[_Piece] = []
    at = 0
    while at < len(template):
        if template[at] == "{":
            token = _TOKEN.match(template, at)
            if token is None:
                raise PatternError(
                    f"unknown token at character {at + 1}: expected {{unit}}, {{yymmdd}}, "
                    "{yyyymmdd}, {seq:N} or {seq:M-N} with 1 <= M <= N <= 9"
                )
            name = token[1]
            if name == "unit":
                pieces.append(_Piece("unit"))
            elif name in ("yymmdd", "yyyymmdd"):
                pieces.append(_Piece("date", name))
            else:
                low = int(token[2])
                high = int(token[3]) if token[3] else low
                if high < low:
                    raise PatternError(f"{token[0]}: the fewest digits come first")
                pieces.append(_Piece("seq", low=low, high=high))
            at = token.end()
            continue
        literal = _LITERAL.match(template, at)
        if literal is None:
            raise PatternError(
                f"character {template[at]!r} at {at + 1} is not allowed: literal text is "
                "0-9, A-Z, '.' and '-'"
            )
        if pieces and pieces[-1].kind == "literal":
            pieces[-1] = _Piece("literal", pieces[-1].text + literal[0])
        else:
            pieces.append(_Piece("literal", literal[0]))
        at = literal.end()
    return tuple(pieces)


def check_templates(templates: Iterable[str]) -> tuple[str, ...]:
    """The templates, each compiled once to prove it is valid; a repeated one or more than
    :data:`MAX_PATTERNS` is an error (a repeated template would only hide a typo)."""
    out: list[str] = []
    for i, template in enumerate(templates):
        try:
            compile_pattern(template)
        except PatternError as exc:
            raise PatternError(f"pattern {i} {template!r}: {exc}") from exc
        if template in out:
            raise PatternError(f"pattern {i} {template!r} is already pattern {out.index(template)}")
        out.append(template)
    if len(out) > MAX_PATTERNS:
        raise PatternError(f"{len(out)} patterns, more than {MAX_PATTERNS}")
    return tuple(out)


NATIONAL: Final = compile_pattern(NATIONAL_TEMPLATE)


@dataclass(frozen=True)
class CodeBook:
    """The spellings one unit accepts besides the national one, in the order they are tried.

    ``unit`` is the unit's electronic code: the owner of a code whose template has no ``{unit}``.
    The national spelling is always accepted (it is the one the hub issues) and always tried first.
    """

    unit: str
    patterns: tuple[CodePattern, ...] = ()

    @classmethod
    def of(cls, unit: str, templates: Iterable[str] = ()) -> CodeBook:
        """The unit's book from its templates (:class:`PatternError` if one is not valid)."""
        return cls(unit, tuple(compile_pattern(t) for t in check_templates(templates)))

    @property
    def templates(self) -> tuple[str, ...]:
        return tuple(pattern.template for pattern in self.patterns)

    def read(self, text: str) -> tuple[CodePattern, CodeParts] | None:
        """The first of the unit's own patterns ``text`` is a code of, with its parts."""
        if len(text) > MAX_CODE_LENGTH:
            return None
        for pattern in self.patterns:
            parts = pattern.read(text)
            if parts is not None:
                return pattern, parts
        return None


@lru_cache(maxsize=64)
def code_book(unit: str, templates: tuple[str, ...] = ()) -> CodeBook:
    """:meth:`CodeBook.of`, kept: the hub reads every rating's code with its unit's book."""
    return CodeBook.of(unit, templates)
