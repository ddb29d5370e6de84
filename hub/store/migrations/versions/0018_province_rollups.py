"""province rollups

Revision ID: 0018
Revises: 0017

Issue 17, the province page under 100 ms at province scale: tables ``field_month_rollups``
(counted ratings per unit, local month, field and score) and ``unit_factor_month_rollups``
(survey answers per unit, local month, factor and score), maintained by
``hub.store.rollups.add_to_rollups`` beside the monthly rollups they fold. The province page reads
fields and factors of its 150 units for a quarter or a year; from ``rating_month_rollups`` (one
row per officer x procedure x score) and ``factor_month_rollups`` (per officer) that read
~120,000 rows at 3 million ratings and grows with them; these hold a few rows per unit and month.
New tables only: nothing rebuilt, so revision 0013's views are untouched.

The data step folds the monthly rollups already stored (exact sums of the same ratings), in SQL
that SQLite and PostgreSQL both run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# new table -> (its key column besides unit, month and score; the monthly rollup it folds)
_TABLES = {
    "field_month_rollups": ("field", 40, "rating_month_rollups"),
    "unit_factor_month_rollups": ("factor", 16, "factor_month_rollups"),
}


def upgrade() -> None:
    for name, (column, size, source) in _TABLES.items():
        op.create_table(
            name,
            sa.Column("unit", sa.String(length=40), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column(column, sa.String(length=size), nullable=False),
            sa.Column("score", sa.SmallInteger(), nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("unit", "month", column, "score"),
            sqlite_with_rowid=False,
        )
        op.execute(  # names from _TABLES above only, no input
            f"INSERT INTO {name} (unit, month, {column}, score, n) "  # noqa: S608
            f"SELECT unit, month, {column}, score, SUM(n) FROM {source} "
            f"GROUP BY unit, month, {column}, score"
        )


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
