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
A receiver can also take QoS 1 messages off the buffer itself (:attr:`Client.take_publish`): a
pure parser (:func:`qos1_publishes`, MQTT 3.1.1 and 5) splits the buffered PUBLISH packets, the
receiver gets each topic, payload and packet id, and acknowledges them at once or later, many in
one packet (:meth:`Client.ack_many`). paho's own handling of a message (decoding, a
``MQTTMessage``, a debug log line, the topic matcher, a PUBACK packet and a wake-up of the network
thread for each ``ack``) cost the hub about 30 % more CPU a rating (``bench/ingest.py``); messages
the receiver does not take, and every other packet, still go through paho.

The overrides use the private paho names in :data:`PRIVATE_NAMES`; ``pyproject.toml`` pins the
paho series they were written against (paho 2.1 named one of them differently), and
``tests/hailong/test_mqtt_private_names.py`` fails naming any that is gone or changed shape.
``[hub] mqtt_fast_path = false`` runs the hub on paho's own client.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MessageType, MQTTErrorCode, MQTTProtocolVersion

from hailong.settings import MqttSettings

# Every private paho name this module relies on: a method of paho's client with the parameters it
# must take after ``self``, or an attribute of a client (None). paho may change any of them in any
# release; tests/hailong/test_mqtt_private_names.py checks each against the installed paho.
PRIVATE_NAMES: dict[str, tuple[str, ...] | None] = {
    "_create_socket": (),
    "_packet_read": (),
    "_loop_rc_handle": ("rc",),
    "_handle_on_message": ("message",),
    "_packet_queue": ("command", "packet", "mid", "qos", "info"),
    "_packet_write": (),
    "_sock": None,
    "_manual_ack": None,
    "_protocol": None,
    "_in_packet": None,  # a dict; its "command" is 0 between packets
    "_out_packet": None,  # a deque of dicts with the keys OUT_PACKET_KEYS
    "_msgtime_mutex": None,
    "_last_bytes_received": None,  # paho 2.1 called it _last_msg_in
    "_thread": None,  # also read by hub.broker_link (paho keeps no public handle on its thread)
}
OUT_PACKET_KEYS = ("command", "mid", "qos", "pos", "to_process", "packet", "info")
# And of paho.mqtt.client itself: the clock _last_bytes_received is read against.
PRIVATE_MODULE_NAMES = ("time_func",)
# One recv takes up to this many bytes: a few hundred ratings.
READ_CHUNK = 256 * 1024
# At most this many queued bytes are joined into one send.
WRITE_CHUNK = 256 * 1024
# Packets handled per turn of paho's loop before it writes acks and checks keep-alives.
PACKETS_PER_TURN = 500
# A QoS 1 PUBLISH's first byte, its DUP (0x08) and RETAIN (0x01) flags masked out.
_QOS1_PUBLISH = 0x32
_PUBLISH_FLAGS_MASK = 0xF6
# What a receiver does with a message (topic, payload, packet id; see Client.take_publish):
# acknowledge it to the broker now (True), take it and acknowledge it later with
# ``Client.ack(mid, 1)`` (False), or leave it to paho (None).
TakePublish = Callable[[str, bytes, int], bool | None]


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

    def buffered(self) -> tuple[bytes, int]:
        """The bytes read ahead and where the unread ones start (for :meth:`Client.loop_read`)."""
        return self._chunk, self._pos

    def skip_to(self, pos: int) -> None:
        """Mark the read-ahead bytes before ``pos`` as read."""
        self._pos = pos

    def pending(self) -> int:
        """Bytes already read and not yet handed to paho, plus TLS's own buffer."""
        inner = getattr(self._sock, "pending", None)
        return len(self._chunk) - self._pos + (inner() if inner is not None else 0)

    def __getattr__(self, name: str) -> Any:
        # send, fileno, setblocking, close…: the socket's own.
        return getattr(self._sock, name)


def _varint(data: bytes, pos: int, end: int) -> tuple[int, int] | None:
    """MQTT's variable byte integer at ``pos`` (7 bits a byte, at most 4 bytes) and where it
    ends; None when it runs past ``end`` or is too long."""
    value = shift = 0
    while pos < end and shift <= 21:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if not byte & 0x80:
            return value, pos
    return None


def qos1_publishes(
    data: bytes, pos: int, *, mqtt5: bool = False
) -> Iterator[tuple[int, bytes, int, bytes]]:
    """The whole QoS 1 PUBLISH packets in ``data`` from ``pos``, in order, as (end of the packet,
    topic, packet id, payload); stops before the first packet that is not one, is cut off by the
    end of ``data``, or does not parse (paho then reads it, and rejects it if it must). With
    ``mqtt5`` a packet's properties are skipped (an alias for an empty topic is paho's job).
    """
    size = len(data)
    while pos + 2 <= size and data[pos] & _PUBLISH_FLAGS_MASK == _QOS1_PUBLISH:
        remaining = _varint(data, pos + 1, size)
        if remaining is None:
            return
        length, cursor = remaining
        end = cursor + length
        if end > size:
            return
        topic_end = cursor + 2 + int.from_bytes(data[cursor : cursor + 2], "big")
        if topic_end + 2 > end or topic_end == cursor + 2:  # taken: no empty topic here
            return
        mid = int.from_bytes(data[topic_end : topic_end + 2], "big")
        start = topic_end + 2
        if mqtt5:
            properties = _varint(data, start, end)
            if properties is None or properties[1] + properties[0] > end:
                return
            start = properties[1] + properties[0]
        yield end, data[cursor + 2 : topic_end], mid, data[start:end]
        pos = end


class Client(mqtt.Client):
    """paho's client, reading bursts (see the module doc). Same API, same callbacks.

    ``take_publish``, when set on a client made with ``manual_ack=True``, sees every QoS 1
    message first, on the network thread: most straight off the read buffer, the others (the
    first of a read, one split between reads) from paho's own decoding. Its verdict decides the
    PUBACK; messages it leaves (None) go to ``on_message`` as usual.
    """

    take_publish: TakePublish | None = None

    def _create_socket(self) -> Any:
        # Plain TCP or TLS here: the hailong settings offer no websockets or unix sockets.
        return BufferedSocket(cast(socket.socket, super()._create_socket()))

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        # paho's own version reads one packet per call when nothing of ours is in flight.
        for _ in range(max(max_packets, PACKETS_PER_TURN)):
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            if self._take_buffered_publishes():
                continue
            rc = self._packet_read()
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break
            if rc > 0:
                return self._loop_rc_handle(rc)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _take_buffered_publishes(self) -> bool:
        """Hand the read-ahead QoS 1 messages to ``take_publish`` and queue their PUBACKs as one
        packet; False when it took none (paho reads the next packet then)."""
        take, sock = self.take_publish, self._sock
        if (
            take is None
            or not self._manual_ack
            or not isinstance(sock, BufferedSocket)
            or self._in_packet["command"] != 0  # paho is in the middle of a packet
        ):
            return False
        data, start = sock.buffered()
        taken, acks = start, bytearray()
        mqtt5 = self._protocol == MQTTProtocolVersion.MQTTv5
        for end, raw_topic, mid, payload in qos1_publishes(data, start, mqtt5=mqtt5):
            try:
                verdict = take(raw_topic.decode(), payload, mid)
            except UnicodeDecodeError:
                verdict = None
            if verdict is None:
                break
            taken = end
            if verdict:
                acks += b"\x40\x02" + mid.to_bytes(2, "big")
        if taken == start:
            return False
        sock.skip_to(taken)
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        if acks:
            self._packet_queue(MessageType.PUBACK, bytes(acks), 0, 1)
        return True

    def ack_many(self, mids: list[int]) -> None:
        """PUBACK these QoS 1 messages in one packet, from any thread: ``ack`` for each would
        queue a packet and wake the network thread once per message."""
        if mids:
            acks = b"".join(b"\x40\x02" + mid.to_bytes(2, "big") for mid in mids)
            self._packet_queue(MessageType.PUBACK, acks, 0, 1)

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        take = self.take_publish
        if take is None or not self._manual_ack or message.qos != 1:
            super()._handle_on_message(message)
            return
        try:
            verdict = take(message.topic, bytes(message.payload), message.mid)
        except UnicodeDecodeError:  # the topic (paho raises when it is read)
            verdict = None
        if verdict is None:
            super()._handle_on_message(message)
        elif verdict:
            self.ack(message.mid, message.qos)

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
