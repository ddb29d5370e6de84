"""The kiosk's durable buffer: every rating is committed here before the citizen is thanked.

A rating is written the moment its face is tapped, *open*: on disk, holding its seq, but not
published, because the citizen may still give reasons, a comment or survey answers, which rewrite
it in place (:meth:`Outbox.save`). When the citizen's flow ends the rating is *closed* (state
``pending``) and only then published, once, as one message: the hub never sees a rating change.
A rating left open by a crash or a power cut is closed, with what was answered, when the outbox is
next opened. So a tapped face is counted exactly once whatever happens after the tap.

States: ``open`` (held) ─close─▶ ``pending`` (published until acknowledged) ─ack─▶ deleted, or
─reject─▶ ``rejected`` (kept, marked, no longer sent). Files written before ``open`` existed hold
only ``pending`` and ``rejected`` rows and open unchanged: the state column already existed, so no
migration is needed. At most one rating is open at a time: opening or appending a new one closes
any other first, so publication follows seq order and the seqs stay gap-free. The file survives
power loss (SQLite WAL with ``synchronous=FULL``); the kiosk can run offline for days.

An abandoned session (a scan that ended without a face, :class:`AbandonedMessage`) is a row of
the same table, written closed (``pending``) at once with the next seq (:meth:`Outbox.save_abandoned`),
published, acknowledged and rejected exactly like a rating: the hub sees one gap-free sequence
per kiosk. It never marks its receipt rated. ``depth`` counts it with the ratings.

The Qt thread appends and the MQTT threads publish and acknowledge, so every method takes one lock;
none of them reads more than the rows it returns, so a backlog of 100,000 ratings never holds the
lock (and the Qt thread waiting on it) for long.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from hailong.contract.messages import (
    AbandonedMessage,
    AckOutcome,
    ContractError,
    RatedReceipt,
    RatingMessage,
    UnitConfigMessage,
    decode_abandoned,
    decode_rating,
    decode_unit_config,
)
from hailong.contract.scale import Stage
from kiosk.outbox_errors import OutboxError as OutboxError  # re-exported: callers import it here

log = logging.getLogger(__name__)

_metadata = MetaData()
_outbox = Table(
    "outbox",
    _metadata,
    Column("id", String(36), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_sent_at", DateTime(timezone=True)),
    # "open" (tapped, answers still coming: never published), "pending", "rejected".
    Column("state", String(10), nullable=False, default="pending"),
    Column("reject_reason", Text),
)
OPEN, PENDING, REJECTED = "open", "pending", "rejected"
_rated = Table(
    "rated_receipts",
    _metadata,
    Column("dossier_code", String(40), primary_key=True),
    Column("stage", String(16), primary_key=True),
)
# Receipts whose result has been handed back (the hub says so): rated as the return stage.
_returned = Table(
    "returned_receipts",
    _metadata,
    Column("dossier_code", String(40), primary_key=True),
)
# "Already rated" notices are held in memory and written together, at most this often or once
# this many wait: each kiosk of a unit hears of every rating in it, and a write a second all day
# wears a Raspberry Pi's SD card (and, with a thousand simulated kiosks, outran the bench machine).
RATED_WRITE_EVERY_S = 60.0
RATED_WRITE_AT = 1000
_RATED_SQL = "INSERT OR IGNORE INTO rated_receipts (dossier_code, stage) VALUES (?, ?)"
_RETURNED_SQL = "INSERT OR IGNORE INTO returned_receipts (dossier_code) VALUES (?)"
_state = Table(
    "kiosk_state",
    _metadata,
    Column("key", String(40), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)


# Ids per statement in ``IN (...)`` lists: well below SQLite's limit on bound variables (32,766,
# or 999 before SQLite 3.32), however many ids a caller passes.
_IDS_PER_STATEMENT = 500

# The statements of a tap's write, built once: building them on every write (SQLAlchemy's
# expression objects, then their cache keys) was most of the write's CPU time after the commit,
# and on a Raspberry Pi's core that is milliseconds of each tap's time to the next screen.
_BY_ID = select(_outbox.c.seq, _outbox.c.state, _outbox.c.payload).where(
    _outbox.c.id == bindparam("row_id")
)
_REWRITE_OPEN = (
    update(_outbox)
    .where(_outbox.c.id == bindparam("row_id"), _outbox.c.state == OPEN)
    .values(
        payload=bindparam("new_payload"),
        created_at=bindparam("new_created_at"),
        state=bindparam("new_state"),
    )
)
_CLOSE_OPEN = update(_outbox).where(_outbox.c.state == OPEN).values(state=PENDING)
_MAX_SEQ = select(func.max(_outbox.c.seq))
_STATE_VALUE = select(_state.c.value).where(_state.c.key == bindparam("state_key"))
_DELETE_STATE = delete(_state).where(_state.c.key == bindparam("state_key"))
_INSERT_STATE = insert(_state)
_INSERT_ROW = insert(_outbox)
_INSERT_RATED = insert(_rated).prefix_with("OR IGNORE")


@dataclass(frozen=True)
class DueRating:
    """A pending rating to (re)publish: its identity, its place in the kiosk's order, its bytes."""

    id: UUID
    seq: int
    payload: bytes


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _outbox_errors(method: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except (SQLAlchemyError, OSError) as exc:
            raise OutboxError(f"outbox {method.__name__}: {exc}") from exc

    return wrapper


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class Outbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
        event.listen(self._engine, "connect", _pragmas)
        _metadata.create_all(self._engine)
        self._lock = threading.Lock()
        # Before anything counts or publishes: ratings the last run left open are final now.
        with self._engine.begin() as conn:
            left_open = self._close_open(conn)
        if left_open:
            log.warning("closed %d rating(s) left open by an unclean stop", left_open)
        # Pending ratings, kept in step with every commit below (this object is the file's only
        # writer): the maintenance screen and the status read it often, and counting 100,000
        # rows under the lock each time starved the uplink during a backlog drain.
        self._pending = self._count(_outbox.c.state == PENDING)
        # Notices not yet written (see RATED_WRITE_EVERY_S): (dossier code, stage).
        self._rated_unwritten: set[tuple[str, str]] = set()
        self._rated_written_at = time.monotonic()

    @_outbox_errors
    def append(self, build: Callable[[int], RatingMessage]) -> RatingMessage:
        """Give the rating the next sequence number and commit it closed (publishable); returns
        once it is on disk. For a rating complete at once (a button box's press)."""
        with self._lock:
            with self._engine.begin() as conn:
                closed = self._close_open(conn)
                rating = self._insert(conn, build, PENDING)
            self._pending += closed + 1
        return rating

    @_outbox_errors
    def save(
        self, rating_id: UUID, build: Callable[[int], RatingMessage], *, close: bool
    ) -> RatingMessage:
        """Write a citizen's rating as answered so far; returns once it is on disk.

        The first write of ``rating_id`` gives it the next seq (closing any other open rating
        first); later writes rewrite it in place with the same seq while it is open. ``close``
        makes it final and publishable. A rating already closed is never changed again (it may
        be on its way to the hub, and one id must always carry one content): the stored rating
        is returned as it is.
        """
        state = PENDING if close else OPEN
        with self._lock:
            with self._engine.begin() as conn:
                row = conn.execute(_BY_ID, {"row_id": str(rating_id)}).first()
                if row is not None and row.state != OPEN:
                    return decode_rating(row.payload)
                closed = 0
                if row is None:
                    closed = self._close_open(conn)
                    rating = self._insert(conn, build, state)
                else:
                    rating = build(row.seq)
                    conn.execute(
                        _REWRITE_OPEN,
                        {
                            "row_id": str(rating_id),
                            "new_payload": rating.to_bytes(),
                            "new_created_at": rating.rated_at.astimezone(UTC),
                            "new_state": state,
                        },
                    )
                if rating.id != rating_id:  # a bug, not data: nothing of it is committed
                    raise ValueError(f"built rating {rating.id} saved as {rating_id}")
            self._pending += closed + (1 if close else 0)
        return rating

    @_outbox_errors
    def save_abandoned(
        self, session_id: UUID, build: Callable[[int], AbandonedMessage]
    ) -> AbandonedMessage:
        """Commit an abandoned session, closed (publishable), with the next seq; returns once it
        is on disk. Idempotent on ``session_id``: a second write returns the stored record."""
        with self._lock:
            with self._engine.begin() as conn:
                stored = conn.execute(
                    select(_outbox.c.payload).where(_outbox.c.id == str(session_id))
                ).scalar()
                if stored is not None:
                    return decode_abandoned(stored)
                closed = self._close_open(conn)  # publication keeps to seq order
                seq = self._next_seq(conn)
                record = build(seq)
                if record.id != session_id:  # a bug, not data: nothing of it is committed
                    raise ValueError(f"built record {record.id} saved as {session_id}")
                self._insert_row(conn, record.id, seq, record.to_bytes(), record.ended_at, PENDING)
            self._pending += closed + 1
        return record

    @_outbox_errors
    def close_open(self) -> int:
        """Close every open rating as it stands (the kiosk is stopping); returns how many."""
        with self._lock:
            with self._engine.begin() as conn:
                closed = self._close_open(conn)
            self._pending += closed
        return closed

    @_outbox_errors
    def open_count(self) -> int:
        """Ratings tapped whose citizen is still answering (0 or 1 on a running kiosk)."""
        return self._count(_outbox.c.state == OPEN)

    @staticmethod
    def _close_open(conn: Connection) -> int:
        """Make every open rating final, in the caller's transaction; returns how many."""
        return int(conn.execute(_CLOSE_OPEN).rowcount)

    def _insert(
        self, conn: Connection, build: Callable[[int], RatingMessage], state: str
    ) -> RatingMessage:
        """A new rating with the next seq, in the caller's transaction. The seq comes from the
        highest ever given (``last_seq`` survives every rating leaving the outbox), so numbers
        are never reused; an open rating holds its number until it is closed."""
        seq = self._next_seq(conn)
        rating = build(seq)
        self._insert_row(conn, rating.id, seq, rating.to_bytes(), rating.rated_at, state)
        if rating.receipt:
            # From the tap: a second scan of this receipt is "already rated" at once.
            conn.execute(
                _INSERT_RATED, {"dossier_code": rating.receipt.code, "stage": rating.stage.value}
            )
        return rating

    @staticmethod
    def _next_seq(conn: Connection) -> int:
        """The next seq, shared by ratings and abandoned sessions, in the caller's transaction."""
        last = conn.execute(_MAX_SEQ).scalar()
        stored_last = conn.execute(_STATE_VALUE, {"state_key": "last_seq"}).scalar()
        return max(int(last or 0), int(stored_last or b"0")) + 1

    def _insert_row(
        self, conn: Connection, key: UUID, seq: int, payload: bytes, at: datetime, state: str
    ) -> None:
        """A new row holding ``seq``, which becomes the highest ever given (``last_seq``)."""
        conn.execute(
            _INSERT_ROW,
            {
                "id": str(key),
                "seq": seq,
                "payload": payload,
                "created_at": at.astimezone(UTC),
                "state": state,
            },
        )
        self._put_state(conn, "last_seq", str(seq).encode())

    @_outbox_errors
    def due(self, now: datetime, resend_after: float) -> list[tuple[UUID, bytes]]:
        """Pending ratings never sent, or sent more than ``resend_after`` seconds ago, oldest first."""
        return [(r.id, r.payload) for r in self.due_batch(now, resend_after, limit=None)]

    @_outbox_errors
    def due_batch(
        self, now: datetime, resend_after: float, *, after_seq: int = 0, limit: int | None = 1000
    ) -> list[DueRating]:
        """At most ``limit`` of the ratings :meth:`due` returns, those after ``after_seq`` only.

        The uplink walks a large backlog in windows with this (``after_seq`` is the last seq it
        published), so each call reads only the rows it returns, in seq order along the unique
        index on ``seq``, instead of every payload in the outbox.
        """
        cutoff = (now - timedelta(seconds=resend_after)).astimezone(UTC)
        query = (
            select(_outbox.c.id, _outbox.c.seq, _outbox.c.payload)
            .where(
                _outbox.c.state == PENDING,  # never an open rating: its answers may still change
                _outbox.c.seq > after_seq,
                # Both sides are UTC in SQLAlchemy's fixed-width text form, so SQLite compares
                # them as the instants they are.
                or_(_outbox.c.last_sent_at.is_(None), _outbox.c.last_sent_at <= cutoff),
            )
            .order_by(_outbox.c.seq)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._lock, self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [DueRating(UUID(row.id), row.seq, row.payload) for row in rows]

    @_outbox_errors
    def mark_sent(self, ids: Iterable[UUID], now: datetime) -> None:
        """Remember when these ratings were published, so they are due again only after
        ``resend_after`` (one transaction, however many ids)."""
        keys = [str(i) for i in ids]
        if not keys:
            return
        with self._lock, self._lenient() as conn:
            for chunk in _chunks(keys):
                conn.execute(
                    update(_outbox)
                    .where(_outbox.c.id.in_(chunk))
                    .values(last_sent_at=now.astimezone(UTC))
                )

    @_outbox_errors
    def acknowledge(self, results: Iterable[AckOutcome]) -> int:
        """Apply the hub's verdicts; returns how many ratings left the outbox."""
        verdicts = list(results)
        done = [
            str(r.id) for r in verdicts if r.outcome in ("stored", "duplicate", "already_rated")
        ]
        rejected = [r for r in verdicts if r.outcome == "rejected"]
        removed = marked = 0
        pending = _outbox.c.state == PENDING  # an open rating was never sent: nothing to ack
        with self._lock:
            with self._lenient() as conn:
                for chunk in _chunks(done):
                    statement = delete(_outbox).where(_outbox.c.id.in_(chunk), pending)
                    removed += conn.execute(statement).rowcount
                for r in rejected:
                    marked += conn.execute(
                        update(_outbox)
                        .where(_outbox.c.id == str(r.id), pending)
                        .values(state=REJECTED, reject_reason=r.reason)
                    ).rowcount
            self._pending -= removed + marked
        return removed

    @contextlib.contextmanager
    def _lenient(self) -> Iterator[Connection]:
        """A transaction committed without waiting for the disk (``synchronous=NORMAL``).

        Only for changes whose loss in a power cut costs a resend and nothing else: an ack
        applied (the rating comes back, is resent, and the hub answers "duplicate"), a send
        time, a notice of a receipt rated elsewhere. Appending a rating always waits for the
        disk. In WAL mode the next full commit or checkpoint makes these durable too; a drain of
        100,000 ratings does hundreds of them.
        """
        with self._engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            conn.commit()  # SQLAlchemy opened its transaction for the PRAGMA
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.exec_driver_sql("PRAGMA synchronous=FULL")
                conn.commit()

    def depth(self) -> int:
        """Ratings not yet acknowledged (nor rejected) by the hub."""
        with self._lock:
            return self._pending

    @_outbox_errors
    def oldest_pending_seq(self) -> int | None:
        """The seq of the oldest rating not yet acknowledged, an open one included: the hub's gap
        report counts seqs from here on as on their way, not lost (None: nothing held)."""
        with self._lock, self._engine.connect() as conn:
            seq = conn.execute(
                select(func.min(_outbox.c.seq)).where(_outbox.c.state.in_((PENDING, OPEN)))
            ).scalar()
        return int(seq) if seq is not None else None

    @_outbox_errors
    def rejected_count(self) -> int:
        return self._count(_outbox.c.state == REJECTED)

    def _count(self, condition: Any) -> int:
        with self._lock, self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(condition)).scalar() or 0)

    @_outbox_errors
    def has_rated(self, dossier_code: str, stage: Stage) -> bool:
        with self._lock:
            if (dossier_code, stage.value) in self._rated_unwritten:
                return True
            with self._engine.connect() as conn:
                row = conn.execute(
                    select(_rated.c.dossier_code).where(
                        _rated.c.dossier_code == dossier_code, _rated.c.stage == stage.value
                    )
                ).first()
        return row is not None

    @_outbox_errors
    def mark_rated(self, receipts: Iterable[RatedReceipt]) -> None:
        """Receipts rated elsewhere (the hub says so): refuse them here too.

        Held in memory (``has_rated`` reads them there at once) and written together, in a
        lenient transaction straight to the driver's executemany: a notice lost in a power cut
        costs nothing, since the hub refuses a second rating itself (``already_rated``). A failed
        write keeps them for the next try.
        """
        with self._lock:
            self._rated_unwritten.update((r.code, r.stage.value) for r in receipts)
            due = time.monotonic() - self._rated_written_at >= RATED_WRITE_EVERY_S
            if due or len(self._rated_unwritten) >= RATED_WRITE_AT:
                self._write_rated()

    def _write_rated(self) -> None:
        """Caller holds the lock."""
        if self._rated_unwritten:
            with self._lenient() as conn:
                conn.exec_driver_sql(_RATED_SQL, list(self._rated_unwritten))
            self._rated_unwritten.clear()
        self._rated_written_at = time.monotonic()

    @_outbox_errors
    def mark_returned(self, codes: Iterable[str]) -> None:
        """Results handed back: a later scan rates the return. Durable: no one would say it again."""
        rows = [(code,) for code in codes]
        if rows:
            with self._lock, self._engine.begin() as conn:
                conn.exec_driver_sql(_RETURNED_SQL, rows)

    @_outbox_errors
    def stage_of(self, dossier_code: str) -> Stage:
        """Which service moment a scan of this receipt rates, as far as this kiosk knows."""
        with self._lock, self._engine.connect() as conn:
            row = conn.execute(
                select(_returned.c.dossier_code).where(_returned.c.dossier_code == dossier_code)
            ).first()
        return Stage.RETURN if row is not None else Stage.RECEPTION

    @_outbox_errors
    def count_refusal(self, reason: str) -> None:
        """One more receipt refused for ``reason`` (reported to the hub in the kiosk status)."""
        with self._lock, self._engine.begin() as conn:
            counts = self._refusals(conn)
            counts[reason] = counts.get(reason, 0) + 1
            self._put_state(conn, "refusals", json.dumps(counts, sort_keys=True).encode())

    @_outbox_errors
    def refusals(self) -> dict[str, int]:
        with self._lock, self._engine.connect() as conn:
            return self._refusals(conn)

    @staticmethod
    def _refusals(conn: Any) -> dict[str, int]:
        raw = conn.execute(select(_state.c.value).where(_state.c.key == "refusals")).scalar()
        return {str(k): int(v) for k, v in json.loads(raw).items()} if raw else {}

    @_outbox_errors
    def save_unit_config(self, payload: bytes) -> None:
        with self._lock, self._engine.begin() as conn:
            self._put_state(conn, "unit_config", payload)

    @_outbox_errors
    def load_unit_config(self) -> UnitConfigMessage | None:
        with self._lock, self._engine.connect() as conn:
            payload = conn.execute(
                select(_state.c.value).where(_state.c.key == "unit_config")
            ).scalar()
        if payload is None:
            return None
        try:
            return decode_unit_config(payload)
        except ContractError:
            return None

    def close(self) -> None:
        with self._lock:
            try:
                self._write_rated()
            except SQLAlchemyError:
                log.warning("closing without %d rated notices", len(self._rated_unwritten))
        self._engine.dispose()

    @staticmethod
    def _put_state(conn: Any, key: str, value: bytes) -> None:
        conn.execute(_DELETE_STATE, {"state_key": key})
        conn.execute(_INSERT_STATE, {"key": key, "value": value})


def _chunks(keys: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(keys), _IDS_PER_STATEMENT):
        yield keys[start : start + _IDS_PER_STATEMENT]
