"""The uplink against a real Mosquitto, with a minimal hub peer that acknowledges what it gets."""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy.exc import OperationalError

from hailong.contract import topics
from hailong.contract.messages import (
    AckMessage,
    AckOutcome,
    KioskStatusMessage,
    RatedMessage,
    RatedReceipt,
    RatingMessage,
    decode_kiosk_status,
    decode_rating,
)
from hailong.contract.scale import Stage
from hailong.settings import ReceiptKeys
from kiosk.outbox import DueRating, Outbox, OutboxError
from kiosk.uplink import Uplink
from tests.conftest import UNIT_CODE, Broker
from tests.hailong.contract.test_messages import make_rating

pytestmark = pytest.mark.timeout(60)


class HubPeer:
    """Logged in as the hub: records ratings and, while ``acking`` is set, acknowledges them."""

    def __init__(self, broker: Broker) -> None:
        settings = broker.mqtt_settings("hub")
        self.received: list[str] = []
        self.ratings: list[RatingMessage] = []  # every copy received, in order
        self.acking = threading.Event()
        self.acking.set()
        subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-hub")
        self.client.username_pw_set(settings.username, settings.password())
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.RATINGS_SUBSCRIPTION, qos=1)
        assert subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        rating = decode_rating(message.payload)
        self.ratings.append(rating)
        self.received.append(str(rating.id))
        if self.acking.is_set():
            ack = AckMessage(results=(AckOutcome(id=rating.id, seq=rating.seq, outcome="stored"),))
            self.client.publish(topics.acks(UNIT_CODE, rating.kiosk), ack.to_bytes(), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def _uplink(broker: Broker, outbox: Outbox, resend_after: float = 30) -> Uplink:
    return Uplink(
        broker.mqtt_settings("kiosk-q1"), UNIT_CODE, "kiosk-q1", outbox, resend_after=resend_after
    )


def test_acknowledged_rating_leaves_the_outbox(broker: Broker, outbox: Outbox) -> None:
    hub = HubPeer(broker)
    uplink = _uplink(broker, outbox)
    uplink.start()
    try:
        wait_for(lambda: uplink.connected)
        outbox.append(lambda seq: make_rating(seq=seq))
        uplink.notify_new()
        wait_for(lambda: outbox.depth() == 0)
        assert uplink.last_ack_at is not None
        assert len(hub.received) == 1
    finally:
        uplink.stop()
        hub.close()


def test_ratings_made_while_the_broker_is_down_are_delivered_later(
    broker: Broker, outbox: Outbox
) -> None:
    broker.process.stop()
    uplink = _uplink(broker, outbox)
    uplink.start()
    try:
        for _ in range(3):
            outbox.append(lambda seq: make_rating(seq=seq))
            uplink.notify_new()
        time.sleep(0.3)
        assert (uplink.connected, outbox.depth()) == (False, 3)
        broker.process.start()
        hub = HubPeer(broker)
        wait_for(lambda: outbox.depth() == 0, timeout=20)
        assert len(set(hub.received)) == 3
        hub.close()
    finally:
        uplink.stop()


def test_unacknowledged_rating_is_resent(broker: Broker, outbox: Outbox) -> None:
    hub = HubPeer(broker)
    hub.acking.clear()  # the hub "crashes" after receiving: no ack
    uplink = _uplink(broker, outbox, resend_after=0.5)
    uplink.start()
    try:
        wait_for(lambda: uplink.connected)
        rating = outbox.append(lambda seq: make_rating(seq=seq))
        uplink.notify_new()
        wait_for(lambda: len(hub.received) >= 1)
        assert outbox.depth() == 1  # a broker PUBACK is not a reason to forget it
        hub.acking.set()
        wait_for(lambda: outbox.depth() == 0)
        assert hub.received.count(str(rating.id)) >= 2
    finally:
        uplink.stop()
        hub.close()


def test_unit_config_arrives_and_is_cached(
    broker: Broker,
    outbox: Outbox,
    unit,
    receipt_keys: ReceiptKeys,  # type: ignore[no-untyped-def]
) -> None:
    hub = HubPeer(broker)
    hub.client.publish(
        topics.unit_config(UNIT_CODE), unit.to_message().to_bytes(), qos=1, retain=True
    ).wait_for_publish(5)
    arrived = threading.Event()
    uplink = _uplink(broker, outbox)
    uplink.on_config = lambda _config: arrived.set()
    uplink.start()
    try:
        assert arrived.wait(10)
        assert outbox.load_unit_config() == unit.to_message()
    finally:
        uplink.stop()
        hub.close()


def test_receipts_rated_at_another_kiosk_are_refused_here_too(
    broker: Broker, outbox: Outbox
) -> None:
    """The hub's "rated" notice reaches a kiosk that was offline when it was sent."""
    uplink = _uplink(broker, outbox)
    uplink.start()
    wait_for(lambda: uplink.connected)
    uplink.stop()  # the kiosk goes offline; its persistent session keeps its subscriptions
    hub = HubPeer(broker)
    notice = RatedMessage(
        receipts=(RatedReceipt(code="000.00.20.H41-261125-0042", stage=Stage.RECEPTION),)
    )
    hub.client.publish(topics.rated(UNIT_CODE), notice.to_bytes(), qos=1).wait_for_publish(5)
    hub.client.publish(topics.rated(UNIT_CODE), b"not json", qos=1).wait_for_publish(5)
    again = _uplink(broker, outbox)
    again.start()
    try:
        wait_for(lambda: outbox.has_rated("000.00.20.H41-261125-0042", Stage.RECEPTION))
        # The session's queued notice may arrive before the kiosk's SUBACK marks it connected.
        wait_for(lambda: again.connected)
    finally:
        again.stop()
        hub.close()


# -- a backlog: windows, resends, the threads that do the work ------------------------------------


class HoldingHub:
    """Logged in as the hub: records every rating received (seq, in order) and acknowledges only
    when told to, so a test decides when the kiosk may let go. Resubscribes after a reconnection."""

    def __init__(self, broker: Broker) -> None:
        settings = broker.mqtt_settings("hub")
        self.lock = threading.Lock()
        self.received: list[int] = []
        self.held: list[AckOutcome] = []
        self.subscribed = threading.Event()
        # A persistent session, as the real hub keeps: ratings a kiosk publishes after a broker
        # restart, before this client is back, wait for it instead of being dropped.
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="test-holding-hub", clean_session=False
        )
        self.client.username_pw_set(settings.username, settings.password())
        self.client.on_connect = lambda client, *_: client.subscribe(
            topics.RATINGS_SUBSCRIPTION, qos=1
        )
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self.subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        rating = decode_rating(message.payload)
        with self.lock:
            self.received.append(rating.seq)
            self.held.append(AckOutcome(id=rating.id, seq=rating.seq, outcome="stored"))

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def received_after(self, first: int) -> set[int]:
        """The seqs received after the first ``first`` messages."""
        with self.lock:
            return set(self.received[first:])

    def ack_held(self) -> int:
        """Acknowledge everything received so far (as the hub does after its commit)."""
        with self.lock:
            held, self.held = self.held, []
        if held:
            ack = AckMessage(results=tuple(held))
            self.client.publish(topics.acks(UNIT_CODE, "kiosk-q1"), ack.to_bytes(), qos=1)
        return len(held)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class RecordingOutbox(Outbox):
    """Notes which thread reads ratings to publish."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.readers: set[str] = set()

    def due_batch(self, *args: Any, **kwargs: Any) -> list[DueRating]:
        self.readers.add(threading.current_thread().name)
        return super().due_batch(*args, **kwargs)


def _append_many(outbox: Outbox, count: int) -> None:
    for _ in range(count):
        outbox.append(lambda seq: make_rating(seq=seq))


def test_a_backlog_goes_out_in_windows_and_leaves_only_on_acks(
    broker: Broker, outbox: Outbox
) -> None:
    """At most ``window`` ratings await the hub's ack; each ack makes room for the next ones, in
    seq order; nothing leaves the outbox unacknowledged, and everything is delivered once."""
    _append_many(outbox, 25)
    hub = HoldingHub(broker)
    uplink = Uplink(broker.mqtt_settings("kiosk-q1"), UNIT_CODE, "kiosk-q1", outbox, window=10)
    uplink.start()
    try:
        wait_for(lambda: hub.count() == 10)
        time.sleep(0.5)  # the window is full: nothing more goes out without an ack
        assert (hub.count(), outbox.depth()) == (10, 25)
        while outbox.depth() > 0:
            wait_for(lambda: hub.count() == min(25, 25 - outbox.depth() + 10))
            acked = hub.ack_held()
            assert acked <= 10
            expected_depth = 25 - hub.count()
            wait_for(lambda expected=expected_depth: outbox.depth() == expected)
        time.sleep(0.3)
        assert hub.received == list(range(1, 26))  # each once, oldest first
    finally:
        uplink.stop()
        hub.close()


def test_a_full_window_whose_acks_are_overdue_is_resent_and_kept(
    broker: Broker, outbox: Outbox
) -> None:
    _append_many(outbox, 8)
    hub = HoldingHub(broker)
    uplink = Uplink(
        broker.mqtt_settings("kiosk-q1"),
        UNIT_CODE,
        "kiosk-q1",
        outbox,
        resend_after=0.5,
        window=4,
    )
    uplink.start()
    try:
        # 1-4; once their acks are overdue the window takes 5-8, and later 1-4 again.
        wait_for(lambda: hub.count() > len(set(hub.received)) and hub.count() >= 8)
        assert outbox.depth() == 8  # a broker PUBACK is no reason to forget a rating
        with hub.lock:
            assert hub.received[:4] == [1, 2, 3, 4]
            assert set(hub.received) == set(range(1, 9))
            hub.held.clear()  # those acks are "lost"
        deadline = time.monotonic() + 10
        while outbox.depth() > 0 and time.monotonic() < deadline:
            hub.ack_held()
            time.sleep(0.1)
        assert outbox.depth() == 0
    finally:
        uplink.stop()
        hub.close()


def test_everything_pending_is_sent_again_on_a_new_connection(
    broker: Broker, outbox: Outbox
) -> None:
    """Acks may be lost with a connection: after a reconnection every pending rating goes out
    at once, without waiting for resend_after."""
    _append_many(outbox, 5)
    hub = HoldingHub(broker)
    uplink = _uplink(broker, outbox, resend_after=60)
    uplink.start()
    try:
        wait_for(lambda: hub.count() == 5)
        hub.subscribed.clear()
        broker.restart()
        assert hub.subscribed.wait(15)
        # The broker may also redeliver some of the first round to the hub's session; what counts
        # is that all five come again long before resend_after.
        wait_for(lambda: hub.received_after(5) >= {1, 2, 3, 4, 5}, timeout=20)
        assert outbox.depth() == 5
        wait_for(lambda: hub.ack_held() == 0 and outbox.depth() == 0)
    finally:
        uplink.stop()
        hub.close()


def test_neither_the_ui_thread_nor_the_network_thread_reads_the_outbox_to_publish(
    broker: Broker, tmp_path: Path
) -> None:
    """notify_new (called on the Qt thread after each rating) only wakes the uplink thread, and
    paho's network thread only applies acks: with a large backlog neither blocks on it."""
    box = RecordingOutbox(tmp_path / "recording.db")
    hub = HubPeer(broker)
    uplink = _uplink(broker, box)
    uplink.start()
    try:
        wait_for(lambda: uplink.connected)
        _append_many(box, 3)
        started = time.perf_counter()
        uplink.notify_new()
        assert time.perf_counter() - started < 0.05
        wait_for(lambda: box.depth() == 0)
        assert box.readers == {"uplink"}
    finally:
        uplink.stop()
        hub.close()
        box.close()


def test_the_status_tells_the_hub_what_is_pending_and_how_the_devices_are(
    broker: Broker, outbox: Outbox
) -> None:
    _append_many(outbox, 3)
    uplink = _uplink(broker, outbox)
    uplink.devices.scanned(datetime.now(UTC))
    uplink.start()
    settings = broker.mqtt_settings("hub")
    statuses: queue.Queue[KioskStatusMessage] = queue.Queue()
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-status")
    listener.username_pw_set(settings.username, settings.password())
    listener.on_message = lambda _c, _u, m: statuses.put(decode_kiosk_status(m.payload))
    listener.connect("127.0.0.1", broker.port)
    listener.loop_start()
    try:
        wait_for(lambda: uplink.connected)
        listener.subscribe(topics.status(UNIT_CODE, "kiosk-q1"), qos=1)  # retained
        status = statuses.get(timeout=10)
        assert status.online
        assert (status.buffer_depth, status.oldest_pending_seq) == (3, 1)
        assert status.devices == {"scanner": "ok"}
        assert status.last_scan_at is not None
        assert status.last_ack_at is None  # no hub has acknowledged anything yet
    finally:
        listener.loop_stop()
        listener.disconnect()
        uplink.stop()


class FullDiskOutbox(Outbox):
    """The real outbox, whose writes fail while ``full`` is set, as on a full disk."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.full = threading.Event()
        self.failed_writes = 0

    def _refuse(self) -> None:
        if self.full.is_set():
            self.failed_writes += 1
            raise OutboxError("outbox acknowledge: database or disk is full") from OperationalError(
                "DELETE", {}, sqlite3.OperationalError("database or disk is full")
            )

    def acknowledge(self, results: Iterable[AckOutcome]) -> int:
        self._refuse()
        return super().acknowledge(results)

    def save_unit_config(self, payload: bytes) -> None:
        self._refuse()
        super().save_unit_config(payload)

    def mark_sent(self, ids: Iterable[UUID], now: datetime) -> None:
        self._refuse()
        super().mark_sent(ids, now)


def test_an_outbox_that_cannot_write_does_not_end_the_network_thread(
    broker: Broker, tmp_path: Path
) -> None:
    """A full disk makes applying an ack fail; once there is room again, acks are applied: the
    failure must not have ended paho's network thread (it had, leaving the kiosk deaf for good)."""
    box = FullDiskOutbox(tmp_path / "outbox.db")
    hub = HubPeer(broker)
    uplink = _uplink(broker, box, resend_after=0.5)
    try:
        rating = box.append(lambda seq: make_rating(seq=seq))
        box.full.set()
        uplink.start()
        wait_for(lambda: box.failed_writes >= 3 and len(hub.received) >= 2)
        assert box.depth() == 1  # acks arrived and could not be applied: the rating stays
        box.full.clear()  # an operator freed some space
        wait_for(lambda: box.depth() == 0)
        assert uplink.connected
        assert set(hub.received) == {str(rating.id)}
    finally:
        uplink.stop()
        hub.close()
        box.close()


def test_an_open_rating_is_published_only_once_closed_and_with_its_answers(
    broker: Broker, outbox: Outbox
) -> None:
    """A citizen still on the reasons or survey screen: their rating is on disk, held back."""
    hub = HubPeer(broker)
    uplink = _uplink(broker, outbox, resend_after=0.2)
    uplink.start()
    try:
        wait_for(lambda: uplink.connected)
        before = outbox.append(lambda seq: make_rating(seq=seq))
        tapped = make_rating(seq=2).id

        def answered(*reasons: str) -> Callable[[int], RatingMessage]:
            return lambda seq: make_rating(id=tapped, seq=seq, reasons=reasons)

        outbox.save(tapped, answered(), close=False)
        outbox.save(tapped, answered("late"), close=False)
        uplink.notify_new()
        wait_for(lambda: outbox.depth() == 0)  # the closed one went and was acknowledged
        for _ in range(3):  # several passes over the outbox, each skipping the open rating
            uplink.notify_new()
            time.sleep(0.3)
        assert hub.received == [str(before.id)]
        assert outbox.open_count() == 1
        status = decode_kiosk_status(uplink._status(online=True))
        assert status.oldest_pending_seq == 2  # the hub's gap report waits for it
        outbox.save(tapped, answered("late", "rude"), close=True)
        uplink.notify_new()
        wait_for(lambda: outbox.depth() == 0)
        assert [r.id for r in hub.ratings] == [before.id, tapped]
        assert (hub.ratings[1].seq, hub.ratings[1].reasons) == (2, ("late", "rude"))
    finally:
        uplink.stop()
        hub.close()
