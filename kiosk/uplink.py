"""Publishing the outbox to the hub over MQTT, and applying the hub's acknowledgements.

The outbox is the queue (of ratings, and of abandoned sessions, which are published on the same
topic from the same sequence and acknowledged the same way: the uplink sends the stored bytes and
need not tell them apart): the uplink publishes only while connected (paho would otherwise pile up
messages in memory), republishes whatever is due on every (re)connection and every few seconds,
and deletes nothing itself: only an ack from the hub (sent after its commit) empties the outbox.

Publishing happens on the uplink's own thread, never on the Qt thread (``notify_new`` only wakes
it) nor on paho's network thread (which must keep reading acks). It walks the outbox in seq order
and keeps at most ``window`` ratings published and not yet acknowledged; each ack makes room for
more. So a kiosk back online with 100,000 buffered ratings holds a few thousand payloads in memory,
not all of them; the hub is fed steadily rather than flooded; and a rating is resent only when its
own ack is overdue (``resend_after``, stretched while the hub answers resends "duplicate": see
:mod:`kiosk.domain.resend`), not because the hub was still busy with the ones before it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hailong import __version__
from hailong.contract import topics
from hailong.contract.messages import (
    AckOutcome,
    ContractError,
    DeviceState,
    KioskStatusMessage,
    UnitConfigMessage,
    decode_ack,
    decode_rated,
    decode_returned,
    decode_unit_config,
)
from hailong.contract.return_offer import ReturnOfferMessage, decode_return_offer
from hailong.mqtt import log_in
from hailong.settings import MqttSettings
from kiosk.domain.resend import ResendPatience
from kiosk.outbox import Outbox, OutboxError

log = logging.getLogger(__name__)
STATUS_EVERY_S = 60.0
# Ratings published and not yet acknowledged by the hub, at most: enough to keep a hub that commits
# in batches of 1000 busy while the acks of the previous batch travel back; few enough that their
# payloads (about 400 bytes each) are nothing in memory.
DEFAULT_WINDOW = 4000
# Ratings read from the outbox and published per step.
PUBLISH_CHUNK = 500
# Publishes paho sends before the broker's PUBACKs (measured with bench/backlog.py: 20 feeds the
# hub 4,000 ratings/s, 200 over 6,000 on 2 CPUs; 500 is no faster).
MQTT_IN_FLIGHT = 200


@dataclass
class DeviceReport:
    """What the kiosk has seen of its devices, for its status. The Qt thread writes, the uplink
    thread reads: plain values, no reference back to the Qt side."""

    # A keyboard-mode USB scanner cannot be probed: "unknown" until it delivers a scan.
    states: dict[str, DeviceState] = field(default_factory=lambda: {"scanner": "unknown"})
    last_scan_at: datetime | None = None

    def scanned(self, at: datetime) -> None:
        self.last_scan_at = at
        self.states["scanner"] = "ok"


class Uplink:
    def __init__(
        self,
        mqtt_settings: MqttSettings,
        unit: str,
        kiosk: str,
        outbox: Outbox,
        *,
        resend_after: float = 30.0,
        on_config: Callable[[UnitConfigMessage], None] | None = None,
        on_change: Callable[[], None] | None = None,
        window: int = DEFAULT_WINDOW,
        on_acked: Callable[[tuple[AckOutcome, ...]], None] | None = None,
        on_offer: Callable[[ReturnOfferMessage], None] | None = None,
    ) -> None:
        self.settings = mqtt_settings
        self.unit, self.kiosk, self.outbox = unit, kiosk, outbox
        self.resend_after = resend_after
        # The wait actually used: longer while the hub answers resends "duplicate".
        self.patience = ResendPatience(resend_after)
        self.on_config = on_config
        self.on_change = on_change
        # Told the hub's verdicts once the outbox applied them (the button box lights up on it).
        self.on_acked = on_acked
        # Told the hub's offers of a rating at the return (the controller shows them when idle).
        self.on_offer = on_offer
        self.devices = DeviceReport()
        self.connected = False
        # Link changes are logged once each: the first failed attempt of an outage is a
        # warning, the retries (every 1-30 s) only debug lines.
        self._link_down_logged = False
        self.last_ack_at: datetime | None = None
        self.window = max(1, window)
        self._send_lock = threading.Lock()
        # Published and not yet acknowledged: id -> time.monotonic() of sending. Emptied when a
        # new connection's first pass starts, since that pass publishes every pending rating.
        self._in_flight: dict[UUID, float] = {}
        self._in_flight_lock = threading.Lock()
        # The last seq published in the current pass over the outbox (0: start from the oldest).
        self._cursor = 0
        # Set on each new connection: the next pass publishes every pending rating (acks may have
        # been lost with the old connection), not only those whose resend_after ran out.
        self._new_connection = threading.Event()
        self._full_pass = False
        # Wakes the uplink thread: a new rating, a new connection, an ack that made room, stop.
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._resender = threading.Thread(target=self._resend_loop, name="uplink", daemon=True)
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        # A persistent session: acks and "already rated" notices published while the kiosk was
        # offline wait at the broker for it.
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.kiosk, clean_session=False)
        log_in(client, self.settings)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        # paho's default of 20 unacknowledged publishes makes a drain wait on round trips to the
        # broker (the hub then gets half-full batches); the window bounds memory, not this.
        client.max_inflight_messages_set(MQTT_IN_FLIGHT)
        offline = KioskStatusMessage(kiosk=self.kiosk, online=False, version=__version__)
        client.will_set(
            topics.status(self.unit, self.kiosk), offline.to_bytes(), qos=1, retain=True
        )
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = lambda *_args: self._on_subscribed()
        return client

    def start(self) -> None:
        self._client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive)
        self._client.loop_start()
        self._resender.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self.connected:
            status = self._status(online=False)
            topic = topics.status(self.unit, self.kiosk)
            info = self._client.publish(topic, status, qos=1, retain=True)
            # The broker's PUBACK before the DISCONNECT, so "offline" is really recorded.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2)
        self._client.disconnect()
        self._client.loop_stop()
        self._resender.join(timeout=5)

    def notify_new(self) -> None:
        """A rating was just committed to the outbox: have the uplink thread send it now if the hub
        is reachable. Called on the Qt thread, so it only wakes that thread."""
        self._wake.set()

    def flush(self) -> int:
        """Publish due ratings, oldest first, while fewer than ``window`` await the hub's ack;
        returns how many were handed to the broker. Runs on the uplink thread.

        One pass walks the outbox from the oldest pending rating to the newest (``_cursor`` keeps
        its place between calls while the window is full); a rating is due if never sent, sent
        more than ``resend_after`` seconds ago, or, in the first pass of a connection, pending at
        all. The pass ends when nothing after the cursor is due; the next starts from the oldest
        again and picks up ratings whose ack is overdue.
        """
        if not self.connected:
            return 0
        total = 0
        with self._send_lock:
            if self._new_connection.is_set():
                self._new_connection.clear()
                self._cursor, self._full_pass = 0, True
                with self._in_flight_lock:
                    self._in_flight.clear()  # this pass publishes them all again
            topic = topics.ratings(self.unit, self.kiosk)
            while self.connected and not self._stop.is_set():
                room = self._room()
                if room <= 0:
                    break  # an ack makes room and wakes the uplink thread
                now = datetime.now(UTC)
                wait = 0.0 if self._full_pass else self.patience.wait
                due = self.outbox.due_batch(
                    now, wait, after_seq=self._cursor, limit=min(room, PUBLISH_CHUNK)
                )
                if not due:
                    self._cursor, self._full_pass = 0, False
                    break
                # In flight before publishing: an ack may beat the end of this loop.
                sent_at = time.monotonic()
                with self._in_flight_lock:
                    for rating in due:
                        self._in_flight[rating.id] = sent_at
                sent = []
                for rating in due:
                    info = self._client.publish(topic, rating.payload, qos=1)
                    if info.rc != mqtt.MQTT_ERR_SUCCESS:
                        break  # connection dropped mid-flush; the rest stays due
                    sent.append(rating)
                if len(sent) < len(due):
                    with self._in_flight_lock:
                        for rating in due[len(sent) :]:
                            self._in_flight.pop(rating.id, None)
                self.outbox.mark_sent([rating.id for rating in sent], now)
                total += len(sent)
                if len(sent) < len(due):
                    break
                self._cursor = sent[-1].seq
        return total

    def _room(self) -> int:
        """How many more ratings the window takes. A rating whose ack is overdue no longer counts:
        its ack is presumed lost and it is due again (the hub takes a second copy harmlessly)."""
        overdue = time.monotonic() - self.patience.wait
        with self._in_flight_lock:
            if len(self._in_flight) >= self.window:
                lost = [key for key, sent_at in self._in_flight.items() if sent_at <= overdue]
                for key in lost:
                    del self._in_flight[key]
            return self.window - len(self._in_flight)

    def _status(self, *, online: bool) -> bytes:
        return KioskStatusMessage(
            kiosk=self.kiosk,
            online=online,
            buffer_depth=self.outbox.depth(),
            version=__version__,
            refusals=self.outbox.refusals(),
            at=datetime.now(UTC),
            last_ack_at=self.last_ack_at,
            oldest_pending_seq=self.outbox.oldest_pending_seq(),
            devices=dict(self.devices.states),
            last_scan_at=self.devices.last_scan_at,
        ).to_bytes()

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused kiosk %s: %s", self.kiosk, reason)
            return
        log.info(
            "kiosk %s connected to the broker at %s:%d",
            self.kiosk,
            self.settings.host,
            self.settings.port,
        )
        self._link_down_logged = False
        client.subscribe(
            [
                (topics.acks(self.unit, self.kiosk), 1),
                (topics.unit_config(self.unit), 1),
                (topics.rated(self.unit), 1),
                (topics.returned(self.unit), 1),
                (topics.offers(self.unit, self.kiosk), 1),
            ]
        )

    def _on_subscribed(self) -> None:
        # Everything pending is due again: acks may have been lost with the old connection. Set
        # before ``connected``, so no flush publishes on this connection ahead of the full pass
        # (which would send those ratings twice).
        self._new_connection.set()
        self.connected = True
        status = self._status(online=True)
        self._client.publish(topics.status(self.unit, self.kiosk), status, qos=1, retain=True)
        self._wake.set()
        self._changed()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        was_connected, self.connected = self.connected, False
        if self._stop.is_set():
            log.info("kiosk %s disconnected from the broker (stopping)", self.kiosk)
        elif was_connected or not self._link_down_logged:
            self._link_down_logged = True
            log.warning(
                "kiosk %s lost the broker at %s:%d (%s); reconnecting, ratings wait in the outbox",
                self.kiosk,
                self.settings.host,
                self.settings.port,
                reason,
            )
        self._changed()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        """paho could not reach the broker (refused, unreachable, TLS failure); it retries."""
        level = logging.DEBUG if self._link_down_logged else logging.WARNING
        self._link_down_logged = True
        log.log(
            level,
            "kiosk %s cannot reach the broker at %s:%d; reconnecting (every 1-30 s)",
            self.kiosk,
            self.settings.host,
            self.settings.port,
        )

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload)
        try:
            if message.topic.endswith("/acks"):
                ack = decode_ack(payload)
                self.outbox.acknowledge(ack.results)
                self.patience.acked(ack.results, nothing_pending=self.outbox.depth() == 0)
                self.last_ack_at = datetime.now(UTC)
                with self._in_flight_lock:
                    for result in ack.results:
                        self._in_flight.pop(result.id, None)
                self._wake.set()  # room in the window: publish the next ratings
                if self.on_acked:
                    self.on_acked(tuple(ack.results))
            elif message.topic == topics.rated(self.unit):
                self.outbox.mark_rated(decode_rated(payload).receipts)
            elif message.topic == topics.returned(self.unit):
                self.outbox.mark_returned(r.code for r in decode_returned(payload).receipts)
            elif message.topic == topics.offers(self.unit, self.kiosk):
                offer = decode_return_offer(payload)
                if self.on_offer:
                    self.on_offer(offer)
            else:
                config = decode_unit_config(payload)
                self.outbox.save_unit_config(payload)
                if self.on_config:
                    self.on_config(config)
        except ContractError as exc:
            log.warning("ignoring a malformed message on %s: %s", message.topic, exc.reason)
            return
        except OutboxError:
            # The outbox could not record it (its disk is full, say). Raising here would end
            # paho's network thread for good: no ack would ever be read again, even once the disk
            # has room. An ack not applied costs a resend, which the hub answers "duplicate".
            log.exception("could not apply a message on %s to the outbox", message.topic)
            return
        self._changed()

    def _resend_loop(self) -> None:
        interval = max(0.2, min(5.0, self.resend_after / 2))
        last_status = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(interval)
            self._wake.clear()  # before flushing: a wake-up during the flush is not lost
            if self._stop.is_set():
                break
            try:
                self.flush()
                if self.connected and time.monotonic() - last_status >= STATUS_EVERY_S:
                    last_status = time.monotonic()
                    self.publish_status()
            except Exception:  # never let the resender die
                log.exception("resend failed")

    def publish_status(self) -> None:
        """The retained status the hub shows operators: link, buffer depth, refusals."""
        if self.connected:
            status = self._status(online=True)
            self._client.publish(topics.status(self.unit, self.kiosk), status, qos=1, retain=True)

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()
