"""catalogue

Revision ID: 0009
Revises: 0008

Issue 17: the catalogue in tables, so one hub serves a whole province (``[hub] catalogue =
"database"``). ``units`` holds each unit with its parent (province, commune, department), its
target and its policies; ``unit_fields``, ``unit_counters``, ``unit_officers``,
``unit_procedures``, ``unit_reasons`` and ``unit_kiosks`` what each unit lists, keyed by (unit,
code) and kept in the unit's order. A kiosk id is its MQTT user name, hence unique across units.
``units.revision`` grows at every change, so running hubs see which units to reload.
Nothing is filled in: a hub on unit files goes on reading them (``hailong catalogue import``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ENTRIES = ("unit_fields", "unit_counters", "unit_officers", "unit_procedures", "unit_reasons")


def _entry(table: str, *more: sa.Column[object]) -> None:
    op.create_table(
        table,
        sa.Column("unit", sa.String(length=40), sa.ForeignKey("units.code"), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        *more,
        sa.PrimaryKeyConstraint("unit", "code"),
    )


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("code", sa.String(length=40), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent", sa.String(length=40), sa.ForeignKey("units.code"), nullable=True),
        sa.Column("target_rate", sa.Float(), nullable=False),
        sa.Column("kiosk_policy", sa.JSON(), nullable=False),
        sa.Column("register_policy", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
    )
    op.create_index("ix_units_parent", "units", ["parent"])
    _entry("unit_fields")
    _entry("unit_counters")
    _entry("unit_officers", sa.Column("counter", sa.String(length=40), nullable=True))
    _entry("unit_procedures", sa.Column("field", sa.String(length=40), nullable=False))
    _entry(
        "unit_reasons",
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("factor", sa.String(length=16), nullable=False),
    )
    op.create_table(
        "unit_kiosks",
        sa.Column("unit", sa.String(length=40), sa.ForeignKey("units.code"), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("unit", "code"),
    )
    op.create_index("ux_unit_kiosks_code", "unit_kiosks", ["code"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_unit_kiosks_code", table_name="unit_kiosks")
    op.drop_table("unit_kiosks")
    for table in reversed(_ENTRIES):
        op.drop_table(table)
    op.drop_index("ix_units_parent", table_name="units")
    op.drop_table("units")
