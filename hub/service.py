"""The hub's MQTT side: receive ratings, commit them in batches, acknowledge only after the commit.

paho's network thread only enqueues messages; a worker thread drains the queue in batches (up to
``max_batch`` messages or ``max_wait`` seconds), classifies, stores accepted ratings and dead letters
in one transaction, commits, and only then publishes one ack per kiosk. If the commit fails (the
database is gone, the disk is full) the batch is retried with back-off and nothing is acknowledged,
so the kiosks keep their copies: the broker's PUBACK is never what makes a rating safe.

One hub, or several workers. Without ``[hub] workers_group`` the hub keeps a persistent MQTT
session (``clean_session=False``), so ratings published while it restarts wait at the broker. With
``workers_group = "hub"`` every worker subscribes to ``$share/hub/hailong/v1/+/+/ratings`` and the
broker hands each rating to one of them; each worker commits and acknowledges what it received.
Shared workers use clean sessions: Mosquitto keeps routing a share of the ratings to a stopped
worker that has a persistent session, where they would wait until it returns.
With ``[hub] ratings_from = "own_unit"`` the hub (or worker group) takes only its own unit's
ratings and statuses, so a province can run one per unit on one central broker.

Stopping is graceful: a shared worker unsubscribes first (the broker sends the rest to the other
workers), a single hub stops acknowledging new messages to the broker (they are redelivered to its
persistent session on the next start); then everything already received is committed and
acknowledged before the connection closes. A crash loses only what was received and not yet
committed, and the kiosks resend that, since nothing of it was acknowledged.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import itertools
import logging
import os
import queue
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import (
    MAX_PAYLOAD_BYTES,
    AckMessage,
    AckOutcome,
    ContractError,
    KioskStatusMessage,
    RatedMessage,
    RatedReceipt,
    RatingMessage,
    ReturnedMessage,
    decode_kiosk_status,
    packed,
)
from hailong.contract.scale import Stage
from hailong.heap import release_free_memory
from hailong.mqtt import Client, log_in
from hailong.settings import ConfigError, HubSettings, Unit, load_unit
from hub.domain.ingest import Accepted, Rejected, attribute, classify, worth_announcing
from hub.store.ratings import (
    mark_announced,
    pending_returns,
    receipt_facts,
    save_kiosk_status,
    store_batch,
    store_dead_letter,
)
from hub.store.retention import prune_status_history

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_S = 1.0
PRUNE_EVERY_S = 3600.0
# Freed memory goes back to the system this often (hailong.heap).
RELEASE_MEMORY_EVERY_S = 60.0
# Unconfirmed QoS 1 publishes (acks, notices) paho keeps on the wire at once.
HUB_IN_FLIGHT = 1000
# Upper bounds (seconds) of the batch latency histogram: from taking a batch off the queue to
# its acks handed to the broker.
BATCH_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_worker_numbers = itertools.count(1)


@dataclass
class LatencyHistogram:
    """Cumulative-on-read histogram: ``counts[i]`` observations fell in bucket ``i`` (the last
    bucket is +Inf)."""

    bounds: tuple[float, ...] = BATCH_SECONDS_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(BATCH_SECONDS_BUCKETS) + 1))
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations at or below it), ending with (+inf, count)."""
        running = 0
        out: list[tuple[float, int]] = []
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out


@dataclass
class IngestCounters:
    """Running totals since this worker started (exported by :mod:`hub.metrics`)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    already_rated: int = 0
    dead_letters: int = 0
    batches: int = 0
    commit_failures: int = 0
    acks_published: int = 0
    batch_seconds: LatencyHistogram = field(default_factory=LatencyHistogram)


def _code(accepted: Accepted) -> str:
    receipt = accepted.rating.receipt
    return receipt.code if receipt else ""


@lru_cache(maxsize=4096)
def _origin(topic: str) -> topics.KioskTopic | None:
    try:
        return topics.parse_kiosk_topic(topic)
    except topics.TopicError:
        return None


def classify_fast(topic: str, payload: bytes) -> Accepted | Rejected:
    """:func:`hub.domain.ingest.classify`, with pydantic parsing the JSON itself for valid ratings.

    Anything the fast path does not accept goes through ``classify``, so rejections and their
    reasons are exactly the same; an accepted rating equals what ``classify`` would return.
    """
    if len(payload) <= MAX_PAYLOAD_BYTES:
        try:
            rating = RatingMessage.model_validate_json(payload)
        except ValidationError:
            pass
        else:
            origin = _origin(topic)
            if (
                "v" in rating.model_fields_set  # the contract requires it; the model defaults it
                and origin is not None
                and origin.kind == "ratings"
                and (rating.unit, rating.kiosk) == (origin.unit, origin.kiosk)
            ):
                return Accepted(topic, payload, rating)
    return classify(topic, payload)


def _confirmed(info: mqtt.MQTTMessageInfo) -> bool:
    """Whether the broker has confirmed it; a message dropped with the connection counts as done
    (paho raises for those), since only the kiosks' resend can make up for it."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return True


def _stamp(path: Path) -> tuple[int, int] | None:
    """What tells an edited file apart: modification time and size (None: missing)."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def shared_filter(group: str, subscription: str) -> str:
    return f"$share/{group}/{subscription}"


def default_client_id(group: str | None, unit: str | None = None) -> str:
    """One fixed id for a single hub (its persistent session; with ``unit``, one per unit, so
    the hubs of a province do not take each other's session), a unique one per shared worker."""
    if group is None:
        return "hailong-hub" if unit is None else f"hailong-hub-{unit}"
    return f"hailong-hub-{socket.gethostname()[:20]}-{os.getpid()}-{next(_worker_numbers)}"


class HubService:
    def __init__(
        self,
        settings: HubSettings,
        unit: Unit,
        sessions: sessionmaker[Session],
        *,
        max_batch: int = 1000,
        max_wait: float = 0.02,
        client_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.unit = unit
        self.sessions = sessions
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.counters = IngestCounters()
        self.group = settings.hub.workers_group
        own_unit = unit.unit.code if settings.hub.ratings_from == "own_unit" else None
        self.client_id = client_id or default_client_id(self.group, own_unit)
        ratings_filter, self.status_filter = (
            (topics.unit_ratings_subscription(own_unit), topics.unit_status_subscription(own_unit))
            if own_unit
            else (topics.RATINGS_SUBSCRIPTION, topics.STATUS_SUBSCRIPTION)
        )
        self.ratings_filter = (
            shared_filter(self.group, ratings_filter) if self.group else ratings_filter
        )
        self._inbox: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self._statuses: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        # Set once the broker confirmed the hub's subscriptions (cleared on disconnect).
        self.ready = threading.Event()
        self._unsubscribed = threading.Event()
        # Stopping: take no more ratings (single hub: leave them unacknowledged at the broker).
        self._closing = threading.Event()
        # The worker commits what is queued, then exits.
        self._draining = threading.Event()
        # The worker exits at once, committing nothing more (a crash, or a drain that timed out).
        self._stopping = threading.Event()
        self._unconfirmed: deque[mqtt.MQTTMessageInfo] = deque()
        # Receipts rated since the last announcement, per unit (the worker thread's own).
        self._rated_due: defaultdict[str, list[RatedReceipt]] = defaultdict(list)
        self._publish_lock = threading.Lock()  # the worker and the web threads publish
        self._unit_stamp = _stamp(settings.hub.unit_file)
        self._worker = threading.Thread(target=self._work, name="hub-ingest", daemon=True)
        self._client = self._make_client(self.client_id)

    @property
    def inbox_depth(self) -> int:
        """Ratings received from the broker and not yet taken into a batch (the queue lag)."""
        return self._inbox.qsize()

    # -- MQTT ---------------------------------------------------------------------------------

    def _make_client(self, client_id: str) -> mqtt.Client:
        mqtt_settings = self.settings.mqtt
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=self.group is not None,
            manual_ack=True,
        )
        log_in(client, mqtt_settings)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        # Acks and notices go out without waiting on the broker's PUBACK round trip: paho's 20
        # in flight let a burst's acks queue up in this process.
        client.max_inflight_messages_set(HUB_IN_FLIGHT)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.take_publish = self._take
        client.on_subscribe = lambda *_args: self.ready.set()
        client.on_unsubscribe = lambda *_args: self._unsubscribed.set()
        client.on_disconnect = lambda *_args: self.ready.clear()
        return client

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the hub: %s", reason)
            return
        if self._closing.is_set():
            return
        log.info("%s connected to the broker; publishing unit configuration", self.client_id)
        self._publish_config()
        # Statuses are not shared: every worker keeps the latest per kiosk (an idempotent
        # upsert), and a shared subscription would not receive the retained ones.
        client.subscribe([(self.ratings_filter, 1), (self.status_filter, 1)])

    def _take(self, topic: str, payload: bytes) -> bool:
        """Queue a message for the worker; whether to acknowledge it to the broker now.

        Every QoS 1 message comes here (``Client.take_publish``), most straight off the
        client's read buffer; QoS 0 ones (a status sent so) through ``on_message``.
        """
        if topic.endswith("/status"):
            self._statuses.put((topic, payload))
            return True
        if self._closing.is_set():
            # Not acknowledged to the broker: a persistent session gets it again next time.
            return False
        self._inbox.put((topic, payload))
        self.counters.received += 1
        return True

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._take(message.topic, bytes(message.payload))

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        # Everything alive now (SQLAlchemy's mappers, pydantic's schemas, the unit) lives as long
        # as the process: frozen, the collector stops rescanning it during every batch, which
        # had doubled the time to validate a rating.
        gc.freeze()
        self._worker.start()
        mqtt_settings = self.settings.mqtt
        self._client.connect_async(mqtt_settings.host, mqtt_settings.port, mqtt_settings.keepalive)
        self._client.loop_start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit and acknowledge everything received, then disconnect (see the module doc)."""
        deadline = time.monotonic() + timeout
        if self.group is not None and self.ready.is_set():
            # The broker sends the rest to the other workers; what it sent before the UNSUBACK
            # is already queued here.
            self._client.unsubscribe(self.ratings_filter)
            self._unsubscribed.wait(min(5.0, timeout))
        self._closing.set()
        self._draining.set()
        if self._worker.is_alive():
            self._worker.join(timeout=max(0.1, deadline - time.monotonic()))
        if self._worker.is_alive():
            log.warning("%s: drain timed out; the kiosks will resend the rest", self.client_id)
            self._stopping.set()
            self._worker.join(timeout=5)
        for info in self._unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if not _confirmed(info):
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(remaining)
        self._client.disconnect()
        self._client.loop_stop()

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
        next_announcement = next_prune = next_release = 0.0
        while not self._stopping.is_set():
            if time.monotonic() >= next_announcement:
                next_announcement = time.monotonic() + ANNOUNCE_EVERY_S
                self._announce_rated()
                self._announce_returns()
                self._save_statuses()
                self._reload_unit_if_changed()
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY_S
                self._prune_history()
            if time.monotonic() >= next_release:
                next_release = time.monotonic() + RELEASE_MEMORY_EVERY_S
                release_free_memory()
            batch = self._next_batch()
            if not batch:
                if self._draining.is_set():
                    break
                continue
            started = time.monotonic()
            try:
                if self._ingest_until_committed(batch):
                    self.counters.batch_seconds.observe(time.monotonic() - started)
            except Exception:  # the worker must outlive any single bad batch
                log.exception("unexpected error while ingesting a batch")
        self._announce_rated()
        self._save_statuses()

    def _next_batch(self) -> list[tuple[str, bytes]]:
        try:
            first = self._inbox.get(timeout=0.01 if self._draining.is_set() else 0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            try:
                batch.append(self._inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _ingest_until_committed(self, batch: list[tuple[str, bytes]]) -> bool:
        delay = 0.1
        while not self._stopping.is_set():
            try:
                acks, rated = self._commit(batch)
            except SQLAlchemyError as exc:
                # Also a unique-key race with another worker storing a resent copy: the retry
                # sees the committed row and reports a duplicate.
                self.counters.commit_failures += 1
                log.warning(
                    "commit failed (%s); retrying in %.1f s, nothing acknowledged", exc, delay
                )
                self._stopping.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._publish_acks(acks)
            for unit, receipts in rated.items():
                self._rated_due[unit].extend(receipts)
            return True
        log.warning("stopping with an uncommitted batch of %d; kiosks will resend it", len(batch))
        return False

    def _commit(
        self, batch: list[tuple[str, bytes]]
    ) -> tuple[dict[tuple[str, str], list[AckOutcome]], dict[str, list[RatedReceipt]]]:
        """Store the batch in one transaction; returns the acks per kiosk and, per unit, the
        receipts that now have their rating (for the other kiosks' "already rated" lists)."""
        now = datetime.now(UTC)
        verdicts = [classify_fast(topic, payload) for topic, payload in batch]
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
            fresh = worth_announcing(rating.rated_at, now)
            if rating.receipt is not None and outcome.outcome == "stored" and fresh:
                notice = RatedReceipt(code=rating.receipt.code, stage=attribution.stage)
                rated[rating.unit].append(notice)
        for r in rejected:
            if r.identity is not None and r.kiosk is not None:
                rid, seq = r.identity
                outcome = AckOutcome(id=rid, seq=seq, outcome="rejected", reason=r.reason[:200])
                acks[(r.kiosk.unit, r.kiosk.kiosk)].append(outcome)
        return acks, rated

    def _count(self, outcomes: list[AckOutcome], dead: int) -> None:
        counters = self.counters
        counters.batches += 1
        for o in outcomes:
            if o.outcome == "stored":
                counters.stored += 1
            elif o.outcome == "duplicate":
                counters.duplicates += 1
            elif o.outcome == "already_rated":
                counters.already_rated += 1
        counters.dead_letters += dead

    def _publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Hand one QoS 1 message to paho; False when it could not even be queued (no link).

        The kiosks resend whatever they never see acknowledged, so a lost ack costs a
        duplicate, never a rating; ``stop`` waits for the queued ones.
        """
        with self._publish_lock:
            info = self._client.publish(topic, payload, qos=qos, retain=retain)
            # The broker confirms in about the order sent: trimming from the front keeps this
            # O(1) a publish; a full rescan per publish made a 100-kiosk burst quadratic.
            while self._unconfirmed and _confirmed(self._unconfirmed[0]):
                self._unconfirmed.popleft()
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return False
            self._unconfirmed.append(info)
            return True

    def announce_rated(self, code: str, stage: Stage) -> None:
        """A receipt rated outside MQTT (the online page, in a web thread): the kiosks add it to
        their "already rated" lists, as for a rating a kiosk sent."""
        self._publish_rated({self.unit.unit.code: [RatedReceipt(code=code, stage=stage)]})

    def _publish_config(self) -> None:
        """The unit's catalogue, retained: a kiosk gets the latest on every (re)connection."""
        config = self.unit.to_message().to_bytes()
        self._publish(topics.unit_config(self.unit.unit.code), config, retain=True)

    def _reload_unit_if_changed(self) -> None:
        """An edited unit file (a new officer, a renamed procedure) reaches every kiosk without
        restarting anything; a file that no longer validates is reported and the running
        catalogue kept."""
        path = self.settings.hub.unit_file
        stamp = _stamp(path)
        if stamp == self._unit_stamp:
            return
        self._unit_stamp = stamp
        try:
            unit = load_unit(path)
        except ConfigError as exc:
            log.error("%s changed but is not valid; keeping the running catalogue:\n%s", path, exc)
            return
        if unit.unit.code != self.unit.unit.code:
            log.error(
                "%s now names unit %s; a hub serves one unit: restart it", path, unit.unit.code
            )
            return
        self.unit = unit
        if self.ready.is_set():
            log.info("%s changed: publishing the new catalogue to the kiosks", path)
            self._publish_config()

    def _publish_acks(self, acks: dict[tuple[str, str], list[AckOutcome]]) -> None:
        for (unit, kiosk), outcomes in acks.items():
            for payload in packed(outcomes, lambda chunk: AckMessage(results=chunk)):
                self._publish(topics.acks(unit, kiosk), payload)
            self.counters.acks_published += len(outcomes)

    def _save_statuses(self) -> None:
        """Kiosk statuses (retained, small, rare): the latest per kiosk, for the operators."""
        pending: list[tuple[str, KioskStatusMessage]] = []
        while True:
            try:
                topic, payload = self._statuses.get_nowait()
            except queue.Empty:
                break
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

    def _prune_history(self) -> None:
        """Status history past ``[hub] status_history_days`` goes (:mod:`hub.store.retention`)."""
        try:
            with self.sessions.begin() as session:
                removed = prune_status_history(
                    session, datetime.now(UTC), self.settings.hub.status_history_days
                )
        except SQLAlchemyError as exc:
            log.warning("could not prune the kiosk status history: %s", exc)
            return
        if removed:
            log.info("pruned %d kiosk status history rows", removed)

    def _announce_returns(self) -> None:
        """Tell the kiosks about results handed back (by any path: CLI, staff page, API).

        The register is the outbox here: a return is marked announced only once published, so a
        hub restart or a broker outage delays the notice but never loses it. (With several
        workers two may announce the same return; kiosks take it twice without harm.)
        """
        try:
            with self.sessions.begin() as session:
                returned = pending_returns(session, self.unit.unit.code)
                if not returned:
                    return
                topic = topics.returned(self.unit.unit.code)
                payloads = packed(returned, lambda chunk: ReturnedMessage(receipts=chunk))
                if not all([self._publish(topic, payload) for payload in payloads]):
                    session.rollback()
                    return
                mark_announced(session, [r.code for r in returned])
        except SQLAlchemyError as exc:
            log.warning("could not announce returns yet: %s", exc)

    def _announce_rated(self) -> None:
        """Tell every kiosk of the unit which receipts now have their rating, once a second.

        Every kiosk writes every notice, so one notice per committed batch made a reconnect storm
        cost each kiosk a transaction per hub batch: a second's receipts go out together instead
        (packed to the contract's size), a delay no citizen walking to the next kiosk notices.
        Only fresh ratings are announced (:func:`hub.domain.ingest.worth_announcing`), not an
        outage's backlog. The notices spare a citizen a second rating that would be refused; the
        hub's unique index (``already_rated``) is what enforces it, so a notice lost in a crash
        costs nothing.
        """
        due, self._rated_due = self._rated_due, defaultdict(list)
        self._publish_rated(due)

    def _publish_rated(self, rated: dict[str, list[RatedReceipt]]) -> None:
        for unit, receipts in rated.items():
            for payload in packed(receipts, lambda chunk: RatedMessage(receipts=chunk)):
                self._publish(topics.rated(unit), payload)
