"""What a kiosk's MQTT login can reach, tried on a real broker with the generated ACL: it reads
only its own acks and its own unit's notices, never another kiosk's acks, another unit's topics or
other kiosks' ratings; oversized packets are refused by the broker and oversized payloads
dead-lettered by the hub, which goes on ingesting."""

from __future__ import annotations

import queue
import threading

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.mqtt import Client, log_in
from hailong.settings import HubSettings, Unit
from hub.service import HubService
from hub.store.models import DeadLetterRow, RatingRow
from tests.conftest import UNIT_CODE, Broker
from tests.hailong.contract.test_messages import make_rating

OTHER_UNIT = "000.00.20.H42"


def _connected(broker: Broker, user: str) -> tuple[Client, queue.Queue[tuple[str, bytes]]]:
    inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
    ready = threading.Event()
    # A kiosk's user may connect only under its own id (bound at the broker); the hub's may not.
    client_id = "hub-probe" if user == "hub" else user
    client = Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    log_in(client, broker.mqtt_settings(user))
    client.on_message = lambda _c, _u, m: inbox.put((m.topic, bytes(m.payload)))
    client.on_connect = lambda *_args: ready.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert ready.wait(5)
    return client, inbox


def _subscribe(client: Client, filters: list[str]) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *_args: done.set()
    client.subscribe([(f, 1) for f in filters])
    assert done.wait(5)


@pytest.mark.timeout(30)
def test_a_kiosk_reads_only_its_own_acks_and_its_units_notices(broker: Broker) -> None:
    spy, inbox = _connected(broker, "kiosk-q1")
    _subscribe(
        spy,
        [
            "#",
            topics.acks(UNIT_CODE, "kiosk-q2"),
            topics.ratings(UNIT_CODE, "kiosk-q2"),
            topics.unit_config(OTHER_UNIT),
            topics.acks(UNIT_CODE, "kiosk-q1"),
            topics.rated(UNIT_CODE),
        ],
    )
    hub, _ = _connected(broker, "hub")
    other_kiosk, _ = _connected(broker, "kiosk-q2")
    try:
        forbidden = [
            (hub, topics.acks(UNIT_CODE, "kiosk-q2")),
            (hub, topics.unit_config(OTHER_UNIT)),
            (hub, topics.rated(OTHER_UNIT)),
            (other_kiosk, topics.ratings(UNIT_CODE, "kiosk-q2")),
            (other_kiosk, topics.status(UNIT_CODE, "kiosk-q2")),
        ]
        for sender, topic in forbidden:
            sender.publish(topic, b"secret", qos=1).wait_for_publish(5)
        # Allowed last: delivery is in order, so once both arrive nothing forbidden can follow.
        hub.publish(topics.acks(UNIT_CODE, "kiosk-q1"), b"own ack", qos=1).wait_for_publish(5)
        hub.publish(topics.rated(UNIT_CODE), b"unit notice", qos=1).wait_for_publish(5)
        got = [inbox.get(timeout=5), inbox.get(timeout=5)]
        assert sorted(payload for _topic, payload in got) == [b"own ack", b"unit notice"]
        assert inbox.empty()
    finally:
        for client in (spy, hub, other_kiosk):
            client.loop_stop()
            client.disconnect()


@pytest.mark.timeout(40)
def test_oversized_payloads_are_refused_or_dead_lettered_and_ingest_goes_on(
    broker: Broker, hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> None:
    with HubService(hub_settings, unit, hub_sessions) as service:
        assert service.ready.wait(10)
        kiosk, _ = _connected(broker, "kiosk-q1")
        _subscribe(kiosk, [topics.acks(UNIT_CODE, "kiosk-q1")])
        ratings_topic = topics.ratings(UNIT_CODE, "kiosk-q1")
        # Over the hub's 16 KiB contract limit, under the broker's packet limit: dead-lettered.
        kiosk.publish(ratings_topic, b"{" + b" " * 20_000 + b"}", qos=1).wait_for_publish(5)
        # Over the broker's max_packet_size: the broker drops the connection instead.
        dropped = threading.Event()
        kiosk.on_disconnect = lambda *_args: dropped.set()
        kiosk.publish(ratings_topic, b"x" * 200_000, qos=1)
        assert dropped.wait(10)
        kiosk.loop_stop()

        honest, acks = _connected(broker, "kiosk-q1")
        _subscribe(honest, [topics.acks(UNIT_CODE, "kiosk-q1")])
        rating = make_rating()
        honest.publish(ratings_topic, rating.to_bytes(), qos=1).wait_for_publish(5)
        _topic, ack = acks.get(timeout=10)
        assert str(rating.id).encode() in ack
        honest.loop_stop()
        honest.disconnect()
    with hub_sessions() as session:
        reasons = list(session.scalars(select(DeadLetterRow.reason)))
        stored = list(session.scalars(select(RatingRow.id)))
    assert [reason.split(":")[-1].strip() for reason in reasons] == [
        "payload of 20002 bytes exceeds 16384"
    ]
    assert stored == [str(rating.id)]
