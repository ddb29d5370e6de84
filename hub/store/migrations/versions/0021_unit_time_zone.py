"""The unit's time zone: ``units.time_zone``, the IANA zone of a unit's dates (its dossier codes,
slips, rollup days and reports; hailong.contract.clock). A plain ADD COLUMN with the default every
hub has used so far, so existing units keep Asia/Ho_Chi_Minh and no table is rebuilt (0013's
``v_units`` reads ``units``: a batch rebuild would have to drop and recreate it). A zone an import
carried in ``units.extra`` before this column (the catalogue kept unknown unit keys there) moves
into it.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

DEFAULT = "Asia/Ho_Chi_Minh"  # hailong.contract.clock.DEFAULT_ZONE_NAME, frozen here


def upgrade() -> None:
    op.add_column(
        "units",
        sa.Column("time_zone", sa.String(64), nullable=False, server_default=DEFAULT),
    )
    units = sa.table(
        "units", sa.column("code", sa.String), sa.column("time_zone"), sa.column("extra", sa.JSON)
    )
    bind = op.get_bind()
    for code, extra in bind.execute(sa.select(units.c.code, units.c.extra)).all():
        info = dict((extra or {}).get("unit") or {})
        zone = info.pop("time_zone", None)
        if zone is None:
            continue
        rest = {k: v for k, v in (extra or {}).items() if k != "unit"}
        bind.execute(
            units.update()
            .where(units.c.code == code)
            .values(time_zone=zone, extra={**rest, **({"unit": info} if info else {})})
        )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35 has it): a batch rebuild of ``units`` would trip on the
    # ``v_units`` view of revision 0013.
    op.drop_column("units", "time_zone")
