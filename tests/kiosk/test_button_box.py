"""The button box bridge on real parts: a simulated device on a pty, Mosquitto, the real hub.

A receipt is issued by the hub (signed, stored), scanned on the simulated box and rated with a
press; the rating travels through the kiosk's own outbox and uplink to the hub, which stores it
exactly once and acknowledges it, and the box's light follows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from firmware_bridge.protocol import InfoRequest, Press, encode
from firmware_bridge.simulator import DeviceSimulator
from hailong.settings import (
    FirmwareBridgeSettings,
    HubSettings,
    KioskSection,
    ReceiptKeys,
    SerialBridgeSection,
    Unit,
    load_bridge,
)
from hub.receipts.issuing import issue_receipt
from hub.service import HubService
from hub.store.models import AbandonedSessionRow, DeadLetterRow, RatingRow
from kiosk.button_box import Bridge
from tests.conftest import REPO, UNIT_CODE, Broker

pytestmark = pytest.mark.timeout(60)
BRIDGE_KIOSK = "kiosk-q2"


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a condition")
        time.sleep(0.02)


def rows(hub_sessions: sessionmaker[Session]) -> list[RatingRow]:
    with hub_sessions() as session:
        return list(session.scalars(select(RatingRow)))


def issue(hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]) -> str:
    """The counter officer issues a signed receipt; returns the text of its QR."""
    issued = issue_receipt(
        hub_sessions,
        unit,
        hub_settings.receipts.keyring(),
        hub_settings.hub.public_base_url,
        counter="Q1",
        officer="CB001",
        procedure="1.001193",
        now=datetime.now(UTC),
    )
    return issued.url


def forge(url: str) -> str:
    """The same receipt with one character of its signature changed."""
    last = url[-1]
    return url[:-1] + ("A" if last != "A" else "B")


@pytest.fixture
def hub(
    hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> Iterator[HubService]:
    with HubService(hub_settings, unit, hub_sessions) as service:
        assert service.ready.wait(10), "the hub did not subscribe"
        yield service


def bridge_settings(
    tmp_path: Path, broker: Broker, receipt_keys: ReceiptKeys, port: str, **box: object
) -> FirmwareBridgeSettings:
    return FirmwareBridgeSettings(
        bridge=SerialBridgeSection(port=port, **box),  # type: ignore[arg-type]
        kiosk=KioskSection(
            id=BRIDGE_KIOSK,
            unit=UNIT_CODE,
            counter="Q2",
            outbox_path=tmp_path / "bridge-outbox.db",
            resend_after_seconds=1.0,
        ),
        mqtt=broker.mqtt_settings(BRIDGE_KIOSK),
        receipts=receipt_keys.public(),  # a button box holds public keys only
    )


def start_bridge(settings: FirmwareBridgeSettings, sim: DeviceSimulator) -> Bridge:
    bridge = Bridge(settings, retry_every=0.1)
    bridge.start()
    # The device learns the host is listening from its InfoRequest (bytes sent before are lost).
    assert sim.wait_for(lambda: InfoRequest() in sim.received), "the bridge did not open the port"
    wait_until(lambda: bridge.box.device is not None)
    return bridge


@pytest.fixture
def make_bridge(
    tmp_path: Path, broker: Broker, receipt_keys: ReceiptKeys, sim: DeviceSimulator
) -> Iterator[Callable[..., Bridge]]:
    started: list[Bridge] = []

    def make(**box: object) -> Bridge:
        bridge = start_bridge(bridge_settings(tmp_path, broker, receipt_keys, sim.port, **box), sim)
        started.append(bridge)
        return bridge

    yield make
    for bridge in started:
        bridge.stop()


def test_scan_then_press_stores_one_rating_and_lights_up(
    hub: HubService,
    make_bridge: Callable[..., Bridge],
    sim: DeviceSimulator,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    bridge = make_bridge()
    url = issue(hub_settings, unit, hub_sessions)
    sim.scan(url)
    sim.press(4)
    assert sim.wait_for(lambda: "accepted" in sim.lights), sim.lights
    lit = [state for state in sim.lights if state != "idle"]
    assert lit[:2] == ["buffered", "accepted"]
    (row,) = rows(hub_sessions)
    assert (row.score, row.channel, row.kiosk, row.receipt_verified, row.receipt_known) == (
        4,
        "button_box",
        BRIDGE_KIOSK,
        True,
        True,
    )
    assert (row.counter, row.officer, row.procedure) == ("Q1", "CB001", "1.001193")
    assert bridge.outbox.depth() == 0
    # The same receipt again: already rated here, refused with a fault light and a buzz.
    sim.scan(url)
    assert sim.wait_for(lambda: sim.lights[-1] == "fault" and len(sim.buzzes) == 1)
    sim.press(5)
    wait_until(lambda: bridge.box.ignored["not_armed"] == 1)
    assert len(rows(hub_sessions)) == 1
    # The light returns to idle by itself.
    assert sim.wait_for(lambda: sim.lights[-1] == "idle", timeout=6)


def test_a_receipt_scanned_and_left_reaches_the_hub_as_abandoned(
    hub: HubService,
    make_bridge: Callable[..., Bridge],
    sim: DeviceSimulator,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    """The first citizen scans and walks away; the next one scans and presses: the hub stores
    one abandoned session (``next_scan``) and one rating, and the box's outbox empties."""
    bridge = make_bridge()
    left, rated = issue(hub_settings, unit, hub_sessions), issue(hub_settings, unit, hub_sessions)
    sim.scan(left)
    sim.scan(rated)
    sim.press(5)
    assert sim.wait_for(lambda: "accepted" in sim.lights), sim.lights

    def abandoned() -> list[AbandonedSessionRow]:
        with hub_sessions() as session:
            return list(session.scalars(select(AbandonedSessionRow)))

    wait_until(lambda: abandoned() != [] and bridge.outbox.depth() == 0)
    (row,) = abandoned()
    (rating,) = rows(hub_sessions)
    assert (row.reason, row.kiosk, row.receipt_known) == ("next_scan", BRIDGE_KIOSK, True)
    assert left.split("/r/")[1].startswith(row.dossier_code)
    assert rating.dossier_code != row.dossier_code
    assert (row.seq, rating.seq) == (1, 2)


def test_forged_receipt_lights_fault_and_stores_nothing(
    hub: HubService,
    make_bridge: Callable[..., Bridge],
    sim: DeviceSimulator,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    bridge = make_bridge()
    sim.scan(forge(issue(hub_settings, unit, hub_sessions)))
    assert sim.wait_for(lambda: "fault" in sim.lights and sim.buzzes == [400])
    sim.press(4)
    wait_until(lambda: bridge.box.ignored["not_armed"] == 1)
    assert bridge.box.refused["refused"] == 1
    assert bridge.outbox.refusals() == {"bad_signature": 1}
    assert bridge.outbox.depth() == 0
    assert rows(hub_sessions) == []


def test_a_flood_of_presses_makes_one_rating(
    hub: HubService,
    make_bridge: Callable[..., Bridge],
    sim: DeviceSimulator,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    bridge = make_bridge()
    sim.scan(issue(hub_settings, unit, hub_sessions))
    sim.send_raw(b"".join(encode(Press(1 + i % 5), i) for i in range(50)))
    wait_until(lambda: bridge.box.ignored["not_armed"] == 49)
    assert sim.wait_for(lambda: "accepted" in sim.lights)
    (row,) = rows(hub_sessions)
    assert row.score == 1  # the first press counts, the 49 after it do not


@pytest.fixture
def walk_in_hub(
    hub_settings: HubSettings, unit: Unit, hub_sessions: sessionmaker[Session]
) -> Iterator[HubService]:
    """A hub whose unit allows ratings without a receipt (the hub, not the box, decides)."""
    policy = unit.kiosk_policy.model_copy(update={"allow_walk_in": True})
    walk_in_unit = unit.model_copy(update={"kiosk_policy": policy})
    with HubService(hub_settings, walk_in_unit, hub_sessions) as service:
        assert service.ready.wait(10), "the hub did not subscribe"
        yield service


def test_walk_in_presses_are_limited_to_one_per_interval(
    walk_in_hub: HubService,
    make_bridge: Callable[..., Bridge],
    sim: DeviceSimulator,
    hub_sessions: sessionmaker[Session],
) -> None:
    bridge = make_bridge(walk_in=True, walk_in_min_interval_seconds=60)
    for _ in range(5):
        sim.press(5)
    wait_until(lambda: bridge.box.ignored["walk_in_too_soon"] == 4)
    assert sim.wait_for(lambda: "accepted" in sim.lights)
    (row,) = rows(hub_sessions)
    assert (row.dossier_code, row.counter, row.score, row.channel) == (
        None,
        "Q2",
        5,
        "button_box",
    )


def test_a_box_set_for_walk_ins_cannot_override_a_unit_that_forbids_them(
    hub: HubService,
    make_bridge: Callable[..., Bridge],
    sim: DeviceSimulator,
    hub_sessions: sessionmaker[Session],
) -> None:
    """A stolen or misconfigured box switched to walk-ins adds nothing the unit did not allow."""
    bridge = make_bridge(walk_in=True, walk_in_min_interval_seconds=0)
    sim.press(5)

    def refusals() -> list[str]:
        with hub_sessions() as session:
            return list(session.scalars(select(DeadLetterRow.code)).all())

    wait_until(lambda: refusals() != [])
    assert refusals() == ["walk_in_not_allowed"]
    assert rows(hub_sessions) == []
    wait_until(lambda: bridge.outbox.depth() == 0)  # the hub's "rejected" ended its resending


def test_garbage_is_counted_and_never_becomes_a_rating(
    hub: HubService,
    make_bridge: Callable[..., Bridge],
    sim: DeviceSimulator,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    bridge = make_bridge(walk_in=True)  # even a box that rates walk-ins invents nothing
    garbage = bytes(range(1, 256)) * 4 + b"\x00" + b"\x05\x01\x01\x00\x04\x00" + b"\xff" * 300
    sim.send_raw(garbage + b"\x00")
    wait_until(lambda: sum(bridge.link.errors.values()) >= 3)
    assert bridge.link.state == "connected"
    assert bridge.outbox.depth() == 0
    assert bridge.box.ignored == {}
    # The link still works after the noise: a real scan and press go through.
    sim.scan(issue(hub_settings, unit, hub_sessions))
    sim.press(3)
    assert sim.wait_for(lambda: "accepted" in sim.lights)
    assert len(rows(hub_sessions)) == 1


def test_unplug_and_replug_reconnects_by_itself(
    hub: HubService,
    make_bridge: Callable[..., Bridge],
    sim: DeviceSimulator,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    bridge = make_bridge()
    sim.scan(issue(hub_settings, unit, hub_sessions))
    sim.press(4)
    wait_until(lambda: len(rows(hub_sessions)) == 1)
    sim.unplug()
    wait_until(lambda: bridge.link.state == "disconnected")
    assert bridge.uplink.devices.states["button_box"] == "error"
    time.sleep(0.3)  # a few failed reopen attempts
    infos = sim.received.count(InfoRequest())
    sim.replug()
    assert sim.wait_for(lambda: sim.received.count(InfoRequest()) > infos)
    wait_until(lambda: bridge.link.state == "connected")
    assert bridge.link.reconnects == 1
    assert bridge.uplink.devices.states["button_box"] == "ok"
    sim.scan(issue(hub_settings, unit, hub_sessions))
    sim.press(2)
    wait_until(lambda: len(rows(hub_sessions)) == 2)
    assert sorted(r.score for r in rows(hub_sessions)) == [2, 4]


def test_offline_rating_is_buffered_then_delivered_once(
    tmp_path: Path,
    broker: Broker,
    receipt_keys: ReceiptKeys,
    sim: DeviceSimulator,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
) -> None:
    url = issue(hub_settings, unit, hub_sessions)
    settings = bridge_settings(tmp_path, broker, receipt_keys, sim.port, idle_after_seconds=30)
    bridge = start_bridge(settings, sim)
    try:
        sim.scan(url)
        sim.press(5)
        assert sim.wait_for(lambda: sim.lights[-1:] == ["buffered"])
        assert bridge.outbox.depth() == 1
        with HubService(hub_settings, unit, hub_sessions) as service:
            assert service.ready.wait(10)
            assert sim.wait_for(lambda: sim.lights[-1:] == ["accepted"], timeout=15)
        assert len(rows(hub_sessions)) == 1
        assert bridge.outbox.depth() == 0
    finally:
        bridge.stop()


def test_a_device_that_stops_talking_is_silent(
    tmp_path: Path, broker: Broker, receipt_keys: ReceiptKeys
) -> None:
    with DeviceSimulator(heartbeat_seconds=None) as quiet:
        settings = bridge_settings(
            tmp_path, broker, receipt_keys, quiet.port, silent_after_seconds=0.3
        )
        bridge = start_bridge(settings, quiet)
        try:
            wait_until(lambda: bridge.link.state == "silent", timeout=3)
            quiet.heartbeat()
            wait_until(lambda: bridge.link.state == "connected", timeout=3)
        finally:
            bridge.stop()


def test_the_example_config_loads() -> None:
    settings = load_bridge(REPO / "config" / "button-box.toml")
    assert settings.kiosk.id == settings.mqtt.username == BRIDGE_KIOSK
    assert settings.bridge.port == "/dev/hailong-buttons"
    assert not settings.bridge.walk_in
