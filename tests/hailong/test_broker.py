"""The generated Mosquitto configuration, tried against a real broker: users, passwords and ACLs."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
import pytest

from hailong.broker import acl_text, password_hash
from hailong.contract import topics
from hailong.provision import SecretsLayout, init_secrets
from hailong.settings import MqttSettings, Unit
from tests.conftest import UNIT_CODE, Broker


def _client(settings: MqttSettings, password: str | None = None) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=settings.username)
    client.username_pw_set(settings.username, password or settings.password())
    return client


def _connect_result(client: mqtt.Client, port: int) -> str:
    done = threading.Event()
    result: list[str] = []

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        result.append(str(reason))
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert done.wait(5)
    return result[0]


def test_password_hash_format() -> None:
    entry = password_hash("secret", salt=b"0123456789ab")
    assert entry.startswith("$7$101$")
    assert entry == password_hash("secret", salt=b"0123456789ab")


def test_acl_confines_each_kiosk(unit: Unit) -> None:
    text = acl_text(unit)
    assert f"topic write {topics.ratings(UNIT_CODE, 'kiosk-q1')}" in text
    assert "user hub\ntopic readwrite hailong/v1/#" in text


def test_init_secrets_is_idempotent(tmp_path, unit: Unit) -> None:  # type: ignore[no-untyped-def]
    layout = SecretsLayout(tmp_path)
    first = init_secrets(unit, layout)
    assert len(first) == 1 + 1 + 2 * len(unit.kiosks)
    before = layout.mqtt_password_file("hub").read_text()
    assert init_secrets(unit, layout) == []
    assert layout.mqtt_password_file("hub").read_text() == before
    assert (layout.mqtt_password_file("hub").stat().st_mode & 0o777) == 0o600


def test_wrong_password_and_anonymous_are_refused(broker: Broker) -> None:
    settings = broker.mqtt_settings("kiosk-q1")
    assert _connect_result(_client(settings, password="wrong"), broker.port) == "Not authorized"
    anonymous = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    assert _connect_result(anonymous, broker.port) == "Not authorized"


@pytest.mark.timeout(30)
def test_kiosk_cannot_publish_as_another_kiosk(broker: Broker) -> None:
    received: list[str] = []
    got_own = threading.Event()
    hub = _client(broker.mqtt_settings("hub"))

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        received.append(message.topic)
        if message.payload == b"own":
            got_own.set()

    subscribed = threading.Event()
    hub.on_message = on_message
    hub.on_subscribe = lambda *_args: subscribed.set()
    assert _connect_result(hub, broker.port) == "Success"
    hub.subscribe(topics.RATINGS_SUBSCRIPTION, qos=1)
    assert subscribed.wait(5)
    kiosk = _client(broker.mqtt_settings("kiosk-q1"))
    assert _connect_result(kiosk, broker.port) == "Success"
    # Publish the forged one first: delivery is in order, so once "own" arrives, "forged" never will.
    kiosk.publish(topics.ratings(UNIT_CODE, "kiosk-q2"), b"forged", qos=1).wait_for_publish(5)
    kiosk.publish(topics.ratings(UNIT_CODE, "kiosk-q1"), b"own", qos=1).wait_for_publish(5)
    assert got_own.wait(5)
    assert received == [topics.ratings(UNIT_CODE, "kiosk-q1")]
    for client in (hub, kiosk):
        client.loop_stop()
        client.disconnect()
