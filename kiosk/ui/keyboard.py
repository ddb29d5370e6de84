"""A large on-screen keyboard, so nothing needs a physical keyboard.

Vietnamese is typed the way phones teach it: base letters (including ă â đ ê ô ơ ư), then a tone key
that puts its mark on the last letter typed (combining mark + NFC), so "hoa" + ` gives "hoà".

The code keypad has every character a dossier code may hold (:mod:`hailong.contract.dossier_codes`:
digits, A to Z, ``.`` and ``-``): unit and provincial codes use letters Vietnamese words do not
(F, J, W, Z), and a missing key makes a code impossible to type. The letters are in alphabetical
order, ten to a row like the digits, so four rows still fit a 7-inch screen.
"""

from __future__ import annotations

import unicodedata

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QSizePolicy, QWidget

BACKSPACE = "⌫"
TALLEST_KEY = 2.8  # a key's height at most, in the screen's scale unit (the least is 2.0)
SPACE = "␣"
# Tone keys, named as Vietnamese schoolchildren learn them, and the combining mark each adds.
TONES = {
    "sắc": "\u0301",
    "huyền": "\u0300",
    "hỏi": "\u0309",
    "ngã": "\u0303",
    "nặng": "\u0323",
}

LAYOUTS: dict[str, list[list[str]]] = {
    # Dossier codes: 000.00.20.H41-261125-0001, G09.20-20260609-0092637
    "code": [
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"],
        ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"],
        ["K", "L", "M", "N", "O", "P", "Q", "R", "S", "T"],
        ["U", "V", "W", "X", "Y", "Z", ".", "-", BACKSPACE],
    ],
    "phone": [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "0"], ["+", BACKSPACE]],
    "text": [
        ["q", "w", "e", "r", "t", "y", "u", "i", "o", "p"],
        ["a", "s", "d", "f", "g", "h", "j", "k", "l", "đ"],
        ["z", "x", "c", "v", "b", "n", "m", "ă", "â", "ê"],
        ["ô", "ơ", "ư", *TONES, BACKSPACE],
        [",", ".", "?", SPACE],
    ],
}


_VOWELS = set("aăâeêioôơuưy")
_SHAPED = set("ăâêôơư")


def _strip_tone(letter: str) -> str:
    base = unicodedata.normalize("NFD", letter)
    return unicodedata.normalize("NFC", "".join(ch for ch in base if ch not in TONES.values()))


def _tone_position(word: str) -> int | None:
    """Index of the vowel that carries the tone in ``word`` (common rules; -1-based on the word)."""
    plain = [_strip_tone(ch).lower() for ch in word]
    start = 2 if "".join(plain[:2]) in ("qu", "gi") and len(plain) > 2 else 0
    vowels = [i for i in range(start, len(plain)) if plain[i] in _VOWELS]
    if not vowels:
        return None
    shaped = [i for i in vowels if plain[i] in _SHAPED]
    if shaped:
        return shaped[-1]
    ends_open = vowels[-1] == len(plain) - 1
    if ends_open and len(vowels) >= 2:
        return vowels[-2]
    return vowels[-1]


def apply_key(text: str, key: str) -> str:
    """The text after pressing ``key`` (pure, for the widget and its tests)."""
    if key == BACKSPACE:
        return text[:-1]
    if key == SPACE:
        return text + " "
    if key not in TONES:
        return text + key
    word_start = len(text) - len(text.split(" ")[-1])
    position = _tone_position(text[word_start:])
    if position is None:
        return text
    index = word_start + position
    toned = unicodedata.normalize(
        "NFC", unicodedata.normalize("NFD", _strip_tone(text[index])) + TONES[key]
    )
    return text[:index] + toned + text[index + 1 :]


class OnScreenKeyboard(QWidget):
    pressed = Signal(str)

    def __init__(self, layout: str) -> None:
        super().__init__()
        self.target: QLineEdit | None = None
        grid = QGridLayout(self)
        grid.setSpacing(4)
        self.keys: dict[str, QPushButton] = {}
        width = max(len(keys) for keys in LAYOUTS[layout])
        for row, keys in enumerate(LAYOUTS[layout]):
            for column, key in enumerate(keys):
                label = "cách / space" if key == SPACE else key
                button = QPushButton(label)
                button.setAccessibleName(key)
                # Wide as the row allows; taller than the minimum where the screen has room left
                # (a small screen hides the attract picture for the keys): up to rescale's cap.
                button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
                button.clicked.connect(lambda _checked=False, k=key: self._press(k))
                # Space, and a backspace that ends a short row, take the rest of the row: the
                # keys used most get the largest targets.
                last = column == len(keys) - 1
                span = width - column if key == SPACE or (key == BACKSPACE and last) else 1
                grid.addWidget(button, row, column, 1, span)
                self.keys[key] = button

    def _press(self, key: str) -> None:
        if self.target is not None:
            self.target.setText(apply_key(self.target.text(), key))
        self.pressed.emit(key)

    def rescale(self, unit: int) -> None:
        for button in self.keys.values():
            font = button.font()
            font.setPixelSize(max(12, int(unit * 0.9)))
            button.setFont(font)
            button.setMinimumHeight(int(unit * 2.0))
            button.setMaximumHeight(int(unit * TALLEST_KEY))
        # The keyboard no taller than its rows at their tallest: rows stay together, never
        # spread apart over a tall screen.
        grid = self.layout()
        rows = grid.rowCount() if isinstance(grid, QGridLayout) else 1
        margins = self.contentsMargins()
        spacing = grid.spacing() if grid is not None else 0
        tallest = rows * int(unit * TALLEST_KEY) + (rows - 1) * spacing
        self.setMaximumHeight(tallest + margins.top() + margins.bottom())
