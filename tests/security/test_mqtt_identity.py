"""Client ids bound at the broker, tried with a stolen kiosk's password (kiosk-q2's) against a real
Mosquitto and a real hub: no session but its own can be taken, the hub keeps ingesting and
acknowledging the honest kiosk's ratings meanwhile, and nothing the thief publishes on the hub's
topics reaches a kiosk (finding 3 of issue 15)."""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import ReceiptRef, decode_ack, decode_unit_config
from hailong.settings import HubSettings, Unit
from hub.service import HubService
from hub.store.models import RatingRow
from tests.conftest import UNIT_CODE, Broker
from tests.hailong.contract.test_messages import make_rating

THIEF = "kiosk-q2"  # the stolen tablet's MQTT user
HONEST = "kiosk-q1"  # make_rating's kiosk
HONEST_TOPICS = [
    topics.acks(UNIT_CODE, HONEST),
    topics.unit_config(UNIT_CODE),
    topics.rated(UNIT_CODE),
    topics.returned(UNIT_CODE),
]


def _client(broker: Broker, user: str, client_id: str, *, clean: bool = True) -> mqtt.Client:
    settings = broker.mqtt_settings(user)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    client.username_pw_set(user, settings.password())
    return client


def _connack(client: mqtt.Client, broker: Broker) -> str:
    """Connect once (no retry) and return the broker's CONNACK reason."""
    done = threading.Event()
    result: list[str] = []

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        result.append(str(reason))
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert done.wait(5)
    client.loop_stop()
    client.disconnect()
    return result[0]


class Kiosk:
    """An honest kiosk's connection under its own id: a persistent session subscribed to its
    topics, collecting everything delivered to it."""

    def __init__(self, broker: Broker, seq: int = 0) -> None:
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.seq = seq
        subscribed = threading.Event()
        self.client = _client(broker, HONEST, HONEST, clean=False)
        self.client.on_message = lambda _c, _u, m: self.inbox.put((m.topic, bytes(m.payload)))
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe([(topic, 1) for topic in HONEST_TOPICS])
        assert subscribed.wait(5)

    def rate_and_wait_for_ack(self) -> str:
        """Publish a valid rating and wait for the hub's ack of it; everything before it that
        arrived is left in ``inbox``, the ack's own id returned."""
        self.seq += 1
        code = f"{UNIT_CODE}-261125-{self.seq:04d}"
        rating = make_rating(seq=self.seq, receipt=ReceiptRef(code=code, verified=True))
        self.client.publish(topics.ratings(UNIT_CODE, HONEST), rating.to_bytes(), qos=1)
        kept: list[tuple[str, bytes]] = []
        while True:
            topic, payload = self.inbox.get(timeout=15)
            if topic == topics.acks(UNIT_CODE, HONEST):
                outcomes = {str(r.id): r.outcome for r in decode_ack(payload).results}
                if str(rating.id) in outcomes:
                    assert outcomes[str(rating.id)] == "stored"
                    for item in kept:  # for the caller
                        self.inbox.put(item)
                    return str(rating.id)
            kept.append((topic, payload))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _stored(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(RatingRow.id)))


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("stolen_id", "hub_id"),
    [
        ("hailong-hub", "hailong-hub"),
        (f"hailong-hub-{UNIT_CODE}", f"hailong-hub-{UNIT_CODE}"),
        (HONEST, "hailong-hub"),
        # A stable test id: parallel workers must collect the same tests.
        pytest.param(f"random-{uuid.uuid4().hex[:12]}", "hailong-hub", id="random-hailong-hub"),
        ("", "hailong-hub"),  # no id: the broker would assign one
    ],
)
def test_a_kiosk_password_takes_no_session_but_its_own(
    broker: Broker,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    stolen_id: str,
    hub_id: str,
) -> None:
    caplog.set_level(logging.INFO, logger="hub.service")
    with HubService(hub_settings, unit, hub_sessions, client_id=hub_id) as service:
        assert service.ready.wait(10)
        kiosk = Kiosk(broker)
        try:
            before = kiosk.rate_and_wait_for_ack()
            for _attempt in range(3):  # the old takeover knocked the hub off every ~2 s
                thief = _client(broker, THIEF, stolen_id)
                assert _connack(thief, broker) == "Not authorized"
            during = kiosk.rate_and_wait_for_ack()
        finally:
            kiosk.close()
        assert service.ready.is_set()
    assert sorted(_stored(hub_sessions)) == sorted([before, during])
    connected = [r for r in caplog.records if r.getMessage().startswith(f"{hub_id} connected")]
    assert len(connected) == 1  # the hub never lost its session


def test_the_stolen_password_still_works_under_its_own_id_only(broker: Broker) -> None:
    assert _connack(_client(broker, THIEF, THIEF), broker) == "Success"
    assert _connack(_client(broker, THIEF, THIEF.upper()), broker) == "Not authorized"
    assert _connack(_client(broker, THIEF, f"{THIEF} "), broker) == "Not authorized"
    # The hub's user is not bound: its shared workers each use an id of their own.
    assert _connack(_client(broker, "hub", f"hailong-hub-{uuid.uuid4().hex}"), broker) == "Success"


@pytest.mark.timeout(60)
def test_nothing_a_kiosk_publishes_on_the_hubs_topics_reaches_another_kiosk(
    broker: Broker,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    forged = json.dumps({"forged": True}).encode()
    with HubService(hub_settings, unit, hub_sessions) as service:
        assert service.ready.wait(10)
        kiosk = Kiosk(broker)
        thief = _client(broker, THIEF, THIEF)
        assert _connack(thief, broker) == "Success"
        thief.connect("127.0.0.1", broker.port)
        thief.loop_start()
        try:
            for topic in [*HONEST_TOPICS, topics.ratings(UNIT_CODE, HONEST)]:
                for retain in (False, True):
                    info = thief.publish(topic, forged, qos=1, retain=retain)
                    info.wait_for_publish(5)  # the broker has decided on it
            rated = kiosk.rate_and_wait_for_ack()
        finally:
            thief.loop_stop()
            thief.disconnect()
        delivered = []
        while not kiosk.inbox.empty():
            delivered.append(kiosk.inbox.get_nowait())
        kiosk.close()
        # A newcomer sees the hub's retained configuration, not a forged one.
        late = Kiosk(broker)
        try:
            topic, payload = late.inbox.get(timeout=5)
        finally:
            late.close()
    assert all(payload != forged for _topic, payload in delivered)
    assert topic == topics.unit_config(UNIT_CODE)
    assert decode_unit_config(payload).unit == UNIT_CODE
    assert _stored(hub_sessions) == [rated]  # the forged "rating" of kiosk-q1 never reached the hub


@pytest.mark.timeout(30)
def test_a_kiosk_cannot_unbind_itself_through_the_plugins_control_topic(
    broker: Broker, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bindings = broker.process.files.conf.parent / "client-ids.json"
    before = bindings.read_text()
    thief = _client(broker, THIEF, THIEF)
    responses: queue.Queue[bytes] = queue.Queue()
    subscribed = threading.Event()
    thief.on_message = lambda _c, _u, m: responses.put(bytes(m.payload))
    thief.on_subscribe = lambda *_args: subscribed.set()
    thief.connect("127.0.0.1", broker.port)
    thief.loop_start()
    try:
        thief.subscribe("$CONTROL/dynamic-security/v1/response", qos=1)
        assert subscribed.wait(5)
        commands = [
            {"command": "setClientId", "username": THIEF, "clientid": "hailong-hub"},
            {"command": "modifyClient", "username": THIEF, "clientid": ""},
            {"command": "deleteClient", "username": THIEF},
        ]
        payload = json.dumps({"commands": commands}).encode()
        thief.publish("$CONTROL/dynamic-security/v1", payload, qos=1).wait_for_publish(5)
        assert _connack(_client(broker, THIEF, "hailong-hub"), broker) == "Not authorized"
        assert responses.empty()
    finally:
        thief.loop_stop()
        thief.disconnect()
    assert bindings.read_text() == before
