"""The hub's MQTT side: receive ratings, commit them in batches, acknowledge only after the commit.

paho's network thread only enqueues messages (:mod:`hub.broker_link`); a worker thread drains the
queue in batches (up to ``max_batch`` messages or ``max_wait`` seconds), classifies, stores accepted
ratings and dead letters in one transaction (:mod:`hub.batch_commit`), commits, and only then
publishes one ack per kiosk and PUBACKs the batch's messages to the broker (paho's manual acks). If
the commit fails (the database is gone, the disk is full) the batch is retried with back-off and
nothing is acknowledged, so the kiosks keep their copies; the broker keeps them too, and resends
them to a persistent session after a reconnect. :class:`HubService` owns the parts: it starts,
stops and supervises the threads, and runs the worker's periodic tasks (announcements, the
catalogue, pruning).

One hub, or several workers. Without ``[hub] workers_group`` the hub keeps a persistent MQTT
session (``clean_start=False``, never expiring), so ratings published while it restarts wait at the broker. With
``workers_group = "hub"`` every worker subscribes to ``$share/hub/hailong/v1/+/+/ratings`` and the
broker hands each rating to one of them; each worker commits and acknowledges what it received.
Shared workers use clean sessions: Mosquitto keeps routing a share of the ratings to a stopped
worker that has a persistent session, where they would wait until it returns.
With ``[hub] ratings_from = "own_unit"`` the hub (or worker group) takes only its own unit's
ratings and statuses, so a province can run one per unit on one central broker.

Many units on one hub. With ``[hub] catalogue = "database"`` the hub (or worker group) serves every
unit in the catalogue tables (:mod:`hub.store.catalogue`): each unit's ratings are held against
that unit's catalogue and register policy (:class:`hub.batch_commit.BatchCommit`, ``per_unit``),
each unit's config is retained on its own topic, and a unit edited anywhere (the admin pages of
any web process, ``hailong catalogue import``) is reloaded within a second, its config
republished to its kiosks.

Stopping is graceful: a shared worker unsubscribes first (the broker sends the rest to the other
workers), a single hub stops acknowledging new messages to the broker (they are redelivered to its
persistent session on the next start); then everything already received is committed and
acknowledged before the connection closes. A crash loses only what was received and not yet
committed, and the kiosks resend that, since nothing of it was acknowledged.

No message can cost another (issue 15, :mod:`hub.batch_commit`). A bad status is dead-lettered
and logged, never raised. A supervisor thread restarts the worker or paho's network thread if
either dies (``/healthz`` answers 503 meanwhile, ``/metrics`` counts the restarts), and losing or
regaining the broker is logged.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import math
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from uuid import UUID

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import (
    AckMessage,
    AckOutcome,
    RatedMessage,
    RatedReceipt,
    ReturnedMessage,
    packed,
)
from hailong.contract.return_offer import ReturnOfferMessage
from hailong.contract.scale import Stage
from hailong.heap import release_free_memory
from hailong.settings import KEY_MANIFEST, ConfigError, HubSettings, Unit, load_unit
from hub.batch_commit import BatchCommit, classify_fast
from hub.broker_link import BrokerLink, Received
from hub.domain.ingest import IngestRules
from hub.ingest_counters import IngestCounters
from hub.statuses import StatusKeeper
from hub.store.catalogue import load_units, revisions
from hub.store.ratings import DeadLetterLimits, mark_announced, pending_returns
from hub.store.retention import prune_dead_letters, prune_return_offers, prune_status_history
from hub.store.return_offers import mark_published, pending_offers

# Imported from here by the tests, the bench and the command line.
__all__ = ["HubService", "Received", "classify_fast", "default_client_id", "shared_filter"]

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_S = 1.0
PRUNE_EVERY_S = 3600.0
# Freed memory goes back to the system this often (hailong.heap).
RELEASE_MEMORY_EVERY_S = 60.0
# The supervisor looks at the hub's threads this often; a worker that keeps dying is restarted
# after 1, 2, 4 ... up to RESTART_MAX_S seconds (the count starts again after a minute alive).
SUPERVISE_EVERY_S = 0.25
RESTART_MAX_S = 30.0
_worker_numbers = itertools.count(1)


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
        self.unit = unit  # the home unit
        self.sessions = sessions
        # Every unit served, by code: the home unit alone, or every unit in the tables.
        self.from_database = settings.hub.catalogue == "database"
        self.units: dict[str, Unit] = {unit.unit.code: unit}
        self._revisions: dict[str, int] = {}
        if self.from_database:
            self._reload_units()
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
        # The worker commits what is queued, then exits.
        self._draining = threading.Event()
        # The worker exits at once, committing nothing more (a crash, or a drain that timed out).
        self._stopping = threading.Event()
        self._unit_stamp = _stamp(settings.hub.unit_file)
        self._keys_stamp = _stamp(settings.receipts.key_dir / KEY_MANIFEST)
        hub = settings.hub
        self.max_future = timedelta(minutes=hub.rated_at_max_future_minutes)
        self.max_past = timedelta(days=hub.rated_at_max_past_days)
        self.dead_letter_limits = DeadLetterLimits(
            payload_bytes=hub.dead_letter_payload_bytes, per_kiosk=hub.dead_letter_quota_per_kiosk
        )
        # _publish_acks through the instance: a subclass or the bench may replace it.
        self.batches = BatchCommit(
            sessions,
            self.counters,
            self.dead_letter_limits,
            rules=self.rules,
            publish_acks=lambda acks: self._publish_acks(acks),
            stopping=self._stopping,
            per_unit=self.from_database,
        )
        self.statuses = StatusKeeper(
            sessions, self.counters, self.dead_letter_limits, self.batches.count_dropped
        )
        self._worker = self._new_worker()
        # Set by stop(): the supervisor stops restarting things.
        self._shutdown = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name="hub-supervisor", daemon=True
        )
        self.link = BrokerLink(
            settings.mqtt,
            fast_path=settings.hub.mqtt_fast_path,
            client_id=self.client_id,
            group=self.group,
            ratings_filter=self.ratings_filter,
            status_filter=self.status_filter,
            inbox=self._inbox,
            statuses=self.statuses,
            counters=self.counters,
            on_connected=self._publish_config,
        )
        # Set once the broker confirmed the hub's subscriptions (cleared on disconnect).
        self.ready = self.link.ready

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
        return self.link.network_alive

    @property
    def healthy(self) -> bool:
        """Both threads the hub depends on are alive (``/healthz``). A broker that is away is
        not the hub's ill health: paho reconnects, and ``/metrics`` shows the link."""
        return self.worker_alive and self.network_alive

    def rules(self, now: datetime, unit: str = "") -> IngestRules:
        """What a rating of ``unit`` is held against now: that unit's running catalogue (the
        home unit's for a unit the hub does not serve, and always on a unit file) and the
        hub's clock."""
        catalogue = self.units.get(unit, self.unit)
        return IngestRules(catalogue, now, self.max_future, self.max_past)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        # Everything alive now (SQLAlchemy's mappers, pydantic's schemas, the unit) lives as long
        # as the process: frozen, the collector stops rescanning it during every batch, which
        # had doubled the time to validate a rating.
        gc.freeze()
        self._worker.start()
        self.link.connect()
        self._supervisor.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit and acknowledge everything received, then disconnect (see the module doc)."""
        deadline = time.monotonic() + timeout
        self._shutdown.set()
        if self._supervisor.is_alive():
            self._supervisor.join(timeout=5)
        self.link.leave_group(timeout)
        self.link.closing.set()
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
        self.link.close(deadline)

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
            if not self.link.closing.is_set() and not self.network_alive:
                self.counters.network_restarts += 1
                log.error("%s: paho's network thread is dead; restarting it", self.client_id)
                with contextlib.suppress(Exception):
                    self.link.client.loop_start()

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
                self._guarded(self._publish_offers)
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
                messages = [(topic, payload) for topic, payload, *_ in batch]
                if self.batches.ingest_until_committed(messages):
                    self.counters.batch_seconds.observe(time.monotonic() - started)
                    self.link.acknowledge(batch)
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

    # -- announcements and the catalogue (the worker's periodic tasks) ------------------------

    def announce_rated(self, code: str, stage: Stage, unit: str | None = None) -> None:
        """A receipt rated outside MQTT (the online page, in a web thread): the kiosks of its
        unit (``unit``, default the home unit) add it to their "already rated" lists, as for a
        rating a kiosk sent."""
        where = unit or self.unit.unit.code
        self._publish_rated({where: [RatedReceipt(code=code, stage=stage)]})

    def _publish_config(self, units: list[Unit] | None = None) -> None:
        """Each unit's catalogue (every served unit's by default), retained: a kiosk gets the
        latest on every (re)connection."""
        revoked = self._revoked_keys()
        for unit in list(self.units.values()) if units is None else units:
            config = unit.to_message(revoked).to_bytes()
            self.link.publish(topics.unit_config(unit.unit.code), config, retain=True)

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

    def _reload_units(self) -> list[Unit]:
        """The units whose revision in the tables changed since the last look (all at first),
        read again; a unit removed from the tables is no longer served. Returns those read."""
        with self.sessions() as session:
            now = revisions(session)
            changed = [code for code, rev in now.items() if self._revisions.get(code) != rev]
            loaded = load_units(session, changed) if changed else {}
        units = {
            code: self.units[code] for code in now if code not in loaded and code in self.units
        }
        units |= loaded
        self.unit = units.get(self.unit.unit.code, self.unit)
        units.setdefault(self.unit.unit.code, self.unit)
        self.units = units  # replaced whole: paho's thread may be reading the old one
        self._revisions = now
        return list(loaded.values())

    def _reload_unit_if_changed(self) -> None:
        """An edited unit file (a new officer, a renamed procedure) reaches every kiosk without
        restarting anything; a file that no longer validates is reported and the running
        catalogue kept. With the catalogue tables, every unit changed there is reloaded and
        its config republished; rows that no longer make a valid unit (only a hand edit in SQL
        can do that) are logged, and the running catalogue kept, until they are fixed."""
        if self.from_database:
            changed = self._reload_units()
            if changed and self.ready.is_set():
                log.info(
                    "catalogue changed for %s: publishing it to their kiosks",
                    ", ".join(u.unit.code for u in changed),
                )
                self._publish_config(changed)
            return
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
        self.units = {unit.unit.code: unit}
        if self.ready.is_set():
            log.info("%s changed: publishing the new catalogue to the kiosks", path)
            self._publish_config()

    def _publish_acks(self, acks: dict[tuple[str, str], list[AckOutcome]]) -> None:
        for (unit, kiosk), outcomes in acks.items():
            for payload in packed(outcomes, lambda chunk: AckMessage(results=chunk)):
                self.link.publish(topics.acks(unit, kiosk), payload)
            self.counters.acks_published += len(outcomes)

    def _prune_history(self) -> None:
        """Status history past ``[hub] status_history_days``, dead letters past
        ``dead_letter_days`` and return offers past ``return_offer_days`` go
        (:mod:`hub.store.retention`)."""
        hub = self.settings.hub
        try:
            with self.sessions.begin() as session:
                now = datetime.now(UTC)
                removed = prune_status_history(session, now, hub.status_history_days)
                dead = prune_dead_letters(session, now, hub.dead_letter_days)
                offers = prune_return_offers(session, now, hub.return_offer_days)
        except SQLAlchemyError as exc:
            log.warning("could not prune the kiosk status history and dead letters: %s", exc)
            return
        if removed:
            log.info("pruned %d kiosk status history rows", removed)
        if dead:
            log.info("pruned %d dead letters older than %d days", dead, hub.dead_letter_days)
        if offers:
            log.info("pruned %d return offers older than %d days", offers, hub.return_offer_days)

    def _announce_returns(self) -> None:
        """Tell the kiosks about results handed back (by any path: CLI, staff page, API).

        The register is the outbox here: a return is marked announced only once published, so a
        hub restart or a broker outage delays the notice but never loses it. (With several
        workers two may announce the same return; kiosks take it twice without harm.)
        """
        for code in list(self.units):
            try:
                with self.sessions.begin() as session:
                    returned = pending_returns(session, code)
                    if not returned:
                        continue
                    topic = topics.returned(code)
                    payloads = packed(returned, lambda chunk: ReturnedMessage(receipts=chunk))
                    if not all([self.link.publish(topic, payload) for payload in payloads]):
                        session.rollback()
                        return
                    mark_announced(session, [r.code for r in returned])
            except SQLAlchemyError as exc:
                log.warning("could not announce returns yet: %s", exc)
                return

    def _publish_offers(self) -> None:
        """Offer the rating of results just handed back to the kiosks of their counter
        (:mod:`hub.store.return_offers`, docs/return-offers.md).

        Each kiosk on its own topic, QoS 1, never retained, with an MQTT 5 message expiry of
        what is left of the offer's life: a kiosk offline meanwhile never gets a stale one. An
        offer is marked published once handed to paho for every kiosk; one cut short by a lost
        link is published again (kiosks know it by its id).
        """
        now = datetime.now(UTC)
        for code, unit in list(self.units.items()):
            try:
                with self.sessions.begin() as session:
                    published: list[tuple[str, list[str]]] = []
                    for offer in pending_offers(session, code, now):
                        kiosks = [k.id for k in unit.kiosks if k.counter == offer.counter]
                        left = max(1, math.ceil((offer.expires_at - now).total_seconds()))
                        sent = all(
                            self.link.publish(
                                topics.offers(code, kiosk),
                                ReturnOfferMessage(
                                    id=UUID(offer.id),
                                    unit=code,
                                    kiosk=kiosk,
                                    counter=offer.counter,
                                    receipt=offer.receipt_url,
                                    offered_at=offer.offered_at,
                                    expires_at=offer.expires_at,
                                ).to_bytes(),
                                expiry_s=left,
                            )
                            for kiosk in kiosks
                        )
                        if not sent:
                            break
                        published.append((offer.id, kiosks))
                    mark_published(session, published, now)
            except SQLAlchemyError as exc:
                log.warning("could not publish the return offers yet: %s", exc)
                return

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
        self._publish_rated(self.batches.take_rated())

    def _publish_rated(self, rated: dict[str, list[RatedReceipt]]) -> None:
        for unit, receipts in rated.items():
            for payload in packed(receipts, lambda chunk: RatedMessage(receipts=chunk)):
                self.link.publish(topics.rated(unit), payload)
