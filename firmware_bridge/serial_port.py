"""The serial link to a button box: open, read frames in a thread, write frames, survive unplugging.

The port is found by path or by USB vendor/product id. The reader thread never dies: a
``SerialException``/``OSError`` (the cable pulled, the device rebooting) closes the port, reports
"disconnected", and the port is reopened once a second until it comes back ("connected"). Garbage
on the line is the :class:`~firmware_bridge.protocol.Decoder`'s business: each bad frame is counted
by reason and logged at most once per ``LOG_ERRORS_EVERY_S``. A device that sends no frame for
``silent_after`` seconds (it sends a heartbeat every second) is reported "silent" until it speaks
again.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import serial
from serial.tools import list_ports

from firmware_bridge.protocol import Decoder, FrameError, InfoRequest, Message, encode
from hailong.settings import SerialDevice

log = logging.getLogger(__name__)
LinkState = Literal["disconnected", "connected", "silent"]
RETRY_EVERY_S = 1.0
LOG_ERRORS_EVERY_S = 10.0
READ_TIMEOUT_S = 0.1


def find_port(vendor_id: int, product_id: int) -> str | None:
    """The device path of the first USB serial port with this vendor and product id."""
    for info in list_ports.comports():
        if info.vid == vendor_id and info.pid == product_id:
            return str(info.device)
    return None


def link_to(
    device: SerialDevice,
    *,
    on_message: Callable[[Message], None],
    on_state: Callable[[LinkState], None] = lambda _state: None,
    retry_every: float = RETRY_EVERY_S,
) -> SerialLink:
    """The link to a configured device: one place maps the settings, for the standalone box and
    for a box beside a kiosk alike."""
    return SerialLink(
        on_message=on_message,
        on_state=on_state,
        port=device.port,
        vendor_id=device.vendor_id,
        product_id=device.product_id,
        baudrate=device.baudrate,
        silent_after=device.silent_after_seconds,
        retry_every=retry_every,
    )


class SerialLink:
    """One button box on one serial port. ``on_message`` and ``on_state`` run on the reader
    thread; ``send`` may be called from any thread."""

    def __init__(
        self,
        *,
        on_message: Callable[[Message], None],
        on_state: Callable[[LinkState], None] = lambda _state: None,
        port: str | None = None,
        vendor_id: int | None = None,
        product_id: int | None = None,
        baudrate: int = 115200,
        silent_after: float = 5.0,
        retry_every: float = RETRY_EVERY_S,
    ) -> None:
        if port is None and (vendor_id is None or product_id is None):
            raise ValueError("a serial link needs a port path, or a USB vendor and product id")
        self.port, self.vendor_id, self.product_id = port, vendor_id, product_id
        self.baudrate = baudrate
        self.silent_after = silent_after
        self.retry_every = retry_every
        self.on_message, self.on_state = on_message, on_state
        self.state: LinkState = "disconnected"
        self.errors: collections.Counter[str] = collections.Counter()  # bad frames, by reason
        self.frames = 0  # good frames received
        self.reconnects = 0  # times the port was opened again after being lost
        self._serial: Any = None
        self._write_lock = threading.Lock()
        self._seq = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="serial-link", daemon=True)
        self._unlogged: collections.Counter[str] = collections.Counter()
        self._last_error_log = 0.0

    # -- public --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._close()

    def send(self, message: Message) -> bool:
        """Write one frame; False (logged at debug) when the device is not there."""
        with self._write_lock:
            port = self._serial
            if port is None:
                return False
            frame = encode(message, self._seq)
            self._seq = (self._seq + 1) % 256
            try:
                port.write(frame)
                return True
            except (serial.SerialException, OSError, TypeError, ValueError) as exc:
                # The reader notices the lost port and reopens it; a light is resent then.
                log.debug("could not write %r: %s", message, exc)
                return False

    # -- reader thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._serial is None and not self._open():
                self._stop.wait(self.retry_every)
                continue
            try:
                self._read_once()
            except (serial.SerialException, OSError, TypeError, ValueError) as exc:
                # pyserial raises TypeError/ValueError from a port closed under its feet.
                log.warning("serial port %s lost: %s", self._describe(), exc)
                self._close()
                self._set_state("disconnected")
            except Exception:  # a bug in a handler must not stop the reader
                log.exception("serial reader: unexpected error")
        self._flush_error_log(force=True)

    def _describe(self) -> str:
        if self.port is not None:
            return self.port
        return f"usb {self.vendor_id:04x}:{self.product_id:04x}"

    def _open(self) -> bool:
        path = self.port
        if path is None:
            assert self.vendor_id is not None
            assert self.product_id is not None
            path = find_port(self.vendor_id, self.product_id)
            if path is None:
                return False
        try:
            port = serial.Serial(path, self.baudrate, timeout=READ_TIMEOUT_S)
        except (serial.SerialException, OSError, ValueError) as exc:
            log.debug("cannot open %s: %s", path, exc)
            return False
        with self._write_lock:
            self._serial = port
        self._decoder = Decoder()
        self._last_frame = time.monotonic()
        if self.frames or self.errors or self.state != "disconnected":
            self.reconnects += 1
        self._set_state("connected")
        self.send(InfoRequest())
        return True

    def _close(self) -> None:
        with self._write_lock:
            port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def _read_once(self) -> None:
        port = self._serial
        data = port.read(max(1, port.in_waiting))
        now = time.monotonic()
        if data:
            for item in self._decoder.feed(data):
                if isinstance(item, FrameError):
                    self._count_error(item.reason, now)
                    continue
                self.frames += 1
                self._last_frame = now
                if self.state == "silent":
                    log.info("button box on %s speaks again", self._describe())
                    self._set_state("connected")
                self.on_message(item)
        if self.state == "connected" and now - self._last_frame > self.silent_after:
            log.warning(
                "button box on %s silent for %.0f s (no heartbeat)",
                self._describe(),
                now - self._last_frame,
            )
            self._set_state("silent")
        self._flush_error_log(now=now)

    def _set_state(self, state: LinkState) -> None:
        if state == self.state:
            return
        log.info("serial port %s: %s -> %s", self._describe(), self.state, state)
        self.state = state
        self.on_state(state)

    def _count_error(self, reason: str, now: float) -> None:
        self.errors[reason] += 1
        self._unlogged[reason] += 1

    def _flush_error_log(self, *, now: float | None = None, force: bool = False) -> None:
        """Bad frames, logged at most once per LOG_ERRORS_EVERY_S (a noisy line is one line)."""
        if not self._unlogged:
            return
        now = time.monotonic() if now is None else now
        if not force and now - self._last_error_log < LOG_ERRORS_EVERY_S:
            return
        self._last_error_log = now
        summary = ", ".join(f"{reason}: {n}" for reason, n in sorted(self._unlogged.items()))
        log.warning("bad frames from %s ignored (%s)", self._describe(), summary)
        self._unlogged.clear()
