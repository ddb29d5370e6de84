"""The printer's real-time status, asked over real sockets and a real pseudo-terminal, against fake
ESC/POS printers that answer ``DLE EOT n`` like a printer out of paper, with its cover open, ...

A failed print leaves the receipt unprinted in the register; the reprint after the officer has
fixed the printer arrives whole, and its QR verifies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hailong.broker import free_port
from hailong.contract.receipt import KeyRing, parse_scan, verify
from hailong.settings import PrinterSettings, Unit
from hub.receipts import printer as printer_mod
from hub.receipts.issuing import IssuedReceipt, UnknownReceiptError
from hub.receipts.printer import PrinterError, print_receipt, reprint_receipt
from hub.store.models import ReceiptRow
from tests.support.escpos_raster import decode_qr, extract_raster_images
from tests.support.fake_printer import FakePrinter, FakeSerialPrinter, State


@pytest.fixture
def fake() -> Iterator[FakePrinter]:
    with FakePrinter("ok") as printer:
        yield printer


@pytest.fixture(autouse=True)
def short_status_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(printer_mod, "STATUS_TIMEOUT_S", 0.3)


def network(fake: FakePrinter, **overrides: object) -> PrinterSettings:
    return PrinterSettings.model_validate(
        {"kind": "network", "host": fake.host, "port": fake.port, **overrides}
    )


def printed_flag(sessions: sessionmaker[Session], issued: IssuedReceipt) -> bool:
    with sessions() as session:
        return session.get_one(ReceiptRow, str(issued.code)).printed


def qr_claims(job: bytes, keyring: KeyRing, unit: Unit) -> object:
    (text,) = decode_qr(extract_raster_images(job))
    return verify(parse_scan(text), keyring, unit.unit.code)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "reason", "vi", "en"),
    [
        ("paper_out", "paper_out", "hết giấy. Lắp cuộn giấy mới", "is out of paper"),
        ("cover_open", "cover_open", "đang mở. Đóng nắp máy in", "cover of printer"),
        ("offline", "offline", "đang tạm ngưng (offline)", "is offline"),
        ("cutter_jam", "printer_error", "dao cắt giấy bị kẹt", "paper cutter is jammed"),
        ("silent", "no_answer", "không trả lời khi được hỏi trạng thái", "check_status = false"),
    ],
)
def test_a_printer_that_cannot_print_gives_the_officer_the_reason(
    fake: FakePrinter,
    issued: IssuedReceipt,
    unit: Unit,
    sessions: sessionmaker[Session],
    state: State,
    reason: str,
    vi: str,
    en: str,
) -> None:
    fake.state = state

    with pytest.raises(PrinterError) as failure:
        print_receipt(issued, unit, network(fake), sessions=sessions)

    error = failure.value
    assert error.reason == reason
    assert f"Máy in {fake.host}:{fake.port}" in error.message_vi or reason == "cover_open"
    assert vi in error.message_vi
    assert en in error.message_en
    assert printed_flag(sessions, issued) is False
    assert fake.queries[0] == 1  # DLE EOT 1 went first
    time.sleep(0.1)
    assert fake.jobs == []  # nothing was sent to print


def test_after_paper_is_loaded_the_reprint_arrives(
    fake: FakePrinter,
    issued: IssuedReceipt,
    unit: Unit,
    keyring: KeyRing,
    sessions: sessionmaker[Session],
) -> None:
    settings = network(fake, paper_width_mm=58)
    fake.state = "paper_out"
    with pytest.raises(PrinterError, match="hết giấy"):
        print_receipt(issued, unit, settings, sessions=sessions)
    assert printed_flag(sessions, issued) is False

    fake.state = "ok"  # the officer loads a roll
    assert reprint_receipt(sessions, unit, str(issued.code), settings) is None

    (job,) = fake.wait_for_jobs(1)
    assert job.startswith(b"\x1b@")
    assert job.endswith(b"\x1dV\x00")
    assert qr_claims(job, keyring, unit) == issued.claims
    assert printed_flag(sessions, issued) is True
    assert fake.connections == 2


def test_a_reprint_in_codepage_mode_sends_the_same_bytes_as_the_first_print(
    fake: FakePrinter, issued: IssuedReceipt, unit: Unit, sessions: sessionmaker[Session]
) -> None:
    settings = network(fake, profile="TM-T88V", text_mode="codepage")
    print_receipt(issued, unit, settings, sessions=sessions)
    reprint_receipt(sessions, unit, issued.code, settings)

    first, second = fake.wait_for_jobs(2)
    assert first == second
    assert b"\x1bt\x34" in first  # ESC t 52: CP1258


def test_reprinting_an_unknown_code_says_so(
    fake: FakePrinter, unit: Unit, sessions: sessionmaker[Session]
) -> None:
    with pytest.raises(UnknownReceiptError, match=r"000\.00\.20\.H41-261125-0999"):
        reprint_receipt(sessions, unit, "000.00.20.H41-261125-0999", network(fake))
    assert fake.connections == 0


def test_paper_near_its_end_still_prints_and_warns(
    fake: FakePrinter,
    issued: IssuedReceipt,
    unit: Unit,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.state = "paper_low"
    with caplog.at_level(logging.WARNING, logger="hub.receipts.printer"):
        print_receipt(issued, unit, network(fake), sessions=sessions)

    fake.wait_for_jobs(1)
    assert printed_flag(sessions, issued) is True
    assert "paper near its end" in caplog.text


def test_without_status_checks_a_silent_printer_still_gets_the_slip(
    fake: FakePrinter, issued: IssuedReceipt, unit: Unit, keyring: KeyRing
) -> None:
    fake.state = "silent"
    print_receipt(issued, unit, network(fake, check_status=False))

    (job,) = fake.wait_for_jobs(1)
    assert fake.queries == []
    assert qr_claims(job, keyring, unit) == issued.claims


def test_a_refused_connection_is_quick_and_keeps_the_receipt(
    issued: IssuedReceipt, unit: Unit, sessions: sessionmaker[Session]
) -> None:
    settings = PrinterSettings(kind="network", host="127.0.0.1", port=free_port())
    started = time.monotonic()

    with pytest.raises(PrinterError) as failure:
        print_receipt(issued, unit, settings, sessions=sessions)

    assert time.monotonic() - started < 5
    assert failure.value.reason == "refused"
    assert failure.value.message_vi.startswith("Không kết nối được máy in 127.0.0.1:")
    assert "từ chối kết nối" in failure.value.message_vi
    assert "Cannot reach the printer" in failure.value.message_en
    assert printed_flag(sessions, issued) is False


def test_a_serial_printer_out_of_paper_then_reprinted(
    issued: IssuedReceipt, unit: Unit, keyring: KeyRing, sessions: sessionmaker[Session]
) -> None:
    with FakeSerialPrinter("paper_out") as fake:
        settings = PrinterSettings(kind="serial", device=fake.device, baudrate=115200)
        with pytest.raises(PrinterError) as failure:
            print_receipt(issued, unit, settings, sessions=sessions)
        assert failure.value.reason == "paper_out"
        assert fake.device in failure.value.message_vi
        assert printed_flag(sessions, issued) is False

        fake.state = "ok"
        reprint_receipt(sessions, unit, issued.code, settings)

        (job,) = fake.wait_for_jobs(1)
    assert qr_claims(job, keyring, unit) == issued.claims
    assert printed_flag(sessions, issued) is True


def test_a_missing_serial_device_is_named(
    issued: IssuedReceipt, unit: Unit, sessions: sessionmaker[Session]
) -> None:
    settings = PrinterSettings(kind="serial", device="/dev/ttyNOPRINTER0")

    with pytest.raises(PrinterError) as failure:
        print_receipt(issued, unit, settings, sessions=sessions)

    assert failure.value.reason == "not_found"
    assert "/dev/ttyNOPRINTER0" in failure.value.message_vi
    assert printed_flag(sessions, issued) is False
