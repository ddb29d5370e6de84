"""The hub against a real Mosquitto: ack only after commit, idempotent, never stopped by bad input."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import (
    AckMessage,
    RatingMessage,
    UnitConfigMessage,
    decode_ack,
    decode_unit_config,
)
from hailong.settings import HubSettings, Unit
from hub.service import HubService
from hub.store.models import DeadLetterRow, RatingRow
from tests.conftest import UNIT_CODE, Broker
from tests.hailong.contract.test_messages import make_rating

pytestmark = pytest.mark.timeout(60)


class KioskPeer:
    """A bare MQTT client logged in as kiosk-q1: publishes ratings, collects what the hub says."""

    def __init__(self, broker: Broker) -> None:
        settings = broker.mqtt_settings("kiosk-q1")
        self.acks: queue.Queue[AckMessage] = queue.Queue()
        self.configs: queue.Queue[UnitConfigMessage] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="kiosk-q1")
        self.client.username_pw_set(settings.username, settings.password())
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(
            [(topics.acks(UNIT_CODE, "kiosk-q1"), 1), (topics.unit_config(UNIT_CODE), 1)]
        )
        assert subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic.endswith("/acks"):
            self.acks.put(decode_ack(message.payload))
        else:
            self.configs.put(decode_unit_config(message.payload))

    def publish(self, payload: bytes) -> None:
        info = self.client.publish(topics.ratings(UNIT_CODE, "kiosk-q1"), payload, qos=1)
        info.wait_for_publish(5)

    def next_ack(self, timeout: float = 10) -> AckMessage:
        return self.acks.get(timeout=timeout)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def hub(
    hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> Iterator[HubService]:
    with HubService(hub_settings, unit, hub_sessions) as service:
        assert service.ready.wait(10), "the hub did not subscribe"
        yield service


@pytest.fixture
def kiosk(broker: Broker, hub: HubService) -> Iterator[KioskPeer]:
    peer = KioskPeer(broker)
    yield peer
    peer.close()


def _ratings(hub_sessions: sessionmaker[Session]) -> int:
    with hub_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RatingRow)) or 0)


def _dead_letters(hub_sessions: sessionmaker[Session]) -> list[str]:
    with hub_sessions() as session:
        return list(session.scalars(select(DeadLetterRow.reason)))


def test_rating_is_stored_then_acknowledged_once(
    kiosk: KioskPeer, hub_sessions: sessionmaker[Session]
) -> None:
    rating = make_rating()
    kiosk.publish(rating.to_bytes())
    ack = kiosk.next_ack()
    assert [(r.id, r.outcome) for r in ack.results] == [(rating.id, "stored")]
    assert _ratings(hub_sessions) == 1
    kiosk.publish(rating.to_bytes())
    again = kiosk.next_ack()
    assert [(r.id, r.outcome) for r in again.results] == [(rating.id, "duplicate")]
    assert _ratings(hub_sessions) == 1


def test_retained_unit_config_reaches_the_kiosk(kiosk: KioskPeer, unit: Unit) -> None:
    config = kiosk.configs.get(timeout=10)
    assert config == unit.to_message()


def test_bad_payloads_are_dead_lettered_and_ingest_goes_on(
    kiosk: KioskPeer, hub_sessions: sessionmaker[Session], hub: HubService
) -> None:
    kiosk.publish(b"not json at all")
    kiosk.publish(b"{" + b" " * 40_000 + b"}")
    wrong_version = json.loads(make_rating().to_bytes())
    wrong_version["v"] = 2
    kiosk.publish(json.dumps(wrong_version).encode())
    rejected = kiosk.next_ack()
    assert [r.outcome for r in rejected.results] == ["rejected"]
    assert rejected.results[0].reason == "unsupported contract version 2"
    good = make_rating()
    kiosk.publish(good.to_bytes())
    deadline = time.monotonic() + 10
    while _ratings(hub_sessions) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ratings(hub_sessions) == 1
    reasons = _dead_letters(hub_sessions)
    assert len(reasons) == 3
    assert any("not UTF-8 JSON" in r for r in reasons)
    assert any("exceeds" in r for r in reasons)
    assert hub.counters.dead_letters == 3


def test_no_ack_before_commit_and_delivery_after_the_database_returns(
    kiosk: KioskPeer, hub_sessions: sessionmaker[Session], hub: HubService
) -> None:
    """The database refuses commits for a while: nothing is acknowledged; then it is stored once."""
    failing = threading.Event()
    failing.set()

    def refuse_commit(_session: Session) -> None:
        if failing.is_set():
            raise OperationalError("COMMIT", {}, Exception("database is unavailable"))

    event.listen(hub_sessions, "before_commit", refuse_commit)
    rating: RatingMessage = make_rating()
    kiosk.publish(rating.to_bytes())
    deadline = time.monotonic() + 10
    while hub.counters.commit_failures < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.counters.commit_failures >= 2
    assert kiosk.acks.empty()
    assert _ratings(hub_sessions) == 0
    failing.clear()
    ack = kiosk.next_ack()
    assert [(r.id, r.outcome) for r in ack.results] == [(rating.id, "stored")]
    assert _ratings(hub_sessions) == 1
