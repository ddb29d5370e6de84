"""Only the hub offers a rating: tried on a real Mosquitto with the generated ACL. A kiosk reads its
own offer topic only and can publish on none (not another kiosk's, not its own); the broker drops
an offer whose MQTT 5 expiry passed while the kiosk was offline."""

from __future__ import annotations

import queue
import threading

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hailong.broker import acl_text, kiosk_reads
from hailong.contract import topics
from hailong.mqtt import log_in
from hailong.settings import Unit
from tests.conftest import UNIT_CODE, Broker

Inbox = queue.Queue[tuple[str, bytes]]


def _client(broker: Broker, user: str, *, persistent: bool = False) -> tuple[mqtt.Client, Inbox]:
    inbox: Inbox = queue.Queue()
    ready = threading.Event()
    client_id = "hub-probe" if user == "hub" else user
    if user == "hub":
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    else:  # as kiosk.uplink connects: MQTT 3.1.1, a persistent session when asked
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
        )
    log_in(client, broker.mqtt_settings(user))
    client.on_message = lambda _c, _u, m: inbox.put((m.topic, bytes(m.payload)))
    client.on_connect = lambda *_args: ready.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert ready.wait(5)
    return client, inbox


def _subscribe(client: mqtt.Client, topic: str) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *_args: done.set()
    client.subscribe(topic, qos=1)
    assert done.wait(5)


def _stop(*clients: mqtt.Client) -> None:
    for client in clients:
        client.loop_stop()
        client.disconnect()


def test_the_acl_gives_each_kiosk_read_on_its_own_offers_and_write_on_none(unit: Unit) -> None:
    text = acl_text(unit)
    for kiosk in unit.kiosks:
        own = topics.offers(UNIT_CODE, kiosk.id)
        assert own in kiosk_reads(unit)[kiosk.id]
        block = text.split(f"user {kiosk.id}\n", 1)[1].split("\n\n", 1)[0]
        assert f"topic read {own}" in block.splitlines()
        assert not [line for line in block.splitlines() if "offers" in line and "write" in line]


@pytest.mark.timeout(30)
def test_a_kiosk_can_neither_offer_to_another_kiosk_nor_to_itself(broker: Broker) -> None:
    target, inbox = _client(broker, "kiosk-q1")
    _subscribe(target, topics.offers(UNIT_CODE, "kiosk-q1"))
    spy, spied = _client(broker, "kiosk-q2")
    _subscribe(spy, topics.offers(UNIT_CODE, "kiosk-q1"))  # another kiosk's offers: not granted
    hub, _ = _client(broker, "hub")
    try:
        topic = topics.offers(UNIT_CODE, "kiosk-q1")
        spy.publish(topic, b"forged by kiosk-q2", qos=1).wait_for_publish(5)
        target.publish(topic, b"forged by kiosk-q1 itself", qos=1).wait_for_publish(5)
        hub.publish(topic, b"from the hub", qos=1).wait_for_publish(5)  # last: in order
        assert inbox.get(timeout=5) == (topic, b"from the hub")
        assert inbox.empty()
        assert spied.empty()
    finally:
        _stop(target, spy, hub)


@pytest.mark.timeout(30)
def test_an_offer_that_expires_while_its_kiosk_is_offline_is_never_delivered(
    broker: Broker,
) -> None:
    topic = topics.offers(UNIT_CODE, "kiosk-q1")
    kiosk, _ = _client(broker, "kiosk-q1", persistent=True)
    _subscribe(kiosk, topic)
    _stop(kiosk)  # offline: its session keeps QoS 1 messages for it
    hub, _ = _client(broker, "hub")
    try:
        expiring = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        expiring.MessageExpiryInterval = 1
        hub.publish(topic, b"stale", qos=1, properties=expiring).wait_for_publish(5)
        lasting = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        lasting.MessageExpiryInterval = 60
        hub.publish(topic, b"standing", qos=1, properties=lasting).wait_for_publish(5)
        threading.Event().wait(2.2)  # the first offer's life ends meanwhile
        back, inbox = _client(broker, "kiosk-q1", persistent=True)
        try:
            assert inbox.get(timeout=5) == (topic, b"standing")
            assert inbox.empty()
        finally:
            _stop(back)
    finally:
        _stop(hub)
