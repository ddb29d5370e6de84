"""hour rollups

Revision ID: 0005
Revises: 0004

Table: ``hour_rollups`` (stored ratings per unit, local day, local hour and score; the dashboard's
hour-by-weekday heat map), maintained by ``hub.store.ratings.add_to_rollups``. The data step counts
the ratings already stored, exactly as ``add_to_rollups`` would have; like revision 0002's, it is
frozen here on purpose (a migration must not change when the application code does).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hour_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "day", "hour", "score"),
        sqlite_with_rowid=False,
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("hour_rollups")


ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the rollup day and hour are the unit's local ones
PAGE = 20_000

_ratings = sa.table(
    "ratings",
    sa.column("id", sa.String()),
    sa.column("unit", sa.String()),
    sa.column("score", sa.Integer()),
    sa.column("rated_at", sa.DateTime(timezone=True)),
)
_hours = sa.table("hour_rollups", *(sa.column(c) for c in ("unit", "day", "hour", "score", "n")))


def _backfill() -> None:
    """Count every stored rating into ``hour_rollups``, one page of ratings (by id) at a time."""
    bind = op.get_bind()
    dialect: Any = postgresql if bind.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(_hours)
    statement = insert.on_conflict_do_update(
        index_elements=["unit", "day", "hour", "score"],
        set_={"n": _hours.c.n + insert.excluded.n},
    )
    last = ""
    while True:
        page = bind.execute(
            sa.select(_ratings).where(_ratings.c.id > last).order_by(_ratings.c.id).limit(PAGE)
        ).all()
        if not page:
            return
        last = page[-1].id
        counts: Counter[tuple[Any, ...]] = Counter()
        for row in page:
            rated_at: datetime = row.rated_at
            if rated_at.tzinfo is None:  # SQLite hands back UTC without its zone
                rated_at = rated_at.replace(tzinfo=UTC)
            local = rated_at.astimezone(ZONE)
            counts[(row.unit, local.date(), local.hour, row.score)] += 1
        rows = [
            {"unit": unit, "day": day, "hour": hour, "score": score, "n": n}
            for (unit, day, hour, score), n in sorted(counts.items())
        ]
        bind.execute(statement, rows)
