"""The uplink against a real Mosquitto, with a minimal hub peer that acknowledges what it gets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hailong.contract import topics
from hailong.contract.messages import (
    AckMessage,
    AckOutcome,
    RatedMessage,
    RatedReceipt,
    decode_rating,
)
from hailong.contract.scale import Stage
from hailong.settings import ReceiptKeys
from kiosk.outbox import Outbox
from kiosk.uplink import Uplink
from tests.conftest import UNIT_CODE, Broker
from tests.hailong.contract.test_messages import make_rating

pytestmark = pytest.mark.timeout(60)


class HubPeer:
    """Logged in as the hub: records ratings and, while ``acking`` is set, acknowledges them."""

    def __init__(self, broker: Broker) -> None:
        settings = broker.mqtt_settings("hub")
        self.received: list[str] = []
        self.acking = threading.Event()
        self.acking.set()
        subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-hub")
        self.client.username_pw_set(settings.username, settings.password())
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.RATINGS_SUBSCRIPTION, qos=1)
        assert subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        rating = decode_rating(message.payload)
        self.received.append(str(rating.id))
        if self.acking.is_set():
            ack = AckMessage(results=(AckOutcome(id=rating.id, seq=rating.seq, outcome="stored"),))
            self.client.publish(topics.acks(UNIT_CODE, rating.kiosk), ack.to_bytes(), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def _uplink(broker: Broker, outbox: Outbox, resend_after: float = 30) -> Uplink:
    return Uplink(
        broker.mqtt_settings("kiosk-q1"), UNIT_CODE, "kiosk-q1", outbox, resend_after=resend_after
    )


def test_acknowledged_rating_leaves_the_outbox(broker: Broker, outbox: Outbox) -> None:
    hub = HubPeer(broker)
    uplink = _uplink(broker, outbox)
    uplink.start()
    try:
        wait_for(lambda: uplink.connected)
        outbox.append(lambda seq: make_rating(seq=seq))
        uplink.notify_new()
        wait_for(lambda: outbox.depth() == 0)
        assert uplink.last_ack_at is not None
        assert len(hub.received) == 1
    finally:
        uplink.stop()
        hub.close()


def test_ratings_made_while_the_broker_is_down_are_delivered_later(
    broker: Broker, outbox: Outbox
) -> None:
    broker.process.stop()
    uplink = _uplink(broker, outbox)
    uplink.start()
    try:
        for _ in range(3):
            outbox.append(lambda seq: make_rating(seq=seq))
            uplink.notify_new()
        time.sleep(0.3)
        assert (uplink.connected, outbox.depth()) == (False, 3)
        broker.process.start()
        hub = HubPeer(broker)
        wait_for(lambda: outbox.depth() == 0, timeout=20)
        assert len(set(hub.received)) == 3
        hub.close()
    finally:
        uplink.stop()


def test_unacknowledged_rating_is_resent(broker: Broker, outbox: Outbox) -> None:
    hub = HubPeer(broker)
    hub.acking.clear()  # the hub "crashes" after receiving: no ack
    uplink = _uplink(broker, outbox, resend_after=0.5)
    uplink.start()
    try:
        wait_for(lambda: uplink.connected)
        rating = outbox.append(lambda seq: make_rating(seq=seq))
        uplink.notify_new()
        wait_for(lambda: len(hub.received) >= 1)
        assert outbox.depth() == 1  # a broker PUBACK is not a reason to forget it
        hub.acking.set()
        wait_for(lambda: outbox.depth() == 0)
        assert hub.received.count(str(rating.id)) >= 2
    finally:
        uplink.stop()
        hub.close()


def test_unit_config_arrives_and_is_cached(
    broker: Broker,
    outbox: Outbox,
    unit,
    receipt_keys: ReceiptKeys,  # type: ignore[no-untyped-def]
) -> None:
    hub = HubPeer(broker)
    hub.client.publish(
        topics.unit_config(UNIT_CODE), unit.to_message().to_bytes(), qos=1, retain=True
    ).wait_for_publish(5)
    arrived = threading.Event()
    uplink = _uplink(broker, outbox)
    uplink.on_config = lambda _config: arrived.set()
    uplink.start()
    try:
        assert arrived.wait(10)
        assert outbox.load_unit_config() == unit.to_message()
    finally:
        uplink.stop()
        hub.close()


def test_receipts_rated_at_another_kiosk_are_refused_here_too(
    broker: Broker, outbox: Outbox
) -> None:
    """The hub's "rated" notice reaches a kiosk that was offline when it was sent."""
    uplink = _uplink(broker, outbox)
    uplink.start()
    wait_for(lambda: uplink.connected)
    uplink.stop()  # the kiosk goes offline; its persistent session keeps its subscriptions
    hub = HubPeer(broker)
    notice = RatedMessage(
        receipts=(RatedReceipt(code="000.00.20.H41-261125-0042", stage=Stage.RECEPTION),)
    )
    hub.client.publish(topics.rated(UNIT_CODE), notice.to_bytes(), qos=1).wait_for_publish(5)
    hub.client.publish(topics.rated(UNIT_CODE), b"not json", qos=1).wait_for_publish(5)
    again = _uplink(broker, outbox)
    again.start()
    try:
        wait_for(lambda: outbox.has_rated("000.00.20.H41-261125-0042", Stage.RECEPTION))
        assert again.connected
    finally:
        again.stop()
        hub.close()
