"""More languages for the citizen, through Qt's translation files.

Vietnamese and English are built in: every sentence in the code is written as a (vi, en) pair.
Any further language is a Qt catalogue ``hailong_<code>.qm`` in this folder, compiled from
``hailong_<code>.ts`` with ``pyside6-lrelease``; its source texts are the English sentences (context
``hailong``), so translators work from English in Qt Linguist and no code changes. A citizen who
picks such a language reads it first and Vietnamese beneath; a sentence without a translation
falls back to English, never to nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QTranslator

CONTEXT = "hailong"
BUILT_IN = ("vi", "en")
# What each language is called in itself, for the language button.
NAMES = {"vi": "Tiếng Việt", "en": "English", "zh": "中文", "ko": "한국어", "fr": "Français"}


class Languages:
    """The languages this kiosk offers, in the order the language button cycles through them."""

    def __init__(self, folder: Path) -> None:
        self._translators: dict[str, QTranslator] = {}
        for path in sorted(folder.glob("hailong_*.qm")):
            code = path.stem.removeprefix("hailong_")
            translator = QTranslator()
            if translator.load(str(path)):
                self._translators[code] = translator

    @property
    def codes(self) -> tuple[str, ...]:
        return (*BUILT_IN, *self._translators)

    def next(self, lang: str) -> str:
        codes = self.codes
        return codes[(codes.index(lang) + 1) % len(codes)] if lang in codes else codes[0]

    def name(self, lang: str) -> str:
        return NAMES.get(lang, lang)

    def translate(self, english: str, lang: str) -> str:
        """``english`` in ``lang`` (English itself when the catalogue has no translation)."""
        translator = self._translators.get(lang)
        if translator is None:
            return english
        return translator.translate(CONTEXT, english) or english

    def pair(self, vi: str, en: str, lang: str) -> tuple[str, str]:
        """The sentence in the citizen's language first, and the one to show beneath it."""
        if lang == "vi":
            return vi, en
        if lang == "en":
            return en, vi
        return self.translate(en, lang), vi


@cache
def languages() -> Languages:
    """The catalogues shipped in the package (loaded once, after QApplication exists).

    Found beside this file rather than through ``importlib.resources``, whose import the start
    screen would wait for (the package is always installed as files: pyproject.toml)."""
    return Languages(Path(__file__).parent)
