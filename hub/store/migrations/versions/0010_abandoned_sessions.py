"""abandoned sessions

Revision ID: 0010
Revises: 0009

Issue 17, coverage: the table ``abandoned_sessions``, one row per kiosk session that began with a
receipt scan and ended without a face (timed out, replaced by the next scan, or closed by the
kiosk), as the kiosk sent it and the receipt register attributed it. Keyed by the kiosk's UUID
for it (a resend is a duplicate); indexed by dossier code (rated or not), by unit and scan time
(the coverage figures), and by kiosk and seq (the gap report). Nothing to backfill: kiosks before
this revision never recorded them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "abandoned_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("kiosk", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("dossier_code", sa.String(length=40), nullable=False),
        sa.Column("receipt_verified", sa.Boolean(), nullable=False),
        sa.Column("receipt_known", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=True),
        sa.Column("officer", sa.String(length=40), nullable=True),
        sa.Column("procedure", sa.String(length=40), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("abandoned_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_abandoned_sessions_dossier_code", ["dossier_code"], unique=False)
        batch_op.create_index(
            "ix_abandoned_sessions_unit_scanned_at", ["unit", "scanned_at"], unique=False
        )
        batch_op.create_index("ix_abandoned_sessions_kiosk_seq", ["kiosk", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("abandoned_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_abandoned_sessions_kiosk_seq")
        batch_op.drop_index("ix_abandoned_sessions_unit_scanned_at")
        batch_op.drop_index("ix_abandoned_sessions_dossier_code")
    op.drop_table("abandoned_sessions")
