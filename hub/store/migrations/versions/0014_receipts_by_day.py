"""receipts by day

Revision ID: 0014
Revises: 0013

Issue 17, reports: an index on ``receipts (unit, issued_at)``. The official indices, the coverage
figures and the quarterly and yearly reports all read one unit's (or a province's) receipts issued
in a period; without it PostgreSQL scans the whole register (three years of a province's dossiers)
for each of them. Nothing to backfill: building the index reads the rows already stored.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index("ix_receipts_unit_issued_at", ["unit", "issued_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_unit_issued_at")
