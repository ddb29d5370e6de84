"""A button held down on a box without a screen: there is no voice to switch on, so the hold is
counted and nothing else happens (no rating, no light, no buzz); the armed receipt waits for the
short press that rates it. Driven through the box's own ``handle`` over a real outbox (SQLite).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firmware_bridge.protocol import HOLD_MS, Hold, Light, Message, Press, Scan
from hailong.contract.messages import RatingMessage, decode_kiosk_record
from hailong.settings import (
    FirmwareBridgeSettings,
    KioskSection,
    MqttSettings,
    ReceiptKeys,
    SerialBridgeSection,
)
from kiosk.button_box import ButtonBox
from kiosk.outbox import Outbox
from tests.conftest import UNIT_CODE
from tests.kiosk.conftest import signed_url

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # the day the test receipts were issued


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "bridge-outbox.db")
    yield box
    box.close()


def _box(
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    mqtt: MqttSettings,
    outbox: Outbox,
    sent: list[Message],
    *,
    walk_in: bool = False,
) -> ButtonBox:
    settings = FirmwareBridgeSettings(
        bridge=SerialBridgeSection(port="loop://", walk_in=walk_in),
        kiosk=KioskSection(
            id="kiosk-q2", unit=UNIT_CODE, counter="Q2", outbox_path=tmp_path / "bridge-outbox.db"
        ),
        mqtt=mqtt,
        receipts=receipt_keys.public(),
    )
    return ButtonBox(settings, outbox, None, sent.append, clock=lambda: NOW)


def test_a_hold_while_armed_rates_nothing_and_the_press_after_it_rates(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, outbox: Outbox
) -> None:
    sent: list[Message] = []
    box = _box(tmp_path, receipt_keys, offline_mqtt, outbox, sent)
    box.handle(Scan(signed_url(receipt_keys.keyring(), 7)))
    lights_before = list(sent)
    for level in (1, 5):
        box.handle(Hold(level, HOLD_MS))
    assert box.ignored == {"hold": 2}
    assert outbox.depth() == 0
    assert sent == lights_before  # no light, no buzz
    box.handle(Press(2))
    (rating,) = [decode_kiosk_record(due.payload) for due in outbox.due_batch(NOW, 0)]
    assert isinstance(rating, RatingMessage)
    assert rating.score == 2
    assert sent[-1] == Light("buffered")


def test_a_hold_is_no_walk_in_rating(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, outbox: Outbox
) -> None:
    sent: list[Message] = []
    box = _box(tmp_path, receipt_keys, offline_mqtt, outbox, sent, walk_in=True)
    box.handle(Hold(3, 0xFFFF))
    assert box.ignored == {"hold": 1}
    assert outbox.depth() == 0
    box.handle(Press(3))  # a short press is the walk-in's rating
    assert outbox.depth() == 1
