"""A unit's site broker bridged to a central broker, with two real Mosquitto processes on loopback.

The site broker is the one ``hailong broker`` writes (the unit's kiosk users and ACLs) plus the
bridge section from :mod:`hailong.broker_bridge`; the central broker is the one
:func:`~hailong.broker_bridge.write_central_broker_files` writes (the hub and one bridge user per
unit). Proven here: ratings go out and acks and the retained unit configuration come back; the
bridge's user cannot publish outside its unit at the centre; ratings published while the central
broker is down (and the site broker restarted meanwhile) arrive once it is back; a real hub (two
shared workers) and a real kiosk uplink work through the bridge, also over TLS.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hailong import broker as broker_mod
from hailong import broker_bridge as bridge_mod
from hailong.contract import topics
from hailong.contract.messages import (
    AckMessage,
    AckOutcome,
    ReceiptRef,
    decode_ack,
    decode_rating,
    decode_unit_config,
)
from hailong.provision import SecretsLayout
from hailong.settings import (
    BrokerSettings,
    HubSection,
    HubSettings,
    MqttSettings,
    ReceiptKeys,
    Unit,
)
from hub.service import HubService
from hub.store.db import make_engine, session_factory
from hub.store.models import RatingRow
from kiosk.outbox import Outbox
from kiosk.uplink import Uplink
from tests.conftest import REPO, UNIT_CODE
from tests.hailong.contract.test_messages import make_rating
from tests.security.test_mqtt_tls import make_ca, make_server_cert

pytestmark = pytest.mark.timeout(60)

OTHER_UNIT = "000.00.21.H41"  # a second unit bridged to the same central broker
WAIT = 15.0  # seconds: an upper bound for any one condition, never a fixed sleep
T = TypeVar("T")


@dataclass
class Message:
    topic: str
    payload: bytes
    retain: bool


class Peer:
    """A paho client that keeps every message it receives, in order, for waiting on conditions."""

    def __init__(
        self,
        port: int,
        layout: SecretsLayout,
        user: str,
        client_id: str,
        *,
        persistent: bool = False,
        ca: Path | None = None,
    ) -> None:
        self.seen: list[Message] = []
        self._arrived = threading.Condition()
        self._subscribed = threading.Event()
        self._connected = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
        )
        self.client.username_pw_set(user, layout.mqtt_password_file(user).read_text().strip())
        if ca is not None:
            self.client.tls_set(ca_certs=str(ca))
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = lambda *_: self._connected.set()
        self.client.on_disconnect = lambda *_: self._connected.clear()
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        assert self._connected.wait(WAIT), f"{user} could not connect to port {port}"

    def subscribe(self, *filters: str) -> None:
        self._subscribed.clear()
        self.client.subscribe([(f, 1) for f in filters])
        assert self._subscribed.wait(WAIT), f"no SUBACK for {filters}"

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish at QoS 1 and wait for this broker's PUBACK (not for any further delivery)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(WAIT)
        assert info.is_published(), f"no PUBACK for {topic}"

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        with self._arrived:
            self.seen.append(Message(message.topic, bytes(message.payload), bool(message.retain)))
            self._arrived.notify_all()

    def wait_for(self, check: Callable[[list[Message]], T | None], what: str) -> T:
        """Wait (at most ``WAIT`` seconds) until ``check`` of everything received is not None."""
        with self._arrived:
            result = self._arrived.wait_for(lambda: check(list(self.seen)), timeout=WAIT)
        if result is None or result is False:
            raise AssertionError(f"timed out waiting for {what}")
        return result

    def expect(self, wanted: Callable[[Message], bool], what: str) -> Message:
        """The first message received that matches ``wanted`` (waiting for it if need be)."""
        return self.wait_for(lambda seen: next((m for m in seen if wanted(m)), None), what)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Bridged:
    """A central broker and the example unit's site broker bridged to it."""

    layout: SecretsLayout
    central: broker_mod.MosquittoProcess
    site: broker_mod.MosquittoProcess
    ca: Path | None = None

    def peer(self, where: str, user: str, client_id: str, *, persistent: bool = False) -> Peer:
        port = self.central.port if where == "central" else self.site.port
        ca = self.ca if where == "central" else None
        return Peer(port, self.layout, user, client_id, persistent=persistent, ca=ca)

    def hub_mqtt(self) -> MqttSettings:
        return MqttSettings(
            port=self.central.port,
            username="hub",
            password_file=self.layout.mqtt_password_file("hub"),
            keepalive=5,
            ca_file=self.ca,
        )

    def kiosk_mqtt(self, kiosk: str) -> MqttSettings:
        return MqttSettings(
            port=self.site.port,
            username=kiosk,
            password_file=self.layout.mqtt_password_file(kiosk),
            keepalive=5,
        )


def start_bridged(
    root: Path, unit: Unit, layout: SecretsLayout, *, tls: bool = False
) -> Iterator[Bridged]:
    bridge_mod.ensure_central_secrets(layout, [UNIT_CODE, OTHER_UNIT])
    central_port, site_port = broker_mod.free_port(), broker_mod.free_port()
    listen, ca = None, None
    if tls:
        ca_key, ca = make_ca(root, "province-ca")
        key, cert = make_server_cert(root, ca_key, ca)
        listen = BrokerSettings(bind="127.0.0.1", certfile=cert, keyfile=key)
    central_files = bridge_mod.write_central_broker_files(
        [UNIT_CODE, OTHER_UNIT], layout, root / "central", central_port, listen
    )
    site_files = broker_mod.write_broker_files(unit, layout, root / "site", site_port)
    password_file = layout.mqtt_password_file(bridge_mod.bridge_user(UNIT_CODE))
    settings = bridge_mod.BridgeSettings(
        unit=UNIT_CODE,
        central_host="127.0.0.1",
        central_port=central_port,
        password_file=password_file,
        ca_file=ca,
        keepalive=5,
        restart_base=1,  # reconnect within a second of the central broker coming back
        restart_cap=1,
    )
    bridge_mod.attach_bridge(site_files, settings, password_file.read_text().strip())
    central = broker_mod.MosquittoProcess(central_files, central_port)
    site = broker_mod.MosquittoProcess(site_files, site_port)
    with central, site:
        yield Bridged(layout=layout, central=central, site=site, ca=ca)


@pytest.fixture
def bridged(tmp_path: Path, unit: Unit, secrets_layout: SecretsLayout) -> Iterator[Bridged]:
    yield from start_bridged(tmp_path, unit, secrets_layout)


@pytest.fixture
def bridged_tls(tmp_path: Path, unit: Unit, secrets_layout: SecretsLayout) -> Iterator[Bridged]:
    yield from start_bridged(tmp_path, unit, secrets_layout, tls=True)


def rating_bytes(seq: int, kiosk: str = "kiosk-q1") -> bytes:
    receipt = ReceiptRef(code=f"{UNIT_CODE}-261125-{seq:04d}", verified=True)
    return make_rating(id=uuid.uuid4(), seq=seq, kiosk=kiosk, receipt=receipt).to_bytes()


def test_ratings_go_out_and_acks_and_the_unit_config_come_back(
    bridged: Bridged, unit: Unit
) -> None:
    hub = bridged.peer("central", "hub", "test-hub")
    kiosk = bridged.peer("site", "kiosk-q1", "kiosk-q1")
    try:
        hub.subscribe(topics.RATINGS_SUBSCRIPTION, "hailong/bridge/#")
        kiosk.subscribe(topics.acks(UNIT_CODE, "kiosk-q1"), topics.unit_config(UNIT_CODE))

        payload = rating_bytes(1)
        kiosk.publish(topics.ratings(UNIT_CODE, "kiosk-q1"), payload)
        out = hub.expect(lambda m: m.topic.endswith("/ratings"), "the rating at the centre")
        assert out.topic == topics.ratings(UNIT_CODE, "kiosk-q1")
        assert decode_rating(out.payload) == decode_rating(payload)
        # The bridge told the centre it is up (retained, with a last will of "0").
        state = bridge_mod.notification_topic(UNIT_CODE)
        assert hub.expect(lambda m: m.topic == state, "the bridge state").payload == b"1"

        rating = decode_rating(payload)
        ack = AckMessage(results=(AckOutcome(id=rating.id, seq=1, outcome="stored"),))
        hub.publish(topics.acks(UNIT_CODE, "kiosk-q1"), ack.to_bytes())
        back = kiosk.expect(lambda m: m.topic.endswith("/acks"), "the ack at the site")
        assert decode_ack(back.payload) == ack

        config = unit.to_message().to_bytes()
        hub.publish(topics.unit_config(UNIT_CODE), config, retain=True)
        kiosk.expect(lambda m: m.topic.endswith("/config"), "the unit config at the site")
    finally:
        hub.close()
        kiosk.close()

    # The WAN goes down; a kiosk that starts now still gets its unit's configuration, because
    # the bridge kept the retain flag (try_private) and the site broker retained it.
    bridged.central.stop()
    late = bridged.peer("site", "kiosk-q2", "kiosk-q2")
    try:
        late.subscribe(topics.unit_config(UNIT_CODE))
        retained = late.expect(lambda m: m.topic.endswith("/config"), "the retained config")
        assert retained.retain
        assert decode_unit_config(retained.payload) == unit.to_message()
    finally:
        late.close()


def test_the_bridge_user_cannot_leave_its_unit_at_the_centre(bridged: Bridged) -> None:
    watcher = bridged.peer("central", "hub", "test-hub")
    # The bridge's own credentials, used directly (as a stolen site box could).
    intruder = bridged.peer("central", bridge_mod.bridge_user(UNIT_CODE), "intruder")
    try:
        watcher.subscribe(f"{topics.PREFIX}/#")
        intruder.subscribe(
            topics.acks(OTHER_UNIT, "kiosk-x"), f"{topics.PREFIX}/{UNIT_CODE}/+/acks"
        )
        forbidden = [
            topics.ratings(OTHER_UNIT, "kiosk-x"),  # another unit's ratings
            topics.status(OTHER_UNIT, "kiosk-x"),
            topics.unit_config(OTHER_UNIT),
            topics.acks(UNIT_CODE, "kiosk-q1"),  # acks come from the hub only
            topics.unit_config(UNIT_CODE),  # so does the unit's configuration
            topics.ratings(UNIT_CODE, "kiosk-q1") + "/extra",
        ]
        for topic in forbidden:
            intruder.publish(topic, b"forged")
        allowed = topics.ratings(UNIT_CODE, "kiosk-q1")
        intruder.publish(allowed, b"own unit")
        # One connection, one subscriber: the centre delivers in order, so once the allowed
        # message is here every forbidden one would have arrived before it.
        first = watcher.expect(lambda m: True, "the first message the hub sees")
        assert (first.topic, first.payload) == (allowed, b"own unit")

        # Reading: the hub acks a kiosk of each unit; the bridge user gets only its own unit's.
        watcher.publish(topics.acks(OTHER_UNIT, "kiosk-x"), b"other unit's ack")
        watcher.publish(topics.acks(UNIT_CODE, "kiosk-q1"), b"own ack")
        got = intruder.expect(lambda m: True, "the first ack the bridge user sees")
        assert (got.topic, got.payload) == (topics.acks(UNIT_CODE, "kiosk-q1"), b"own ack")
    finally:
        watcher.close()
        intruder.close()


def test_ratings_published_while_the_central_broker_is_down_arrive_after_it(
    bridged: Bridged,
) -> None:
    hub = bridged.peer("central", "hub", "test-hub", persistent=True)
    kiosk = bridged.peer("site", "kiosk-q1", "kiosk-q1")
    try:
        hub.subscribe(topics.RATINGS_SUBSCRIPTION)
        kiosk.publish(topics.ratings(UNIT_CODE, "kiosk-q1"), rating_bytes(1))
        hub.expect(lambda m: m.topic.endswith("/ratings"), "a rating before the outage")

        bridged.central.stop()  # the WAN (or the province's data centre) is down
        sent: set[uuid.UUID] = set()
        for seq in range(2, 52):
            payload = rating_bytes(seq)
            sent.add(decode_rating(payload).id)
            kiosk.publish(topics.ratings(UNIT_CODE, "kiosk-q1"), payload)  # the site PUBACKs
        kiosk.close()
        # A power cut at the commune too: the bridge's queue is on disk (persistence).
        bridged.site.stop()
        bridged.site.start()

        bridged.central.start()

        def all_arrived(seen: list[Message]) -> bool | None:
            ids = {decode_rating(m.payload).id for m in seen if m.topic.endswith("/ratings")}
            return sent <= ids or None  # QoS 1 may repeat one; the hub is idempotent on the id

        assert hub.wait_for(all_arrived, "the 50 ratings published during the outage")
    finally:
        hub.close()


def _stored(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RatingRow)) or 0)


def _hub_through_the_bridge(
    bridged: Bridged, unit: Unit, receipt_keys: ReceiptKeys, database_url: str, ratings: int
) -> None:
    """Two hub workers sharing ``$share/hub/...`` at the centre, a kiosk uplink at the site: every
    rating is committed once and acknowledged back through the bridge (the outbox empties)."""
    settings = HubSettings(
        hub=HubSection(
            unit_file=REPO / "config" / "unit.toml",
            database_url=database_url,
            public_base_url="https://hailong.example.gov.vn",
            workers_group="hub",
        ),
        mqtt=bridged.hub_mqtt(),
        receipts=receipt_keys,
    )
    sessions = session_factory(make_engine(database_url))
    outbox = Outbox(bridged.site.files.conf.parent.parent / "outbox.db")
    configs: queue.Queue[object] = queue.Queue()
    uplink = Uplink(
        bridged.kiosk_mqtt("kiosk-q1"),
        UNIT_CODE,
        "kiosk-q1",
        outbox,
        resend_after=2,
        on_config=configs.put,
    )
    with HubService(settings, unit, sessions) as one, HubService(settings, unit, sessions) as two:
        assert one.ready.wait(WAIT)
        assert two.ready.wait(WAIT)
        uplink.start()
        try:
            for seq in range(1, ratings + 1):
                receipt = ReceiptRef(code=f"{UNIT_CODE}-261125-{seq:04d}", verified=True)
                outbox.append(lambda s, r=receipt: make_rating(id=uuid.uuid4(), seq=s, receipt=r))
                uplink.notify_new()
            deadline = time.monotonic() + WAIT
            while outbox.depth() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert outbox.depth() == 0, "every rating acknowledged through the bridge"
            assert one.counters.stored + two.counters.stored == ratings
            assert _stored(sessions) == ratings
            # The hub's retained unit configuration reached the kiosk through the bridge too.
            assert configs.get(timeout=WAIT) == unit.to_message()
        finally:
            uplink.stop()
            outbox.close()


def test_shared_hub_workers_and_a_kiosk_through_the_bridge(
    bridged: Bridged, unit: Unit, receipt_keys: ReceiptKeys, database_url: str
) -> None:
    _hub_through_the_bridge(bridged, unit, receipt_keys, database_url, ratings=40)


def test_the_bridge_reaches_the_central_broker_over_tls(
    bridged_tls: Bridged, unit: Unit, receipt_keys: ReceiptKeys, tmp_path: Path
) -> None:
    include = bridged_tls.site.files.conf.parent / "bridge.d" / "hailong-bridge.conf"
    assert f"bridge_cafile {bridged_tls.ca}" in include.read_text()
    assert include.stat().st_mode & 0o777 == 0o600  # it holds the bridge's password
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    _hub_through_the_bridge(bridged_tls, unit, receipt_keys, database, ratings=5)
