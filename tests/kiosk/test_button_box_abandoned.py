"""Abandoned sessions at a button box: a receipt scanned and never pressed is recorded in the
outbox exactly as the touchscreen kiosk records it (``timeout``, ``next_scan``, ``closed``), and a
pressed one never is.

The box is driven through its own ``handle``/``tick`` with a clock the test moves, over a real
outbox (SQLite); the trip through the broker to the hub is in ``test_button_box.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware_bridge.protocol import Message, Press, Scan
from hailong.contract.messages import AbandonedMessage, RatingMessage, decode_kiosk_record
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

IDLE_RESET_S = 45.0
START = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # the day the test receipts were issued


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "bridge-outbox.db")
    yield box
    box.close()


@pytest.fixture
def box(
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    outbox: Outbox,
    clock: Clock,
) -> ButtonBox:
    settings = FirmwareBridgeSettings(
        bridge=SerialBridgeSection(port="loop://"),
        kiosk=KioskSection(
            id="kiosk-q2",
            unit=UNIT_CODE,
            counter="Q2",
            outbox_path=tmp_path / "bridge-outbox.db",
            idle_reset_seconds=IDLE_RESET_S,
        ),
        mqtt=offline_mqtt,
        receipts=receipt_keys.public(),
    )
    sent: list[Message] = []
    return ButtonBox(settings, outbox, None, sent.append, clock=clock)


def records(outbox: Outbox) -> list[RatingMessage | AbandonedMessage]:
    """Everything the outbox will publish, in seq order."""
    return [decode_kiosk_record(due.payload) for due in outbox.due_batch(START, 0)]


def abandoned(outbox: Outbox) -> list[AbandonedMessage]:
    return [r for r in records(outbox) if isinstance(r, AbandonedMessage)]


def code(sequence: int) -> str:
    return f"{UNIT_CODE}-261125-{sequence:04d}"


def test_a_scan_left_until_the_idle_reset_is_one_abandoned_session(
    box: ButtonBox, outbox: Outbox, receipt_keys: ReceiptKeys, clock: Clock
) -> None:
    box.handle(Scan(signed_url(receipt_keys.keyring(), 7)))
    clock.advance(IDLE_RESET_S - 1)
    box.tick()
    assert records(outbox) == []  # still armed: the citizen may press yet
    clock.advance(1)
    box.tick()
    (left,) = records(outbox)
    assert isinstance(left, AbandonedMessage)
    assert (left.reason, left.receipt.code, left.receipt.verified) == ("timeout", code(7), True)
    assert (left.kiosk, left.counter, left.officer, left.procedure) == (
        "kiosk-q2",
        "Q1",
        "CB001",
        "1.001193",
    )
    assert (left.scanned_at, left.ended_at) == (START, clock.now)
    assert left.seq == 1
    # Disarmed: a press now is not that receipt's rating, and the timer records nothing more.
    box.handle(Press(4))
    clock.advance(IDLE_RESET_S * 2)
    box.tick()
    assert box.ignored["not_armed"] == 1
    assert len(records(outbox)) == 1
    assert not outbox.has_rated(code(7), left.stage)  # the citizen may come back and rate it


def test_a_scan_then_a_press_is_a_rating_and_nothing_abandoned(
    box: ButtonBox, outbox: Outbox, receipt_keys: ReceiptKeys, clock: Clock
) -> None:
    box.handle(Scan(signed_url(receipt_keys.keyring(), 7)))
    clock.advance(IDLE_RESET_S - 1)
    box.handle(Press(4))
    clock.advance(IDLE_RESET_S * 2)
    box.tick()
    box.stop()
    (rating,) = records(outbox)
    assert isinstance(rating, RatingMessage)
    assert (rating.score, rating.channel, rating.receipt and rating.receipt.code) == (
        4,
        "button_box",
        code(7),
    )


def test_the_next_receipt_scanned_ends_the_last_one_unless_it_is_the_same(
    box: ButtonBox, outbox: Outbox, receipt_keys: ReceiptKeys, clock: Clock
) -> None:
    keyring = receipt_keys.keyring()
    box.handle(Scan(signed_url(keyring, 7)))
    clock.advance(5)
    box.handle(Scan(signed_url(keyring, 7)))  # the same slip read twice: the same citizen
    assert records(outbox) == []
    box.handle(Scan(signed_url(keyring, 8)))  # the next citizen
    box.handle(Press(5))
    left, rating = records(outbox)
    assert isinstance(left, AbandonedMessage)
    assert isinstance(rating, RatingMessage)
    assert (left.reason, left.receipt.code, left.ended_at) == ("next_scan", code(7), clock.now)
    assert rating.receipt is not None
    assert rating.receipt.code == code(8)
    assert [left.seq, rating.seq] == [1, 2]  # one sequence, as on a kiosk


def test_a_refused_scan_still_ends_the_armed_receipt(
    box: ButtonBox, outbox: Outbox, receipt_keys: ReceiptKeys
) -> None:
    """The next citizen's slip is forged or foreign: the last citizen has gone all the same."""
    box.handle(Scan(signed_url(receipt_keys.keyring(), 7)))
    url = signed_url(receipt_keys.keyring(), 8)
    forged = url[:-10] + ("A" if url[-10] != "A" else "B") + url[-9:]  # inside the signature
    box.handle(Scan(forged))
    assert box.refused["refused"] == 1
    (left,) = abandoned(outbox)
    assert (left.reason, left.receipt.code) == ("next_scan", code(7))


def test_stopping_the_bridge_records_the_armed_receipt_as_closed(
    box: ButtonBox, outbox: Outbox, receipt_keys: ReceiptKeys
) -> None:
    box.handle(Scan(signed_url(receipt_keys.keyring(), 7)))
    box.stop()
    box.stop()  # a second stop records nothing more
    (left,) = abandoned(outbox)
    assert left.reason == "closed"


def test_a_walk_in_press_left_alone_is_nothing_to_count(
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    outbox: Outbox,
    clock: Clock,
) -> None:
    """Only a receipt makes a session that can be abandoned; walk-ins have none."""
    settings = FirmwareBridgeSettings(
        bridge=SerialBridgeSection(port="loop://", walk_in=True, walk_in_min_interval_seconds=0),
        kiosk=KioskSection(
            id="kiosk-q2", unit=UNIT_CODE, counter="Q2", outbox_path=tmp_path / "bridge-outbox.db"
        ),
        mqtt=offline_mqtt,
        receipts=receipt_keys.public(),
    )
    box = ButtonBox(settings, outbox, None, lambda _m: None, clock=clock)
    box.handle(Press(3))
    clock.advance(600)
    box.tick()
    box.stop()
    (rating,) = records(outbox)
    assert isinstance(rating, RatingMessage)
    assert rating.receipt is None
