"""channels

Revision ID: 0011
Revises: 0010

Issue 17, "every channel in one count": paper survey forms keyed by staff, and ratings a helper
records for a citizen they assist (``hub.paper.desk``), stored as channel ``paper`` beside the
kiosk's and the online page's. Two columns on ``ratings``:

* ``entered_by``: the staff login (user name) that keyed the form or helped the citizen; NULL for
  the ratings citizens make themselves, which is every rating stored before this revision.
* ``assisted``: the rating was given with a helper's assistance (Decree 61, Article 29); existing
  rows ``false``.

The channel itself needs no change: ``ratings.channel`` is a ``String(16)`` holding the contract's
``Channel`` value, and ``paper`` is a new value. Plain ``ADD COLUMN`` (a constant server default)
works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ratings", sa.Column("entered_by", sa.String(length=40), nullable=True))
    op.add_column(
        "ratings", sa.Column("assisted", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("assisted")
        batch.drop_column("entered_by")
