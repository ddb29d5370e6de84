"""month rollups

Revision ID: 0006
Revises: 0005

Tables: ``rating_month_rollups``, ``factor_month_rollups``, ``reason_month_rollups`` and
``hour_month_rollups``: the daily rollups' counts per local month (the first day of the month
stands for it; the hour table keeps the weekday, the factor table keeps the officer alone of the
key's dimensions: nothing reads factors per counter, procedure or field), maintained by
``hub.store.ratings.add_to_rollups`` so that a quarter's or a year's report reads ~30 times fewer
rows (issue 6). The data step sums the daily rollups already stored, in SQL (a month is a whole
set of days, so the sums are exact), with each back-end's own date functions; like the earlier
data steps it is frozen here on purpose.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_KEY = ("unit", "month", "stage", "counter", "officer", "procedure", "field")
_TEXT = {"stage": 16}  # every other key column is a code of up to 40 characters


def _key_columns(*extra: sa.Column[object]) -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = [
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
    ]
    columns += [
        sa.Column(name, sa.String(length=_TEXT.get(name, 40)), nullable=False) for name in _KEY[2:]
    ]
    return [*columns, *extra, sa.Column("n", sa.Integer(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "rating_month_rollups",
        *_key_columns(sa.Column("score", sa.SmallInteger(), nullable=False)),
        sa.PrimaryKeyConstraint(*_KEY, "score"),
        sqlite_with_rowid=False,
    )
    op.create_table(  # keyed by officer only: the factor table is never read per counter
        "factor_month_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("officer", sa.String(length=40), nullable=False),
        sa.Column("factor", sa.String(length=16), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "month", "officer", "factor", "score"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "reason_month_rollups",
        *_key_columns(sa.Column("reason", sa.String(length=40), nullable=False)),
        sa.PrimaryKeyConstraint(*_KEY, "reason"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "hour_month_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "month", "weekday", "hour", "score"),
        sqlite_with_rowid=False,
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("hour_month_rollups")
    op.drop_table("reason_month_rollups")
    op.drop_table("factor_month_rollups")
    op.drop_table("rating_month_rollups")


def _month_and_weekday(dialect: str, day: sa.ColumnClause[object]) -> tuple[Any, Any]:
    """The first day of ``day``'s month, and its weekday with Monday = 0 (``date.weekday()``)."""
    if dialect == "postgresql":
        first = sa.cast(sa.func.date_trunc("month", day), sa.Date)
        return first, sa.cast(sa.extract("isodow", day), sa.Integer) - 1
    return sa.func.date(day, "start of month"), (
        sa.cast(sa.func.strftime("%w", day), sa.Integer) + 6
    ) % 7


_DAY_KEY = ("stage", "counter", "officer", "procedure", "field")
_TABLES = {  # the monthly table, its daily source, its key after the month, then the rest
    "rating_month_rollups": ("rating_rollups", _DAY_KEY, ("score",)),
    "factor_month_rollups": ("factor_rollups", ("officer",), ("factor", "score")),
    "reason_month_rollups": ("reason_rollups", _DAY_KEY, ("reason",)),
}


def _backfill() -> None:
    """One ``INSERT ... SELECT ... GROUP BY`` per table: the new tables are empty, so no upsert."""
    dialect = op.get_bind().dialect.name
    for name, (source, key, extra) in _TABLES.items():
        daily = sa.table(source, *(sa.column(c) for c in ("unit", "day", *_DAY_KEY, *extra, "n")))
        month, _ = _month_and_weekday(dialect, daily.c.day)
        keys = [daily.c.unit, month, *(daily.c[c] for c in (*key, *extra))]
        _insert(name, ("unit", "month", *key, *extra), keys, daily.c.n)
    hours = sa.table("hour_rollups", *(sa.column(c) for c in ("unit", "day", "hour", "score", "n")))
    month, weekday = _month_and_weekday(dialect, hours.c.day)
    keys = [hours.c.unit, month, weekday, hours.c.hour, hours.c.score]
    _insert("hour_month_rollups", ("unit", "month", "weekday", "hour", "score"), keys, hours.c.n)


def _insert(name: str, columns: tuple[str, ...], keys: list[Any], n: Any) -> None:
    target = sa.table(name, *(sa.column(c) for c in (*columns, "n")))
    summed = sa.select(*keys, sa.func.sum(n)).group_by(*keys)
    op.execute(sa.insert(target).from_select([*columns, "n"], summed))
