"""The ingest worker's batch commit: classify, judge, store and count a batch in one transaction.

It exists apart from :mod:`hub.service` because it is the one place that decides what a batch
becomes in the database, and it needs none of the MQTT side: a batch in, the acks per kiosk out
(through the ``publish_acks`` it is given), and the receipts rated since the last announcement.

No message can cost another (issue 15). Every rating is checked against the contract's bounds and
the hub's rules before it touches a batch (:func:`hub.domain.ingest.classify`); a batch whose
commit still fails for a reason other than the database being away (an integrity or data error)
is split in halves until the message at fault is alone, which is dead-lettered in its own
transaction and acknowledged "rejected"; the rest commit and are acknowledged. If the commit
fails because the database itself is gone (away, locked, full) the batch is retried with back-off
and nothing is acknowledged, so the kiosks keep their copies.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract import topics
from hailong.contract.messages import (
    MAX_PAYLOAD_BYTES,
    AbandonedMessage,
    AckOutcome,
    RatedReceipt,
    RatingMessage,
    peek_identity,
)
from hailong.settings import Unit
from hub.domain.abandoned import AcceptedAbandoned, classify_record, judge_abandoned
from hub.domain.ingest import (
    Accepted,
    Attribution,
    IngestRules,
    Rejected,
    checked,
    worth_announcing,
)
from hub.domain.register import (
    REFUSAL_CODES,
    Refusal,
    RegisterView,
    judge,
    needs_pacing,
    pace,
)
from hub.ingest_counters import IngestCounters
from hub.store.abandoned import store_abandoned
from hub.store.db import is_transient, short_error
from hub.store.ratings import (
    DeadLetterLimits,
    dropped_dead_letters,
    paced_times,
    register_view,
    store_batch,
    store_dead_letter,
)

# The ingest logs under one name, whichever of its modules speaks (as before the split).
log = logging.getLogger("hub.service")
# The acks of a committed batch, per kiosk (unit, kiosk).
Acks = dict[tuple[str, str], list[AckOutcome]]
# Receipts that now have their rating, per unit (the kiosks' "already rated" lists).
Rated = dict[str, list[RatedReceipt]]


def _code(accepted: Accepted) -> str:
    receipt = accepted.rating.receipt
    return receipt.code if receipt else ""


@lru_cache(maxsize=4096)
def origin_of(topic: str) -> topics.KioskTopic | None:
    """The kiosk a topic names, or None (cached: a fleet's topics are few)."""
    try:
        return topics.parse_kiosk_topic(topic)
    except topics.TopicError:
        return None


def classify_fast(
    topic: str, payload: bytes, rules: IngestRules | None = None
) -> Accepted | AcceptedAbandoned | Rejected:
    """:func:`hub.domain.ingest.classify`, with pydantic parsing the JSON itself for valid ratings.

    Anything the fast path does not accept goes through ``classify`` (by way of
    :func:`hub.domain.abandoned.classify_record`, which takes the abandoned sessions kiosks send
    on the same topic), so rejections and their reasons are exactly the same; an accepted rating
    equals what ``classify`` would return. Both read JSON with the same parser
    (``hailong.contract.messages``), and the checks after the contract are one function
    (:func:`hub.domain.ingest.checked`).
    """
    if len(payload) <= MAX_PAYLOAD_BYTES:
        try:
            rating = RatingMessage.model_validate_json(payload)
        except ValidationError:
            pass
        else:
            origin = origin_of(topic)
            if (
                "v" in rating.model_fields_set  # the contract requires it; the model defaults it
                and origin is not None
                and origin.kind == "ratings"
            ):
                return checked(Accepted(topic, payload, rating), origin, rules)
    return classify_record(topic, payload, rules)


def by_unit(batch: list[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
    """The batch in one part per unit its topics name (in arrival order within each), the last
    part first out of the caller's stack; topics naming no unit go together."""
    parts: dict[str, list[tuple[str, bytes]]] = {}
    for message in batch:
        origin = origin_of(message[0])
        parts.setdefault(origin.unit if origin else "", []).append(message)
    return list(reversed(parts.values()))


class BatchCommit:
    """Commits the worker's batches; ``rules`` gives what a unit's ratings are held against now
    (the running catalogue, which an edited unit file replaces), ``stopping`` ends the retries.

    ``per_unit`` (a hub serving many units from the catalogue tables): a batch is committed one
    unit at a time, each part held against its own unit's catalogue and register policy. A
    single-unit hub commits the batch whole, as it always did.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        counters: IngestCounters,
        dead_letter_limits: DeadLetterLimits,
        *,
        rules: Callable[[datetime, str], IngestRules],
        publish_acks: Callable[[Acks], None],
        stopping: threading.Event,
        per_unit: bool = False,
    ) -> None:
        self.per_unit = per_unit
        self.sessions = sessions
        self.counters = counters
        self.dead_letter_limits = dead_letter_limits
        self._rules = rules
        self._publish_acks = publish_acks
        self._stopping = stopping
        # Receipts rated since the last announcement, per unit (the worker thread's own).
        self._rated_due: defaultdict[str, list[RatedReceipt]] = defaultdict(list)

    def take_rated(self) -> Rated:
        """The receipts rated since the last call, per unit (to announce them)."""
        due, self._rated_due = self._rated_due, defaultdict(list)
        return due

    def ingest_until_committed(self, batch: list[tuple[str, bytes]]) -> bool:
        """Commit ``batch`` and acknowledge it; False only when stopping left some uncommitted.

        A failure of the database itself (away, locked, full: :func:`hub.store.db.is_transient`)
        retries the same part with back-off and acknowledges nothing, as before. Any other
        failure is about a message (an integrity or data error, a value the driver cannot
        convert): the part is split in halves, recursively, until that message is alone; it is
        then dead-lettered in its own transaction and acknowledged "rejected", while every other
        part commits and is acknowledged. A unique-key race with another worker storing a resent
        copy also splits, and the retried halves see the committed row and report a duplicate.
        """
        parts = by_unit(batch) if self.per_unit else [batch]
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

    def _deliver(self, acks: Acks, rated: Rated) -> None:
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
            self.count_dropped(session)
        except Exception as again:
            if is_transient(again):
                return False
            log.error("could not keep the dead letter either (%s); dropped", short_error(again))
        self.counters.dead_letters += 1
        self.counters.dead_letters_by_code["store_failed"] += 1
        identity, origin = peek_identity(payload), origin_of(topic)
        if identity is not None and origin is not None:
            outcome = AckOutcome(
                id=identity[0], seq=identity[1], outcome="rejected", reason=reason[:200]
            )
            self._deliver({(origin.unit, origin.kiosk): [outcome]}, {})
        return True

    def _commit(self, batch: list[tuple[str, bytes]]) -> tuple[Acks, Rated]:
        """Store the batch in one transaction; returns the acks per kiosk and, per unit, the
        receipts that now have their rating (for the other kiosks' "already rated" lists)."""
        now = datetime.now(UTC)
        origin = origin_of(batch[0][0]) if batch else None
        rules = self._rules(now, origin.unit if origin else "")
        unit = rules.unit
        verdicts = [classify_fast(topic, payload, rules) for topic, payload in batch]
        accepted = [v for v in verdicts if isinstance(v, Accepted)]
        abandoned = [v for v in verdicts if isinstance(v, AcceptedAbandoned)]
        rejected = [v for v in verdicts if isinstance(v, Rejected)]
        acks: Acks = defaultdict(list)
        with self.sessions.begin() as session:
            # The register, not the kiosk, decides (hub.domain.register): a refused rating is
            # dead-lettered and acknowledged "rejected" like any other invalid message.
            codes = {_code(a) for a in accepted if a.rating.receipt}
            codes.update(a.session.receipt.code for a in abandoned)
            view = register_view(session, codes, now, zone=unit.zone, book=unit.code_book())
            kept: list[tuple[RatingMessage, Attribution]] = []
            for a in accepted:
                judged = judge(a.rating, view, unit)
                if isinstance(judged, Refusal):
                    identity = (a.rating.id, a.rating.seq)
                    origin = origin_of(a.topic)
                    refused = Rejected(
                        a.topic, a.payload, judged.reason, identity, origin, code=judged.code
                    )
                    rejected.append(refused)
                else:
                    kept.append((a.rating, judged))
            items = self._paced(session, unit, kept)
            outcomes = store_batch(
                session, items, now, zone=unit.zone, dead_letters=self.dead_letter_limits
            )
            left = self._judge_abandoned(abandoned, view, unit, rejected)
            left_outcomes = store_abandoned(
                session, left, now, zone=unit.zone, dead_letters=self.dead_letter_limits
            )
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
        # An abandoned session is no rating: only its refusals count, as dead letters.
        refused_left = [o for o in left_outcomes if o.outcome == "rejected"]
        self._count([*outcomes, *refused_left], [r.code for r in rejected])
        self.count_dropped(session)
        rated: Rated = defaultdict(list)
        for r in rejected:  # counted once committed: a retried batch is not counted twice
            if r.code in REFUSAL_CODES:
                self.counters.register_verdicts[r.code] += 1
        for (rating, attribution), outcome in zip(items, outcomes, strict=True):
            acks[(rating.unit, rating.kiosk)].append(outcome)
            if outcome.outcome != "stored":
                continue
            self.counters.ratings_by_kiosk[(rating.unit, rating.kiosk)] += 1
            self._count_flags(rating, attribution)
            # Only a receipt the register knows is announced: a notice for a made-up or typed
            # code would let a hostile kiosk make every kiosk refuse a real slip.
            fresh = worth_announcing(rating.rated_at, now)
            if rating.receipt is not None and attribution.receipt_known and fresh:
                notice = RatedReceipt(code=rating.receipt.code, stage=attribution.stage)
                rated[rating.unit].append(notice)
        for record, outcome in zip((record for record, _ in left), left_outcomes, strict=True):
            acks[(record.unit, record.kiosk)].append(outcome)
            if outcome.outcome == "stored":
                self.counters.abandoned_by_kiosk[(record.unit, record.kiosk)] += 1
        for r in rejected:
            if r.identity is not None and r.kiosk is not None:
                rid, seq = r.identity
                outcome = AckOutcome(id=rid, seq=seq, outcome="rejected", reason=r.reason[:200])
                acks[(r.kiosk.unit, r.kiosk.kiosk)].append(outcome)
        return acks, rated

    @staticmethod
    def _judge_abandoned(
        abandoned: list[AcceptedAbandoned],
        view: RegisterView,
        unit: Unit,
        rejected: list[Rejected],
    ) -> list[tuple[AbandonedMessage, Attribution]]:
        """The abandoned sessions the register keeps, attributed; the ones it refuses are added
        to ``rejected`` (dead-lettered and acknowledged "rejected", like a refused rating)."""
        kept: list[tuple[AbandonedMessage, Attribution]] = []
        for a in abandoned:
            judged = judge_abandoned(a.session, view, unit)
            if isinstance(judged, Refusal):
                identity = (a.session.id, a.session.seq)
                origin = origin_of(a.topic)
                rejected.append(
                    Rejected(a.topic, a.payload, judged.reason, identity, origin, code=judged.code)
                )
            else:
                kept.append((a.session, judged))
        return kept

    def _paced(
        self, session: Session, unit: Unit, items: list[tuple[RatingMessage, Attribution]]
    ) -> list[tuple[RatingMessage, Attribution]]:
        """Flag receipt-less and unverified ratings of a kiosk that come too close together
        (:func:`hub.domain.register.pace`), against the stored ones near them."""
        interval = unit.kiosk_policy.unverified_min_interval_s
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

    def count_dropped(self, session: Session) -> None:
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
