"""The quarterly PDF read back with pypdf, and rendered with poppler's pdftoppm: Vietnamese
headings with their tone marks, the unit, the figures worked out in conftest.py, every glyph in
the embedded font (no tofu boxes), and pages that are not blank."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from hailong.contract.scale import Score
from hub.domain.periods import period
from hub.exports import pdf
from hub.exports.gather import Quarterly, quarterly
from tests.hub.exports.conftest import NOW, Seeded

QUARTER = period("quarter", date(2026, 11, 25))
PDFTOPPM = shutil.which("pdftoppm")
# Set HAILONG_SCREENSHOTS=docs/screenshots to keep page 1 as quarterly-report.png.
SHOTS = os.environ.get("HAILONG_SCREENSHOTS")


@pytest.fixture
def report(quarter_db: Seeded) -> Quarterly:
    return quarterly(quarter_db.sessions, quarter_db.unit, QUARTER, NOW)


def _text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_figures_of_the_quarter(report: Quarterly) -> None:
    assert (report.export.overall.n, report.export.overall.satisfied) == (140, 119)
    assert (report.previous.n, report.previous.satisfied) == (20, 15)
    assert report.change == pytest.approx(10.0)
    assert report.levels == {
        Score.VERY_DISSATISFIED: 2,
        Score.DISSATISFIED: 5,
        Score.NEUTRAL: 14,
        Score.SATISFIED: 48,
        Score.VERY_SATISFIED: 71,
    }


def test_the_report_reads_back_with_its_vietnamese_and_its_figures(
    report: Quarterly, tmp_path: Path
) -> None:
    steps: list[int] = []
    data = pdf.quarterly_pdf(report, lambda percent, _stage: steps.append(percent))
    assert data.startswith(b"%PDF")
    assert steps == sorted(steps)
    assert steps[-1] == 99  # 100 is the job's, once the file is kept
    text = re.sub(r"\s+", " ", _text(data, tmp_path))
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập – Tự do – Hạnh phúc",
        "BÁO CÁO",
        "Kết quả đánh giá mức độ hài lòng của người dân, tổ chức",
        "Quý IV năm 2026",
        "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH",
        "Trung tâm Phục vụ hành chính công phường Nghĩa Tân",
        "1. Kết quả chung / Overall result",
        "2. Phân bố theo 5 mức đánh giá",
        "3. MĐHL theo quầy / Satisfaction by counter",
        "4. MĐHL theo công chức / Satisfaction by officer",
        "5. MĐHL theo thủ tục / Satisfaction by procedure",
        "6. MĐHL theo lĩnh vực / Satisfaction by field",
        "85.0 %",  # 119 of 140
        "78.2 – 90.0 %",
        "chưa đạt / not met",  # below the 90 % target
        "+10.0 điểm phần trăm",  # Q3: 15 of 20 = 75.0 %
        "81.3 % (n = 75)",  # Quầy 1 in the chart
        "93.3 % (n = 45)",
        "71 (50.7 %)",  # "Rất hài lòng" in the levels chart
        "Rất không hài lòng",
        "Trần Văn Minh",
        "H'Linh Niê",
        "Chứng thực",
        "THỦ TRƯỞNG ĐƠN VỊ",
    ]:
        assert expected in text, expected
    minh = re.search(r"Trần Văn Minh 35 25 71\.4 % 54\.9 – 83\.7 cần quan tâm", text)
    assert minh, "Minh's line: n, satisfied, MĐHL, interval, flagged"
    assert re.search(r"Phạm Đức Anh 12\* 9 75\.0 % 46\.8 – 91\.1", text)


def test_the_font_is_embedded_and_has_every_glyph(report: Quarterly, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.quarterly_pdf(report))
    drawn_with: set[str] = set()
    text = []

    def visit(piece: str, _cm: object, _tm: object, font: Any, _size: object) -> None:
        if piece.strip():
            text.append(piece)
            drawn_with.add(str(font["/BaseFont"]))
            assert "/FontFile2" in font["/FontDescriptor"]  # embedded TrueType

    for page in PdfReader(path).pages:
        page.extract_text(visitor_text=visit)
    # Every piece of text in DejaVu Sans (a subset, "AAAAAA+DejaVuSans"), none in a base font.
    assert {name.split("+")[-1] for name in drawn_with} == {
        "DejaVuSans",
        "DejaVuSans-Bold",
        "DejaVuSans-Oblique",
    }
    # A character outside the font's table would be drawn as a box: there is none.
    face = pdfmetrics.getFont(pdf.FONT).face  # type: ignore[attr-defined]
    missing = {c for c in "".join(text) if not c.isspace() and ord(c) not in face.charToGlyph}
    assert not missing


def test_a_quarter_without_ratings_still_makes_a_report(quarter_db: Seeded, tmp_path: Path) -> None:
    empty = quarterly(
        quarter_db.sessions, quarter_db.unit, period("quarter", date(2025, 2, 1)), NOW
    )
    text = _text(pdf.quarterly_pdf(empty), tmp_path)
    assert "Quý I năm 2025" in text
    assert "Chưa có đánh giá trong kỳ" in text


@pytest.mark.skipif(PDFTOPPM is None, reason="poppler-utils (pdftoppm) is not installed")
def test_the_pages_render(report: Quarterly, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.quarterly_pdf(report))
    subprocess.run([PDFTOPPM, "-r", "60", "-png", path, tmp_path / "page"], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    first = Image.open(pages[0]).convert("RGB")
    assert first.height == 702  # A4 at 60 dpi: 11.69 in
    assert ImageStat.Stat(first.convert("L")).stddev[0] > 20  # not a blank page
    colours = {colour for _count, colour in first.getcolors(maxcolors=1 << 20) or []}
    assert (0x2E, 0x7D, 0x32) in colours  # the green "very satisfied" bar is there
    assert (0xEF, 0x6C, 0x00) in colours  # and an orange counter below the target
    if SHOTS:
        shot = Path(SHOTS) / "quarterly-report"
        subprocess.run(
            [PDFTOPPM, "-r", "110", "-f", "1", "-l", "1", "-singlefile", "-png", path, shot],
            check=True,
        )
