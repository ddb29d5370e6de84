"""targets

Revision ID: 0012
Revises: 0011

Issue 17: yearly MĐHL targets (chỉ tiêu) per unit, set by the province on the targets page.
Table ``targets``: one row per (unit, year) with the rate in %, who set it and when. A unit
without a row is held to the nearest target above it, else its catalogue's ``target_rate``, so
nothing is backfilled. No foreign key to ``units``: a hub on unit files has no rows there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(length=40), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("unit", "year"),
    )


def downgrade() -> None:
    op.drop_table("targets")
