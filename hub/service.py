"""The hub's MQTT side: receive ratings, commit them in batches, acknowledge only after the commit.

paho's network thread only enqueues messages; a worker thread drains the queue in batches (up to
``max_batch`` messages or ``max_wait`` seconds), classifies, stores accepted ratings and dead letters
in one transaction, commits, and only then publishes one ack per kiosk. If the commit fails (the
database is gone, the disk is full) the batch is retried with back-off and nothing is acknowledged,
so the kiosks keep their copies: the broker's PUBACK is never what makes a rating safe.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import (
    AckMessage,
    AckOutcome,
    ContractError,
    KioskStatusMessage,
    RatedMessage,
    RatedReceipt,
    ReturnedMessage,
    decode_kiosk_status,
)
from hailong.settings import HubSettings, Unit
from hub.domain.ingest import Accepted, Rejected, attribute, classify
from hub.store.ratings import (
    mark_announced,
    pending_returns,
    receipt_facts,
    save_kiosk_status,
    store_batch,
    store_dead_letter,
)

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_S = 1.0


@dataclass
class IngestCounters:
    """Running totals, for tests now and for the operators' metrics later."""

    stored: int = 0
    duplicates: int = 0
    already_rated: int = 0
    dead_letters: int = 0
    batches: int = 0
    commit_failures: int = 0
    acks_published: int = 0


def _code(accepted: Accepted) -> str:
    receipt = accepted.rating.receipt
    return receipt.code if receipt else ""


class HubService:
    def __init__(
        self,
        settings: HubSettings,
        unit: Unit,
        sessions: sessionmaker[Session],
        *,
        max_batch: int = 500,
        max_wait: float = 0.02,
        client_id: str = "hailong-hub",
    ) -> None:
        self.settings = settings
        self.unit = unit
        self.sessions = sessions
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.counters = IngestCounters()
        self._inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._statuses: queue.Queue[tuple[str, bytes]] = queue.Queue()
        # Set once the broker confirmed the hub's subscriptions (cleared on disconnect).
        self.ready = threading.Event()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name="hub-ingest", daemon=True)
        self._client = self._make_client(client_id)

    # -- MQTT ---------------------------------------------------------------------------------

    def _make_client(self, client_id: str) -> mqtt.Client:
        mqtt_settings = self.settings.mqtt
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        client.username_pw_set(mqtt_settings.username, mqtt_settings.password())
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_subscribe = lambda *_args: self.ready.set()
        client.on_disconnect = lambda *_args: self.ready.clear()
        return client

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the hub: %s", reason)
            return
        log.info("connected to the broker; publishing unit configuration")
        config = self.unit.to_message().to_bytes()
        client.publish(topics.unit_config(self.unit.unit.code), config, qos=1, retain=True)
        client.subscribe([(topics.RATINGS_SUBSCRIPTION, 1), (topics.STATUS_SUBSCRIPTION, 1)])

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic.endswith("/status"):
            self._statuses.put((message.topic, bytes(message.payload)))
        else:
            self._inbox.put((message.topic, bytes(message.payload)))

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._worker.start()
        mqtt_settings = self.settings.mqtt
        self._client.connect_async(mqtt_settings.host, mqtt_settings.port, mqtt_settings.keepalive)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._stopping.set()
        self._worker.join(timeout=10)

    def __enter__(self) -> HubService:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- ingest worker ------------------------------------------------------------------------

    def _work(self) -> None:
        next_announcement = 0.0
        while not self._stopping.is_set():
            if time.monotonic() >= next_announcement:
                next_announcement = time.monotonic() + ANNOUNCE_EVERY_S
                self._announce_returns()
                self._save_statuses()
            batch = self._next_batch()
            if not batch:
                continue
            try:
                self._ingest_until_committed(batch)
            except Exception:  # the worker must outlive any single bad batch
                log.exception("unexpected error while ingesting a batch")

    def _next_batch(self) -> list[tuple[str, bytes]]:
        try:
            batch = [self._inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _ingest_until_committed(self, batch: list[tuple[str, bytes]]) -> None:
        delay = 0.1
        while not self._stopping.is_set():
            try:
                acks, rated = self._commit(batch)
            except SQLAlchemyError as exc:
                self.counters.commit_failures += 1
                log.warning(
                    "commit failed (%s); retrying in %.1f s, nothing acknowledged", exc, delay
                )
                self._stopping.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._publish_acks(acks)
            self._publish_rated(rated)
            return
        log.warning("stopping with an uncommitted batch of %d; kiosks will resend it", len(batch))

    def _commit(
        self, batch: list[tuple[str, bytes]]
    ) -> tuple[dict[tuple[str, str], list[AckOutcome]], dict[str, list[RatedReceipt]]]:
        """Store the batch in one transaction; returns the acks per kiosk and, per unit, the
        receipts that now have their rating (for the other kiosks' "already rated" lists)."""
        now = datetime.now(UTC)
        verdicts = [classify(topic, payload) for topic, payload in batch]
        accepted = [v for v in verdicts if isinstance(v, Accepted)]
        rejected = [v for v in verdicts if isinstance(v, Rejected)]
        acks: dict[tuple[str, str], list[AckOutcome]] = defaultdict(list)
        with self.sessions.begin() as session:
            codes = {a.rating.receipt.code for a in accepted if a.rating.receipt}
            facts = receipt_facts(session, codes)
            items = [
                (a.rating, attribute(a.rating, facts.get(_code(a)), self.unit)) for a in accepted
            ]
            outcomes = store_batch(session, items, now)
            for r in rejected:
                store_dead_letter(session, r.topic, r.payload, r.reason, now)
        self._count(outcomes, len(rejected))
        rated: dict[str, list[RatedReceipt]] = defaultdict(list)
        for (rating, attribution), outcome in zip(items, outcomes, strict=True):
            acks[(rating.unit, rating.kiosk)].append(outcome)
            if rating.receipt is not None and outcome.outcome == "stored":
                notice = RatedReceipt(code=rating.receipt.code, stage=attribution.stage)
                rated[rating.unit].append(notice)
        for r in rejected:
            if r.identity is not None and r.kiosk is not None:
                rid, seq = r.identity
                outcome = AckOutcome(id=rid, seq=seq, outcome="rejected", reason=r.reason[:200])
                acks[(r.kiosk.unit, r.kiosk.kiosk)].append(outcome)
        return acks, rated

    def _count(self, outcomes: list[AckOutcome], dead: int) -> None:
        self.counters.batches += 1
        self.counters.stored += sum(o.outcome == "stored" for o in outcomes)
        self.counters.duplicates += sum(o.outcome == "duplicate" for o in outcomes)
        self.counters.already_rated += sum(o.outcome == "already_rated" for o in outcomes)
        self.counters.dead_letters += dead

    def _publish_acks(self, acks: dict[tuple[str, str], list[AckOutcome]]) -> None:
        for (unit, kiosk), outcomes in acks.items():
            message = AckMessage(results=tuple(outcomes))
            self._client.publish(topics.acks(unit, kiosk), message.to_bytes(), qos=1)
            self.counters.acks_published += len(outcomes)

    def _save_statuses(self) -> None:
        """Kiosk statuses (retained, small, rare): the latest per kiosk, for the operators."""
        pending: list[tuple[str, KioskStatusMessage]] = []
        while not self._statuses.empty():
            topic, payload = self._statuses.get_nowait()
            try:
                origin = topics.parse_kiosk_topic(topic)
                status = decode_kiosk_status(payload)
            except (ContractError, topics.TopicError) as exc:
                log.warning("ignoring a malformed status on %s: %s", topic, exc)
                continue
            if status.kiosk == origin.kiosk:
                pending.append((origin.unit, status))
        if not pending:
            return
        try:
            with self.sessions.begin() as session:
                for unit, status in pending:
                    save_kiosk_status(session, unit, status, datetime.now(UTC))
        except SQLAlchemyError as exc:
            log.warning("could not save kiosk statuses: %s", exc)

    def _announce_returns(self) -> None:
        """Tell the kiosks about results handed back (by any path: CLI, staff page, API).

        The register is the outbox here: a return is marked announced only once published, so a
        hub restart or a broker outage delays the notice but never loses it.
        """
        try:
            with self.sessions.begin() as session:
                returned = pending_returns(session, self.unit.unit.code)
                if not returned:
                    return
                message = ReturnedMessage(receipts=tuple(returned))
                info = self._client.publish(
                    topics.returned(self.unit.unit.code), message.to_bytes(), qos=1
                )
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    session.rollback()
                    return
                mark_announced(session, [r.code for r in returned])
        except SQLAlchemyError as exc:
            log.warning("could not announce returns yet: %s", exc)

    def _publish_rated(self, rated: dict[str, list[RatedReceipt]]) -> None:
        for unit, receipts in rated.items():
            for start in range(0, len(receipts), 500):
                message = RatedMessage(receipts=tuple(receipts[start : start + 500]))
                self._client.publish(topics.rated(unit), message.to_bytes(), qos=1)
