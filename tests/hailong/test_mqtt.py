"""hailong.mqtt.Client reads bursts: its buffered socket on a socket pair, and the client itself
draining a burst of QoS 1 messages of mixed sizes from a real broker, packets split across reads."""

from __future__ import annotations

import socket
import threading
from collections import deque

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

import hailong.mqtt
from hailong.contract import topics
from hailong.mqtt import BufferedSocket, Client, _join_front, log_in
from tests.conftest import UNIT_CODE, Broker


@given(st.lists(st.binary(min_size=1, max_size=300), max_size=20), st.integers(1, 64))
def test_small_reads_return_exactly_what_was_sent(blocks: list[bytes], read_size: int) -> None:
    left, right = socket.socketpair()
    with left, right:
        sent = b"".join(blocks)
        left.sendall(sent)
        left.shutdown(socket.SHUT_WR)
        buffered = BufferedSocket(right)
        received = b""
        while chunk := buffered.recv(read_size):
            assert len(chunk) <= read_size
            received += chunk
        assert received == sent
        assert buffered.pending() == 0


def test_pending_counts_what_was_read_ahead_and_empty_raises_like_a_socket() -> None:
    left, right = socket.socketpair()
    with left, right:
        right.setblocking(False)
        buffered = BufferedSocket(right)
        with pytest.raises(BlockingIOError):
            buffered.recv(1)
        left.sendall(b"abcdef")
        assert buffered.recv(2) == b"ab"
        assert buffered.pending() == 4
        assert buffered.fileno() == right.fileno()


@pytest.mark.timeout(60)
def test_a_burst_of_mixed_sizes_arrives_whole_and_once(
    broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tiny read size makes most packets straddle two or more reads.
    monkeypatch.setattr(hailong.mqtt, "READ_CHUNK", 97)
    kiosk = "kiosk-q1"
    topic = topics.ratings(UNIT_CODE, kiosk)
    payloads = [bytes([i % 251]) * (1 + (i * 37) % 9000) for i in range(3000)]
    received: list[bytes] = []
    done, subscribed = threading.Event(), threading.Event()

    hub = Client(CallbackAPIVersion.VERSION2, client_id="hub", manual_ack=True)
    log_in(hub, broker.mqtt_settings("hub"))

    def on_message(client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        received.append(bytes(message.payload))
        client.ack(message.mid, message.qos)
        if len(received) == len(payloads):
            done.set()

    hub.on_message = on_message
    hub.on_subscribe = lambda *_args: subscribed.set()
    hub.connect("127.0.0.1", broker.port)
    hub.loop_start()
    hub.subscribe(topics.RATINGS_SUBSCRIPTION, qos=1)
    assert subscribed.wait(5)

    sender = Client(CallbackAPIVersion.VERSION2, client_id=kiosk)
    log_in(sender, broker.mqtt_settings(kiosk))
    sender.max_inflight_messages_set(0)
    sender.connect("127.0.0.1", broker.port)
    sender.loop_start()
    try:
        infos = [sender.publish(topic, payload, qos=1) for payload in payloads]
        assert done.wait(40), f"{len(received)} of {len(payloads)} arrived"
        assert received == payloads  # in order, whole, once
        # The hub's PUBACKs, queued by its network thread without a wake-up and sent joined,
        # reached the broker: it delivered them all (its in-flight window is far smaller), and
        # the sender's own publishes were all confirmed.
        for info in infos:
            info.wait_for_publish(10)
    finally:
        sender.loop_stop()
        hub.loop_stop()
        sender.disconnect()
        hub.disconnect()


def _packet(command: int, data: bytes, qos: int = 1, pos: int = 0) -> dict[str, object]:
    return {
        "command": command,
        "mid": 1,
        "qos": qos,
        "pos": pos,
        "to_process": len(data) - pos,
        "packet": data,
        "info": None,
    }


def test_queued_acks_and_qos1_publishes_are_joined_into_one_write_in_order() -> None:
    puback, publish, disconnect = 0x40, 0x30, 0xE0
    queue = deque(
        [
            _packet(puback, b"AAAA", pos=2),  # half written already
            _packet(publish | 0x02, b"PUBLISH-1"),
            _packet(puback, b"BBBB"),
            _packet(publish, b"QOS0", qos=0),  # its on_publish fires when written: alone
            _packet(puback, b"CCCC"),
            _packet(disconnect, b"\xe0\x00"),
        ]
    )
    _join_front(queue)
    assert [p["packet"] for p in queue] == [b"AAPUBLISH-1BBBB", b"QOS0", b"CCCC", b"\xe0\x00"]
    assert queue[0]["to_process"] == len(b"AAPUBLISH-1BBBB")
    assert queue[0]["pos"] == 0
    single = deque([_packet(puback, b"DDDD")])
    _join_front(single)
    assert [p["packet"] for p in single] == [b"DDDD"]
