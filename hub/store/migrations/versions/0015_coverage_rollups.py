"""coverage rollups

Revision ID: 0015
Revises: 0014

Coverage kept as it happens (issue 17; ``hub.store.coverage``): ``receipts.rated`` and
``receipts.abandoned`` (a counted reception rating, an abandoned session at the reception names
the code: plain ADD COLUMN, so the views of revision 0013 stay as they are), and two tables of
receipts counted per outcome (``issued``, ``rated``, ``abandoned`` and not rated):
``coverage_rollups`` per unit, local issue day, counter, officer and procedure, and
``coverage_day_rollups`` per unit and day; an index on ``abandoned_sessions (unit, dossier_code,
stage)``, a receipt's sessions. The data step sets the flags and counts every receipt
already in the register, in SQL (one UPDATE, then INSERT ... SELECT), with each back-end's own
date functions (SQLite has no zones: Việt Nam's UTC+7, which has no summer time); like the earlier
data steps it is frozen here on purpose.
"""

# The SQL below is built from this file's own constants, never from input.
# ruff: noqa: S608

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ZONE = "Asia/Ho_Chi_Minh"  # the unit's day (hailong.contract.clock.UNIT_ZONE)


def upgrade() -> None:
    op.add_column(
        "receipts", sa.Column("rated", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "receipts",
        sa.Column("abandoned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_abandoned_sessions_receipt", "abandoned_sessions", ["unit", "dossier_code", "stage"]
    )
    op.create_table(
        "coverage_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("officer", sa.String(length=40), nullable=False),
        sa.Column("procedure", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "day", "counter", "officer", "procedure", "outcome"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "coverage_day_rollups",
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "day", "outcome"),
        sqlite_with_rowid=False,
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("coverage_day_rollups")
    op.drop_table("coverage_rollups")
    op.drop_index("ix_abandoned_sessions_receipt", table_name="abandoned_sessions")
    # A plain DROP COLUMN (SQLite >= 3.35): no table rebuild, so 0013's views stay.
    op.drop_column("receipts", "abandoned")
    op.drop_column("receipts", "rated")


def _backfill() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    yes = "true" if postgres else "1"
    day = (
        f"CAST(timezone('{ZONE}', issued_at) AS DATE)"
        if postgres
        else "date(issued_at, '+420 minutes')"
    )
    op.execute(
        f"""
UPDATE receipts SET
  rated = EXISTS (
    SELECT 1 FROM ratings r WHERE r.unit = receipts.unit AND r.dossier_code = receipts.dossier_code
    AND r.stage = 'reception' AND r.counted = {yes}),
  abandoned = EXISTS (
    SELECT 1 FROM abandoned_sessions a
    WHERE a.unit = receipts.unit AND a.dossier_code = receipts.dossier_code
    AND a.stage = 'reception')"""
    )
    outcomes = {
        "issued": "1 = 1",
        "rated": f"rated = {yes}",
        "abandoned": f"abandoned = {yes} AND NOT rated = {yes}",
    }
    for outcome, where in outcomes.items():
        op.execute(
            f"""
INSERT INTO coverage_rollups (unit, day, counter, officer, procedure, outcome, n)
SELECT unit, {day}, counter, officer, procedure, '{outcome}', count(*)
FROM receipts WHERE {where}
GROUP BY unit, {day}, counter, officer, procedure"""
        )
    op.execute(
        """
INSERT INTO coverage_day_rollups (unit, day, outcome, n)
SELECT unit, day, outcome, sum(n) FROM coverage_rollups GROUP BY unit, day, outcome"""
    )
