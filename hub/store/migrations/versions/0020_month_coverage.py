"""month-grain coverage rollups

Revision ID: 0020
Revises: 0019

Issue 17, the province page for a year and a provincial centre's dashboard under 100 ms at
province scale: coverage was kept per local issue day only (revision 0015), so a province's year
read ~76,000 rows of ``coverage_day_rollups`` (~25 ms at 3 million ratings) and a centre's
quarter ~21,600 rows of ``coverage_rollups``. Their monthly twins, maintained by
:mod:`hub.store.coverage` in the same upsert as the daily ones: ``coverage_month_rollups`` (unit,
local issue month, counter, officer, procedure, outcome; with a covering index as 0019's) and
``coverage_unit_month_rollups`` (unit, month, outcome). Reads take whole months from these and
the days around them from the daily tables, as the rating rollups do.

And ``ix_rating_month_rollups_covering`` (the key and ``n``), as 0019's for coverage: a
provincial centre's dashboard reads ~8,000 rows of ``rating_month_rollups`` for a quarter, which
PostgreSQL fetched from ~6,000 pages all over the table (42 ms at 3 million ratings); from the
index alone it takes 11 ms.

New tables only: nothing rebuilt, so revision 0013's views are untouched. The data step sums the
daily rows already stored per month (the day is already the unit's local day), in SQL both
back-ends run: the month's first day is built from the day's text (``YYYY-MM-DD``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_FINE = ("counter", "officer", "procedure")
_RATING_MONTH = [
    *("unit", "month", "stage", "counter", "officer", "procedure", "field", "score", "n")
]


def upgrade() -> None:
    op.create_table(
        "coverage_month_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *(sa.Column(name, sa.String(length=40), nullable=False) for name in _FINE),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "month", *_FINE, "outcome"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_coverage_month_rollups_covering",
        "coverage_month_rollups",
        ["unit", "month", *_FINE, "outcome", "n"],
    )
    op.create_table(
        "coverage_unit_month_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "month", "outcome"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_rating_month_rollups_covering", "rating_month_rollups", _RATING_MONTH)
    _backfill()


def downgrade() -> None:
    op.drop_index("ix_rating_month_rollups_covering", table_name="rating_month_rollups")
    op.drop_table("coverage_unit_month_rollups")
    op.drop_index("ix_coverage_month_rollups_covering", table_name="coverage_month_rollups")
    op.drop_table("coverage_month_rollups")


def _backfill() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # The first day of the day's month: PostgreSQL's date_trunc, SQLite's date() modifier.
    month = "CAST(date_trunc('month', day) AS DATE)" if postgres else "date(day, 'start of month')"
    fine = ", ".join(_FINE)
    op.execute(  # this file's constants only, no input
        f"INSERT INTO coverage_month_rollups (unit, month, {fine}, outcome, n) "  # noqa: S608
        f"SELECT unit, {month}, {fine}, outcome, SUM(n) FROM coverage_rollups "
        f"GROUP BY unit, {month}, {fine}, outcome"
    )
    op.execute(
        f"INSERT INTO coverage_unit_month_rollups (unit, month, outcome, n) "  # noqa: S608
        f"SELECT unit, {month}, outcome, SUM(n) FROM coverage_day_rollups "
        f"GROUP BY unit, {month}, outcome"
    )
