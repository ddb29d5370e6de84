"""register authority

Revision ID: 0008
Revises: 0007

Issue 15, finding 4: the hub attributes ratings from its own receipt register, not from what a
kiosk claims (``hub.domain.register``). Three columns on ``ratings``:

* ``counted``: the rating is in the headline figures (the rollups). Every rating stored before
  this revision was counted into the rollups, so existing rows are ``true``: figures already
  published do not move.
* ``suspect``: a receipt-less or unverified rating of a kiosk closer than the unit's interval to
  another; existing rows ``false``.
* ``claim_mismatch``: the kiosk's claims the register contradicts; existing rows ``NULL`` (the
  claims of old rows were never kept apart from the attribution, so nothing can be said).

Plain ``ADD COLUMN`` with a constant server default works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "ratings", sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "ratings", sa.Column("suspect", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("ratings", sa.Column("claim_mismatch", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("claim_mismatch")
        batch.drop_column("suspect")
        batch.drop_column("counted")
