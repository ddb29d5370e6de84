"""The slip says its QR works on a phone too, only where a phone can reach the QR's address; the
printed bytes read back (characters in their code page, the QR from the raster) say so."""

from __future__ import annotations

import dataclasses

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract.receipt import KeyRing, parse_scan, verify
from hailong.settings import PrinterSettings, Unit
from hub.receipts import slip
from hub.receipts.issuing import IssuedReceipt
from hub.receipts.printer import build_job
from hub.receipts.slip import (
    CALL_TO_RATE_EN,
    CALL_TO_RATE_VI,
    ON_A_PHONE_EN,
    ON_A_PHONE_VI,
    opens_on_a_phone,
    render_slip,
)
from tests.hub.receipts.escpos_text import decoders_for, read_text
from tests.support.escpos_raster import decode_qr, extract_raster_images, stack

CODE = "000.00.20.H41-261125-0001"
QUERY = "?p=1.001193&c=Q1&o=CB001&k=k1&s=" + "A" * 86


def _on(base: str, issued: IssuedReceipt) -> IssuedReceipt:
    """The same receipt, its QR pointing at ``base`` instead."""
    return dataclasses.replace(
        issued, url=issued.url.replace("https://hailong.example.gov.vn", base)
    )


@pytest.mark.parametrize(
    ("base", "phone"),
    [
        ("https://hailong.example.gov.vn", True),
        ("http://hailong.ubnd-nghiatan.vn:8080", True),
        ("http://192.168.1.20:8080", True),  # the building's Wi-Fi: phones there reach it
        ("http://localhost:8080", False),
        ("http://hub.localhost", False),
        ("http://127.0.0.1:8080", False),
        ("http://127.8.9.10", False),
        ("http://[::1]:8080", False),
        ("http://0.0.0.0:8080", False),
        ("ftp://hailong.example.gov.vn", False),
        ("hailong.example.gov.vn", False),  # no scheme: a phone's camera app opens nothing
    ],
)
def test_the_phone_line_is_promised_only_where_a_phone_reaches_the_hub(
    issued: IssuedReceipt, base: str, phone: bool
) -> None:
    url = _on(base, issued).url
    assert opens_on_a_phone(url) is phone
    closing = slip.rating_invitation(url)
    assert closing[0] == (CALL_TO_RATE_VI, CALL_TO_RATE_EN)
    assert ((ON_A_PHONE_VI, ON_A_PHONE_EN) in closing) is phone


@pytest.mark.parametrize(
    "url",
    [
        f"https://hailong.example.gov.vn/x/{CODE}{QUERY}",  # not the rating page
        f"https://hailong.example.gov.vn/r/{CODE}",  # no signature: the page refuses it
        f"https://hailong.example.gov.vn/r/{CODE}?p=1.001193&c=Q1",  # cut short
        "https://hailong.example.gov.vn/r/not-a-code" + QUERY,
        "",
    ],
)
def test_an_address_that_is_not_a_signed_receipt_promises_nothing(url: str) -> None:
    assert opens_on_a_phone(url) is False


@given(st.text(max_size=300))
def test_any_text_is_judged_without_an_error(text: str) -> None:
    assert opens_on_a_phone(text) in (True, False)


@pytest.mark.parametrize(
    ("profile", "paper"),
    [("default", 80), ("NT-5890K", 58), ("CT-S651", 80)],  # CP1258 (two numbers) and TCVN-3
)
def test_the_printed_bytes_say_the_qr_works_on_a_phone(
    issued: IssuedReceipt, unit: Unit, keyring: KeyRing, profile: str, paper: int
) -> None:
    settings = PrinterSettings(
        kind="dummy", paper_width_mm=paper, profile=profile, text_mode="codepage"
    )
    job = build_job(issued, unit, settings)
    assert job.mode == "codepage"

    stream = read_text(job.data, decoders_for(profile))
    text = stream.text
    assert "?" not in text  # every tone mark printed, none replaced
    assert f"{CALL_TO_RATE_VI} {CALL_TO_RATE_EN} {ON_A_PHONE_VI} {ON_A_PHONE_EN}" in text
    phone = [line for line in stream.lines if line.text.strip() and line.text in ON_A_PHONE_VI]
    assert phone
    assert all(line.align == 1 and not line.bold_text() for line in phone)
    (found,) = decode_qr(extract_raster_images(job.data))
    assert found == issued.url
    assert opens_on_a_phone(found)
    assert verify(parse_scan(found), keyring, unit.unit.code) == issued.claims  # type: ignore[arg-type]


def test_a_slip_printed_as_an_image_carries_the_phone_line_and_its_qr(
    issued: IssuedReceipt, unit: Unit
) -> None:
    data = build_job(issued, unit, PrinterSettings(kind="dummy", text_mode="image")).data
    page = stack(extract_raster_images(data))
    (found,) = zxingcpp.read_barcodes(
        page.convert("L"), formats=zxingcpp.barcode_formats_from_str("QRCode")
    )
    assert found.text == issued.url
    # Two more lines than the same slip whose QR only this machine could open.
    local = render_slip(_on("http://127.0.0.1:8080", issued), unit, paper_width_mm=80)
    style = slip.STYLES[80]
    phone_lines = slip.footer_blocks(style, issued.url)[2:]
    assert len(phone_lines) == 2
    assert page.height == local.height + sum(b.height + style.gap for b in phone_lines)
