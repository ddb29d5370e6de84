"""follow-ups

Revision ID: 0004
Revises: 0003

Tables: ``follow_ups`` (one row per dissatisfied rating that someone has acted on: its state and
assignee) and ``follow_up_events`` (the audit trail). A dissatisfied rating without a row is open,
so nothing is backfilled and the ingest path does not change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("rating_id", sa.String(length=36), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=40), nullable=True),
        sa.Column("assignee_officer", sa.String(length=40), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["rating_id"], ["ratings.id"]),
        sa.PrimaryKeyConstraint("rating_id"),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index("ix_follow_ups_assignee", ["assignee"], unique=False)
        batch_op.create_index("ix_follow_ups_unit_state", ["unit", "state"], unique=False)
        batch_op.create_index("ix_follow_ups_unit_updated_at", ["unit", "updated_at"], unique=False)

    op.create_table(
        "follow_up_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rating_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=40), nullable=True),
        sa.Column("assignee_officer", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["rating_id"], ["follow_ups.rating_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("follow_up_events", schema=None) as batch_op:
        batch_op.create_index("ix_follow_up_events_rating_id_id", ["rating_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("follow_up_events", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_up_events_rating_id_id")

    op.drop_table("follow_up_events")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_ups_unit_updated_at")
        batch_op.drop_index("ix_follow_ups_unit_state")
        batch_op.drop_index("ix_follow_ups_assignee")

    op.drop_table("follow_ups")
