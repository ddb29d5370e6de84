"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "dossier_sequences",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "day"),
    )
    op.create_table(
        "kiosk_status",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("kiosk", sa.String(length=40), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("buffer_depth", sa.Integer(), nullable=True),
        sa.Column("version", sa.String(length=40), nullable=True),
        sa.Column("refusals", sa.JSON(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("unit", "kiosk"),
    )
    op.create_table(
        "ratings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("kiosk", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("dossier_code", sa.String(length=40), nullable=True),
        sa.Column("receipt_verified", sa.Boolean(), nullable=False),
        sa.Column("receipt_known", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=True),
        sa.Column("officer", sa.String(length=40), nullable=True),
        sa.Column("procedure", sa.String(length=40), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("callback_phone", sa.String(length=16), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_dossier_code"), ["dossier_code"], unique=False)
        batch_op.create_index("ix_ratings_kiosk_seq", ["kiosk", "seq"], unique=False)
        batch_op.create_index("ix_ratings_unit_rated_at", ["unit", "rated_at"], unique=False)
        batch_op.create_index(
            "uq_ratings_receipt_stage", ["unit", "dossier_code", "stage"], unique=True
        )

    op.create_table(
        "receipts",
        sa.Column("dossier_code", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("procedure", sa.String(length=40), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("officer", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=400), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=True),
        sa.Column("printed", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("citizen_name", sa.String(length=120), nullable=True),
        sa.Column("citizen_contact", sa.String(length=120), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_by", sa.String(length=40), nullable=True),
        sa.Column("return_announced", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("dossier_code"),
    )


def downgrade() -> None:
    op.drop_table("receipts")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index("uq_ratings_receipt_stage")
        batch_op.drop_index("ix_ratings_unit_rated_at")
        batch_op.drop_index("ix_ratings_kiosk_seq")
        batch_op.drop_index(batch_op.f("ix_ratings_dossier_code"))

    op.drop_table("ratings")
    op.drop_table("kiosk_status")
    op.drop_table("dossier_sequences")
    op.drop_table("dead_letters")
