"""survey answers "không áp dụng", reason pictograms

Revision ID: 0022
Revises: 0021

Issue 18, pictures before words. ``ratings.not_applicable``: the survey questions a citizen
answered "Không áp dụng" (a JSON list of factor names, NULL when none), kept apart from
``ratings.factors`` so an answer of "does not apply" counts neither as satisfied nor in the
factor's n, yet is not mistaken for a skipped question. ``unit_reasons.icon``: the pictogram a unit
names for a reason (hailong.contract.pictograms), NULL for its code's default. Both are plain
ADD COLUMNs of nullable columns: no table is rebuilt, so 0013's views over ``ratings`` stay as
they are (they name their columns; the new one is not among them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ratings", sa.Column("not_applicable", sa.JSON(), nullable=True))
    op.add_column("unit_reasons", sa.Column("icon", sa.String(32), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite >= 3.35): a batch rebuild of ``ratings`` would trip on 0013's views.
    op.drop_column("unit_reasons", "icon")
    op.drop_column("ratings", "not_applicable")
