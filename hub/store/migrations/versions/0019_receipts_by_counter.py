"""receipts by counter, coverage read from the index

Revision ID: 0019
Revises: 0018

Issue 17, a unit's dashboard under 100 ms at province scale: the printer card reads each
counter's last receipt (``hub.fleet_report.last_receipts``). With only ``(unit, issued_at)`` to
go by, PostgreSQL walks the unit's receipts from the newest back until it meets one of that
counter: cheap for a busy counter, the unit's whole register (143,000 receipts at a provincial
centre in bench/province.py, growing with every year) for a counter idle for months or never
used. ``(unit, counter, issued_at)`` makes each a single index probe however long the history.

And the dashboard's coverage tables read ``coverage_rollups`` for a period of one unit: ~21,000
rows of a provincial centre's quarter, spread over ~8,000 pages of a table every receipt writes
to; ``ix_coverage_rollups_covering`` (the key and ``n``) lets PostgreSQL answer from the index
alone (an index-only scan: 4 ms where the pages took ~40).

New indexes only: nothing rebuilt, so revision 0013's views are untouched.
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


_COVERING = ["unit", "day", "counter", "officer", "procedure", "outcome", "n"]


def upgrade() -> None:
    op.create_index(
        "ix_receipts_unit_counter_issued_at", "receipts", ["unit", "counter", "issued_at"]
    )
    op.create_index("ix_coverage_rollups_covering", "coverage_rollups", _COVERING)


def downgrade() -> None:
    op.drop_index("ix_coverage_rollups_covering", table_name="coverage_rollups")
    op.drop_index("ix_receipts_unit_counter_issued_at", table_name="receipts")
