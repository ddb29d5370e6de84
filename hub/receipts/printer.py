"""Print receipt slips on ESC/POS printers through python-escpos, and reprint them.

Printer kinds (``PrinterSettings.kind``):

* ``network``: a printer listening on a raw TCP port (usually 9100).
* ``usb``: ``escpos.printer.Usb`` by vendor and product id (needs pyusb and access to the device,
  e.g. a udev rule).
* ``serial``: ``escpos.printer.Serial`` on a device such as ``/dev/ttyUSB0``.
* ``file``: raw ESC/POS bytes written to a file (a device node such as ``/dev/usb/lp0``, or a plain
  file for the demo). The file is opened for writing per print, so a plain file holds the last
  slip only: nothing accumulates.
* ``dummy``: keeps the bytes in memory; :func:`print_receipt` returns them (tests, previews).

A slip is first built completely in memory (a python-escpos ``Dummy`` with the printer's profile),
in one of two text modes (``PrinterSettings.text_mode``, see :func:`text_mode_for`): ``image``, the
whole slip as one raster (any printer), or ``codepage``, text as characters of the profile's
Vietnamese code page with the QR as a raster. Building first means a slip whose text the code page
cannot hold falls back to the image layout before a single byte reaches the printer, and the
connection is held only for the status check and one write.

Why the QR stays a raster in code-page mode: it is then exactly the symbol the tests read back
(error correction M, 4-module quiet zone, module size fitted to the paper), it needs nothing but
``GS v 0``, which every ESC/POS printer has, and several cheap printers with CP1258 (profiles
NT-5890K, POS-5890) declare no native QR command at all. The price is bytes: a code-page slip is
about 28 kB on 80 mm paper (the QR raster is as wide as the paper), an image slip about 79 kB.
Nothing on a network or USB link; on a 115200 baud serial line about 2.4 s against 7 s.

Before sending to a network, serial or USB printer, its real-time status is asked (``DLE EOT n``,
as python-escpos's ``is_online()`` / ``paper_status()`` do, with a short timeout); paper out, cover
open, offline, a printer error and no answer at all become :class:`PrinterError` with a Vietnamese
and an English message the counter officer can act on, as do refused or timed-out connections.
Issuing comes first and printing second: a receipt whose print failed stays in the register with
``printed = False``, and :func:`reprint_receipt` prints it again from there.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from escpos.capabilities import CAPABILITIES
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, File, Network, Serial, Usb
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.receipt import DossierCode
from hailong.settings import PrinterSettings, Unit
from hub.receipts.codepage import CodePage, Unencodable, VietnameseEncoder, vietnamese_pages
from hub.receipts.issuing import IssuedReceipt, UnknownReceiptError, load_issued, mark_printed
from hub.receipts.slip import (
    COLUMNS,
    QrImage,
    SlipElement,
    SlipStyle,
    qr_block,
    render_slip,
    slip_content,
    style_for,
    text_layout,
)

logger = logging.getLogger(__name__)

NETWORK_TIMEOUT_S = 5.0  # the officer should not wait longer than this for a dead printer
STATUS_TIMEOUT_S = 1.0  # a printer answers DLE EOT within milliseconds when it answers at all
USB_TIMEOUT_MS = 5000
MIN_PROFILE_DOTS = 300  # a profile narrower than this describes a display, not a receipt printer

TextMode = Literal["image", "codepage"]

# DLE EOT n: real-time status. Every answer byte has bits 1 and 4 set and bits 0 and 7 clear.
STATUS_REQUEST = b"\x10\x04"
_STATUS_FIXED_MASK, _STATUS_FIXED_BITS = 0x93, 0x12
_PRINTER, _OFFLINE_CAUSE, _ERROR_CAUSE, _PAPER = 1, 2, 3, 4
_OFFLINE = 0x08  # n=1
_COVER_OPEN, _STOPPED_NO_PAPER, _ERROR = 0x04, 0x20, 0x40  # n=2
_CUTTER_ERROR, _UNRECOVERABLE = 0x08, 0x20  # n=3
_PAPER_NEAR_END, _PAPER_END = 0x0C, 0x60  # n=4


class PrinterError(Exception):
    """Printing failed; ``message_vi`` / ``message_en`` say what to check, ``reason`` names it.

    Reasons: paper_out, cover_open, offline, printer_error, no_answer, refused, timeout,
    unreachable, disconnected, not_found, permission, usb_missing, too_wide, write_failed.
    """

    def __init__(self, message_vi: str, message_en: str, reason: str = "write_failed") -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.reason = reason


@dataclass(frozen=True)
class SlipJob:
    """One slip's ESC/POS bytes, the text mode they use and, after a fallback, why."""

    mode: TextMode
    data: bytes
    fallback: str | None = None


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said to ``DLE EOT 1``, ``2``, ``4`` (and ``3`` when it has an error)."""

    online: bool
    cover_open: bool
    paper_out: bool
    paper_low: bool
    error: bool
    cutter_error: bool = False
    unrecoverable: bool = False


# Choosing the layout.


def profile_data(settings: PrinterSettings) -> dict[str, Any]:
    data: dict[str, Any] = CAPABILITIES["profiles"][settings.profile or "default"]
    return data


def printable_dots(settings: PrinterSettings) -> int | None:
    """The head's dots per line from a named profile (180 dpi heads print 512 on 80 mm paper)."""
    if settings.profile is None:
        return None
    pixels = profile_data(settings).get("media", {}).get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) and pixels >= MIN_PROFILE_DOTS else None


def text_mode_for(settings: PrinterSettings) -> tuple[TextMode, tuple[CodePage, ...] | None]:
    """``image``, or ``codepage`` with its pages: ``auto`` picks the code page only when a profile
    is named and has a Vietnamese page. Without a profile the printer model is unknown, and the
    number that selects CP1258 differs between makers (52 on Epson, 27 or 94 on NT-5890K and
    POS-5890, 35 on Rongta RP326).
    """
    if settings.text_mode == "image" or (settings.text_mode == "auto" and not settings.profile):
        return "image", None
    pages = vietnamese_pages(settings.profile)
    return ("codepage", pages) if pages else ("image", None)


def text_columns(settings: PrinterSettings) -> tuple[int, int]:
    """Characters per line in font A and font B: the paper's, or fewer if the profile says so."""
    columns = list(COLUMNS[settings.paper_width_mm])
    fonts = profile_data(settings).get("fonts", {}) if settings.profile else {}
    for index in (0, 1):
        listed = fonts.get(str(index), {}).get("columns")
        if isinstance(listed, int) and listed > 0:
            columns[index] = min(columns[index], listed)
    return columns[0], columns[1]


def build_job(
    issued: IssuedReceipt,
    unit: Unit,
    settings: PrinterSettings,
    *,
    citizen_name: str | None = None,
) -> SlipJob:
    """The slip's bytes for this printer, in its text mode (or as an image if the text won't fit
    the code page). Raises :class:`PrinterError` only for a slip the printer cannot take at all."""
    style = style_for(settings.paper_width_mm, printable_dots(settings))
    mode, pages = text_mode_for(settings)
    fallback = None
    if mode == "codepage" and pages:
        content = slip_content(issued, unit, citizen_name=citizen_name)
        elements = text_layout(content, *text_columns(settings))
        builder = _builder(settings, style)
        try:
            write_text_slip(builder, elements, VietnameseEncoder(pages), style)
            return SlipJob("codepage", builder.output)
        except Unencodable as exc:
            fallback = str(exc)
            logger.warning("slip %s printed as an image: %s", issued.code, fallback)
    image = render_slip(
        issued,
        unit,
        paper_width_mm=settings.paper_width_mm,
        citizen_name=citizen_name,
        style=style,
    )
    builder = _builder(settings, style)
    print_slip(builder, image)
    return SlipJob("image", builder.output, fallback)


def _builder(settings: PrinterSettings, style: SlipStyle) -> Any:
    builder = Dummy(profile=settings.profile)
    _set_paper_width(builder, style.width)
    return builder


# Writing ESC/POS.


def print_slip(printer: Any, image: Image.Image) -> None:
    """Reset the printer, print ``image`` as a raster bit image, feed and cut."""
    try:
        printer.hw("INIT")
        printer.image(image, impl="bitImageRaster")
        printer.cut()
    except (EscposError, OSError) as exc:
        raise _printer_error(printer, exc) from exc


def write_text_slip(
    printer: Any, elements: Sequence[SlipElement], encoder: VietnameseEncoder, style: SlipStyle
) -> None:
    """Reset the printer, then each line in its code page and the QR as a raster; feed and cut.

    Raises :class:`Unencodable` for a character the code page lacks (nothing to undo: ``printer``
    is an in-memory builder).
    """
    printer.hw("INIT")
    for element in elements:
        if isinstance(element, QrImage):
            printer.set(align="left")  # the QR block is as wide as the paper, centred inside
            printer.image(qr_block(element.url, style), impl="bitImageRaster")
            continue
        small = element.small and "1" in printer.profile.fonts  # font B, where there is one
        printer.set(
            align=element.align,
            font="b" if small else "a",
            normal_textsize=element.size == "normal",
            double_height=element.size != "normal",
            double_width=element.size == "large",
        )
        for text, bold in element.runs:
            printer.set(bold=bold)
            printer._raw(encoder.encode(text))
        printer._raw(b"\n")
    printer.set(align="left", font="a", bold=False, normal_textsize=True)
    printer.cut()


def _set_paper_width(printer: Any, dots: int) -> None:
    """Tell python-escpos the paper width, so it refuses too-wide images and stays quiet.

    The default profile leaves the width unknown (and prints a warning on every image). The
    profile data is shared between printers, so this printer gets its own copy.
    """
    data = copy.deepcopy(printer.profile.profile_data)
    data["media"]["width"]["pixels"] = dots
    printer.profile.profile_data = data


# Connections.


def open_printer(settings: PrinterSettings, *, timeout: float = NETWORK_TIMEOUT_S) -> Any:
    """Build the python-escpos printer for ``settings``; the connection opens on first use."""
    profile = settings.profile
    printer: Any
    if settings.kind == "file":
        assert settings.path is not None  # PrinterSettings guarantees it
        try:
            settings.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PrinterError(
                f"Không tạo được thư mục cho máy in {settings.path} ({exc.strerror}).",
                f"Cannot create the folder for printer file {settings.path} ({exc.strerror}).",
            ) from exc
        printer = File(str(settings.path), profile=profile)
    elif settings.kind == "network":
        printer = Network(settings.host or "", settings.port, timeout=timeout, profile=profile)
    elif settings.kind == "serial":
        printer = Serial(settings.device or "", settings.baudrate, timeout=timeout, profile=profile)
    elif settings.kind == "usb":
        printer = _usb_printer(settings)
    else:
        printer = Dummy(profile=profile)
    _set_paper_width(printer, style_for(settings.paper_width_mm, printable_dots(settings)).width)
    return printer


def _usb_printer(settings: PrinterSettings) -> Any:
    ids = f"{settings.vendor_id or 0:04x}:{settings.product_id or 0:04x}"
    if not Usb.is_usable():
        raise PrinterError(
            f"Không in được qua USB ({ids}): thiếu thư viện pyusb. Cài bằng `pip install pyusb`.",
            f"Cannot print over USB ({ids}): pyusb is missing. Install it: `pip install pyusb`.",
            "usb_missing",
        )
    endpoints = {
        name: value
        for name, value in (("in_ep", settings.in_ep), ("out_ep", settings.out_ep))
        if value is not None
    }
    return Usb(
        settings.vendor_id,
        settings.product_id,
        timeout=USB_TIMEOUT_MS,
        profile=settings.profile,
        **endpoints,
    )


def connect(printer: Any) -> None:
    """Open the connection now (python-escpos opens on first use), as a :class:`PrinterError`."""
    try:
        _ = printer.device
    except ValueError as exc:  # pyusb's NoBackendError: the libusb library is not installed
        raise PrinterError(
            f"Không in được qua USB {describe(printer)}: thiếu thư viện libusb "
            "(cài gói libusb-1.0-0).",
            f"Cannot print over USB {describe(printer)}: the libusb library is missing "
            "(install the libusb-1.0-0 package).",
            "usb_missing",
        ) from exc
    except (EscposError, OSError, RuntimeError) as exc:
        raise _printer_error(printer, exc, connecting=True) from exc


def send(printer: Any, data: bytes) -> None:
    """Write a built slip to the printer in one go."""
    try:
        printer._raw(data)
    except (EscposError, OSError, RuntimeError) as exc:
        raise _printer_error(printer, exc) from exc


def close_printer(printer: Any) -> None:
    """Close the connection, turning a failed flush into :class:`PrinterError` too."""
    try:
        printer.close()
    except (EscposError, OSError) as exc:
        raise _printer_error(printer, exc) from exc


def _close_quietly(printer: Any) -> None:
    """Release a printer that already failed; the first error is the one worth reporting."""
    try:
        printer.close()
    except (EscposError, OSError, RuntimeError):
        return


# Real-time status.


def answers_status(printer: Any) -> bool:
    """Whether the connection can carry an answer back (files and dummies cannot)."""
    return isinstance(printer, Network | Serial | Usb)


def query_status(printer: Any, *, timeout: float | None = None) -> PrinterStatus:
    """Ask the printer ``DLE EOT 1, 2, 4`` (and ``3`` on an error); raises :class:`PrinterError`
    when it does not answer within ``timeout`` seconds (:data:`STATUS_TIMEOUT_S`) per question."""
    timeout = STATUS_TIMEOUT_S if timeout is None else timeout
    printer_byte = _ask(printer, _PRINTER, timeout)
    cause = _ask(printer, _OFFLINE_CAUSE, timeout)
    paper = _ask(printer, _PAPER, timeout)
    errors = _ask(printer, _ERROR_CAUSE, timeout) if cause & _ERROR else _STATUS_FIXED_BITS
    return PrinterStatus(
        online=not printer_byte & _OFFLINE,
        cover_open=bool(cause & _COVER_OPEN),
        paper_out=bool(cause & _STOPPED_NO_PAPER) or paper & _PAPER_END == _PAPER_END,
        paper_low=bool(paper & _PAPER_NEAR_END),
        error=bool(cause & _ERROR),
        cutter_error=bool(errors & _CUTTER_ERROR),
        unrecoverable=bool(errors & _UNRECOVERABLE),
    )


def ensure_ready(printer: Any, *, timeout: float | None = None) -> PrinterStatus:
    """Query the status and raise the officer's :class:`PrinterError` unless it can print."""
    status = query_status(printer, timeout=timeout)
    where = describe(printer)
    if status.cover_open:
        raise PrinterError(
            f"Nắp máy in {where} đang mở. Đóng nắp máy in rồi in lại phiếu.",
            f"The cover of printer {where} is open. Close it, then reprint the slip.",
            "cover_open",
        )
    if status.paper_out:
        raise PrinterError(
            f"Máy in {where} hết giấy. Lắp cuộn giấy mới, đóng nắp rồi in lại phiếu.",
            f"Printer {where} is out of paper. Load a new roll, close the cover, then reprint.",
            "paper_out",
        )
    if status.error:
        what_vi, what_en = (
            ("dao cắt giấy bị kẹt", "the paper cutter is jammed")
            if status.cutter_error
            else ("lỗi phần cứng hoặc quá nhiệt", "a hardware error or overheating")
        )
        raise PrinterError(
            f"Máy in {where} báo lỗi: {what_vi}. Tắt máy in, bật lại rồi in lại phiếu.",
            f"Printer {where} reports {what_en}. Switch it off and on, then reprint the slip.",
            "printer_error",
        )
    if not status.online:
        raise PrinterError(
            f"Máy in {where} đang tạm ngưng (offline). Kiểm tra đèn báo lỗi, giấy và nắp máy, "
            "rồi in lại phiếu.",
            f"Printer {where} is offline. Check its error light, the paper and the cover, "
            "then reprint the slip.",
            "offline",
        )
    if status.paper_low:
        logger.warning("printer %s: paper near its end", where)
    return status


def _ask(printer: Any, n: int, timeout: float) -> int:
    try:
        answer = _exchange(printer, STATUS_REQUEST + bytes([n]), timeout)
    except (EscposError, OSError) as exc:
        raise _printer_error(printer, exc) from exc
    where = describe(printer)
    if not answer:
        raise PrinterError(
            f"Máy in {where} không trả lời khi được hỏi trạng thái (sau {timeout:g} giây). "
            "Kiểm tra máy in đã bật. Nếu loại máy này không báo trạng thái, đặt "
            "check_status = false cho máy in trong cấu hình.",
            f"Printer {where} did not answer the status request within {timeout:g} s. Check "
            "that it is on. If this model cannot report its status, set check_status = false "
            "for it in the configuration.",
            "no_answer",
        )
    byte = answer[0]
    if byte & _STATUS_FIXED_MASK != _STATUS_FIXED_BITS:
        raise PrinterError(
            f"Máy in {where} trả lời trạng thái không đúng chuẩn ESC/POS ({byte:#04x}). "
            "Kiểm tra đúng máy in, đúng cổng.",
            f"Printer {where} gave a status answer that is not ESC/POS ({byte:#04x}). Check "
            "that this is the printer and the right port.",
            "no_answer",
        )
    return byte


def _exchange(printer: Any, request: bytes, timeout: float) -> bytes:
    """Send one real-time request and read the one-byte answer; ``b""`` when none came."""
    if isinstance(printer, Network):
        sock = printer.device
        sock.settimeout(timeout)
        try:
            sock.sendall(request)
            return bytes(sock.recv(1))
        except TimeoutError:
            return b""
        finally:
            sock.settimeout(printer.timeout)
    if isinstance(printer, Serial):
        port = printer.device
        saved = port.timeout
        port.timeout = timeout
        try:
            port.reset_input_buffer()
            port.write(request)
            return bytes(port.read(1))
        finally:
            port.timeout = saved
    device = printer.device  # Usb
    milliseconds = max(1, int(timeout * 1000))
    device.write(printer.out_ep, request, milliseconds)
    try:
        return bytes(device.read(printer.in_ep, 16, milliseconds))[:1]
    except Exception as exc:  # pyusb's USBTimeoutError; pyusb itself is optional here
        if "Timeout" in type(exc).__name__:
            return b""
        raise


# Errors for the officer.


def describe(printer: Any) -> str:
    if isinstance(printer, Network):
        return f"{printer.host}:{printer.port}"
    if isinstance(printer, Serial | File):
        return str(printer.devfile)
    if isinstance(printer, Usb):
        ids = printer.usb_args
        return f"USB {ids.get('idVendor', 0):04x}:{ids.get('idProduct', 0):04x}"
    return type(printer).__name__


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _printer_error(printer: Any, exc: Exception, *, connecting: bool = False) -> PrinterError:
    text = str(getattr(exc, "msg", "") or exc).strip() or type(exc).__name__
    detail = text.splitlines()[-1]  # python-escpos puts the OS error on the last line
    where = describe(printer)
    if "Image width is too large" in str(exc):
        return PrinterError(
            f"Ảnh phiếu rộng hơn khổ giấy của máy in {where} ({detail}).",
            f"The slip image is wider than the paper of printer {where} ({detail}).",
            "too_wide",
        )
    errno = next((e.errno for e in _causes(exc) if isinstance(e, OSError) and e.errno), None)
    timed_out = any(isinstance(e, TimeoutError) for e in _causes(exc))
    if isinstance(printer, Network):
        return _network_error(printer, detail, connecting=connecting, timed_out=timed_out)
    if errno == 13:  # EACCES
        return PrinterError(
            f"Không có quyền dùng máy in {where}. Thêm tài khoản chạy hub vào nhóm dialout/lp "
            f"(cổng nối tiếp) hoặc thêm quy tắc udev (USB). ({detail})",
            f"No permission to use printer {where}. Add the hub's user to the dialout/lp group "
            f"(serial) or add a udev rule (USB). ({detail})",
            "permission",
        )
    if isinstance(printer, Serial | Usb) and connecting:
        return PrinterError(
            f"Không tìm thấy máy in {where}. Kiểm tra cáp, nguồn máy in và tên thiết bị trong "
            f"cấu hình. ({detail})",
            f"Printer {where} was not found. Check the cable, its power and the device in the "
            f"configuration. ({detail})",
            "not_found",
        )
    if isinstance(printer, Serial | Usb):
        return PrinterError(
            f"Không gửi được phiếu tới máy in {where}. Kiểm tra cáp và nguồn máy in. ({detail})",
            f"Cannot send the slip to printer {where}. Check the cable and its power. ({detail})",
            "write_failed",
        )
    if isinstance(printer, File):
        return PrinterError(
            f"Không ghi được ra máy in {printer.devfile}. Kiểm tra máy in và cáp nối. ({detail})",
            f"Cannot write to the printer {printer.devfile}. Check the printer and cable. ({detail})",
            "write_failed",
        )
    return PrinterError(f"Máy in báo lỗi: {detail}", f"The printer reported an error: {detail}")


def _network_error(printer: Any, detail: str, *, connecting: bool, timed_out: bool) -> PrinterError:
    where = f"{printer.host}:{printer.port}"
    if not connecting:
        return PrinterError(
            f"Mất kết nối với máy in {where} khi đang gửi phiếu. Kiểm tra máy in rồi in lại. "
            f"({detail})",
            f"The connection to printer {where} broke while sending the slip. Check the "
            f"printer, then reprint. ({detail})",
            "disconnected",
        )
    if timed_out:
        return PrinterError(
            f"Không kết nối được máy in {where}: quá {printer.timeout:g} giây không phản hồi. "
            "Kiểm tra máy in đã bật, cáp mạng và địa chỉ IP.",
            f"Cannot reach the printer at {where}: no answer within {printer.timeout:g} s. "
            "Check that it is on, its network cable and its IP address.",
            "timeout",
        )
    if "refused" in detail.lower():
        return PrinterError(
            f"Không kết nối được máy in {where}: máy in từ chối kết nối. Kiểm tra máy in đã bật "
            f"và cổng {printer.port} là cổng in của máy. ({detail})",
            f"Cannot reach the printer at {where}: the connection was refused. Check that it "
            f"is on and that {printer.port} is its printing port. ({detail})",
            "refused",
        )
    return PrinterError(
        f"Không kết nối được máy in {where}. Kiểm tra máy in đã bật và nối mạng. ({detail})",
        f"Cannot reach the printer at {where}. Check that it is on and connected. ({detail})",
        "unreachable",
    )


# Printing a receipt.


def print_receipt(
    issued: IssuedReceipt,
    unit: Unit,
    printer_settings: PrinterSettings,
    printer: Any = None,
    *,
    sessions: sessionmaker[Session] | None = None,
    citizen_name: str | None = None,
) -> bytes | None:
    """Build the slip, check the printer's status, print it and, given ``sessions``, mark the
    receipt printed. A :class:`PrinterError` leaves the receipt unprinted in the register.

    Returns the ESC/POS bytes when the printer is a Dummy (``kind = "dummy"``), else None. A
    printer passed in is left open for the caller; one opened here is closed here.
    ``citizen_name`` is printed on the slip (the receipt's own, when it carries one, otherwise).
    """
    job = build_job(issued, unit, printer_settings, citizen_name=citizen_name)
    own = printer is None
    target = open_printer(printer_settings) if own else printer
    try:
        connect(target)
        if printer_settings.check_status and answers_status(target):
            ensure_ready(target)
        send(target, job.data)
        if own:
            close_printer(target)
    except PrinterError:
        if own:
            _close_quietly(target)
        raise
    if sessions is not None:
        mark_printed(sessions, issued.claims.code)
    return bytes(target.output) if isinstance(target, Dummy) else None


def reprint_receipt(
    sessions: sessionmaker[Session],
    unit: Unit,
    code: DossierCode | str,
    printer_settings: PrinterSettings,
    printer: Any = None,
    *,
    citizen_name: str | None = None,
) -> bytes | None:
    """Print a registered receipt again (after paper out, a jam, a lost slip) and mark it printed.

    Raises :class:`UnknownReceiptError` when ``code`` is not in the register and
    :class:`PrinterError` when the printer fails again (the receipt then stays unprinted).
    """
    issued = load_issued(sessions, code, unit.code_book(), unit=unit.unit.code, zone=unit.zone)
    if issued is None:
        raise UnknownReceiptError(f"no receipt {code} in the register")
    return print_receipt(
        issued, unit, printer_settings, printer, sessions=sessions, citizen_name=citizen_name
    )
