"""The slip layout: paper sizes, a readable QR with its quiet zone, nothing clipped."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Literal

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageFilter

from hailong.contract.receipt import KeyRing, SignedReceipt, parse_scan, verify
from hailong.settings import PrinterSettings, ReceiptKeys, Unit
from hub.receipts import slip
from hub.receipts.issuing import IssuedReceipt
from hub.receipts.printer import build_job
from hub.receipts.slip import STYLES, render_slip
from tests.support.escpos_raster import extract_raster_images, stack


def ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the black dots."""
    return ImageChops.invert(image.convert("L")).getbbox()


@pytest.mark.parametrize(("paper", "width"), [(58, 384), (80, 576)])
def test_the_slip_is_as_wide_as_the_paper_and_its_qr_verifies(
    issued: IssuedReceipt, unit: Unit, keyring: KeyRing, tmp_path: Path, paper: int, width: int
) -> None:
    image = render_slip(issued, unit, paper_width_mm=paper)  # type: ignore[arg-type]
    image.save(tmp_path / f"slip-{paper}.png")

    assert image.mode == "1"
    assert image.width == width
    assert width * 1.5 < image.height < width * 3.5
    assert Image.open(tmp_path / f"slip-{paper}.png").size == image.size
    (found,) = zxingcpp.read_barcodes(
        image.convert("L"), formats=zxingcpp.barcode_formats_from_str("QRCode")
    )
    assert found.text == issued.url
    assert verify(parse_scan(found.text), keyring, unit.unit.code) == issued.claims  # type: ignore[arg-type]
    share = (found.position.top_right.x - found.position.top_left.x) / width
    assert 0.5 <= share <= 0.65


@pytest.mark.parametrize("paper", [58, 80])
def test_the_qr_keeps_a_four_module_quiet_zone(issued: IssuedReceipt, paper: int) -> None:
    style = STYLES[paper]
    block = slip.qr_block(issued.url, style)
    modules = len(slip.qr_matrix(issued.url)) - 8
    box = ink_box(block)
    assert box is not None
    module = (box[2] - box[0]) // modules

    assert box[2] - box[0] == modules * module
    assert block.height == (modules + 8) * module
    assert box[1] == 4 * module
    assert box[0] >= 4 * module
    assert block.width - box[2] >= 4 * module


def test_the_slip_says_everything_a_receipt_must(issued: IssuedReceipt, unit: Unit) -> None:
    content = slip.slip_content(issued, unit)

    assert content.unit_name == "Trung tâm Phục vụ hành chính công phường Nghĩa Tân"
    assert content.code == "000.00.20.H41-261125-0001"
    assert content.url == issued.url
    assert content.rows == (
        ("Thủ tục:", "Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh (2.000575)"),
        ("Quầy:", "Quầy 3 – Kinh doanh, đất đai"),
        ("Cán bộ tiếp nhận:", "H'Linh Niê"),
        ("Ngày tiếp nhận:", f"{issued.issued_at:%d/%m/%Y %H:%M}"),
        ("Ngày hẹn trả:", "—"),  # none promised
    )


def test_a_promised_date_and_the_citizen_are_shown(issued: IssuedReceipt, unit: Unit) -> None:
    promised = dataclasses.replace(issued, promised_on=date(2026, 11, 28))
    content = slip.slip_content(promised, unit, citizen_name="Nguyễn Văn Ánh")

    assert content.rows[0] == ("Người nộp hồ sơ:", "Nguyễn Văn Ánh")
    assert content.rows[-1] == ("Ngày hẹn trả:", "28/11/2026")
    plain = render_slip(issued, unit, paper_width_mm=80)
    named = render_slip(promised, unit, paper_width_mm=80, citizen_name="Nguyễn Văn Ánh")
    assert named.height > plain.height


@pytest.mark.parametrize(("paper", "columns"), [(58, 32), (80, 48)])
def test_the_text_layout_fits_the_columns_and_keeps_every_word(
    issued: IssuedReceipt, unit: Unit, paper: int, columns: int
) -> None:
    content = slip.slip_content(issued, unit)
    small = slip.COLUMNS[paper][1]
    elements = slip.text_layout(content, columns, small)

    lines = [e for e in elements if isinstance(e, slip.TextLine)]
    assert [e for e in elements if isinstance(e, slip.QrImage)] == [slip.QrImage(issued.url)]
    assert all(len(line.text) <= (small if line.small else columns) for line in lines)
    text = " ".join(line.text for line in lines)
    for label, value in content.rows:
        assert f"{label} {value}" in text
    labels = [line.runs[0] for line in lines if line.align == "left" and ":" in line.text]
    assert len(labels) == len(content.rows)
    assert all(bold and text.endswith(":") for text, bold in labels)


def test_centred_lines_are_balanced_and_long_words_are_broken() -> None:
    assert slip.wrap_columns([("một hai ba bốn năm", False)], 12, balanced=True) == [
        (("một hai ba", False),),
        (("bốn năm", False),),
    ]
    assert slip.wrap_columns([("Nhãn:", True), ("abcdefghij", False)], 6) == [
        (("Nhãn:", True),),
        (("abcdef", False),),
        (("ghij", False),),
    ]


def test_a_profile_narrower_than_the_paper_narrows_the_slip() -> None:
    assert slip.style_for(80, 512).width == 512
    assert slip.style_for(80, 640).width == 576  # never wider than the paper
    assert slip.style_for(58).width == 384


@pytest.mark.parametrize("paper", [58, 80])
def test_no_text_line_is_clipped_or_too_wide(paper: int) -> None:
    style = STYLES[paper]
    texts = [
        slip.TITLE,
        "Ủy ban nhân dân xã Ẳng Tở, huyện Mường Ảng, tỉnh Điện Biên",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản (2.000815)",
        "Quẫy Ỹ Ỵ Ỗ Ặ gjpqy",
        "000.00.20.H41-261125-000000000000000000000000",  # longer than a line: broken
    ]
    for text in texts:
        for bold, align in [(True, "center"), (False, "left")]:
            block = slip.text_block([(text, slip.font(style.title, bold=bold))], style, align=align)  # type: ignore[arg-type]
            box = ink_box(block)
            assert box is not None
            assert box[1] > 0, f"top marks clipped in {text!r}"
            assert box[3] < block.height, f"descenders clipped in {text!r}"
            assert box[0] >= style.margin - 2
            assert box[2] <= style.width - style.margin + 2


def test_decomposed_text_renders_like_precomposed() -> None:
    style = STYLES[80]
    text = "Quét mã QR để đánh giá mức độ hài lòng"
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    regular = slip.font(style.body)
    one = slip.text_block([(text, regular)], style, align="center")
    other = slip.text_block([(decomposed, regular)], style, align="center")

    assert ImageChops.difference(one, other).getbbox() is None


def test_centred_text_wraps_evenly() -> None:
    style = STYLES[58]
    words = slip.words_of([(slip.CALL_TO_RATE_VI, slip.font(style.body, bold=True))])
    lines = slip.balanced_wrap(words, style.width - 2 * style.margin)

    assert len(lines) == 2
    assert all(len(line) >= 3 for line in lines)  # no lone "lòng" on the last line


@pytest.fixture
def no_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(slip, "FONT_DIR", tmp_path)
    slip.font.cache_clear()
    yield
    monkeypatch.undo()
    slip.font.cache_clear()


@pytest.mark.usefixtures("no_fonts")
def test_a_missing_font_names_the_package(issued: IssuedReceipt, unit: Unit) -> None:
    with pytest.raises(slip.FontMissingError, match="fonts-dejavu-core"):
        render_slip(issued, unit, paper_width_mm=58)


# -- the Ed25519 QR on 58 mm paper ------------------------------------------------------------------

SLIP_PNG = Path("/tmp/hailong-slip-58mm.png")  # kept for a person to look at


@pytest.mark.parametrize(
    ("profile", "text_mode"),
    [(None, "image"), ("POS-5890", "image"), ("NT-5890K", "codepage"), ("ZJ-5870", "image")],
)
def test_a_58mm_slip_scans_at_203_dpi_and_verifies_with_public_keys_only(
    issued: IssuedReceipt,
    unit: Unit,
    receipt_keys: ReceiptKeys,
    profile: str | None,
    text_mode: Literal["image", "codepage"],
) -> None:
    """The 64-byte signature makes the URL 176 characters (112 with the old 16-byte HMAC): QR
    version 9 at level M (was 7), 53 modules of 4 dots (0.5 mm; was 5) on a 384-dot head. It must decode from
    the printer's own bytes, and still after the dots a worn head loses or ink bleed adds."""
    settings = PrinterSettings(
        kind="dummy", paper_width_mm=58, profile=profile, text_mode=text_mode
    )
    job = build_job(issued, unit, settings)
    page = stack(extract_raster_images(job.data)).convert("L")
    if profile is None:
        page.save(SLIP_PNG)

    assert job.mode == text_mode
    assert page.width <= 384
    assert len(issued.url) == 176
    matrix = slip.qr_matrix(issued.url)
    assert len(matrix) - 8 == 53  # version 9: 17 + 4 * 9 modules
    for printed in (
        page,
        page.filter(ImageFilter.MinFilter(3)),
        page.filter(ImageFilter.MaxFilter(3)),
    ):
        (found,) = zxingcpp.read_barcodes(
            printed, formats=zxingcpp.barcode_formats_from_str("QRCode")
        )
        assert found.text == issued.url
        assert found.ec_level == "M"
        scanned = parse_scan(found.text)
        assert isinstance(scanned, SignedReceipt)
        kiosk = receipt_keys.public().keyring()
        assert not kiosk.can_sign
        assert verify(scanned, kiosk, unit.unit.code) == issued.claims
    module = (found.position.top_right.x - found.position.top_left.x) / 52
    assert module >= 3.9  # dots per module: about 0.5 mm at 203 dpi
