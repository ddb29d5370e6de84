"""Fake ESC/POS printers for tests and benchmarks: one on a loopback TCP port, one on a serial pty.

Each answers the real-time status requests a client sends before printing (``DLE EOT n``, three
bytes each) the way a printer in ``state`` would, then records every further byte of the
connection as one job: what would have come out on paper. States:

* ``ok``: ready; ``paper_low``: ready, paper near its end;
* ``paper_out``, ``cover_open``, ``cutter_jam``, ``offline``: answers that say so;
* ``silent``: accepts the connection and the bytes, never answers a status request.

A status request is only recognised before the first other byte of a connection, so a raster
image that happens to hold ``10 04 01`` is never mistaken for one. ``state`` may be changed while
the printer runs ("paper loaded"), and applies from the next request on.
"""

from __future__ import annotations

import contextlib
import os
import select
import socketserver
import threading
import time
import tty
from collections.abc import Callable
from types import TracebackType
from typing import Literal, Self

State = Literal["ok", "paper_low", "paper_out", "cover_open", "cutter_jam", "offline", "silent"]

STATUS_REQUEST = b"\x10\x04"
READY = 0x12  # the fixed bits of every status byte: nothing to report
_OFFLINE = READY | 0x08
ANSWERS: dict[State, dict[int, int]] = {
    # n = 1 printer, 2 offline cause, 3 error cause, 4 paper roll sensor
    "ok": {1: READY, 2: READY, 3: READY, 4: READY},
    "paper_low": {1: READY, 2: READY, 3: READY, 4: READY | 0x0C},
    "paper_out": {1: _OFFLINE, 2: READY | 0x20, 3: READY, 4: READY | 0x0C | 0x60},
    "cover_open": {1: _OFFLINE, 2: READY | 0x04, 3: READY, 4: READY},
    "cutter_jam": {1: _OFFLINE, 2: READY | 0x40, 3: READY | 0x08, 4: READY},
    "offline": {1: _OFFLINE, 2: READY, 3: READY, 4: READY},
    "silent": {},
}


class _Recorder:
    """What every fake printer shares: the state, the status requests seen, the jobs received."""

    def __init__(self, state: State) -> None:
        self.state: State = state
        self.queries: list[int] = []
        self.jobs: list[bytes] = []
        self.connections = 0
        self._changed = threading.Condition()

    def answer(self, n: int) -> bytes:
        with self._changed:
            self.queries.append(n)
        byte = ANSWERS[self.state].get(n)
        return b"" if byte is None else bytes([byte])

    def record(self, job: bytes) -> None:
        with self._changed:
            self.jobs.append(job)
            self._changed.notify_all()

    def wait_for_jobs(self, count: int, timeout: float = 10.0) -> list[bytes]:
        """The first ``count`` jobs, once they have arrived; AssertionError after ``timeout``."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.jobs) >= count, timeout):
                raise AssertionError(f"{len(self.jobs)} job(s) arrived, expected {count}")
            return list(self.jobs[:count])


class _Connection:
    """One connection's byte stream: status requests first, then the job."""

    def __init__(self, recorder: _Recorder, reply: Callable[[bytes], None]) -> None:
        self.recorder, self.reply = recorder, reply
        self.pending = bytearray()
        self.job = bytearray()
        self.printing = False

    def feed(self, chunk: bytes) -> None:
        if self.printing:
            self.job += chunk
            return
        self.pending += chunk
        while self.pending and not self.printing:
            if self.pending[:2] == STATUS_REQUEST and len(self.pending) >= 3:
                answer = self.recorder.answer(self.pending[2])
                del self.pending[:3]
                if answer:
                    self.reply(answer)
            elif len(self.pending) < 3 and STATUS_REQUEST.startswith(self.pending):
                return  # the rest of a request is still on its way
            else:
                self.printing = True
                self.job += self.pending
                self.pending.clear()

    def close(self) -> None:
        if self.job:
            self.recorder.record(bytes(self.job))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # back-to-back connections (a benchmark) must not overflow it


class FakePrinter(_Recorder):
    """A fake printer listening on 127.0.0.1 (``host``, ``port``); a context manager."""

    def __init__(self, state: State = "ok") -> None:
        super().__init__(state)
        recorder = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                recorder.connections += 1
                connection = _Connection(recorder, self.request.sendall)
                with contextlib.suppress(ConnectionError):
                    while chunk := self.request.recv(65536):
                        connection.feed(chunk)
                connection.close()

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.host, self.port = "127.0.0.1", int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.02)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class FakeSerialPrinter(_Recorder):
    """A fake printer behind a pseudo-terminal: open ``device`` as a serial port.

    A serial line has no connections, so a pause of ``idle_s`` ends a job (and the next bytes may
    start with status requests again).
    """

    def __init__(self, state: State = "ok", *, idle_s: float = 0.25) -> None:
        super().__init__(state)
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)
        self.idle_s = idle_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _write(self, data: bytes) -> None:
        os.write(self._master, data)

    def _serve(self) -> None:
        connection: _Connection | None = None
        last = time.monotonic()
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], 0.02)
            if not readable:
                if connection is not None and time.monotonic() - last > self.idle_s:
                    connection.close()
                    connection = None
                continue
            chunk = os.read(self._master, 65536)
            last = time.monotonic()
            if connection is None:
                self.connections += 1
                connection = _Connection(self, self._write)
            connection.feed(chunk)
        if connection is not None:
            connection.close()

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
