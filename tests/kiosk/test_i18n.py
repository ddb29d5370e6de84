"""Further languages from Qt translation catalogues, with English as the fallback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

import kiosk.i18n
from hailong.contract.receipt import ReceiptRefused
from hailong.contract.scale import Score
from kiosk.domain.session import ALREADY_RATED, NOT_SAVED, WALK_IN_TOO_SOON
from kiosk.i18n import Languages, languages

I18N = Path(kiosk.i18n.__file__).parent


def test_the_shipped_chinese_catalogue_is_offered_after_the_built_in_languages(
    qtbot: QtBot,
) -> None:
    catalogue = languages()
    assert catalogue.codes == ("vi", "en", "zh")
    assert [catalogue.next(code) for code in catalogue.codes] == ["en", "zh", "vi"]
    assert catalogue.next("xx") == "vi"
    assert catalogue.name("zh") == "中文"


def test_pairs_put_the_citizens_language_first_and_vietnamese_beneath(qtbot: QtBot) -> None:
    catalogue = languages()
    vi, en = ALREADY_RATED.vi, ALREADY_RATED.en
    assert catalogue.pair(vi, en, "vi") == (vi, en)
    assert catalogue.pair(vi, en, "en") == (en, vi)
    assert catalogue.pair(vi, en, "zh") == ("该档案已经评价过了。谢谢！", vi)
    # A sentence the catalogue does not know is shown in English, never as nothing.
    assert catalogue.pair("Câu mới", "A new sentence", "zh") == ("A new sentence", "Câu mới")


def test_every_sentence_a_citizen_meets_is_translated(qtbot: QtBot) -> None:
    catalogue = languages()
    sentences = [
        ALREADY_RATED.en,
        NOT_SAVED.en,
        WALK_IN_TOO_SOON.en,
        *(en for _vi, en in ReceiptRefused.MESSAGES.values()),
        *(score.label_en for score in Score),
    ]
    missing = [s for s in sentences if catalogue.translate(s, "zh") == s]
    assert missing == []


def test_an_empty_folder_offers_only_the_built_in_languages(qtbot: QtBot, tmp_path: Path) -> None:
    assert Languages(tmp_path).codes == ("vi", "en")


@pytest.mark.skipif(
    shutil.which("pyside6-lrelease", path=str(Path(sys.executable).parent)) is None,
    reason="pyside6-lrelease is not installed next to this interpreter",
)
def test_compiled_catalogues_match_their_sources(tmp_path: Path) -> None:
    """A .ts edited without running lrelease would silently ship old translations."""
    lrelease = Path(sys.executable).parent / "pyside6-lrelease"
    for source in sorted(I18N.glob("hailong_*.ts")):
        ET.parse(source)  # well-formed XML
        fresh = tmp_path / source.with_suffix(".qm").name
        subprocess.run(
            [str(lrelease), str(source), "-qm", str(fresh)], check=True, capture_output=True
        )
        assert fresh.read_bytes() == source.with_suffix(".qm").read_bytes(), source.name
