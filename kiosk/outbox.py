"""The kiosk's durable buffer: every rating is committed here before the citizen is thanked.

A rating leaves the outbox only when the hub acknowledges that it committed it (``stored`` or
``duplicate``). A ``rejected`` rating is kept, marked, and no longer sent. The file survives power
loss (SQLite WAL with ``synchronous=FULL``); the kiosk can run offline for days.

The Qt thread appends and the MQTT thread acknowledges, so every method takes one lock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)

from hailong.contract.messages import (
    AckOutcome,
    ContractError,
    RatedReceipt,
    RatingMessage,
    UnitConfigMessage,
    decode_unit_config,
)
from hailong.contract.scale import Stage

_metadata = MetaData()
_outbox = Table(
    "outbox",
    _metadata,
    Column("id", String(36), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_sent_at", DateTime(timezone=True)),
    Column("state", String(10), nullable=False, default="pending"),
    Column("reject_reason", Text),
)
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
_state = Table(
    "kiosk_state",
    _metadata,
    Column("key", String(40), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)


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

    def append(self, build: Callable[[int], RatingMessage]) -> RatingMessage:
        """Give the rating the next sequence number and commit it; returns once it is on disk."""
        with self._lock, self._engine.begin() as conn:
            last = conn.execute(select(func.max(_outbox.c.seq))).scalar()
            counter = conn.execute(select(_state.c.value).where(_state.c.key == "last_seq"))
            stored_last = counter.scalar()
            seq = max(int(last or 0), int(stored_last or b"0")) + 1
            rating = build(seq)
            conn.execute(
                insert(_outbox).values(
                    id=str(rating.id),
                    seq=seq,
                    payload=rating.to_bytes(),
                    created_at=rating.rated_at.astimezone(UTC),
                    state="pending",
                )
            )
            self._put_state(conn, "last_seq", str(seq).encode())
            if rating.receipt:
                conn.execute(
                    insert(_rated)
                    .prefix_with("OR IGNORE")
                    .values(dossier_code=rating.receipt.code, stage=rating.stage.value)
                )
        return rating

    def due(self, now: datetime, resend_after: float) -> list[tuple[UUID, bytes]]:
        """Pending ratings never sent, or sent more than ``resend_after`` seconds ago, oldest first."""
        cutoff = now.timestamp() - resend_after
        with self._lock, self._engine.connect() as conn:
            rows = conn.execute(
                select(_outbox.c.id, _outbox.c.payload, _outbox.c.last_sent_at)
                .where(_outbox.c.state == "pending")
                .order_by(_outbox.c.seq)
            ).all()
        return [
            (UUID(row.id), row.payload)
            for row in rows
            if row.last_sent_at is None or _ts(row.last_sent_at) <= cutoff
        ]

    def mark_sent(self, ids: Iterable[UUID], now: datetime) -> None:
        keys = [str(i) for i in ids]
        if not keys:
            return
        with self._lock, self._engine.begin() as conn:
            conn.execute(
                update(_outbox)
                .where(_outbox.c.id.in_(keys))
                .values(last_sent_at=now.astimezone(UTC))
            )

    def acknowledge(self, results: Iterable[AckOutcome]) -> int:
        """Apply the hub's verdicts; returns how many ratings left the outbox."""
        done = [str(r.id) for r in results if r.outcome in ("stored", "duplicate", "already_rated")]
        rejected = [r for r in results if r.outcome == "rejected"]
        with self._lock, self._engine.begin() as conn:
            removed = conn.execute(delete(_outbox).where(_outbox.c.id.in_(done))).rowcount
            for r in rejected:
                conn.execute(
                    update(_outbox)
                    .where(_outbox.c.id == str(r.id))
                    .values(state="rejected", reject_reason=r.reason)
                )
        return int(removed or 0)

    def depth(self) -> int:
        return self._count(_outbox.c.state == "pending")

    def rejected_count(self) -> int:
        return self._count(_outbox.c.state == "rejected")

    def _count(self, condition: Any) -> int:
        with self._lock, self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(condition)).scalar() or 0)

    def has_rated(self, dossier_code: str, stage: Stage) -> bool:
        with self._lock, self._engine.connect() as conn:
            row = conn.execute(
                select(_rated.c.dossier_code).where(
                    _rated.c.dossier_code == dossier_code, _rated.c.stage == stage.value
                )
            ).first()
        return row is not None

    def mark_rated(self, receipts: Iterable[RatedReceipt]) -> None:
        """Receipts rated elsewhere (the hub says so): refuse them here too."""
        values = [{"dossier_code": r.code, "stage": r.stage.value} for r in receipts]
        if not values:
            return
        with self._lock, self._engine.begin() as conn:
            conn.execute(insert(_rated).prefix_with("OR IGNORE"), values)

    def mark_returned(self, codes: Iterable[str]) -> None:
        values = [{"dossier_code": code} for code in codes]
        if not values:
            return
        with self._lock, self._engine.begin() as conn:
            conn.execute(insert(_returned).prefix_with("OR IGNORE"), values)

    def stage_of(self, dossier_code: str) -> Stage:
        """Which service moment a scan of this receipt rates, as far as this kiosk knows."""
        with self._lock, self._engine.connect() as conn:
            row = conn.execute(
                select(_returned.c.dossier_code).where(_returned.c.dossier_code == dossier_code)
            ).first()
        return Stage.RETURN if row is not None else Stage.RECEPTION

    def count_refusal(self, reason: str) -> None:
        """One more receipt refused for ``reason`` (reported to the hub in the kiosk status)."""
        with self._lock, self._engine.begin() as conn:
            counts = self._refusals(conn)
            counts[reason] = counts.get(reason, 0) + 1
            self._put_state(conn, "refusals", json.dumps(counts, sort_keys=True).encode())

    def refusals(self) -> dict[str, int]:
        with self._lock, self._engine.connect() as conn:
            return self._refusals(conn)

    @staticmethod
    def _refusals(conn: Any) -> dict[str, int]:
        raw = conn.execute(select(_state.c.value).where(_state.c.key == "refusals")).scalar()
        return {str(k): int(v) for k, v in json.loads(raw).items()} if raw else {}

    def save_unit_config(self, payload: bytes) -> None:
        with self._lock, self._engine.begin() as conn:
            self._put_state(conn, "unit_config", payload)

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
        self._engine.dispose()

    @staticmethod
    def _put_state(conn: Any, key: str, value: bytes) -> None:
        conn.execute(delete(_state).where(_state.c.key == key))
        conn.execute(insert(_state).values(key=key, value=value))


def _ts(value: datetime) -> float:
    """SQLite returns naive datetimes; they were written in UTC."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
