"""Rating at the return without a slip, on real parts: the desk's "trả kết quả" → the hub service →
Mosquitto (per-kiosk ACL, MQTT 5 expiry) → the counter's kiosk window → a tap → the hub's database.

The kiosk is busy with another citizen when the officer records the return: that citizen finishes
undisturbed, then the offer opens. Offers the kiosk must refuse (forged, expired, for another
kiosk), published with the hub's own login, never open anything.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.return_offer import ReturnOfferMessage
from hailong.contract.scale import Score, Stage
from hailong.mqtt import log_in
from hailong.settings import HubSettings, Unit
from hub.receipts.desk import ReceiptDesk
from hub.service import HubService
from hub.store.models import ReturnOfferRow
from kiosk.app import Kiosk
from kiosk.domain.screen import Screen
from tests.conftest import UNIT_CODE, Broker
from tests.e2e.test_receipt_journey import issue, rate, scan, stored, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def _on_faces(kiosk: Kiosk, code: str) -> bool:
    subject = kiosk.controller.session.subject
    return (
        kiosk.window.current is Screen.RATING
        and subject is not None
        and subject.dossier_code == code
    )


def test_the_return_recorded_at_the_desk_opens_the_rating_at_the_counters_kiosk(
    qtbot: QtBot,
    kiosk: Kiosk,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    desk = ReceiptDesk(hub_settings, unit, hub_sessions)
    busy = issue(hub_settings, unit, hub_sessions, "CB001")
    returned = issue(hub_settings, unit, hub_sessions, "CB001")
    with HubService(hub_settings, unit, hub_sessions):
        wait_for(qtbot, lambda: kiosk.uplink is not None and kiosk.uplink.connected)
        scan(qtbot, kiosk, busy.url)  # another citizen is on the faces
        record = desk.record_return(str(returned.code), "CB002")
        assert record.offered_to == ("kiosk-q1",)
        wait_for(qtbot, lambda: len(kiosk.controller.offers) == 1)  # kept, not shown
        assert _on_faces(kiosk, str(busy.code))
        rate(qtbot, kiosk, Score.SATISFIED)  # that citizen finishes: thanks, then the start
        wait_for(qtbot, lambda: _on_faces(kiosk, str(returned.code)))
        subject = kiosk.controller.session.subject
        assert subject is not None
        assert (subject.stage, subject.verified) == (Stage.RETURN, True)
        procedure, details = kiosk.controller.describe(subject)
        assert "Đăng ký khai sinh" in procedure  # the names of the hub's retained catalogue
        assert "Trả kết quả / return" in details
        assert "Cán bộ" not in details  # the slip's receiving officer is not the one rated
        rate(qtbot, kiosk, Score.VERY_SATISFIED)  # the citizen's own tap
        wait_for(qtbot, lambda: len(stored(hub_sessions)) == 2)
    by_code = {row.dossier_code: row for row in stored(hub_sessions)}
    at_return = by_code[str(returned.code)]
    assert (at_return.stage, at_return.score, at_return.officer) == ("return", 5, "CB002")
    assert by_code[str(busy.code)].stage == "reception"
    with hub_sessions() as session:
        (offer,) = session.scalars(select(ReturnOfferRow))
    assert (offer.kiosks, offer.published_at is not None) == ("kiosk-q1", True)


def _hub_client(broker: Broker) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hub-probe", protocol=mqtt.MQTTv5)
    log_in(client, broker.mqtt_settings("hub"))
    ready = threading.Event()
    client.on_connect = lambda *_args: ready.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert ready.wait(5)
    return client


def test_forged_expired_and_misrouted_offers_open_nothing(
    qtbot: QtBot,
    kiosk: Kiosk,
    broker: Broker,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    genuine = issue(hub_settings, unit, hub_sessions, "CB001")
    other = issue(hub_settings, unit, hub_sessions, "CB001")
    now = datetime.now(UTC)

    def offer(receipt: str, kiosk_id: str = "kiosk-q1", age_s: int = 0) -> bytes:
        at = now - timedelta(seconds=age_s)
        return ReturnOfferMessage(
            id=uuid.uuid4(),
            unit=UNIT_CODE,
            kiosk=kiosk_id,
            counter="Q1",
            receipt=receipt,
            offered_at=at,
            expires_at=at + timedelta(seconds=180),
        ).to_bytes()

    forged = other.url.replace("p=1.001193", "p=1.000894")
    wait_for(qtbot, lambda: kiosk.uplink is not None and kiosk.uplink.connected)
    hub = _hub_client(broker)
    try:
        topic = topics.offers(UNIT_CODE, "kiosk-q1")
        for payload in (
            offer(forged),
            offer(other.url, age_s=181),  # expired by the kiosk's clock
            offer(other.url, kiosk_id="kiosk-q2"),  # on kiosk-q1's topic, for another kiosk
            b'{"v": 1, "receipt": "not an offer"}',
            offer(genuine.url),  # last: delivery is in order
        ):
            hub.publish(topic, payload, qos=1).wait_for_publish(5)
        wait_for(qtbot, lambda: _on_faces(kiosk, str(genuine.code)))
    finally:
        hub.loop_stop()
        hub.disconnect()
    assert kiosk.outbox.refusals() == {"bad_signature": 1}
    assert len(kiosk.controller.offers) == 0
