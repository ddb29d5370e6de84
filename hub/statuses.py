"""Kiosk statuses as the hub keeps them: the latest per kiosk, for the operators.

Statuses are retained, small and rare, and any kiosk (or whoever holds its password) writes its
own: so one that breaks the contract, names another kiosk or that the database refuses is
dead-lettered and logged, and never costs a rating or stops the worker that saves them. A
retained bad status, which the broker sends again at every reconnection, is kept once.
"""

from __future__ import annotations

import hashlib
import logging
import queue
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import ContractError, KioskStatusMessage, decode_kiosk_status
from hub.ingest_counters import IngestCounters
from hub.store.db import is_transient, short_error
from hub.store.ratings import (
    DeadLetterLimits,
    dead_letter_kept,
    save_kiosk_status,
    store_dead_letter,
)

log = logging.getLogger(__name__)

# topic, payload, machine code, reason
_Refused = tuple[str, bytes, str, str]
_Good = tuple[str, bytes, str, KioskStatusMessage]


class StatusKeeper:
    """Takes statuses from paho's thread (:meth:`put`) and saves them from the worker's
    (:meth:`save`); ``count_dropped`` reports dead letters a full quota did not keep."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        counters: IngestCounters,
        limits: DeadLetterLimits,
        count_dropped: Callable[[Session], None],
    ) -> None:
        self.sessions = sessions
        self.counters = counters
        self.limits = limits
        self._count_dropped = count_dropped
        self._queue: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()

    def put(self, topic: str, payload: bytes) -> None:
        self._queue.put((topic, payload))

    def save(self) -> None:
        """Save what arrived since the last call. Never raises. Of a burst, only each topic's
        last status is read. If the database is away the statuses wait for the next one."""
        latest: dict[str, bytes] = {}
        while True:
            try:
                topic, payload = self._queue.get_nowait()
            except queue.Empty:
                break
            latest[topic] = payload
        if not latest:
            return
        now = datetime.now(UTC)
        good: list[_Good] = []
        bad: list[_Refused] = []
        for topic, payload in latest.items():
            unit_or_code, status_or_reason = _read(topic, payload)
            if isinstance(status_or_reason, KioskStatusMessage):
                good.append((topic, payload, unit_or_code, status_or_reason))
            else:
                bad.append((topic, payload, unit_or_code, status_or_reason))
        try:
            with self.sessions.begin() as session:
                for _topic, _payload, unit, status in good:
                    save_kiosk_status(session, unit, status, now)
        except Exception as exc:
            if is_transient(exc):
                log.warning("could not save kiosk statuses: %s", short_error(exc))
            else:  # one at a time, to find the one at fault
                bad += self._save_one_by_one(good, now)
        for topic, payload, code, reason in bad:
            self._dead_letter(topic, payload, code, reason, now)

    def _save_one_by_one(self, good: list[_Good], now: datetime) -> list[_Refused]:
        refused: list[_Refused] = []
        for topic, payload, unit, status in good:
            try:
                with self.sessions.begin() as session:
                    save_kiosk_status(session, unit, status, now)
            except Exception as exc:
                if is_transient(exc):
                    log.warning("could not save the status on %s: %s", topic, short_error(exc))
                else:
                    reason = f"status: the database refused it: {short_error(exc)}"
                    refused.append((topic, payload, "store_failed", reason))
        return refused

    def _dead_letter(
        self, topic: str, payload: bytes, code: str, reason: str, now: datetime
    ) -> None:
        self.counters.statuses_rejected += 1
        log.warning("refused a kiosk status on %s [%s]: %s", topic[:200], code, reason)
        kiosk = _kiosk_of(topic)
        digest = hashlib.sha256(payload).hexdigest()
        try:
            with self.sessions.begin() as session:
                if dead_letter_kept(session, kiosk, digest):
                    return  # a retained status seen again: kept once
                store_dead_letter(
                    session, topic, payload, reason, now, code=code, limits=self.limits
                )
            self._count_dropped(session)
        except Exception as exc:
            log.warning("could not keep the refused status as a dead letter: %s", short_error(exc))
            return
        self.counters.dead_letters += 1
        self.counters.dead_letters_by_code[code] += 1


def _kiosk_of(topic: str) -> str | None:
    try:
        return topics.parse_kiosk_topic(topic).kiosk
    except topics.TopicError:
        return None


def _read(topic: str, payload: bytes) -> tuple[str, KioskStatusMessage | str]:
    """(unit, status), or why it is refused: (machine code, reason)."""
    try:
        origin = topics.parse_kiosk_topic(topic)
        status = decode_kiosk_status(payload)
    except topics.TopicError as exc:
        return "topic", f"status topic: {exc}"
    except ContractError as exc:
        return exc.code, f"status: {exc.reason}"
    if status.kiosk != origin.kiosk:
        return "topic_mismatch", f"status says kiosk {status.kiosk} but arrived on {origin.kiosk}"
    return origin.unit, status
