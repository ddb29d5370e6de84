"""The hub's MQTT side: receive ratings, commit them in batches, acknowledge only after the commit.

paho's network thread only enqueues messages; a worker thread drains the queue in batches (up to
``max_batch`` messages or ``max_wait`` seconds), classifies, stores accepted ratings and dead letters
in one transaction, commits, and only then publishes one ack per kiosk and PUBACKs the batch's
messages to the broker (paho's manual acks). If the commit fails (the database is gone, the disk is
full) the batch is retried with back-off and nothing is acknowledged, so the kiosks keep their
copies; the broker keeps them too, and resends them to a persistent session after a reconnect.
The hub speaks MQTT 5 for one reason: its Receive Maximum lets the broker send it more ratings
than Mosquitto's ``max_inflight_messages`` (100) before their PUBACKs, so a batch can fill while
the previous one commits. It runs on paho's own client or, with ``[hub] mqtt_fast_path``, on
:class:`hailong.mqtt.Client` (same API, fewer system calls and less paho work per message).

One hub, or several workers. Without ``[hub] workers_group`` the hub keeps a persistent MQTT
session (``clean_start=False``, never expiring), so ratings published while it restarts wait at the broker. With
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

No message can cost another (issue 15). Every rating is checked against the contract's bounds and
the hub's rules before it touches a batch (:func:`hub.domain.ingest.classify`); a batch whose
commit still fails for a reason other than the database being away (an integrity or data error)
is split in halves until the message at fault is alone, which is dead-lettered in its own
transaction and acknowledged "rejected"; the rest commit and are acknowledged. A bad status is
dead-lettered and logged, never raised. A supervisor thread restarts the worker or paho's network
thread if either dies (``/healthz`` answers 503 meanwhile, ``/metrics`` counts the restarts), and
losing or regaining the broker is logged.
"""

from __future__ import annotations

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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import ValidationError
from sqlalchemy.exc import (
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import (
    MAX_PAYLOAD_BYTES,
    AckMessage,
    AckOutcome,
    RatedMessage,
    RatedReceipt,
    RatingMessage,
    ReturnedMessage,
    packed,
    peek_identity,
)
from hailong.contract.scale import Stage
from hailong.heap import release_free_memory
from hailong.mqtt import Client as FastClient
from hailong.mqtt import log_in
from hailong.settings import KEY_MANIFEST, ConfigError, HubSettings, Unit, load_unit
from hub.domain.ingest import (
    Accepted,
    Attribution,
    IngestRules,
    Rejected,
    checked,
    classify,
    worth_announcing,
)
from hub.domain.register import REFUSAL_CODES, Refusal, judge, needs_pacing, pace
from hub.ingest_counters import IngestCounters
from hub.statuses import StatusKeeper
from hub.store.db import is_transient, short_error
from hub.store.ratings import (
    DeadLetterLimits,
    dropped_dead_letters,
    mark_announced,
    paced_times,
    pending_returns,
    register_view,
    store_batch,
    store_dead_letter,
)
from hub.store.retention import prune_dead_letters, prune_status_history

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_S = 1.0
PRUNE_EVERY_S = 3600.0
# Freed memory goes back to the system this often (hailong.heap).
RELEASE_MEMORY_EVERY_S = 60.0
# Unconfirmed QoS 1 publishes (acks, notices) paho keeps on the wire at once.
HUB_IN_FLIGHT = 1000
# Ratings the broker may send before their PUBACKs (MQTT 5's Receive Maximum, its largest value):
# they are acknowledged only once committed, and a batch that fails to commit keeps its share.
RECEIVE_MAXIMUM = 65535
# A single hub's session outlives any restart, as MQTT 3's persistent session did.
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
# The supervisor looks at the hub's threads this often; a worker that keeps dying is restarted
# after 1, 2, 4 ... up to RESTART_MAX_S seconds (the count starts again after a minute alive).
SUPERVISE_EVERY_S = 0.25
RESTART_MAX_S = 30.0
_worker_numbers = itertools.count(1)
# A message waiting for the worker: topic, payload, and what PUBACKs it once it is handled (its
# packet id, and the connection it came on).
Received = tuple[str, bytes, int, int]


def _code(accepted: Accepted) -> str:
    receipt = accepted.rating.receipt
    return receipt.code if receipt else ""


@lru_cache(maxsize=4096)
def _origin(topic: str) -> topics.KioskTopic | None:
    try:
        return topics.parse_kiosk_topic(topic)
    except topics.TopicError:
        return None


def classify_fast(
    topic: str, payload: bytes, rules: IngestRules | None = None
) -> Accepted | Rejected:
    """:func:`hub.domain.ingest.classify`, with pydantic parsing the JSON itself for valid ratings.

    Anything the fast path does not accept goes through ``classify``, so rejections and their
    reasons are exactly the same; an accepted rating equals what ``classify`` would return. Both
    read JSON with the same parser (``hailong.contract.messages``), and the checks after the
    contract are one function (:func:`hub.domain.ingest.checked`).
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
            ):
                return checked(Accepted(topic, payload, rating), origin, rules)
    return classify(topic, payload, rules)


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
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        # Which connection to the broker this is: a packet id is acknowledged only on the
        # connection it came on (the worker acks, the network thread counts, under the lock).
        self._link = 0
        self._ack_lock = threading.Lock()
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
        self._keys_stamp = _stamp(settings.receipts.key_dir / KEY_MANIFEST)
        hub = settings.hub
        self.max_future = timedelta(minutes=hub.rated_at_max_future_minutes)
        self.max_past = timedelta(days=hub.rated_at_max_past_days)
        self.dead_letter_limits = DeadLetterLimits(
            payload_bytes=hub.dead_letter_payload_bytes, per_kiosk=hub.dead_letter_quota_per_kiosk
        )
        self.statuses = StatusKeeper(
            sessions, self.counters, self.dead_letter_limits, self._count_dropped
        )
        self._worker = self._new_worker()
        # Set by stop(): the supervisor stops restarting things.
        self._shutdown = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name="hub-supervisor", daemon=True
        )
        self._lost_broker_at: float | None = None
        self._client = self._make_client(self.client_id)

    @property
    def inbox_depth(self) -> int:
        """Ratings received from the broker and not yet taken into a batch (the queue lag)."""
        return self._inbox.qsize()

    @property
    def worker_alive(self) -> bool:
        return self._worker.is_alive()

    @property
    def network_alive(self) -> bool:
        """Whether paho's network thread runs (it reconnects to the broker by itself)."""
        thread = getattr(self._client, "_thread", None)  # paho keeps no public handle on it
        return isinstance(thread, threading.Thread) and thread.is_alive()

    @property
    def healthy(self) -> bool:
        """Both threads the hub depends on are alive (``/healthz``). A broker that is away is
        not the hub's ill health: paho reconnects, and ``/metrics`` shows the link."""
        return self.worker_alive and self.network_alive

    def rules(self, now: datetime) -> IngestRules:
        """What a rating is held against now: the running catalogue and the hub's clock."""
        return IngestRules(self.unit, now, self.max_future, self.max_past)

    # -- MQTT ---------------------------------------------------------------------------------

    def _make_client(self, client_id: str) -> mqtt.Client:
        mqtt_settings = self.settings.mqtt
        fast = self.settings.hub.mqtt_fast_path
        client = (FastClient if fast else mqtt.Client)(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        log_in(client, mqtt_settings)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        # Acks and notices go out without waiting on the broker's PUBACK round trip: paho's 20
        # in flight let a burst's acks queue up in this process.
        client.max_inflight_messages_set(HUB_IN_FLIGHT)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        if isinstance(client, FastClient):
            client.take_publish = self._take
        client.on_subscribe = lambda *_args: self.ready.set()
        client.on_unsubscribe = lambda *_args: self._unsubscribed.set()
        client.on_disconnect = self._on_disconnect
        return client

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        """Subscribe and publish the catalogue; never raises (an exception in a callback ends
        paho's network thread)."""
        try:
            if reason.is_failure:
                log.error("%s: the broker refused the hub: %s", self.client_id, reason)
                return
            if self._closing.is_set():
                return
            if self._lost_broker_at is not None:
                away = time.monotonic() - self._lost_broker_at
                log.warning("%s: back on the broker after %.0f s", self.client_id, away)
                self._lost_broker_at = None
            else:
                log.info(
                    "%s connected to the broker; publishing unit configuration", self.client_id
                )
            self._publish_config()
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
        if self._closing.is_set():
            log.info("%s disconnected from the broker", self.client_id)
            return
        if self._lost_broker_at is None:
            self._lost_broker_at = time.monotonic()
            self.counters.broker_disconnects += 1
            log.warning(
                "%s lost the broker (%s); reconnecting every 1-10 s, the kiosks keep their ratings",
                self.client_id,
                reason,
            )

    def _take(self, topic: str, payload: bytes, mid: int = 0) -> bool:
        """Queue a message for the worker; whether to acknowledge it to the broker now (a status:
        the latest one is kept anyway) or leave that to the worker (a rating, once committed).

        With the fast path QoS 1 messages come here straight off the client's read buffer
        (``Client.take_publish``); otherwise, and for QoS 0 ones, through ``on_message``.
        """
        if topic.endswith("/status"):
            self.statuses.put(topic, payload)
            return True
        if self._closing.is_set():
            # Not acknowledged to the broker: a persistent session gets it again next time.
            return False
        self._inbox.put((topic, payload, mid, self._link))
        self.counters.received += 1
        return False

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._take(message.topic, bytes(message.payload), message.mid):
            client.ack(message.mid, message.qos)

    def _acknowledge(self, batch: list[Received]) -> None:
        """PUBACK a batch whose every message is committed or dead-lettered. A message that came
        on an earlier connection is left: the broker resends it to a persistent session (the
        kiosk hears "duplicate"), and its packet id may name another message now."""
        with self._ack_lock:
            mids = [mid for _topic, _payload, mid, link in batch if link == self._link]
            if isinstance(self._client, FastClient):
                self._client.ack_many(mids)
                return
            for mid in mids:
                self._client.ack(mid, 1)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        # Everything alive now (SQLAlchemy's mappers, pydantic's schemas, the unit) lives as long
        # as the process: frozen, the collector stops rescanning it during every batch, which
        # had doubled the time to validate a rating.
        gc.freeze()
        self._worker.start()
        mqtt_settings = self.settings.mqtt
        # Shared workers start clean and end their session with the connection (see above).
        session = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        session.ReceiveMaximum = RECEIVE_MAXIMUM
        if self.group is None:
            session.SessionExpiryInterval = SESSION_NEVER_EXPIRES
        self._client.connect_async(
            mqtt_settings.host,
            mqtt_settings.port,
            mqtt_settings.keepalive,
            clean_start=self.group is not None,
            properties=session,
        )
        self._client.loop_start()
        self._supervisor.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit and acknowledge everything received, then disconnect (see the module doc)."""
        deadline = time.monotonic() + timeout
        self._shutdown.set()
        if self._supervisor.is_alive():
            self._supervisor.join(timeout=5)
        if self.group is not None and self.ready.is_set():
            # The broker sends the rest to the other workers; what it sent before the UNSUBACK
            # is already queued here.
            self._client.unsubscribe(self.ratings_filter)
            self._unsubscribed.wait(min(5.0, timeout))
        self._closing.set()
        self._draining.set()
        if not self._worker.is_alive() and self._worker.ident is not None:
            # It died and was not restarted yet: a fresh one commits what is queued, then exits.
            self._worker = self._new_worker()
            self._worker.start()
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

    # -- supervision --------------------------------------------------------------------------

    def _new_worker(self) -> threading.Thread:
        return threading.Thread(target=self._run_worker, name="hub-ingest", daemon=True)

    def _run_worker(self) -> None:
        try:
            self._work()
        except BaseException:
            log.exception("%s: the ingest worker died", self.client_id)

    def _supervise(self) -> None:
        """Restart the worker or paho's network thread when one dies, and say so.

        Everything the worker does is guarded, so a death is a bug or the process running out of
        something; restarting is then better than a hub that looks alive and stores nothing. The
        batch the worker held is not lost: nothing of it was acknowledged, the kiosks resend it.
        """
        delay, next_restart, last_restart = 1.0, 0.0, 0.0
        while not self._shutdown.wait(SUPERVISE_EVERY_S):
            now = time.monotonic()
            if not self._worker.is_alive() and not self._draining.is_set() and now >= next_restart:
                if now - last_restart > 60.0:
                    delay = 1.0
                self.counters.worker_restarts += 1
                log.error(
                    "%s: the ingest worker is dead; restarting it (restart %d)",
                    self.client_id,
                    self.counters.worker_restarts,
                )
                self._worker = self._new_worker()
                self._worker.start()
                last_restart, next_restart = now, now + delay
                delay = min(delay * 2, RESTART_MAX_S)
            if not self._closing.is_set() and not self.network_alive:
                self.counters.network_restarts += 1
                log.error("%s: paho's network thread is dead; restarting it", self.client_id)
                with contextlib.suppress(Exception):
                    self._client.loop_start()

    def _guarded(self, task: Callable[[], object]) -> None:
        """Run a periodic task of the worker; its failure is logged, never the worker's end."""
        try:
            task()
        except Exception:
            log.exception("%s failed; the ingest worker goes on", getattr(task, "__name__", task))

    # -- ingest worker ------------------------------------------------------------------------

    def _work(self) -> None:
        next_announcement = next_prune = next_release = 0.0
        while not self._stopping.is_set():
            if time.monotonic() >= next_announcement:
                next_announcement = time.monotonic() + ANNOUNCE_EVERY_S
                self._guarded(self._announce_rated)
                self._guarded(self._announce_returns)
                self._guarded(self.statuses.save)
                self._guarded(self._reload_unit_if_changed)
                self._guarded(self._publish_config_if_keys_changed)
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY_S
                self._guarded(self._prune_history)
            if time.monotonic() >= next_release:
                next_release = time.monotonic() + RELEASE_MEMORY_EVERY_S
                self._guarded(release_free_memory)
            batch = self._next_batch()
            if not batch:
                if self._draining.is_set():
                    break
                continue
            started = time.monotonic()
            try:
                if self._ingest_until_committed([(topic, payload) for topic, payload, *_ in batch]):
                    self.counters.batch_seconds.observe(time.monotonic() - started)
                    self._acknowledge(batch)
            except Exception:  # the worker must outlive any single bad batch
                # Nothing PUBACKed: a persistent session gets it again after a reconnect.
                log.exception("unexpected error while ingesting a batch")
        self._guarded(self._announce_rated)
        self._guarded(self.statuses.save)

    def _next_batch(self) -> list[Received]:
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
        """Commit ``batch`` and acknowledge it; False only when stopping left some uncommitted.

        A failure of the database itself (away, locked, full: :func:`_transient`) retries the
        same part with back-off and acknowledges nothing, as before. Any other failure is about a
        message (an integrity or data error, a value the driver cannot convert): the part is
        split in halves, recursively, until that message is alone; it is then dead-lettered in
        its own transaction and acknowledged "rejected", while every other part commits and is
        acknowledged. A unique-key race with another worker storing a resent copy also splits,
        and the retried halves see the committed row and report a duplicate.
        """
        parts = [batch]
        delay = 0.1
        while parts:
            if self._stopping.is_set():
                left = sum(len(p) for p in parts)
                log.warning("stopping with %d uncommitted ratings; kiosks will resend them", left)
                return False
            part = parts.pop()
            try:
                acks, rated = self._commit(part)
            except Exception as exc:
                self.counters.commit_failures += 1
                if is_transient(exc):
                    log.warning(
                        "commit failed (%s); retrying in %.1f s, nothing acknowledged",
                        short_error(exc),
                        delay,
                    )
                    parts.append(part)
                    self._stopping.wait(delay)
                    delay = min(delay * 2, 5.0)
                elif len(part) > 1:
                    self.counters.batches_split += 1
                    log.warning(
                        "a batch of %d failed to commit (%s); splitting it to find the message "
                        "at fault",
                        len(part),
                        short_error(exc),
                    )
                    half = len(part) // 2
                    parts += [part[half:], part[:half]]  # the first half is tried first
                elif not self._dead_letter_poison(part[0], exc):
                    parts.append(part)  # the database went away meanwhile: try it again
                    self._stopping.wait(delay)
                    delay = min(delay * 2, 5.0)
                continue
            delay = 0.1
            self._deliver(acks, rated)
        return True

    def _deliver(
        self, acks: dict[tuple[str, str], list[AckOutcome]], rated: dict[str, list[RatedReceipt]]
    ) -> None:
        """Acknowledge what was committed; a failure here costs a resend (a duplicate), so it is
        logged and the worker goes on."""
        try:
            self._publish_acks(acks)
        except Exception:
            log.exception("could not publish acks; the kiosks will resend and hear 'duplicate'")
        for unit, receipts in rated.items():
            self._rated_due[unit].extend(receipts)

    def _dead_letter_poison(self, message: tuple[str, bytes], exc: BaseException) -> bool:
        """Keep a message the database refused even alone, in its own transaction, and tell its
        kiosk "rejected" when its id can be read. False when this transaction hit a failure of
        the database itself (the caller retries)."""
        topic, payload = message
        reason = f"store_failed: the database refused it: {short_error(exc)}"
        log.error(
            "a message on %s cannot be stored, dead-lettered: %s", topic, reason, exc_info=exc
        )
        try:
            with self.sessions.begin() as session:
                store_dead_letter(
                    session,
                    topic,
                    payload,
                    reason,
                    datetime.now(UTC),
                    code="store_failed",
                    limits=self.dead_letter_limits,
                )
            self._count_dropped(session)
        except Exception as again:
            if is_transient(again):
                return False
            log.error("could not keep the dead letter either (%s); dropped", short_error(again))
        self.counters.dead_letters += 1
        self.counters.dead_letters_by_code["store_failed"] += 1
        identity, origin = peek_identity(payload), _origin(topic)
        if identity is not None and origin is not None:
            outcome = AckOutcome(
                id=identity[0], seq=identity[1], outcome="rejected", reason=reason[:200]
            )
            self._deliver({(origin.unit, origin.kiosk): [outcome]}, {})
        return True

    def _commit(
        self, batch: list[tuple[str, bytes]]
    ) -> tuple[dict[tuple[str, str], list[AckOutcome]], dict[str, list[RatedReceipt]]]:
        """Store the batch in one transaction; returns the acks per kiosk and, per unit, the
        receipts that now have their rating (for the other kiosks' "already rated" lists)."""
        now = datetime.now(UTC)
        rules = self.rules(now)
        verdicts = [classify_fast(topic, payload, rules) for topic, payload in batch]
        accepted = [v for v in verdicts if isinstance(v, Accepted)]
        rejected = [v for v in verdicts if isinstance(v, Rejected)]
        acks: dict[tuple[str, str], list[AckOutcome]] = defaultdict(list)
        with self.sessions.begin() as session:
            # The register, not the kiosk, decides (hub.domain.register): a refused rating is
            # dead-lettered and acknowledged "rejected" like any other invalid message.
            codes = {_code(a) for a in accepted if a.rating.receipt}
            view = register_view(session, codes, now)
            kept: list[tuple[RatingMessage, Attribution]] = []
            for a in accepted:
                judged = judge(a.rating, view, self.unit)
                if isinstance(judged, Refusal):
                    identity = (a.rating.id, a.rating.seq)
                    origin = _origin(a.topic)
                    refused = Rejected(
                        a.topic, a.payload, judged.reason, identity, origin, code=judged.code
                    )
                    rejected.append(refused)
                else:
                    kept.append((a.rating, judged))
            items = self._paced(session, kept)
            outcomes = store_batch(session, items, now, dead_letters=self.dead_letter_limits)
            for r in rejected:
                store_dead_letter(
                    session,
                    r.topic,
                    r.payload,
                    r.reason,
                    now,
                    code=r.code,
                    limits=self.dead_letter_limits,
                )
        self._count(outcomes, [r.code for r in rejected])
        self._count_dropped(session)
        rated: dict[str, list[RatedReceipt]] = defaultdict(list)
        for r in rejected:  # counted once committed: a retried batch is not counted twice
            if r.code in REFUSAL_CODES:
                self.counters.register_verdicts[r.code] += 1
        for (rating, attribution), outcome in zip(items, outcomes, strict=True):
            acks[(rating.unit, rating.kiosk)].append(outcome)
            if outcome.outcome != "stored":
                continue
            self._count_flags(rating, attribution)
            # Only a receipt the register knows is announced: a notice for a made-up or typed
            # code would let a hostile kiosk make every kiosk refuse a real slip.
            fresh = worth_announcing(rating.rated_at, now)
            if rating.receipt is not None and attribution.receipt_known and fresh:
                notice = RatedReceipt(code=rating.receipt.code, stage=attribution.stage)
                rated[rating.unit].append(notice)
        for r in rejected:
            if r.identity is not None and r.kiosk is not None:
                rid, seq = r.identity
                outcome = AckOutcome(id=rid, seq=seq, outcome="rejected", reason=r.reason[:200])
                acks[(r.kiosk.unit, r.kiosk.kiosk)].append(outcome)
        return acks, rated

    def _paced(
        self, session: Session, items: list[tuple[RatingMessage, Attribution]]
    ) -> list[tuple[RatingMessage, Attribution]]:
        """Flag receipt-less and unverified ratings of a kiosk that come too close together
        (:func:`hub.domain.register.pace`), against the stored ones near them."""
        interval = self.unit.kiosk_policy.unverified_min_interval_s
        gap = timedelta(seconds=interval)
        windows: dict[tuple[str, str], tuple[datetime, datetime]] = {}
        for rating, attribution in items:
            if not needs_pacing(attribution) or interval <= 0:
                continue
            key = (rating.unit, rating.kiosk)
            first, last = windows.get(key, (rating.rated_at, rating.rated_at))
            windows[key] = (min(first, rating.rated_at), max(last, rating.rated_at))
        if not windows:
            return items
        widened = {key: (first - gap, last + gap) for key, (first, last) in windows.items()}
        paced = pace(items, paced_times(session, widened), interval)
        return list(zip((rating for rating, _ in items), paced, strict=True))

    def _count_flags(self, rating: RatingMessage, attribution: Attribution) -> None:
        """Stored ratings the register could not fully vouch for, per kind (``/metrics``)."""
        verdicts = self.counters.register_verdicts
        if attribution.claim_mismatch:
            verdicts["claim_mismatch"] += 1
        if rating.receipt is not None and not attribution.receipt_known:
            verdicts["unverified"] += 1
        if attribution.suspect:
            verdicts["suspect"] += 1

    def _count(self, outcomes: list[AckOutcome], dead: list[str]) -> None:
        """A committed batch's outcomes, and the codes of its dead letters (``dead``: the
        refused messages). A ``rejected`` outcome from storing carries its code before the
        first colon of its reason (``conflict: ...``)."""
        counters = self.counters
        by_code = counters.dead_letters_by_code
        counters.batches += 1
        for o in outcomes:
            if o.outcome == "stored":
                counters.stored += 1
            elif o.outcome == "duplicate":
                counters.duplicates += 1
            elif o.outcome == "already_rated":
                counters.already_rated += 1
                by_code["already_rated"] += 1
            elif o.outcome == "rejected":
                code = (o.reason or "").split(":", 1)[0] or "other"
                counters.dead_letters += 1
                by_code[code] += 1
                if code == "conflict":
                    counters.conflicts += 1
                    log.warning("rating %s (seq %d): %s", o.id, o.seq, o.reason)
        counters.dead_letters += len(dead)
        by_code.update(dead)

    def _count_dropped(self, session: Session) -> None:
        """Dead letters a committed transaction did not keep, their kiosk's quota being full."""
        dropped = dropped_dead_letters(session)
        if dropped:
            self.counters.dead_letters_dropped.update(dropped)
            log.warning(
                "dead-letter quota full (%d a kiosk): %d not kept, counted only (%s)",
                self.dead_letter_limits.per_kiosk,
                sum(dropped.values()),
                ", ".join(f"{code} {n}" for code, n in sorted(dropped.items())),
            )

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
        config = self.unit.to_message(self._revoked_keys()).to_bytes()
        self._publish(topics.unit_config(self.unit.unit.code), config, retain=True)

    def _revoked_keys(self) -> tuple[str, ...]:
        """Revoked receipt keys for the config (kiosks refuse them); an unreadable keys.toml
        is logged and revokes nothing new, never stopping the worker."""
        self._keys_stamp = _stamp(self.settings.receipts.key_dir / KEY_MANIFEST)
        try:
            return self.settings.receipts.revoked_key_ids()
        except ConfigError as exc:
            log.error("cannot read the receipt keys' revocations:\n%s", exc)
            return ()

    def _publish_config_if_keys_changed(self) -> None:
        """`hailong keys revoke` (another process) edits keys.toml: the kiosks hear at once."""
        if _stamp(self.settings.receipts.key_dir / KEY_MANIFEST) == self._keys_stamp:
            return
        if self.ready.is_set():
            log.info("receipt keys changed: publishing the revocations to the kiosks")
            self._publish_config()

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

    def _prune_history(self) -> None:
        """Status history past ``[hub] status_history_days`` and dead letters past
        ``dead_letter_days`` go (:mod:`hub.store.retention`)."""
        hub = self.settings.hub
        try:
            with self.sessions.begin() as session:
                now = datetime.now(UTC)
                removed = prune_status_history(session, now, hub.status_history_days)
                dead = prune_dead_letters(session, now, hub.dead_letter_days)
        except SQLAlchemyError as exc:
            log.warning("could not prune the kiosk status history and dead letters: %s", exc)
            return
        if removed:
            log.info("pruned %d kiosk status history rows", removed)
        if dead:
            log.info("pruned %d dead letters older than %d days", dead, hub.dead_letter_days)

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
