"""One hub serving two units from the catalogue tables (``[hub] catalogue = "database"``), against a
real Mosquitto provisioned for both: each unit's ratings land in that unit and are held against
its own catalogue, each unit's kiosks get their own unit's config, a unit edited in the tables is
republished at once, and the broker stops a kiosk of one unit from publishing for the other."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong import broker as broker_mod
from hailong.contract import topics
from hailong.contract.messages import (
    AckMessage,
    ReceiptRef,
    UnitConfigMessage,
    decode_ack,
    decode_unit_config,
)
from hailong.provision import SecretsLayout, init_secrets
from hailong.settings import HubSettings, ReceiptKeys, Unit
from hub.service import HubService
from hub.store.catalogue import import_unit
from hub.store.db import make_engine, session_factory
from hub.store.models import DeadLetterRow, RatingRow
from tests.conftest import REPO, UNIT_CODE, Broker
from tests.hailong.contract.test_messages import make_rating
from tests.hub.store.test_catalogue import other_unit
from tests.hub.web.test_admin_database import PROVINCE, WARD_B, province_unit

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def ward_b(unit: Unit) -> Unit:
    """Unit B offers one reason fewer than the home unit: a reason is checked per unit."""
    data = other_unit(unit, WARD_B, "b").model_dump()
    data["reasons"] = [r for r in data["reasons"] if r["code"] != "thai-do"]
    return Unit.model_validate(data)


@pytest.fixture
def two_unit_broker(
    tmp_path: Path, unit: Unit, ward_b: Unit, secrets_layout: SecretsLayout
) -> Iterator[Broker]:
    init_secrets([unit, ward_b], secrets_layout)
    port = broker_mod.free_port()
    files = broker_mod.write_broker_files([unit, ward_b], secrets_layout, tmp_path / "mq", port)
    with broker_mod.MosquittoProcess(files, port) as process:
        yield Broker(port=port, layout=secrets_layout, process=process)


@pytest.fixture
def sessions(tmp_path: Path, unit: Unit, ward_b: Unit) -> sessionmaker[Session]:
    made = session_factory(make_engine(f"sqlite:///{tmp_path / 'province.db'}"))
    with made.begin() as session:
        import_unit(session, province_unit(), kind="province")
        import_unit(session, unit, parent=PROVINCE)
        import_unit(session, ward_b, parent=PROVINCE)
    return made


@pytest.fixture
def hub(
    two_unit_broker: Broker,
    receipt_keys: ReceiptKeys,
    unit: Unit,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> Iterator[HubService]:
    from hailong.settings import HubSection

    settings = HubSettings(
        hub=HubSection(
            unit_file=REPO / "config" / "unit.toml",
            database_url=f"sqlite:///{tmp_path / 'province.db'}",
            public_base_url="https://hailong.example.gov.vn",
            rated_at_max_past_days=3650,
            catalogue="database",
            unit=UNIT_CODE,
        ),
        mqtt=two_unit_broker.mqtt_settings("hub"),
        receipts=receipt_keys,
    )
    with HubService(settings, unit, sessions) as service:
        assert service.ready.wait(10), "the hub did not subscribe"
        yield service


class Peer:
    """A kiosk of one unit: publishes ratings on a topic, collects its acks and unit configs."""

    def __init__(self, broker: Broker, unit: str, kiosk: str) -> None:
        self.unit, self.kiosk = unit, kiosk
        self.acks: queue.Queue[AckMessage] = queue.Queue()
        self.configs: queue.Queue[UnitConfigMessage] = queue.Queue()
        subscribed = threading.Event()
        settings = broker.mqtt_settings(kiosk)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=kiosk)
        self.client.username_pw_set(settings.username, settings.password())
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe([(topics.acks(unit, kiosk), 1), (topics.unit_config(unit), 1)])
        assert subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic.endswith("/acks"):
            self.acks.put(decode_ack(message.payload))
        else:
            self.configs.put(decode_unit_config(message.payload))

    def publish(self, payload: bytes, unit: str | None = None) -> None:
        topic = topics.ratings(unit or self.unit, self.kiosk)
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def peers(two_unit_broker: Broker, hub: HubService) -> Iterator[tuple[Peer, Peer]]:
    a = Peer(two_unit_broker, UNIT_CODE, "kiosk-q1")
    b = Peer(two_unit_broker, WARD_B, "b-kiosk-q1")
    yield a, b
    a.close()
    b.close()


def _rating(unit: str, kiosk: str, seq: int, reasons: tuple[str, ...] = ()) -> bytes:
    receipt = ReceiptRef(code=f"{unit}-261125-{seq:04d}", verified=True)
    score = 2 if reasons else 4
    return make_rating(
        unit=unit, kiosk=kiosk, seq=seq, receipt=receipt, reasons=reasons, score=score
    ).to_bytes()


def _stored(sessions: sessionmaker[Session]) -> list[tuple[str, str, int]]:
    with sessions() as session:
        rows = session.execute(select(RatingRow.unit, RatingRow.kiosk, RatingRow.seq))
        return sorted((unit, kiosk, seq) for unit, kiosk, seq in rows)


def test_each_units_ratings_land_in_it_against_its_own_catalogue_and_config(
    peers: tuple[Peer, Peer], sessions: sessionmaker[Session], ward_b: Unit
) -> None:
    a, b = peers
    # Each kiosk gets its own unit's retained config.
    assert a.configs.get(timeout=10).unit == UNIT_CODE
    config_b = b.configs.get(timeout=10)
    assert (config_b.unit, config_b.name) == (WARD_B, ward_b.unit.name)
    assert "thai-do" not in {r.code for r in config_b.reasons}

    a.publish(_rating(UNIT_CODE, "kiosk-q1", 1, ("thai-do",)))
    b.publish(_rating(WARD_B, "b-kiosk-q1", 1))
    b.publish(_rating(WARD_B, "b-kiosk-q1", 2, ("thai-do",)))  # not a reason unit B offers
    assert [r.outcome for r in a.acks.get(timeout=10).results] == ["stored"]
    outcomes: list[str] = []
    while len(outcomes) < 2:
        outcomes += [r.outcome for r in b.acks.get(timeout=10).results]
    assert sorted(outcomes) == ["rejected", "stored"]
    assert _stored(sessions) == [(UNIT_CODE, "kiosk-q1", 1), (WARD_B, "b-kiosk-q1", 1)]
    with sessions() as session:
        refused = session.scalars(select(DeadLetterRow.code)).all()
    assert refused == ["unknown_reason"]

    # Unit B edited in the tables (the admin pages, `hailong catalogue import`): its kiosks
    # hear the new config within a second, nothing restarted.
    data = ward_b.model_dump()
    data["unit"]["name"] = "Phường B (đổi tên)"
    with sessions.begin() as session:
        import_unit(session, Unit.model_validate(data), parent=PROVINCE)
    assert b.configs.get(timeout=10).name == "Phường B (đổi tên)"


def test_a_kiosk_of_one_unit_cannot_publish_for_another(
    peers: tuple[Peer, Peer], sessions: sessionmaker[Session]
) -> None:
    a, _ = peers
    # The forged one first: delivery is in order, so once the own one is acknowledged the
    # forged one, had the broker let it through, would have been stored or dead-lettered.
    a.publish(_rating(WARD_B, "kiosk-q1", 1), unit=WARD_B)
    a.publish(_rating(UNIT_CODE, "kiosk-q1", 2))
    assert [r.outcome for r in a.acks.get(timeout=10).results] == ["stored"]
    assert _stored(sessions) == [(UNIT_CODE, "kiosk-q1", 2)]
    with sessions() as session:
        assert session.scalars(select(DeadLetterRow.topic)).all() == []
