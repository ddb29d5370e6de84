"""Printing through python-escpos, read back with independent ESC/POS decoders: the raster and
its QR (zxing-cpp) in image mode, the characters in their code page in code-page mode."""

from __future__ import annotations

import dataclasses
import socket
import threading
from pathlib import Path

import pytest
from escpos.printer import Usb
from PIL import ImageChops
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.receipt import KeyRing, ReceiptClaims, parse_scan, verify
from hailong.settings import PrinterSettings, Unit
from hub.receipts import printer as printer_mod
from hub.receipts.issuing import IssuedReceipt
from hub.receipts.printer import (
    PrinterError,
    build_job,
    open_printer,
    print_receipt,
    print_slip,
)
from hub.receipts.slip import (
    CALL_TO_RATE_EN,
    CALL_TO_RATE_VI,
    ON_A_PHONE_EN,
    TITLE,
    render_slip,
    style_for,
)
from hub.store.models import ReceiptRow
from tests.hub.receipts.escpos_text import decoders_for, read_text
from tests.support.escpos_raster import decode_qr, extract_raster_images, stack

OFFICER = "H'Linh Niê"  # CB005, the fixture receipt's officer
PROCEDURE = "Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh (2.000575)"


def claims_in(data: bytes, keyring: KeyRing, unit: Unit) -> ReceiptClaims:
    (text,) = decode_qr(extract_raster_images(data))
    return verify(parse_scan(text), keyring, unit.unit.code)  # type: ignore[arg-type]


def printed_flag(sessions: sessionmaker[Session], issued: IssuedReceipt) -> bool:
    with sessions() as session:
        return session.get_one(ReceiptRow, str(issued.code)).printed


@pytest.mark.parametrize("paper", [58, 80])
def test_image_mode_carries_the_slip_and_a_verifiable_qr(
    issued: IssuedReceipt,
    unit: Unit,
    keyring: KeyRing,
    sessions: sessionmaker[Session],
    paper: int,
) -> None:
    settings = PrinterSettings(kind="dummy", paper_width_mm=paper, text_mode="image")
    data = print_receipt(issued, unit, settings, sessions=sessions)
    assert data is not None

    assert data.startswith(b"\x1b@")  # initialise
    assert data.endswith(b"\x1dV\x00")  # full cut
    assert b"\x1bt" not in data.split(b"\x1dv0", 1)[0]  # no code page: text is in the raster
    page = stack(extract_raster_images(data))
    expected = render_slip(issued, unit, paper_width_mm=paper)  # type: ignore[arg-type]
    assert page.size == expected.size == (384 if paper == 58 else 576, expected.height)
    assert ImageChops.difference(page.convert("L"), expected.convert("L")).getbbox() is None
    claims = claims_in(data, keyring, unit)
    assert claims == issued.claims
    assert str(claims.code) == "000.00.20.H41-261125-0001"
    assert printed_flag(sessions, issued) is True


def test_without_a_profile_auto_mode_prints_an_image(issued: IssuedReceipt, unit: Unit) -> None:
    job = build_job(issued, unit, PrinterSettings(kind="dummy"))

    assert (job.mode, job.fallback) == ("image", None)


@pytest.mark.parametrize(
    ("profile", "paper", "pages"),
    [
        ("default", 80, [52]),  # CP1258 in the generic Epson profile
        ("TM-T88V", 80, [52]),  # 180 dpi: 512 dots, 42 columns
        ("NT-5890K", 58, [27]),  # a 58 mm Xprinter-class printer: CP1258 is page 27
        ("CT-S651", 80, [30, 31]),  # TCVN-3 only: lower-case page, capitals page
        ("CT-S651", 58, [30, 31]),
    ],
)
def test_codepage_mode_text_reads_back_in_its_code_page(
    issued: IssuedReceipt,
    unit: Unit,
    keyring: KeyRing,
    sessions: sessionmaker[Session],
    profile: str,
    paper: int,
    pages: list[int],
) -> None:
    settings = PrinterSettings(
        kind="dummy", paper_width_mm=paper, profile=profile, text_mode="codepage"
    )
    assert build_job(issued, unit, settings).mode == "codepage"
    data = print_receipt(issued, unit, settings, sessions=sessions)
    assert data is not None

    stream = read_text(data, decoders_for(profile))
    assert sorted(set(stream.code_pages)) == pages
    text = stream.text
    assert "?" not in text
    for expected in [
        unit.unit.name,
        TITLE,
        str(issued.code),
        f"Thủ tục: {PROCEDURE}",
        f"Cán bộ tiếp nhận: {OFFICER}",
        "Ngày tiếp nhận: 25/11/2026",
        "Ngày hẹn trả: —" if 52 in pages or 27 in pages else "Ngày hẹn trả: -",
        CALL_TO_RATE_VI,
        CALL_TO_RATE_EN,
    ]:
        assert expected in text, f"{expected!r} not in {text!r}"
    columns = 32 if paper == 58 else (42 if profile in ("TM-T88V", "default") else 48)
    assert max(len(line.text) for line in stream.lines if not line.small) <= columns
    title = [line for line in stream.lines if line.text in TITLE]
    assert title
    assert all(line.align == 1 and line.bold_text() == line.text for line in title)
    (code_line,) = [line for line in stream.lines if line.text == str(issued.code)]
    assert code_line.tall
    assert code_line.align == 1
    small = [line.text for line in stream.lines if line.small]
    # the English lines, and only they, in font B
    assert " ".join(small) == f"{CALL_TO_RATE_EN} {ON_A_PHONE_EN}"
    assert stream.images == 1  # the QR, and nothing else, is a raster
    assert claims_in(data, keyring, unit) == issued.claims
    assert printed_flag(sessions, issued) is True


def test_codepage_qr_fits_the_profile_head(issued: IssuedReceipt, unit: Unit) -> None:
    settings = PrinterSettings(kind="dummy", profile="TM-T88V", text_mode="codepage")
    data = print_receipt(issued, unit, settings)
    assert data is not None

    (qr,) = extract_raster_images(data)
    assert qr.width == 512 == style_for(80, 512).width


def test_a_promised_date_and_citizen_name_are_printed(issued: IssuedReceipt, unit: Unit) -> None:
    promised = dataclasses.replace(issued, promised_on=issued.issued_at.date().replace(day=28))
    settings = PrinterSettings(kind="dummy", profile="default", text_mode="codepage")

    data = print_receipt(promised, unit, settings, citizen_name="Nguyễn Thị Ngọc Ánh")
    assert data is not None

    text = read_text(data, decoders_for("default")).text
    assert "Người nộp hồ sơ: Nguyễn Thị Ngọc Ánh" in text
    assert "Ngày hẹn trả: 28/11/2026" in text


def test_a_character_outside_the_code_page_prints_the_slip_as_an_image(
    issued: IssuedReceipt, unit: Unit, keyring: KeyRing
) -> None:
    officers = tuple(
        o.model_copy(update={"name": "Lý 李 Văn"}) if o.code == "CB005" else o
        for o in unit.officers
    )
    odd_unit = unit.model_copy(update={"officers": officers})
    settings = PrinterSettings(kind="dummy", profile="default", text_mode="codepage")

    job = build_job(issued, odd_unit, settings)

    assert job.mode == "image"
    assert job.fallback is not None
    assert "李" in job.fallback
    assert b"\x1bt" not in job.data
    expected = render_slip(issued, odd_unit, paper_width_mm=80)
    page = stack(extract_raster_images(job.data))
    assert ImageChops.difference(page.convert("L"), expected.convert("L")).getbbox() is None
    assert claims_in(job.data, keyring, unit) == issued.claims


def test_a_tall_slip_arrives_in_fragments_that_stitch_back(
    issued: IssuedReceipt, unit: Unit, keyring: KeyRing
) -> None:
    printer = open_printer(PrinterSettings(kind="dummy", paper_width_mm=80))
    image = render_slip(issued, unit, paper_width_mm=80)
    assert image.height > 960  # python-escpos splits images taller than this

    print_slip(printer, image)

    fragments = extract_raster_images(printer.output)
    assert len(fragments) == 2
    assert claims_in(printer.output, keyring, unit) == issued.claims


def test_a_file_printer_writes_the_same_bytes_into_a_new_folder(
    issued: IssuedReceipt,
    unit: Unit,
    keyring: KeyRing,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    path = tmp_path / "printers" / "Q3.escpos"
    settings = PrinterSettings(kind="file", path=path, paper_width_mm=58)

    assert print_receipt(issued, unit, settings, sessions=sessions) is None

    assert path.read_bytes() == build_job(issued, unit, settings).data
    assert claims_in(path.read_bytes(), keyring, unit) == issued.claims
    assert printed_flag(sessions, issued) is True


def test_without_status_checks_a_plain_socket_receives_the_slip(
    issued: IssuedReceipt, unit: Unit, keyring: KeyRing
) -> None:
    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(10)

        def accept_one() -> None:
            connection, _ = server.accept()
            with connection:
                while chunk := connection.recv(65536):
                    received.extend(chunk)

        listener = threading.Thread(target=accept_one)
        listener.start()
        port = server.getsockname()[1]
        settings = PrinterSettings(kind="network", host="127.0.0.1", port=port, check_status=False)
        print_receipt(issued, unit, settings)
        listener.join(timeout=10)

    assert not listener.is_alive()
    assert bytes(received).startswith(b"\x1b@")  # no status request went first
    assert claims_in(bytes(received), keyring, unit) == issued.claims


def test_an_image_wider_than_the_paper_is_a_printer_error(
    issued: IssuedReceipt, unit: Unit
) -> None:
    printer = open_printer(PrinterSettings(kind="dummy", paper_width_mm=58))
    with pytest.raises(PrinterError, match="576 > 384") as failure:
        print_slip(printer, render_slip(issued, unit, paper_width_mm=80))
    assert failure.value.reason == "too_wide"


def test_a_file_printer_that_cannot_be_written_is_a_printer_error(
    issued: IssuedReceipt, unit: Unit, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = PrinterSettings(kind="file", path=tmp_path, paper_width_mm=80)  # a folder

    with pytest.raises(PrinterError) as failure:
        print_receipt(issued, unit, settings, sessions=sessions)

    assert failure.value.message_vi.startswith(f"Không ghi được ra máy in {tmp_path}")
    assert printed_flag(sessions, issued) is False


def test_a_usb_printer_that_cannot_be_used_keeps_the_receipt(
    issued: IssuedReceipt, unit: Unit, sessions: sessionmaker[Session]
) -> None:
    settings = PrinterSettings(kind="usb", vendor_id=0x04B8, product_id=0x0E28, in_ep=0x81)

    with pytest.raises(PrinterError) as failure:
        print_receipt(issued, unit, settings, sessions=sessions)

    # Without pyusb the officer is told to install it; with it, no such device is plugged in.
    assert failure.value.reason in {"usb_missing", "not_found", "permission"}
    assert "USB" in failure.value.message_vi
    assert "04b8:0e28" in failure.value.message_en
    assert printed_flag(sessions, issued) is False


def test_a_usb_printer_is_built_with_its_ids_and_endpoints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Usb, "is_usable", staticmethod(lambda: True))
    settings = PrinterSettings(
        kind="usb", vendor_id=0x0416, product_id=0x5011, in_ep=0x81, out_ep=0x03, profile="POS-5890"
    )

    usb = open_printer(settings)

    assert usb.usb_args == {"idVendor": 0x0416, "idProduct": 0x5011}
    assert (usb.in_ep, usb.out_ep, usb.timeout) == (0x81, 0x03, printer_mod.USB_TIMEOUT_MS)
    assert printer_mod.describe(usb) == "USB 0416:5011"
    usb.close = lambda: None  # never opened (and python-escpos would want pyusb to close it)
