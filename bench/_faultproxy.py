"""A TCP proxy on loopback that can stall traffic and cut connections (bench/faults.py).

Kiosks connect to the proxy instead of the broker. The proxy forwards bytes both ways until told
otherwise:

* ``stall(up=..., down=...)``: stop forwarding in one or both directions; bytes already read are
  held (not lost) and flow again on ``resume()``. Stalling only ``down`` (broker to kiosk) lets a
  kiosk's publishes reach the hub while its PUBACKs and the hub's acks wait in the proxy.
* ``cut()``: close every connection at once, dropping whatever is held, and refuse new ones until
  ``heal()``. After a stall of ``down`` this is a cut between a publish and its ack.

Runs its own asyncio loop on a daemon thread; every method is safe to call from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self.connections_cut = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fault-proxy", daemon=True
        )
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._up = asyncio.Event()
        self._down = asyncio.Event()
        self._refusing = False

    # -- control (any thread) ------------------------------------------------------------------

    def start(self) -> int:
        self._thread.start()
        self.port = self._call(self._listen())
        return self.port

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._call(self._close_all(close_server=True))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def stall(self, *, up: bool = True, down: bool = True) -> None:
        """Hold traffic kiosk -> broker (``up``) and/or broker -> kiosk (``down``)."""
        self._call(self._set(up=not up, down=not down))

    def resume(self) -> None:
        self._call(self._set(up=True, down=True))

    def cut(self) -> None:
        """Drop every connection (and what is held) and refuse new ones until :meth:`heal`."""
        self._call(self._cut())

    def heal(self) -> None:
        self._refusing = False
        self.resume()

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    # -- the loop ----------------------------------------------------------------------------------

    async def _set(self, *, up: bool, down: bool) -> None:
        for event, flowing in ((self._up, up), (self._down, down)):
            if flowing:
                event.set()
            else:
                event.clear()

    async def _listen(self) -> int:
        self._up.set()
        self._down.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _cut(self) -> None:
        self._refusing = True
        self.connections_cut += len(self._writers) // 2
        await self._close_all(close_server=False)
        self._up.set()
        self._down.set()

    async def _close_all(self, *, close_server: bool) -> None:
        if close_server and self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writers.clear()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self._refusing:
            client_w.transport.abort()
            return
        try:
            broker_r, broker_w = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            client_w.transport.abort()
            return
        self._writers.update((client_w, broker_w))
        pipes = [
            asyncio.ensure_future(self._pipe(client_r, broker_w, self._up)),
            asyncio.ensure_future(self._pipe(broker_r, client_w, self._down)),
        ]
        self._tasks.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
                self._tasks.discard(task)
            for writer in (client_w, broker_w):
                self._writers.discard(writer)
                with contextlib.suppress(Exception):
                    writer.transport.abort()

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event
    ) -> None:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            await flowing.wait()  # a stall holds the chunk here (and reads no more)
            writer.write(chunk)
            await writer.drain()
