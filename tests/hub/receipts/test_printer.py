"""Printing through python-escpos, read back with an independent ESC/POS decoder."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from PIL import ImageChops
from sqlalchemy.orm import Session, sessionmaker

from hailong.broker import free_port
from hailong.contract.receipt import KeyRing, ReceiptClaims, parse_scan, verify
from hailong.settings import PrinterSettings, Unit
from hub.receipts.issuing import IssuedReceipt
from hub.receipts.printer import PrinterError, open_printer, print_receipt, print_slip
from hub.receipts.slip import render_slip
from hub.store.models import ReceiptRow
from tests.support.escpos_raster import decode_qr, extract_raster_images, stack


def claims_in(data: bytes, keyring: KeyRing, unit: Unit) -> ReceiptClaims:
    (text,) = decode_qr(extract_raster_images(data))
    return verify(parse_scan(text), keyring, unit.unit.code)  # type: ignore[arg-type]


def printed_flag(sessions: sessionmaker[Session], issued: IssuedReceipt) -> bool:
    with sessions() as session:
        return session.get_one(ReceiptRow, str(issued.code)).printed


@pytest.mark.parametrize("paper", [58, 80])
def test_a_dummy_print_carries_the_slip_and_a_verifiable_qr(
    issued: IssuedReceipt,
    unit: Unit,
    keyring: KeyRing,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    paper: int,
) -> None:
    settings = PrinterSettings(kind="dummy", paper_width_mm=paper)
    data = print_receipt(issued, unit, settings, sessions=sessions)
    assert data is not None

    assert data.startswith(b"\x1b@")  # initialise
    assert data.endswith(b"\x1dV\x00")  # full cut
    page = stack(extract_raster_images(data))
    expected = render_slip(issued, unit, paper_width_mm=paper)  # type: ignore[arg-type]
    expected.save(tmp_path / "slip.png")
    assert page.size == expected.size == (384 if paper == 58 else 576, expected.height)
    assert ImageChops.difference(page.convert("L"), expected.convert("L")).getbbox() is None
    assert claims_in(data, keyring, unit) == issued.claims
    assert printed_flag(sessions, issued) is True


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

    assert claims_in(path.read_bytes(), keyring, unit) == issued.claims
    assert printed_flag(sessions, issued) is True


def test_an_unreachable_network_printer_keeps_the_receipt_for_a_reprint(
    issued: IssuedReceipt, unit: Unit, sessions: sessionmaker[Session]
) -> None:
    settings = PrinterSettings(kind="network", host="127.0.0.1", port=free_port())
    started = time.monotonic()

    with pytest.raises(PrinterError) as failure:
        print_receipt(issued, unit, settings, sessions=sessions)

    assert time.monotonic() - started < 5
    assert failure.value.message_vi.startswith("Không kết nối được máy in 127.0.0.1:")
    assert "Cannot reach the printer" in failure.value.message_en
    assert printed_flag(sessions, issued) is False


def test_a_network_printer_receives_the_slip(
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
        settings = PrinterSettings(kind="network", host="127.0.0.1", port=port)
        print_receipt(issued, unit, settings)
        listener.join(timeout=10)

    assert not listener.is_alive()
    assert claims_in(bytes(received), keyring, unit) == issued.claims


def test_an_image_wider_than_the_paper_is_a_printer_error(
    issued: IssuedReceipt, unit: Unit
) -> None:
    printer = open_printer(PrinterSettings(kind="dummy", paper_width_mm=58))
    with pytest.raises(PrinterError, match="576 > 384"):
        print_slip(printer, render_slip(issued, unit, paper_width_mm=80))


def test_a_file_printer_that_cannot_be_written_is_a_printer_error(
    issued: IssuedReceipt, unit: Unit, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = PrinterSettings(kind="file", path=tmp_path, paper_width_mm=80)  # a folder

    with pytest.raises(PrinterError) as failure:
        print_receipt(issued, unit, settings, sessions=sessions)

    assert failure.value.message_vi.startswith(f"Không ghi được ra máy in {tmp_path}")
    assert printed_flag(sessions, issued) is False
