"""How Hài Lòng's programs talk MQTT: one way to log a client in (credentials, and TLS when a CA
is configured; the kiosk's uplink, the hub and the button box all use it, so none of them can
forget TLS), and :class:`Client`, paho's client reading a burst of packets in one go.

paho reads each packet with three to five ``recv`` calls and, in its network loop, handles one
packet per ``select``: about 100 µs of CPU per message, which capped a hub worker's ingest well
below what its database could commit. :class:`Client` reads the socket in large chunks and
handles every whole packet it holds before going back to ``select`` (bounded, so writes and
keep-alives still get their turn). paho already honours a socket's ``pending()`` (it is how TLS
buffers), so the buffered bytes are never left waiting for the socket to turn readable again.
The overrides touch paho internals; ``pyproject.toml`` pins the paho series they were written
against, and the end-to-end and burst tests exercise them.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from hailong.settings import MqttSettings

# One recv takes up to this many bytes: a few hundred ratings.
READ_CHUNK = 256 * 1024
# Packets handled per turn of paho's loop before it writes acks and checks keep-alives.
PACKETS_PER_TURN = 500


def log_in(client: mqtt.Client, settings: MqttSettings) -> None:
    client.username_pw_set(settings.username, settings.password())
    if settings.ca_file is not None:
        client.tls_set(ca_certs=str(settings.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)


class BufferedSocket:
    """A socket (plain or TLS) whose ``recv`` serves small reads from one large read."""

    def __init__(self, sock: socket.socket | ssl.SSLSocket) -> None:
        self._sock = sock
        self._chunk = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        if self._pos >= len(self._chunk):
            # Raises BlockingIOError (or TLS's want-read) when nothing is there, as paho expects.
            self._chunk = self._sock.recv(max(size, READ_CHUNK))
            self._pos = 0
            if not self._chunk:
                return b""  # the peer closed the connection
        start = self._pos
        self._pos = min(start + size, len(self._chunk))
        return self._chunk[start : self._pos]

    def pending(self) -> int:
        """Bytes already read and not yet handed to paho, plus TLS's own buffer."""
        inner = getattr(self._sock, "pending", None)
        return len(self._chunk) - self._pos + (inner() if inner is not None else 0)

    def __getattr__(self, name: str) -> Any:
        # send, fileno, setblocking, close…: the socket's own.
        return getattr(self._sock, name)


class Client(mqtt.Client):
    """paho's client, reading bursts (see the module doc). Same API, same callbacks."""

    def _create_socket(self) -> Any:
        # Plain TCP or TLS here: the hailong settings offer no websockets or unix sockets.
        return BufferedSocket(cast(socket.socket, super()._create_socket()))

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        # paho's own version reads one packet per call when nothing of ours is in flight.
        for _ in range(max(max_packets, PACKETS_PER_TURN)):
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break
            if rc > 0:
                return self._loop_rc_handle(rc)
        return MQTTErrorCode.MQTT_ERR_SUCCESS
