"""channel rollups

Revision ID: 0016
Revises: 0015

Issue 17, "every channel in one count": tables ``channel_rollups`` (counted ratings per unit,
local day, channel, assisted and score) and ``channel_month_rollups`` (the same per local month),
maintained by ``hub.store.rollups.add_to_rollups`` in the ingest transaction, so the dashboard,
the official report and the paper page show each channel's share (Decree 61, Article 29: the
device, paper forms and online rating are channels of one rating system) without reading
``ratings``. New tables only: nothing rebuilt, so revision 0013's views are untouched.

The data step counts the ratings already stored that count (``ratings.counted``), exactly as
``add_to_rollups`` would have (the local day in Asia/Ho_Chi_Minh, the zone every hub has written
its rollups in), one page of ratings at a time; like revision 0005's it is frozen here on purpose
(a migration must not change when the application code does).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TABLES = {"channel_rollups": "day", "channel_month_rollups": "month"}


def upgrade() -> None:
    for name, period in _TABLES.items():
        op.create_table(
            name,
            sa.Column("unit", sa.String(length=40), nullable=False),
            sa.Column(period, sa.Date(), nullable=False),
            sa.Column("channel", sa.String(length=16), nullable=False),
            sa.Column("assisted", sa.Boolean(), nullable=False),
            sa.Column("score", sa.SmallInteger(), nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("unit", period, "channel", "assisted", "score"),
            sqlite_with_rowid=False,
        )
    _backfill()


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)


ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the rollup day is the unit's local one
PAGE = 20_000

_ratings = sa.table(
    "ratings",
    sa.column("id", sa.String()),
    sa.column("unit", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("assisted", sa.Boolean()),
    sa.column("score", sa.Integer()),
    sa.column("counted", sa.Boolean()),
    sa.column("rated_at", sa.DateTime(timezone=True)),
)


def _upsert(bind: Any, name: str, period: str, counts: Counter[tuple[Any, ...]]) -> None:
    if not counts:
        return
    names = ("unit", period, "channel", "assisted", "score")
    table = sa.table(name, *(sa.column(c) for c in (*names, "n")))
    dialect: Any = postgresql if bind.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table)
    statement = insert.on_conflict_do_update(
        index_elements=list(names), set_={"n": table.c.n + insert.excluded.n}
    )
    rows = [{**dict(zip(names, key, strict=True)), "n": n} for key, n in sorted(counts.items())]
    bind.execute(statement, rows)


def _backfill() -> None:
    """Count every counted rating into both tables, one page of ratings (by id) at a time."""
    bind = op.get_bind()
    last = ""
    while True:
        page = bind.execute(
            sa.select(_ratings)
            .where(_ratings.c.id > last, _ratings.c.counted.is_(True))
            .order_by(_ratings.c.id)
            .limit(PAGE)
        ).all()
        if not page:
            return
        last = page[-1].id
        days: Counter[tuple[Any, ...]] = Counter()
        months: Counter[tuple[Any, ...]] = Counter()
        for row in page:
            rated_at: datetime = row.rated_at
            if rated_at.tzinfo is None:  # SQLite hands back UTC without its zone
                rated_at = rated_at.replace(tzinfo=UTC)
            day: date = rated_at.astimezone(ZONE).date()
            rest = (row.channel, bool(row.assisted), row.score)
            days[(row.unit, day, *rest)] += 1
            months[(row.unit, day.replace(day=1), *rest)] += 1
        _upsert(bind, "channel_rollups", "day", days)
        _upsert(bind, "channel_month_rollups", "month", months)
