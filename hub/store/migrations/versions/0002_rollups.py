"""rollups

Revision ID: 0002
Revises: 0001

Tables: ``rating_rollups``, ``factor_rollups``, ``reason_rollups`` (counts per local day and key,
maintained by ``hub.store.ratings.store_batch``) and ``kiosk_status_history``. The data step counts
the ratings already stored into the rollups, exactly as ``store_batch`` would have; it is frozen
here on purpose (a migration must not change when the application code does).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "factor_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("officer", sa.String(length=40), nullable=False),
        sa.Column("procedure", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("factor", sa.String(length=16), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "unit", "day", "stage", "counter", "officer", "procedure", "field", "factor", "score"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "kiosk_status_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("kiosk", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("buffer_depth", sa.Integer(), nullable=True),
        sa.Column("version", sa.String(length=40), nullable=True),
        sa.Column("refusals", sa.JSON(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kiosk_status_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kiosk_status_history_unit_kiosk_at", ["unit", "kiosk", "at"], unique=False
        )

    op.create_table(
        "rating_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("officer", sa.String(length=40), nullable=False),
        sa.Column("procedure", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "unit", "day", "stage", "counter", "officer", "procedure", "field", "score"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "reason_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("officer", sa.String(length=40), nullable=False),
        sa.Column("procedure", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "unit", "day", "stage", "counter", "officer", "procedure", "field", "reason"
        ),
        sqlite_with_rowid=False,
    )
    _backfill_rollups()


def downgrade() -> None:
    op.drop_table("reason_rollups")
    op.drop_table("rating_rollups")
    with op.batch_alter_table("kiosk_status_history", schema=None) as batch_op:
        batch_op.drop_index("ix_kiosk_status_history_unit_kiosk_at")

    op.drop_table("kiosk_status_history")
    op.drop_table("factor_rollups")


ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the rollup day is the unit's local date
PAGE = 20_000
NO_VALUE = ""

_ratings = sa.table(
    "ratings",
    sa.column("id", sa.String()),
    sa.column("unit", sa.String()),
    sa.column("stage", sa.String()),
    sa.column("counter", sa.String()),
    sa.column("officer", sa.String()),
    sa.column("procedure", sa.String()),
    sa.column("field", sa.String()),
    sa.column("score", sa.Integer()),
    sa.column("reasons", sa.JSON()),
    sa.column("factors", sa.JSON()),
    sa.column("rated_at", sa.DateTime(timezone=True)),
)
_KEY = ("unit", "day", "stage", "counter", "officer", "procedure", "field")


def _rollup(name: str, *extra: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in (*_KEY, *extra, "n")))


def _backfill_rollups() -> None:
    """Count every stored rating into the rollups, one page of ratings (by id) at a time."""
    bind = op.get_bind()
    tables = {
        "scores": _rollup("rating_rollups", "score"),
        "factors": _rollup("factor_rollups", "factor", "score"),
        "reasons": _rollup("reason_rollups", "reason"),
    }
    last = ""
    while True:
        page = bind.execute(
            sa.select(_ratings).where(_ratings.c.id > last).order_by(_ratings.c.id).limit(PAGE)
        ).all()
        if not page:
            return
        last = page[-1].id
        counts: dict[str, Counter[tuple[Any, ...]]] = {name: Counter() for name in tables}
        for row in page:
            rated_at: datetime = row.rated_at
            if rated_at.tzinfo is None:  # SQLite hands back UTC without its zone
                rated_at = rated_at.replace(tzinfo=UTC)
            key = (
                row.unit,
                rated_at.astimezone(ZONE).date(),
                row.stage,
                row.counter or NO_VALUE,
                row.officer or NO_VALUE,
                row.procedure or NO_VALUE,
                row.field or NO_VALUE,
            )
            counts["scores"][(*key, row.score)] += 1
            for factor, score in (row.factors or {}).items():
                counts["factors"][(*key, factor, score)] += 1
            for reason in set(row.reasons or ()):
                counts["reasons"][(*key, reason)] += 1
        for name, table in tables.items():
            _upsert(bind, table, counts[name])


def _upsert(bind: sa.Connection, table: sa.TableClause, counts: Counter[tuple[Any, ...]]) -> None:
    if not counts:
        return
    dialect: Any = postgresql if bind.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table)
    names = [column.name for column in table.columns if column.name != "n"]
    statement = insert.on_conflict_do_update(
        index_elements=names, set_={"n": table.c.n + insert.excluded.n}
    )
    rows = [{**dict(zip(names, key, strict=True)), "n": n} for key, n in sorted(counts.items())]
    bind.execute(statement, rows)
