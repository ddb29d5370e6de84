"""Writing ratings and dead letters; reading the receipt register. Works on SQLite and PostgreSQL.

Each stored rating is also counted, in the same transaction, in the rollup tables that every
summary reads (:func:`hub.store.rollups.add_to_rollups`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import ColumnElement, Dialect, Table, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from hailong.contract import topics
from hailong.contract.dossier_codes import CodeBook
from hailong.contract.messages import (
    AckOutcome,
    KioskStatusMessage,
    RatingMessage,
    ReturnedReceipt,
    peek_identity,
)
from hailong.contract.receipt import DossierCode, ReceiptRefused
from hub.domain.ingest import Attribution, ReceiptFacts
from hub.domain.register import RegisterView
from hub.store.coverage import count_ratings, use_zone
from hub.store.models import (
    DeadLetterRow,
    DossierSequenceRow,
    KioskStatusHistoryRow,
    KioskStatusRow,
    RatingRow,
    ReceiptRow,
)
from hub.store.rollups import LOCAL_ZONE as LOCAL_ZONE  # the zone of the days, for the readers
from hub.store.rollups import add_to_rollups

# A kiosk whose status does not change still gets a history row this often (see save_kiosk_status).
HISTORY_EVERY = timedelta(hours=1)


def store_batch(
    session: Session,
    items: Sequence[tuple[RatingMessage, Attribution]],
    now: datetime,
    *,
    zone: tzinfo = LOCAL_ZONE,
    dead_letters: DeadLetterLimits | None = None,
) -> list[AckOutcome]:
    """Insert the ratings not stored before, and count them in the rollups for their day in
    ``zone``; the caller commits, then acknowledges.

    Idempotent on the rating id: one already in the table, or repeated within the batch, is
    reported as ``duplicate`` and not written again, if it says what the stored one says. The same
    id with other content (a score changed, another kiosk's rating re-sent under its id) is a
    ``conflict``: acknowledged ``rejected`` and kept in the dead letters, never silently taken for
    a copy; the stored rating stands. One rating per receipt and stage: a second
    rating of a receipt (made offline at another kiosk, say) is reported as ``already_rated`` and
    kept in the dead letters with the id of the rating that stands, so nothing is lost.

    The rows go in as one Core ``executemany`` of plain values, not ORM objects: this is the
    hub's hot path, and the unit of work cost four times the insert itself.
    """
    keys = [str(rating.id) for rating, _ in items]
    existing, first_by_receipt = _stored_before(session, [rating for rating, _ in items], keys)
    # What each id already stands for: the stored rows' content, then this batch's own ratings
    # (their content is worked out only if the id comes again: a repeat within a batch is rare).
    contents = _stored_contents(session, existing)
    taken: dict[str, RatingMessage] = {}
    received_at = now.astimezone(UTC)  # one object for the batch: converted once for the insert
    # The register decides the stage (see attribute()), so the key uses the attributed one.
    outcomes: list[AckOutcome] = []
    stored: list[RatingValues] = []
    for (rating, attribution), key in zip(items, keys, strict=True):
        if key in existing:
            earlier = _content(taken[key]) if key in taken else contents.get(key)
            differs = _differences(earlier, _content(rating))
            if not differs:
                outcomes.append(AckOutcome(id=rating.id, seq=rating.seq, outcome="duplicate"))
                continue
            reason = f"conflict: rating {key} is stored with another {', '.join(differs)}"
            topic = topics.ratings(rating.unit, rating.kiosk)
            store_dead_letter(
                session, topic, rating.to_bytes(), reason, now, code="conflict", limits=dead_letters
            )
            outcomes.append(
                AckOutcome(id=rating.id, seq=rating.seq, outcome="rejected", reason=reason)
            )
            continue
        receipt = _receipt_key(rating, attribution)
        if receipt is not None and receipt in first_by_receipt:
            reason = (
                f"already rated: {receipt[1]} {receipt[2]} by rating {first_by_receipt[receipt]}"
            )
            topic = topics.ratings(rating.unit, rating.kiosk)
            store_dead_letter(
                session,
                topic,
                rating.to_bytes(),
                reason,
                now,
                code="already_rated",
                limits=dead_letters,
            )
            outcomes.append(
                AckOutcome(id=rating.id, seq=rating.seq, outcome="already_rated", reason=reason)
            )
            continue
        existing.add(key)
        taken[key] = rating
        if receipt is not None:
            first_by_receipt[receipt] = key
        stored.append(rating_values(rating, attribution, received_at, key))
        outcomes.append(AckOutcome(id=rating.id, seq=rating.seq, outcome="stored"))
    _insert_ratings(session, stored)
    # Only what the headline figures count goes into the rollups (hub.domain.register): the
    # unverified and the suspect are stored, and counted apart from the raw rows.
    add_to_rollups(session, [row for row in stored if row["counted"]], zone)
    for unit in {row["unit"] for row in stored}:
        use_zone(session, unit, zone)  # coverage counts on the same clock as the rollups
    count_ratings(session, stored)  # coverage: the receipts these ratings rate (its own filter)
    return outcomes


_RATINGS = cast(Table, RatingRow.__table__)
# The columns of one ``ratings`` row, by name.
RatingValues = dict[str, Any]


@dataclass(frozen=True)
class _InsertPlan:
    """The ``ratings`` INSERT compiled for one dialect, with each parameter's bind processor."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool


@lru_cache(maxsize=8)
def _insert_plan(dialect: Dialect) -> _InsertPlan:
    compiled = insert(_RATINGS).compile(dialect=dialect, column_keys=list(_RATINGS.c.keys()))
    names = tuple(compiled.positiontup or compiled.binds)
    processors = tuple(
        _RATINGS.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    return _InsertPlan(compiled.string, names, processors, compiled.positiontup is not None)


def _insert_ratings(session: Session, rows: Sequence[RatingValues]) -> None:
    """One ``executemany`` of the batch's rows, the parameters converted the way SQLAlchemy
    would (the columns' own bind processors) but without its per-row bookkeeping, which cost
    more than SQLite's insert itself on the hub's hot path."""
    if not rows:
        return
    connection = session.connection()
    plan = _insert_plan(connection.dialect)
    values = itemgetter(*plan.names)
    converted = [(i, p) for i, p in enumerate(plan.processors) if p is not None]
    # The last value each column converted, and to what: the batch's one received_at and every
    # empty reasons tuple (one object in CPython) are converted once.
    last: dict[int, tuple[Any, Any]] = {}
    params: list[Any] = []
    for row in rows:
        row_params = list(values(row))
        for i, process in converted:
            value = row_params[i]
            seen = last.get(i)
            if seen is not None and seen[0] is value:
                row_params[i] = seen[1]
            else:
                row_params[i] = process(value)
                last[i] = (value, row_params[i])
        params.append(
            tuple(row_params) if plan.positional else dict(zip(plan.names, row_params, strict=True))
        )
    connection.exec_driver_sql(plan.sql, params)


ReceiptKey = tuple[str, str, str]  # unit, dossier code, stage


def _receipt_key(rating: RatingMessage, attribution: Attribution) -> ReceiptKey | None:
    if rating.receipt is None:
        return None
    return (rating.unit, rating.receipt.code, attribution.stage.value)


def _stored_before(
    session: Session, ratings: Sequence[RatingMessage], keys: Sequence[str]
) -> tuple[set[str], dict[ReceiptKey, str]]:
    """Of ``ratings`` (their ids as text in ``keys``): the ids already stored, and the id of the
    stored rating for each receipt and stage that has one (in one query: this runs per batch)."""
    ids = set(keys)
    codes = {rating.receipt.code for rating in ratings if rating.receipt}
    match: ColumnElement[bool] = RatingRow.id.in_(ids)
    if codes:
        match = match | RatingRow.dossier_code.in_(codes)
    rows = session.execute(
        select(RatingRow.id, RatingRow.unit, RatingRow.dossier_code, RatingRow.stage).where(match)
    )
    existing: set[str] = set()
    by_receipt: dict[ReceiptKey, str] = {}
    for row in rows:
        if row.id in ids:
            existing.add(row.id)
        if row.dossier_code is not None:
            by_receipt[(row.unit, row.dossier_code, row.stage)] = row.id
    return existing, by_receipt


def rating_values(
    rating: RatingMessage, attribution: Attribution, received_at: datetime, key: str | None = None
) -> RatingValues:
    """The ``ratings`` row for a rating as attributed; what the rollups count. ``key``: the id
    as text, when the caller has it already."""
    return {
        "id": key or str(rating.id),
        "unit": rating.unit,
        "kiosk": rating.kiosk,
        "seq": rating.seq,
        "dossier_code": rating.receipt.code if rating.receipt else None,
        # A kiosk's "verified" proves nothing alone: only a signed slip the register holds is.
        "receipt_verified": bool(
            rating.receipt and rating.receipt.verified and attribution.receipt_known
        ),
        "receipt_known": attribution.receipt_known,
        "stage": attribution.stage.value,
        "counter": attribution.counter,
        "officer": attribution.officer,
        "procedure": attribution.procedure,
        "field": attribution.field,
        "score": int(rating.score),
        "reasons": rating.reasons,  # a tuple: stored as a JSON list
        "factors": {factor.value: int(score) for factor, score in rating.factors.items()},
        "not_applicable": [f.value for f in rating.not_applicable or ()] or None,
        "comment": _text(rating.comment) if rating.comment is not None else None,
        "callback_phone": rating.callback_phone,
        "lang": rating.lang,
        "channel": rating.channel.value,
        "rated_at": rating.rated_at,  # in UTC once stored (hub.store.types.UtcDateTime)
        "received_at": received_at,
        "duration_ms": rating.duration_ms,
        "counted": attribution.counted,
        "suspect": attribution.suspect,
        "claim_mismatch": ",".join(attribution.claim_mismatch) or None,
        "entered_by": attribution.entered_by,
        "assisted": attribution.assisted,
    }


# What identifies a rating's content, as the kiosk sent it (not as the hub attributed it: the
# register may fill in or correct counter, officer, procedure, stage and "verified").
_CONTENT = (
    "unit",
    "kiosk",
    "seq",
    "dossier_code",
    "score",
    "reasons",
    "factors",
    "not_applicable",
    "comment",
    "callback_phone",
    "lang",
    "channel",
    "rated_at",
    "duration_ms",
)
Content = tuple[Any, ...]


def _content(rating: RatingMessage) -> Content:
    return (
        rating.unit,
        rating.kiosk,
        rating.seq,
        rating.receipt.code if rating.receipt else None,
        int(rating.score),
        tuple(rating.reasons),
        tuple(sorted((factor.value, int(score)) for factor, score in rating.factors.items())),
        tuple(sorted(factor.value for factor in rating.not_applicable or ())),
        _text(rating.comment) if rating.comment is not None else None,
        rating.callback_phone,
        rating.lang,
        rating.channel.value,
        rating.rated_at.astimezone(UTC),
        rating.duration_ms,
    )


def _stored_contents(session: Session, ids: set[str]) -> dict[str, Content]:
    """The content of the stored ratings among ``ids`` (one query; only when a batch repeats
    ids already stored, so the hot path of new ratings never runs it)."""
    if not ids:
        return {}
    columns = [RatingRow.id, *(getattr(RatingRow, name) for name in _CONTENT)]
    rows = session.execute(select(*columns).where(RatingRow.id.in_(ids)))
    out: dict[str, Content] = {}
    for row in rows:
        values = dict(zip(_CONTENT, row[1:], strict=True))
        out[row[0]] = (
            *(values[name] for name in _CONTENT[:5]),
            tuple(values["reasons"] or ()),
            tuple(sorted((str(k), int(v)) for k, v in (values["factors"] or {}).items())),
            tuple(sorted(str(f) for f in values["not_applicable"] or ())),
            values["comment"],
            values["callback_phone"],
            values["lang"],
            values["channel"],
            values["rated_at"],
            values["duration_ms"],
        )
    return out


def _differences(stored: Content | None, incoming: Content) -> list[str]:
    """The names of the fields where ``incoming`` says something else than ``stored``."""
    if stored is None:  # stored by another worker since the batch began: nothing to compare
        return []
    return [name for name, a, b in zip(_CONTENT, stored, incoming, strict=True) if a != b]


@dataclass(frozen=True)
class DeadLetterLimits:
    """How much a dead letter may cost (``[hub] dead_letter_*``): the first ``payload_bytes`` of
    the payload are kept, with the whole payload's size and SHA-256; at most ``per_kiosk`` rows
    per kiosk. Past the quota a new dead letter is counted (:func:`dropped_dead_letters`, the
    ``/metrics`` figure) and logged by the hub, but not kept: the rows that show how a flood
    began stay, and the retention makes room again."""

    payload_bytes: int = 2048
    per_kiosk: int = 1000


_ROOM = "hailong_dead_letter_room"  # session.info keys: rows left per kiosk in this transaction
_DROPPED = "hailong_dead_letters_dropped"  # ... and the dead letters not kept, per code


def store_dead_letter(
    session: Session,
    topic: str,
    payload: bytes,
    reason: str,
    now: datetime,
    *,
    code: str = "other",
    limits: DeadLetterLimits | None = None,
) -> bool:
    """Keep a refused payload, cut to the limits; False when its kiosk's quota is full (the
    caller acknowledges it all the same: counting it is what the quota costs)."""
    limits = limits or DeadLetterLimits()
    kiosk: str | None
    try:
        origin = topics.parse_kiosk_topic(topic)
        kiosk = origin.kiosk
    except topics.TopicError:
        origin, kiosk = None, None
    room: dict[str | None, int] = session.info.setdefault(_ROOM, {})
    if kiosk not in room:
        match = DeadLetterRow.kiosk.is_(None) if kiosk is None else DeadLetterRow.kiosk == kiosk
        kept = session.scalar(select(func.count()).select_from(DeadLetterRow).where(match)) or 0
        room[kiosk] = limits.per_kiosk - int(kept)
    if room[kiosk] <= 0:
        dropped: Counter[str] = session.info.setdefault(_DROPPED, Counter())
        dropped[code] += 1
        return False
    room[kiosk] -= 1
    identity = peek_identity(payload) if origin is not None and origin.kind == "ratings" else None
    session.add(
        DeadLetterRow(
            topic=_text(topic)[:200],
            payload=payload[: limits.payload_bytes],
            reason=_text(reason)[:2000],
            received_at=now,
            kiosk=kiosk,
            code=code[:32],
            size=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(),
            seq=identity[1] if identity is not None else None,
        )
    )
    return True


def dropped_dead_letters(session: Session) -> Counter[str]:
    """The dead letters ``session`` did not keep for want of quota, per code."""
    dropped: Counter[str] = session.info.get(_DROPPED, Counter())
    return dropped


def dead_letter_kept(session: Session, kiosk: str | None, sha256: str) -> bool:
    """Whether a dead letter with this payload hash is already kept for ``kiosk``: a retained
    status the broker sends again at every reconnection is kept once."""
    match = DeadLetterRow.kiosk.is_(None) if kiosk is None else DeadLetterRow.kiosk == kiosk
    query = select(DeadLetterRow.id).where(match, DeadLetterRow.sha256 == sha256).limit(1)
    return session.scalar(query) is not None


def _text(value: str) -> str:
    """PostgreSQL's text cannot hold NUL (valid JSON may carry one as \\u0000): mark it instead."""
    return value.replace("\x00", "\ufffd")


def receipt_facts(session: Session, codes: Iterable[str]) -> dict[str, ReceiptFacts]:
    """What the register holds for each of ``codes`` it knows (one query)."""
    wanted = set(codes)
    if not wanted:
        return {}
    # Plain rows, not mapped objects: a batch of a thousand known codes is a thousand rows.
    query = select(
        ReceiptRow.dossier_code,
        ReceiptRow.procedure,
        ReceiptRow.counter,
        ReceiptRow.officer,
        ReceiptRow.returned_at,
        ReceiptRow.returned_by,
        ReceiptRow.issued_at,
        ReceiptRow.unit,
        ReceiptRow.origin,
    ).where(ReceiptRow.dossier_code.in_(wanted))
    rows = session.execute(query)
    return {
        row.dossier_code: ReceiptFacts(
            row.dossier_code,
            row.procedure,
            row.counter,
            row.officer,
            row.returned_at,
            row.returned_by,
            issued_at=row.issued_at,
            unit=row.unit,
            origin=row.origin,
        )
        for row in rows
    }


def register_view(
    session: Session,
    codes: Iterable[str],
    now: datetime,
    *,
    zone: tzinfo = LOCAL_ZONE,
    book: CodeBook | None = None,
) -> RegisterView:
    """What :func:`hub.domain.register.judge` needs about a batch's codes, in two queries: the
    register's rows for the codes it knows, and for the others the last dossier sequence the
    hub handed out on their day (``dossier_sequences``). ``book``: the unit's own dossier code
    patterns, so a registered receipt of another system is found too."""
    # Only codes that parse reach the database: anything else is refused without it, and a
    # hostile one (a NUL, which PostgreSQL's text refuses) would fail the batch's every retry.
    parsed: dict[str, DossierCode] = {}
    for text in set(codes):
        try:
            parsed[text] = DossierCode.parse(text, book)
        except ReceiptRefused:
            continue
    receipts = receipt_facts(session, parsed)
    days = {
        (code.unit, code.received_on)
        for text, code in parsed.items()
        if text not in receipts and code.national
    }
    allocated: dict[tuple[str, date], int] = {}
    if days:
        match = or_(
            *(
                and_(DossierSequenceRow.unit == unit, DossierSequenceRow.day == day)
                for unit, day in sorted(days)
            )
        )
        for row in session.execute(
            select(DossierSequenceRow.unit, DossierSequenceRow.day, DossierSequenceRow.last).where(
                match
            )
        ):
            allocated[(row.unit, row.day)] = int(row.last)
    return RegisterView(receipts, allocated, now.astimezone(zone).date(), parsed=parsed)


def paced_times(
    session: Session, windows: Mapping[tuple[str, str], tuple[datetime, datetime]]
) -> dict[tuple[str, str], list[datetime]]:
    """For each (unit, kiosk): the ``rated_at`` of its stored ratings without a known receipt and
    not suspect, within its ``[first, last]`` window (the caller widens it by the interval), for
    :func:`hub.domain.register.pace`. One query through the index on unit and time; it runs only
    for batches holding walk-ins or unknown codes."""
    if not windows:
        return {}
    match = or_(
        *(
            and_(
                RatingRow.unit == unit,
                RatingRow.kiosk == kiosk,
                RatingRow.rated_at >= first,
                RatingRow.rated_at <= last,
            )
            for (unit, kiosk), (first, last) in sorted(windows.items())
        )
    )
    rows = session.execute(
        select(RatingRow.unit, RatingRow.kiosk, RatingRow.rated_at).where(
            match, RatingRow.receipt_known.is_(False), RatingRow.suspect.is_(False)
        )
    )
    times: dict[tuple[str, str], list[datetime]] = {}
    for row in rows:
        times.setdefault((row.unit, row.kiosk), []).append(row.rated_at)
    return times


def save_kiosk_status(
    session: Session, unit: str, status: KioskStatusMessage, now: datetime
) -> None:
    """Keep the latest status per kiosk (the kiosk identity comes from the ACL-checked topic), and
    add it to the kiosk's history when something in it changed, or at least every
    :data:`HISTORY_EVERY`.

    A kiosk reports every minute; most reports repeat the one before. Keeping only the changes
    (link, buffer depth, version, devices, refusal counts) and an hourly heartbeat cuts the history
    of a province from about a million rows a day to what explains an outage, and lets shared hub
    workers, which all receive every status, add one row between them instead of one each.
    """
    version = _text(status.version[:40]) if status.version is not None else None
    reported_at = status.at.astimezone(UTC) if status.at else None
    received_at = now.astimezone(UTC)
    row = session.get(KioskStatusRow, (unit, status.kiosk))
    changed = row is None or _status_facts(row) != (
        status.online,
        status.buffer_depth,
        version,
        dict(status.devices) if status.online else row.devices,
        dict(status.refusals) if status.online or status.refusals else row.refusals,
    )
    row = row or KioskStatusRow(unit=unit, kiosk=status.kiosk)
    row.online = status.online
    row.buffer_depth = status.buffer_depth
    row.version = version
    if status.online or status.refusals:
        row.refusals = dict(status.refusals)  # the last will carries no counts: keep the old
    row.reported_at = reported_at
    row.received_at = received_at
    if status.online:  # the last will says nothing of these: keep what the kiosk last said
        row.last_ack_at = status.last_ack_at.astimezone(UTC) if status.last_ack_at else None
        row.oldest_pending_seq = status.oldest_pending_seq
        row.devices = dict(status.devices)
        row.last_scan_at = status.last_scan_at.astimezone(UTC) if status.last_scan_at else None
    session.add(row)
    if not changed and not _history_due(session, unit, status.kiosk, received_at):
        return
    session.add(
        KioskStatusHistoryRow(
            unit=unit,
            kiosk=status.kiosk,
            at=received_at,
            online=status.online,
            buffer_depth=status.buffer_depth,
            version=version,
            refusals=dict(status.refusals),
            reported_at=reported_at,
        )
    )


def _status_facts(row: KioskStatusRow) -> tuple[Any, ...]:
    return (row.online, row.buffer_depth, row.version, row.devices, row.refusals)


def _history_due(session: Session, unit: str, kiosk: str, at: datetime) -> bool:
    last = session.scalar(
        select(func.max(KioskStatusHistoryRow.at)).where(
            KioskStatusHistoryRow.unit == unit, KioskStatusHistoryRow.kiosk == kiosk
        )
    )
    return last is None or last <= at - HISTORY_EVERY


def pending_returns(session: Session, unit: str, limit: int = 500) -> list[ReturnedReceipt]:
    """Returns recorded in the register that the kiosks have not been told about yet."""
    rows = session.execute(
        select(ReceiptRow.dossier_code, ReceiptRow.returned_at)
        .where(
            ReceiptRow.unit == unit,
            ReceiptRow.returned_at.is_not(None),
            ReceiptRow.return_announced.is_(False),
        )
        .limit(limit)
    )
    return [ReturnedReceipt(code=row.dossier_code, returned_at=row.returned_at) for row in rows]


def mark_announced(session: Session, codes: Sequence[str]) -> None:
    session.execute(
        update(ReceiptRow).where(ReceiptRow.dossier_code.in_(codes)).values(return_announced=True)
    )
