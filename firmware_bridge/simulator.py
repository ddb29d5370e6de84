"""A button box simulated on a pseudo-terminal pair, for tests and the demo.

The simulator holds the master side of a pty and speaks the serial protocol
(docs/serial-protocol.md) on it, like ``firmware_bridge/firmware/main.py`` does over USB CDC. The
host opens the slave side with pyserial, by the path in :attr:`DeviceSimulator.port`: a symlink
that stays the same across :meth:`DeviceSimulator.unplug` / :meth:`DeviceSimulator.replug` (the
pty itself gets a new ``/dev/pts/N`` on every replug, see :attr:`DeviceSimulator.tty`), so a
bridge configured by path can reconnect, as with ``/dev/serial/by-id/…`` for a real device.

Like a real USB CDC device, what the simulator sends while the host has the port closed is lost
(pyserial flushes the input when it opens a port): a host learns the device by sending
``InfoRequest`` after opening. Unplugging closes the pty, so the host's reads and writes fail with
``serial.SerialException`` as when the cable is pulled.

Buttons follow the firmware's timing (``Buttons`` in firmware/main.py): a short press is sent as
Press when the button comes back up; one held for ``HOLD_MS`` sends Hold at that moment and nothing
on its release. :meth:`DeviceSimulator.press`, :meth:`DeviceSimulator.hold` and
:meth:`DeviceSimulator.push` (a press of any length) send what the firmware would, without waiting.

Run ``python -m firmware_bridge.simulator`` to get a device for a manual try.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import shutil
import tempfile
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from firmware_bridge.protocol import (
    HOLD_MS,
    Buzz,
    Decoder,
    DeviceInfo,
    FrameError,
    Heartbeat,
    Hold,
    InfoRequest,
    Light,
    Message,
    Press,
    Scan,
    encode,
)

DEFAULT_INFO = DeviceInfo(model="hailong-sim", firmware="sim-1", buttons=5)


class DeviceSimulator:
    """A simulated button box: five buttons, a scanner, lights and a buzzer on a pty."""

    def __init__(
        self,
        *,
        link: str | os.PathLike[str] | None = None,
        heartbeat_seconds: float | None = 1.0,
        info: DeviceInfo = DEFAULT_INFO,
        announce: bool = True,
    ) -> None:
        """``link``: where the stable symlink goes (default: a new temp dir, removed on stop).

        ``heartbeat_seconds``: Heartbeat period (None: none). ``announce``: send DeviceInfo on
        start and on every replug, as the firmware does on boot.
        """
        self._own_dir: Path | None = None
        if link is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="hailong-sim-"))
            self._link = self._own_dir / "ttyHL0"
        else:
            self._link = Path(link)
        self.heartbeat_seconds = heartbeat_seconds
        self.info = info
        self.announce = announce

        self.decoder = Decoder()  # what the host sent; its .errors count garbage from the host
        self.received: list[Message] = []
        self.lights: list[str] = []
        self.buzzes: list[int] = []
        self.sent: list[Message] = []
        self.dropped_bytes = 0  # written while the pty's buffer was full (host not reading)
        self._congested = False

        self._master: int | None = None
        self._slave: int | None = None
        self._tty: str | None = None
        self._seq = 0
        self._booted = time.monotonic()
        self._write_lock = threading.Lock()
        self._state = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The stable path the host opens (a symlink to the current pty)."""
        return str(self._link)

    @property
    def tty(self) -> str | None:
        """The current pty slave (``/dev/pts/N``); changes on every replug; None while unplugged."""
        return self._tty

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> DeviceSimulator:
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        self._stop.clear()
        self._plug()
        self._thread = threading.Thread(target=self._run, name="device-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._unplug()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self) -> DeviceSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """Pull the cable: close the pty pair and remove the symlink."""
        self._unplug()

    def replug(self) -> None:
        """Plug back in: a new pty pair (new :attr:`tty`), the same :attr:`port` symlink."""
        if self._master is None:
            self._plug()

    # --- device → host ----------------------------------------------------------------------

    def press(self, level: int) -> None:
        """A short press: the Press the firmware sends when the button comes back up."""
        self.send(Press(level))

    def hold(self, level: int, held_ms: int = HOLD_MS) -> None:
        """A button kept down: the Hold the firmware sends when it has been down HOLD_MS."""
        self.send(Hold(level, held_ms))

    def push(self, level: int, held_ms: int) -> None:
        """A button down for ``held_ms``: what the firmware sends for it, Press or Hold."""
        if held_ms < HOLD_MS:
            self.press(level)
        else:
            self.hold(level)

    def scan(self, text: str) -> None:
        self.send(Scan(text))

    def heartbeat(self) -> None:
        self.send(Heartbeat(self.uptime_ms()))

    def send(self, message: Message) -> None:
        with self._write_lock:
            frame = encode(message, self._seq)
            self._seq = (self._seq + 1) % 256
        self.sent.append(message)
        self.send_raw(frame)

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (garbage, partial frames); dropped while unplugged."""
        with self._write_lock:
            master = self._master
            if master is None:
                return
            view = memoryview(data)
            stalled_since: float | None = None
            while view:
                try:
                    written = os.write(master, view)
                except BlockingIOError:
                    now = time.monotonic()
                    stalled_since = stalled_since or now
                    if self._congested or now - stalled_since > 0.2:
                        # The host is not reading: drop, as a UART would, and do not wait
                        # again until a write goes through.
                        self._congested = True
                        self.dropped_bytes += len(view)
                        return
                    time.sleep(0.01)
                    continue
                except OSError:
                    return
                stalled_since = None
                self._congested = False
                view = view[written:]

    def uptime_ms(self) -> int:
        return int((time.monotonic() - self._booted) * 1000) & 0xFFFFFFFF

    # --- host → device ----------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` (checked after each command from the host) holds."""
        deadline = time.monotonic() + timeout
        with self._state:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._state.wait(min(left, 0.1))
        return True

    def _handle(self, item: Message | FrameError) -> None:
        if isinstance(item, FrameError):
            return
        with self._state:
            self.received.append(item)
            if isinstance(item, Light):
                self.lights.append(item.state)
            elif isinstance(item, Buzz):
                self.buzzes.append(item.ms)
            self._state.notify_all()
        if isinstance(item, InfoRequest):
            self.send(self.info)

    # --- internals --------------------------------------------------------------------------

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing: bytes pass as they are
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._tty = os.ttyname(slave)
        self._booted = time.monotonic()
        self._link.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._link.with_name(self._link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self._tty)
        tmp.replace(self._link)  # atomic: the path never points nowhere while plugged
        if self.announce:
            self.send(self.info)

    def _unplug(self) -> None:
        with self._write_lock:
            master, slave = self._master, self._slave
            self._master = self._slave = None
            self._tty = None
            for fd in (master, slave):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            self._link.unlink()

    def _run(self) -> None:
        next_beat = time.monotonic() + (self.heartbeat_seconds or 0)
        while not self._stop.is_set():
            master = self._master
            if self.heartbeat_seconds and time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self.heartbeat_seconds
                if master is not None:
                    self.heartbeat()
            if master is None:
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                with self._write_lock:  # unplug() closes the fd under this lock
                    if self._master != master:
                        continue
                    data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except (OSError, ValueError) as exc:  # closed by unplug() meanwhile
                if isinstance(exc, OSError) and exc.errno not in (errno.EBADF, errno.EIO):
                    raise
                time.sleep(0.02)
                continue
            for item in self.decoder.feed(data):
                self._handle(item)


def main() -> None:  # pragma: no cover - manual use
    sim = DeviceSimulator(heartbeat_seconds=5).start()
    print(
        f"simulated device on {sim.port} -> {sim.tty}; type 1-5 to press, h1-h5 to hold,"
        " text to scan, q quits"
    )
    try:
        while True:
            line = input("> ").strip()
            if line == "q":
                break
            if line in {"1", "2", "3", "4", "5"}:
                sim.press(int(line))
            elif line in {"h1", "h2", "h3", "h4", "h5"}:
                sim.hold(int(line[1]))
            elif line:
                sim.scan(line)
            print(f"lights {sim.lights[-5:]}, buzzes {sim.buzzes[-5:]}")
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        sim.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
