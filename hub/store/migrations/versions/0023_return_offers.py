"""rating offered at the return

Revision ID: 0023
Revises: 0022

Issue 18, rating at the return without a slip: the table ``return_offers``, one row per return
recorded (trả kết quả) at a counter with a kiosk. It is the outbox of the hub's offers to that
counter's kiosks (``published_at`` set once the service published them; an offer that expired
first is never published) and the record of who caused an offer, when, and to which kiosks.
Indexed by unit and ``published_at`` for the service's poll. A new table: nothing rebuilt, so
revision 0013's views are untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "return_offers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("dossier_code", sa.String(length=40), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("officer", sa.String(length=40), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kiosks", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_return_offers_unit_published_at", "return_offers", ["unit", "published_at"])


def downgrade() -> None:
    op.drop_index("ix_return_offers_unit_published_at", table_name="return_offers")
    op.drop_table("return_offers")
