"""hailong.mqtt.Client reads bursts: its buffered socket on a socket pair, and the client itself
draining a burst of QoS 1 messages of mixed sizes from a real broker, packets split across reads."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator

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


# -- QoS 1 messages taken straight off the read buffer --------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _publish(
    topic: bytes,
    mid: int,
    payload: bytes,
    *,
    flags: int = 0,
    qos: int = 1,
    props: bytes | None = None,
) -> bytes:
    """A PUBLISH packet; with ``props``, MQTT 5's (their length first)."""
    body = len(topic).to_bytes(2, "big") + topic
    body += mid.to_bytes(2, "big") if qos else b""
    body += b"" if props is None else _varint(len(props)) + props
    body += payload
    return bytes([0x30 | qos << 1 | flags]) + _varint(len(body)) + body


_publishes = st.lists(
    st.tuples(
        st.binary(min_size=1, max_size=40),  # topic
        st.integers(0, 0xFFFF),  # packet id
        st.binary(max_size=400),  # payload
        st.sampled_from([0, 0x01, 0x08, 0x09]),  # RETAIN and DUP flags
    ),
    max_size=12,
)


@given(_publishes, st.sampled_from([b"", b"\xd0\x00", _publish(b"a/b", 0, b"qos0", qos=0)]))
def test_the_parser_splits_qos1_publishes_exactly_as_paho_decodes_them(
    publishes: list[tuple[bytes, int, bytes, int]], tail: bytes
) -> None:
    from paho.mqtt._packet import decode_publish
    from paho.mqtt.enums import MQTTProtocolVersion

    packets = [_publish(t, m, p, flags=f) for t, m, p, f in publishes]
    data = b"junk" + b"".join(packets) + tail
    found = list(hailong.mqtt.qos1_publishes(data, 4))
    assert len(found) == len(packets)  # and it stops before the PINGRESP or QoS 0 publish
    ends = list(itertools.accumulate((len(p) for p in packets), initial=4))[1:]
    for (end, topic, mid, payload), packet, expected_end in zip(found, packets, ends, strict=True):
        body = packet[len(packet) - _body_size(packet) :]
        paho = decode_publish(packet[0], body, MQTTProtocolVersion.MQTTv311)
        assert (end, topic, mid, payload) == (expected_end, paho.topic, paho.mid, paho.payload)


# MQTT 5 properties a broker may put on a PUBLISH: none, a content type, a user property, a
# subscription identifier (a variable byte integer).
_PROPERTIES = st.sampled_from(
    [b"", b"\x03\x00\x04json", b"\x26\x00\x01k\x00\x02vv", b"\x0b\xc8\x01"]
)


@given(_publishes, st.lists(_PROPERTIES, min_size=12, max_size=12))
def test_the_parser_skips_mqtt5_properties_as_paho_decodes_them(
    publishes: list[tuple[bytes, int, bytes, int]], properties: list[bytes]
) -> None:
    from paho.mqtt._packet import decode_publish
    from paho.mqtt.enums import MQTTProtocolVersion

    packets = [
        _publish(t, m, p, flags=f, props=props)
        for (t, m, p, f), props in zip(publishes, properties, strict=False)
    ]
    found = list(hailong.mqtt.qos1_publishes(b"".join(packets), 0, mqtt5=True))
    assert len(found) == len(packets)
    for (_end, topic, mid, payload), packet in zip(found, packets, strict=True):
        body = packet[len(packet) - _body_size(packet) :]
        paho = decode_publish(packet[0], body, MQTTProtocolVersion.MQTTv5)
        assert (topic, mid, payload) == (paho.topic, paho.mid, paho.payload)


def _body_size(packet: bytes) -> int:
    size, shift, i = 0, 0, 1
    while True:
        size |= (packet[i] & 0x7F) << shift
        if not packet[i] & 0x80:
            return size
        i, shift = i + 1, shift + 7


@given(_publishes, st.data())
def test_a_packet_cut_off_by_the_end_of_the_read_is_left_for_later(
    publishes: list[tuple[bytes, int, bytes, int]], data: st.DataObject
) -> None:
    packets = [_publish(t, m, p, flags=f) for t, m, p, f in publishes]
    whole = b"".join(packets)
    cut = data.draw(st.integers(0, len(whole)))
    found = list(hailong.mqtt.qos1_publishes(whole[:cut], 0))
    complete = sum(1 for end in itertools.accumulate(len(p) for p in packets) if end <= cut)
    assert len(found) == complete


@given(st.binary(max_size=300), st.integers(0, 10), st.booleans())
def test_garbage_never_crashes_the_parser_or_runs_past_the_data(
    data: bytes, start: int, mqtt5: bool
) -> None:
    """Also with MQTT 5 properties, which a stolen kiosk's publish may fill as it likes."""
    for end, topic, _mid, payload in hailong.mqtt.qos1_publishes(data, start, mqtt5=mqtt5):
        assert start < end <= len(data)
        assert topic
        assert len(topic) + len(payload) < end - start
        start = end


def test_an_empty_topic_and_an_overlong_length_are_left_to_paho() -> None:
    empty_topic = b"\x32\x04\x00\x00\x00\x01"
    assert list(hailong.mqtt.qos1_publishes(empty_topic, 0)) == []
    five_byte_length = b"\x32\xff\xff\xff\xff\x01" + b"\x00" * 10
    assert list(hailong.mqtt.qos1_publishes(five_byte_length, 0)) == []


def _connected(
    broker: Broker,
    user: str,
    take: hailong.mqtt.TakePublish | None = None,
    on_message: mqtt.CallbackOnMessage | None = None,
    *,
    clean_session: bool = True,
) -> Client:
    client = Client(
        CallbackAPIVersion.VERSION2, client_id=user, clean_session=clean_session, manual_ack=True
    )
    client.take_publish = take
    client.on_message = on_message
    log_in(client, broker.mqtt_settings(user))
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


def _subscribed(client: Client, *filters: str) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *_args: done.set()
    client.subscribe([(f, 1) for f in filters])
    assert done.wait(5)


@pytest.mark.timeout(60)
def test_taken_messages_bypass_on_message_and_their_pubacks_reach_the_broker(
    broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reads of 997 bytes: many messages straddle reads and go through paho, the rest are taken.
    monkeypatch.setattr(hailong.mqtt, "READ_CHUNK", 997)
    parsed: list[int] = []  # the packet ids taken straight off the read buffer
    parse = hailong.mqtt.qos1_publishes

    def counted(
        data: bytes, pos: int, *, mqtt5: bool = False
    ) -> Iterator[tuple[int, bytes, int, bytes]]:
        for packet in parse(data, pos, mqtt5=mqtt5):
            parsed.append(packet[2])
            yield packet

    monkeypatch.setattr(hailong.mqtt, "qos1_publishes", counted)
    kiosk = "kiosk-q1"
    ratings, status = topics.ratings(UNIT_CODE, kiosk), topics.status(UNIT_CODE, kiosk)
    sent = [(status if i % 100 == 0 else ratings, b"%05d" % i * (1 + i % 50)) for i in range(3000)]
    taken: list[tuple[str, bytes]] = []
    through_paho: list[tuple[str, bytes]] = []
    done = threading.Event()

    def received(message: tuple[str, bytes], into: list[tuple[str, bytes]]) -> None:
        into.append(message)
        if len(taken) + len(through_paho) == len(sent):
            done.set()

    def take(topic: str, payload: bytes, _mid: int) -> bool | None:
        if topic == status:
            return None  # paho's on_message gets the statuses
        received((topic, payload), taken)
        return True

    def on_message(client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        received((message.topic, bytes(message.payload)), through_paho)
        client.ack(message.mid, message.qos)

    hub = _connected(broker, "hub", take, on_message)
    _subscribed(hub, topics.RATINGS_SUBSCRIPTION, topics.STATUS_SUBSCRIPTION)
    sender = _connected(broker, kiosk)
    try:
        for topic, payload in sent:
            sender.publish(topic, payload, qos=1)
        # The broker keeps at most 20 unacknowledged messages in flight to the hub: all 3,000
        # arriving means the joined PUBACKs were understood.
        assert done.wait(40), f"{len(taken)} + {len(through_paho)} of {len(sent)}"
        assert through_paho == [m for m in sent if m[0] == status]
        assert taken == [m for m in sent if m[0] == ratings]  # in order, each once
        assert 0 < len(parsed) < len(taken)  # both ways in
    finally:
        for client in (sender, hub):
            client.loop_stop()
            client.disconnect()


@pytest.mark.timeout(60)
def test_a_message_taken_without_a_puback_comes_again_in_the_next_session(broker: Broker) -> None:
    kiosk = "kiosk-q1"
    topic = topics.ratings(UNIT_CODE, kiosk)
    first: list[bytes] = []
    again: list[bytes] = []
    all_first, all_again = threading.Event(), threading.Event()

    def hold(_topic: str, payload: bytes, _mid: int) -> bool:
        first.append(payload)
        if len(first) == 10:
            all_first.set()
        return False  # taken, not acknowledged: a hub that is stopping

    def keep(_topic: str, payload: bytes, _mid: int) -> bool:
        again.append(payload)
        if len(again) == 10:
            all_again.set()
        return True

    hub = _connected(broker, "hub", hold, clean_session=False)
    _subscribed(hub, topics.RATINGS_SUBSCRIPTION)
    sender = _connected(broker, kiosk)
    try:
        for i in range(10):
            sender.publish(topic, b"rating-%d" % i, qos=1).wait_for_publish(5)
        assert all_first.wait(10)
        hub.loop_stop()
        hub.disconnect()
        hub = _connected(broker, "hub", keep, clean_session=False)
        assert all_again.wait(10), f"{len(again)} of 10 delivered again"
        assert sorted(again) == sorted(first)
    finally:
        for client in (sender, hub):
            client.loop_stop()
            client.disconnect()


@pytest.mark.timeout(60)
def test_messages_acknowledged_later_in_one_packet_do_not_come_again(broker: Broker) -> None:
    """The hub takes ratings without a PUBACK and acknowledges a batch once it is committed
    (``ack_many``, from its worker thread): the broker must count every one acknowledged."""
    kiosk = "kiosk-q1"
    topic = topics.ratings(UNIT_CODE, kiosk)
    mids: list[int] = []
    again: list[bytes] = []
    all_taken = threading.Event()

    def hold(_topic: str, _payload: bytes, mid: int) -> bool:
        mids.append(mid)
        if len(mids) == 50:
            all_taken.set()
        return False

    def keep(_topic: str, payload: bytes, _mid: int) -> bool:
        again.append(payload)
        return True

    hub = _connected(broker, "hub", hold, clean_session=False)
    _subscribed(hub, topics.RATINGS_SUBSCRIPTION)
    sender = _connected(broker, kiosk)
    try:
        for i in range(50):
            sender.publish(topic, b"rating-%d" % i, qos=1).wait_for_publish(5)
        assert all_taken.wait(10)
        hub.ack_many(mids)
        hub.publish(topics.acks(UNIT_CODE, kiosk), b"{}", qos=1).wait_for_publish(5)  # after them
        hub.loop_stop()
        hub.disconnect()
        hub = _connected(broker, "hub", keep, clean_session=False)
        _subscribed(hub, topics.RATINGS_SUBSCRIPTION)
        sender.publish(topic, b"after", qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 10
        while not again and time.monotonic() < deadline:
            time.sleep(0.05)
        assert again == [b"after"]
    finally:
        for client in (sender, hub):
            client.loop_stop()
            client.disconnect()
