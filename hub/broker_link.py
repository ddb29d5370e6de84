"""The hub's link to the broker: the MQTT client, what arrives on it, and what goes out.

It exists apart from :mod:`hub.service` because everything paho touches is here and nothing else
is: the client (paho's own, or with ``[hub] mqtt_fast_path`` :class:`hailong.mqtt.Client`, same
API, fewer system calls and less paho work per message), its callbacks (they run on paho's
network thread and only queue), the PUBACKs a committed batch earns (paho's manual acks), and
publishing. The hub speaks MQTT 5 for one reason: its Receive Maximum lets the broker send it more
ratings than Mosquitto's ``max_inflight_messages`` (100) before their PUBACKs, so a batch can fill
while the previous one commits. A single hub keeps a persistent session (``clean_start=False``,
never expiring); shared workers start clean (see :mod:`hub.service`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hailong.mqtt import Client as FastClient
from hailong.mqtt import log_in
from hailong.settings import MqttSettings
from hub.ingest_counters import IngestCounters
from hub.statuses import StatusKeeper

# The ingest logs under one name, whichever of its modules speaks (as before the split).
log = logging.getLogger("hub.service")
# Unconfirmed QoS 1 publishes (acks, notices) paho keeps on the wire at once.
HUB_IN_FLIGHT = 1000
# Ratings the broker may send before their PUBACKs (MQTT 5's Receive Maximum, its largest value):
# they are acknowledged only once committed, and a batch that fails to commit keeps its share.
RECEIVE_MAXIMUM = 65535
# A single hub's session outlives any restart, as MQTT 3's persistent session did.
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
# A message waiting for the worker: topic, payload, and what PUBACKs it once it is handled (its
# packet id, and the connection it came on).
Received = tuple[str, bytes, int, int]


def _confirmed(info: mqtt.MQTTMessageInfo) -> bool:
    """Whether the broker has confirmed it; a message dropped with the connection counts as done
    (paho raises for those), since only the kiosks' resend can make up for it."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return True


class BrokerLink:
    """One MQTT connection of the hub: ratings go to ``inbox``, statuses to ``statuses``;
    ``on_connected`` runs on every (re)connection, before subscribing."""

    def __init__(
        self,
        mqtt_settings: MqttSettings,
        *,
        fast_path: bool,
        client_id: str,
        group: str | None,
        ratings_filter: str,
        status_filter: str,
        inbox: queue.SimpleQueue[Received],
        statuses: StatusKeeper,
        counters: IngestCounters,
        on_connected: Callable[[], None],
    ) -> None:
        self.mqtt_settings = mqtt_settings
        self.client_id = client_id
        self.group = group
        self.ratings_filter = ratings_filter
        self.status_filter = status_filter
        self._inbox = inbox
        self._statuses = statuses
        self._counters = counters
        self._on_connected = on_connected
        # Which connection to the broker this is: a packet id is acknowledged only on the
        # connection it came on (the worker acks, the network thread counts, under the lock).
        self._link = 0
        self._ack_lock = threading.Lock()
        # Set once the broker confirmed the hub's subscriptions (cleared on disconnect).
        self.ready = threading.Event()
        self._unsubscribed = threading.Event()
        # Stopping: take no more ratings (single hub: leave them unacknowledged at the broker).
        self.closing = threading.Event()
        self._unconfirmed: deque[mqtt.MQTTMessageInfo] = deque()
        self._publish_lock = threading.Lock()  # the worker and the web threads publish
        self._lost_broker_at: float | None = None
        self.client = self._make_client(fast_path)

    @property
    def network_alive(self) -> bool:
        """Whether paho's network thread runs (it reconnects to the broker by itself)."""
        thread = getattr(self.client, "_thread", None)  # paho keeps no public handle on it
        return isinstance(thread, threading.Thread) and thread.is_alive()

    def _make_client(self, fast: bool) -> mqtt.Client:
        client = (FastClient if fast else mqtt.Client)(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        log_in(client, self.mqtt_settings)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        # Acks and notices go out without waiting on the broker's PUBACK round trip: paho's 20
        # in flight let a burst's acks queue up in this process.
        client.max_inflight_messages_set(HUB_IN_FLIGHT)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        if isinstance(client, FastClient):
            client.take_publish = self.take
        client.on_subscribe = lambda *_args: self.ready.set()
        client.on_unsubscribe = lambda *_args: self._unsubscribed.set()
        client.on_disconnect = self._on_disconnect
        return client

    def connect(self) -> None:
        """Connect in the background and start paho's network thread (it reconnects)."""
        mqtt_settings = self.mqtt_settings
        # Shared workers start clean and end their session with the connection (see hub.service).
        session = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        session.ReceiveMaximum = RECEIVE_MAXIMUM
        if self.group is None:
            session.SessionExpiryInterval = SESSION_NEVER_EXPIRES
        self.client.connect_async(
            mqtt_settings.host,
            mqtt_settings.port,
            mqtt_settings.keepalive,
            clean_start=self.group is not None,
            properties=session,
        )
        self.client.loop_start()

    def leave_group(self, timeout: float) -> None:
        """A shared worker unsubscribes from the ratings: the broker sends the rest to the other
        workers; what it sent before the UNSUBACK is already queued here."""
        if self.group is not None and self.ready.is_set():
            self.client.unsubscribe(self.ratings_filter)
            self._unsubscribed.wait(min(5.0, timeout))

    def close(self, deadline: float) -> None:
        """Wait (until the ``time.monotonic`` deadline) for the broker to confirm what was
        published, then disconnect and end paho's network thread."""
        for info in self._unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if not _confirmed(info):
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(remaining)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        """Subscribe and publish the catalogue; never raises (an exception in a callback ends
        paho's network thread)."""
        try:
            if reason.is_failure:
                log.error("%s: the broker refused the hub: %s", self.client_id, reason)
                return
            if self.closing.is_set():
                return
            if self._lost_broker_at is not None:
                away = time.monotonic() - self._lost_broker_at
                log.warning("%s: back on the broker after %.0f s", self.client_id, away)
                self._lost_broker_at = None
            else:
                log.info(
                    "%s connected to the broker; publishing unit configuration", self.client_id
                )
            self._on_connected()
            # Statuses are not shared: every worker keeps the latest per kiosk (an idempotent
            # upsert), and a shared subscription would not receive the retained ones.
            client.subscribe([(self.ratings_filter, 1), (self.status_filter, 1)])
        except Exception:
            log.exception("%s: error on connecting; paho reconnects", self.client_id)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self.ready.clear()
        with self._ack_lock:
            self._link += 1  # the packet ids of the old connection mean nothing on the next
        if self.closing.is_set():
            log.info("%s disconnected from the broker", self.client_id)
            return
        if self._lost_broker_at is None:
            self._lost_broker_at = time.monotonic()
            self._counters.broker_disconnects += 1
            log.warning(
                "%s lost the broker (%s); reconnecting every 1-10 s, the kiosks keep their ratings",
                self.client_id,
                reason,
            )

    def take(self, topic: str, payload: bytes, mid: int = 0) -> bool:
        """Queue a message for the worker; whether to acknowledge it to the broker now (a status:
        the latest one is kept anyway) or leave that to the worker (a rating, once committed).

        With the fast path QoS 1 messages come here straight off the client's read buffer
        (``Client.take_publish``); otherwise, and for QoS 0 ones, through ``on_message``.
        """
        if topic.endswith("/status"):
            self._statuses.put(topic, payload)
            return True
        if self.closing.is_set():
            # Not acknowledged to the broker: a persistent session gets it again next time.
            return False
        self._inbox.put((topic, payload, mid, self._link))
        self._counters.received += 1
        return False

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self.take(message.topic, bytes(message.payload), message.mid):
            client.ack(message.mid, message.qos)

    def acknowledge(self, batch: list[Received]) -> None:
        """PUBACK a batch whose every message is committed or dead-lettered. A message that came
        on an earlier connection is left: the broker resends it to a persistent session (the
        kiosk hears "duplicate"), and its packet id may name another message now."""
        with self._ack_lock:
            mids = [mid for _topic, _payload, mid, link in batch if link == self._link]
            if isinstance(self.client, FastClient):
                self.client.ack_many(mids)
                return
            for mid in mids:
                self.client.ack(mid, 1)

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        expiry_s: int | None = None,
    ) -> bool:
        """Hand one QoS 1 message to paho; False when it could not even be queued (no link).

        The kiosks resend whatever they never see acknowledged, so a lost ack costs a
        duplicate, never a rating; ``close`` waits for the queued ones. ``expiry_s``: the
        broker discards the message that many seconds on, undelivered (MQTT 5 message expiry,
        for a return offer whose citizen has left).
        """
        properties = None
        if expiry_s is not None:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.MessageExpiryInterval = expiry_s
        with self._publish_lock:
            info = self.client.publish(
                topic, payload, qos=qos, retain=retain, properties=properties
            )
            # The broker confirms in about the order sent: trimming from the front keeps this
            # O(1) a publish; a full rescan per publish made a 100-kiosk burst quadratic.
            while self._unconfirmed and _confirmed(self._unconfirmed[0]):
                self._unconfirmed.popleft()
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return False
            self._unconfirmed.append(info)
            return True
