"""unprinted receipts

Revision ID: 0017
Revises: 0016

Issue 17, province scale: the dashboard's printer card counts each counter's receipts that never
printed (``hub.fleet_report.printer_states``). Without an index that read walks the unit's whole
register: 143,000 receipts of a provincial centre took 0.26-1.7 s on PostgreSQL
(bench/province.py), growing with every day of history. A partial index on the few unprinted rows
makes it an index-only scan (0.03 ms). The predicate is ``printed IS false``, the form the query
uses: PostgreSQL does not match ``NOT printed`` to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UNPRINTED = sa.text("printed IS false")


def upgrade() -> None:
    op.create_index(
        "ix_receipts_unprinted",
        "receipts",
        ["unit", "counter"],
        postgresql_where=UNPRINTED,
        sqlite_where=UNPRINTED,
    )


def downgrade() -> None:
    op.drop_index("ix_receipts_unprinted", table_name="receipts")
