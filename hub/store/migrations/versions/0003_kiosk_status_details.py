"""kiosk status details

Revision ID: 0003
Revises: 0002

``kiosk_status`` gains what kiosks now report: when the hub last acknowledged them, their oldest
pending seq (for the gap report), their devices' states and their last scan.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("last_ack_at", sa.DateTime(timezone=True)),
    ("oldest_pending_seq", sa.Integer()),
    ("devices", sa.JSON()),
    ("last_scan_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("kiosk_status") as table:
        for name, kind in COLUMNS:
            table.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kiosk_status") as table:
        for name, _kind in reversed(COLUMNS):
            table.drop_column(name)
