"""hostile ingest

Revision ID: 0007
Revises: 0006

Dead letters bounded and attributed (issue 15): ``dead_letters`` gains ``kiosk`` (from the topic),
``code`` (the machine reason), ``size`` and ``sha256`` (of the payload as received), ``seq`` (the
rating's, when readable) and an index on (kiosk, received_at) for the per-kiosk quota and the
retention. Existing rows are kept whole and filled in from their topic, reason and payload, in
Python, a few hundred rows at a time (both back-ends, no dialect's string functions); the parsing
is frozen here on purpose, like the earlier data steps.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_CHUNK = 500
_INT32_MAX = 2**31 - 1


def upgrade() -> None:
    op.add_column("dead_letters", sa.Column("kiosk", sa.String(length=40), nullable=True))
    op.add_column(
        "dead_letters",
        sa.Column("code", sa.String(length=32), nullable=False, server_default="malformed"),
    )
    op.add_column(
        "dead_letters", sa.Column("size", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "dead_letters", sa.Column("sha256", sa.String(length=64), nullable=False, server_default="")
    )
    op.add_column("dead_letters", sa.Column("seq", sa.Integer(), nullable=True))
    op.create_index("ix_dead_letters_kiosk_received_at", "dead_letters", ["kiosk", "received_at"])
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_index("ix_dead_letters_kiosk_received_at")
        for column in ("seq", "sha256", "size", "code", "kiosk"):
            batch.drop_column(column)


_TABLE = sa.table(
    "dead_letters",
    sa.column("id", sa.Integer()),
    sa.column("topic", sa.String()),
    sa.column("payload", sa.LargeBinary()),
    sa.column("reason", sa.Text()),
    sa.column("kiosk", sa.String()),
    sa.column("code", sa.String()),
    sa.column("size", sa.Integer()),
    sa.column("sha256", sa.String()),
    sa.column("seq", sa.Integer()),
)


def _backfill() -> None:
    """Fill the new columns of the rows already kept, by id, a chunk at a time."""
    bind = op.get_bind()
    t = _TABLE
    update = (
        sa.update(t)
        .where(t.c.id == sa.bindparam("row_id"))
        .values(
            kiosk=sa.bindparam("new_kiosk"),
            code=sa.bindparam("new_code"),
            size=sa.bindparam("new_size"),
            sha256=sa.bindparam("new_sha256"),
            seq=sa.bindparam("new_seq"),
        )
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(t.c.id, t.c.topic, t.c.payload, t.c.reason)
            .where(t.c.id > last)
            .order_by(t.c.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        bind.execute(update, [_filled(row) for row in rows])
        last = rows[-1].id


def _filled(row: Any) -> dict[str, Any]:
    payload = bytes(row.payload or b"")
    return {
        "row_id": row.id,
        "new_kiosk": _kiosk(row.topic),
        "new_code": _code(row.reason or ""),
        "new_size": len(payload),
        "new_sha256": hashlib.sha256(payload).hexdigest(),
        "new_seq": _seq(payload),
    }


def _kiosk(topic: str) -> str | None:
    """``hailong/v1/<unit>/<kiosk>/<kind>`` -> kiosk."""
    parts = (topic or "").split("/")
    if len(parts) == 5 and parts[:2] == ["hailong", "v1"] and 1 <= len(parts[3]) <= 40:
        return parts[3]
    return None


def _code(reason: str) -> str:
    """The machine reason of a row kept before codes existed, from its text."""
    if reason.startswith("already rated"):
        return "already_rated"
    if reason.startswith("unsupported contract version"):
        return "version"
    if reason.startswith("payload of") and "exceeds" in reason:
        return "oversize"
    if reason.startswith("payload says"):
        return "topic_mismatch"
    if reason.startswith(("topic:", "not a ratings topic")):
        return "topic"
    return "malformed"


def _seq(payload: bytes) -> int | None:
    try:
        seq = json.loads(payload.decode("utf-8"))["seq"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= _INT32_MAX:
        return None
    return seq
