"""Publishing the outbox to the hub over MQTT, and applying the hub's acknowledgements.

The outbox is the queue: the uplink publishes only while connected (paho would otherwise pile up
messages in memory), republishes whatever is due on every (re)connection and every few seconds,
and deletes nothing itself: only an ack from the hub (sent after its commit) empties the outbox.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hailong import __version__
from hailong.contract import topics
from hailong.contract.messages import (
    ContractError,
    KioskStatusMessage,
    UnitConfigMessage,
    decode_ack,
    decode_rated,
    decode_returned,
    decode_unit_config,
)
from hailong.mqtt import log_in
from hailong.settings import MqttSettings
from kiosk.outbox import Outbox

log = logging.getLogger(__name__)
STATUS_EVERY_S = 60.0


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
    ) -> None:
        self.settings = mqtt_settings
        self.unit, self.kiosk, self.outbox = unit, kiosk, outbox
        self.resend_after = resend_after
        self.on_config = on_config
        self.on_change = on_change
        self.connected = False
        self.last_ack_at: datetime | None = None
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._resender = threading.Thread(target=self._resend_loop, name="uplink", daemon=True)
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        # A persistent session: acks and "already rated" notices published while the kiosk was
        # offline wait at the broker for it.
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.kiosk, clean_session=False)
        log_in(client, self.settings)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        offline = KioskStatusMessage(kiosk=self.kiosk, online=False, version=__version__)
        client.will_set(
            topics.status(self.unit, self.kiosk), offline.to_bytes(), qos=1, retain=True
        )
        client.on_connect = self._on_connect
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
        if self.connected:
            status = self._status(online=False)
            self._client.publish(topics.status(self.unit, self.kiosk), status, qos=1, retain=True)
        self._client.disconnect()
        self._client.loop_stop()
        self._resender.join(timeout=5)

    def notify_new(self) -> None:
        """A rating was just committed to the outbox: send it now if the hub is reachable."""
        self.flush()

    def flush(self, resend_after: float | None = None) -> int:
        """Publish every due rating; returns how many were handed to the broker."""
        if not self.connected:
            return 0
        wait = self.resend_after if resend_after is None else resend_after
        with self._send_lock:
            now = datetime.now(UTC)
            due = self.outbox.due(now, wait)
            topic = topics.ratings(self.unit, self.kiosk)
            sent = []
            for rating_id, payload in due:
                info = self._client.publish(topic, payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    break  # connection dropped mid-flush; the rest stays due
                sent.append(rating_id)
            self.outbox.mark_sent(sent, now)
        return len(sent)

    def _status(self, *, online: bool) -> bytes:
        return KioskStatusMessage(
            kiosk=self.kiosk,
            online=online,
            buffer_depth=self.outbox.depth(),
            version=__version__,
            refusals=self.outbox.refusals(),
            at=datetime.now(UTC),
        ).to_bytes()

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused kiosk %s: %s", self.kiosk, reason)
            return
        client.subscribe(
            [
                (topics.acks(self.unit, self.kiosk), 1),
                (topics.unit_config(self.unit), 1),
                (topics.rated(self.unit), 1),
                (topics.returned(self.unit), 1),
            ]
        )

    def _on_subscribed(self) -> None:
        self.connected = True
        status = self._status(online=True)
        self._client.publish(topics.status(self.unit, self.kiosk), status, qos=1, retain=True)
        # Everything pending is due again: acks may have been lost with the old connection.
        self.flush(resend_after=0)
        self._changed()

    def _on_disconnect(self, *_args: Any) -> None:
        self.connected = False
        self._changed()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload)
        try:
            if message.topic.endswith("/acks"):
                ack = decode_ack(payload)
                self.outbox.acknowledge(ack.results)
                self.last_ack_at = datetime.now(UTC)
            elif message.topic == topics.rated(self.unit):
                self.outbox.mark_rated(decode_rated(payload).receipts)
            elif message.topic == topics.returned(self.unit):
                self.outbox.mark_returned(r.code for r in decode_returned(payload).receipts)
            else:
                config = decode_unit_config(payload)
                self.outbox.save_unit_config(payload)
                if self.on_config:
                    self.on_config(config)
        except ContractError as exc:
            log.warning("ignoring a malformed message on %s: %s", message.topic, exc.reason)
            return
        self._changed()

    def _resend_loop(self) -> None:
        interval = max(0.2, min(5.0, self.resend_after / 2))
        last_status = time.monotonic()
        while not self._stop.wait(interval):
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
