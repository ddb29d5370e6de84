"""Send a rendered slip to an ESC/POS printer through python-escpos.

The slip is printed as a raster image (``GS v 0``), then the paper is fed and cut. Printer and OS
failures become :class:`PrinterError` with a Vietnamese and an English message the counter officer
can act on. Issuing comes first and printing second: a receipt whose print failed stays in the
register with ``printed = False`` and can be printed again from there (see
:func:`hub.receipts.issuing.load_issued`).

Printer kinds:

* ``file``: raw ESC/POS bytes written to a file (a device node such as ``/dev/usb/lp0``, or a plain
  file for the demo). The file is opened for writing per print, so a plain file holds the last slip
  only: one file per print, nothing accumulates.
* ``network``: a printer listening on a raw TCP port (usually 9100).
* ``dummy``: keeps the bytes in memory; :func:`print_receipt` returns them (tests, previews).
"""

from __future__ import annotations

import copy
from typing import Any

from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, File, Network
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from hailong.settings import PrinterSettings, Unit
from hub.receipts.issuing import IssuedReceipt, mark_printed
from hub.receipts.slip import STYLES, render_slip

NETWORK_TIMEOUT_S = 5.0  # the officer should not wait longer than this for a dead printer


class PrinterError(Exception):
    """Printing failed; ``message_vi`` / ``message_en`` say what to check."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en


def open_printer(settings: PrinterSettings, *, timeout: float = NETWORK_TIMEOUT_S) -> Any:
    """Build the python-escpos printer for ``settings``; the connection opens on first write."""
    if settings.kind == "file":
        assert settings.path is not None  # PrinterSettings guarantees it
        try:
            settings.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PrinterError(
                f"Không tạo được thư mục cho máy in {settings.path} ({exc.strerror}).",
                f"Cannot create the folder for printer file {settings.path} ({exc.strerror}).",
            ) from exc
        printer: Any = File(str(settings.path))
    elif settings.kind == "network":
        printer = Network(settings.host or "", settings.port, timeout=timeout)
    else:
        printer = Dummy()
    _set_paper_width(printer, STYLES[settings.paper_width_mm].width)
    return printer


def _set_paper_width(printer: Any, dots: int) -> None:
    """Tell python-escpos the paper width, so it refuses too-wide images and stays quiet.

    The default profile leaves the width unknown (and prints a warning on every image). The
    profile data is shared between printers, so this printer gets its own copy.
    """
    data = copy.deepcopy(printer.profile.profile_data)
    data["media"]["width"]["pixels"] = dots
    printer.profile.profile_data = data


def print_slip(printer: Any, image: Image.Image) -> None:
    """Reset the printer, print ``image`` as a raster bit image, feed and cut."""
    try:
        printer.hw("INIT")
        printer.image(image, impl="bitImageRaster")
        printer.cut()
    except (EscposError, OSError) as exc:
        raise _printer_error(printer, exc) from exc


def _printer_error(printer: Any, exc: Exception) -> PrinterError:
    text = str(getattr(exc, "msg", "") or exc).strip() or type(exc).__name__
    detail = text.splitlines()[-1]  # python-escpos puts the OS error on the last line
    if isinstance(printer, Network):
        where = f"{printer.host}:{printer.port}"
        return PrinterError(
            f"Không kết nối được máy in {where}. Kiểm tra máy in đã bật và nối mạng. ({detail})",
            f"Cannot reach the printer at {where}. Check that it is on and connected. ({detail})",
        )
    if isinstance(printer, File):
        return PrinterError(
            f"Không ghi được ra máy in {printer.devfile}. Kiểm tra máy in và cáp nối. ({detail})",
            f"Cannot write to the printer {printer.devfile}. Check the printer and cable. ({detail})",
        )
    return PrinterError(f"Máy in báo lỗi: {detail}", f"The printer reported an error: {detail}")


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
    except (EscposError, OSError):
        return


def print_receipt(
    issued: IssuedReceipt,
    unit: Unit,
    printer_settings: PrinterSettings,
    printer: Any = None,
    *,
    sessions: sessionmaker[Session] | None = None,
) -> bytes | None:
    """Render the slip, print it and, given ``sessions``, mark the receipt printed.

    Returns the ESC/POS bytes when the printer is a Dummy (``kind = "dummy"``), else None. A
    printer passed in is left open for the caller; one opened here is closed here.
    """
    image = render_slip(issued, unit, paper_width_mm=printer_settings.paper_width_mm)
    own = printer is None
    target = open_printer(printer_settings) if own else printer
    try:
        print_slip(target, image)
    except PrinterError:
        if own:
            _close_quietly(target)
        raise
    if own:
        close_printer(target)
    if sessions is not None:
        mark_printed(sessions, issued.claims.code)
    return target.output if isinstance(target, Dummy) else None
