"""How Hài Lòng's programs talk MQTT: one way to log a client in (credentials, and TLS when a CA
is configured; the kiosk's uplink, the hub and the button box all use it, so none of them can
forget TLS), and :class:`Client`, paho's client reading a burst of packets in one go.

paho reads each packet with three to five ``recv`` calls and, in its network loop, handles one
packet per ``select``: about 100 µs of CPU per message, which capped a hub worker's ingest well
below what its database could commit. :class:`Client` reads the socket in large chunks and
handles every whole packet it holds before going back to ``select`` (bounded, so writes and
keep-alives still get their turn). paho already honours a socket's ``pending()`` (it is how TLS
buffers), so the buffered bytes are never left waiting for the socket to turn readable again.
It also writes in bursts. paho wakes its own network thread for every packet queued (a byte
through a socket pair), even when that thread is the one queueing (a PUBACK for each rating
received), and sends every queued packet with its own ``send``: two system calls per rating,
a quarter of a hub worker's CPU in a burst. :class:`Client` skips the wake-up when the network
thread queues (it writes before it next waits) and joins the queued packets into one ``send``.
The overrides touch paho internals; ``pyproject.toml`` pins the paho series they were written
against, and the end-to-end and burst tests exercise them.
"""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MessageType, MQTTErrorCode

from hailong.settings import MqttSettings

# One recv takes up to this many bytes: a few hundred ratings.
READ_CHUNK = 256 * 1024
# At most this many queued bytes are joined into one send.
WRITE_CHUNK = 256 * 1024
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

    def _packet_queue(
        self,
        command: int,
        packet: bytes | bytearray,
        mid: int,
        qos: int,
        info: mqtt.MQTTMessageInfo | None = None,
    ) -> MQTTErrorCode:
        if self._thread is None or threading.current_thread() is not self._thread:
            return super()._packet_queue(command, packet, mid, qos, info)
        # The network thread itself (a PUBACK, a PINGREQ): its loop sees the queue before it
        # waits again, so no wake-up byte. Other threads still wake it.
        self._out_packet.append(
            {
                "command": command,
                "mid": mid,
                "qos": qos,
                "pos": 0,
                "to_process": len(packet),
                "packet": packet,
                "info": info,
            }
        )
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet_write(self) -> MQTTErrorCode:
        _join_front(self._out_packet)
        return super()._packet_write()


def _joinable(packet: Any) -> bool:
    """Packets paho needs to see sent one by one: a QoS 0 publish (its ``on_publish`` fires when
    it is written) and a DISCONNECT (the socket closes after it). For the others (acks, pings,
    QoS 1 publishes, which complete on the broker's PUBACK) only the bytes matter."""
    kind = packet["command"] & 0xF0
    if kind == MessageType.DISCONNECT:
        return False
    return not (kind == MessageType.PUBLISH and packet["qos"] == 0)


def _join_front(queue: Any) -> None:
    """Replace the run of joinable packets at the front of paho's out queue by one packet holding
    their bytes in order (only the network thread takes from the front; others append)."""
    if len(queue) < 2 or not (_joinable(queue[0]) and _joinable(queue[1])):
        return
    parts: list[bytes | bytearray] = []
    size = 0
    while queue and size < WRITE_CHUNK and _joinable(queue[0]):
        packet = queue.popleft()
        part = packet["packet"][packet["pos"] :]
        parts.append(part)
        size += len(part)
    queue.appendleft(
        {
            "command": MessageType.PUBACK,
            "mid": 0,
            "qos": 1,
            "pos": 0,
            "to_process": size,
            "packet": b"".join(parts),
            "info": None,
        }
    )
