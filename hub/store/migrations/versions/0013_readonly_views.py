"""readonly views

Revision ID: 0013
Revises: 0012

Issue 17, data out: read-only views without personal data, for a BI tool (Grafana, Metabase) on
a read-only role (``hailong db readonly-role``, granted SELECT on these views only), and an index
for the dossier feed (``hailong export dossiers`` reads ratings in storing order).

Every view is prefixed ``v_`` and leaves out what could identify or expose a citizen: the
comment, the call-back phone, the receipt's citizen name and contact, the receipt URL (it holds
the slip's signature), follow-up notes, and staff login names (``entered_by``, follow-up
assignees and actors: officer codes stay, as in every report). Local dates (``*_on``) are the
unit's (Asia/Ho_Chi_Minh, UTC+7 all year, as the rollups' days).

* ``v_ratings``: one row per stored rating, with its flags; MĐHL as the hub reports it counts the
  rows ``WHERE counted``. Factor answers as one column each.
* ``v_receipts``: the receipt register (dossier dates).
* ``v_satisfaction_monthly``, ``v_factors_monthly``, ``v_reasons_monthly``: the month rollups
  (counted ratings), an empty dimension as NULL.
* ``v_follow_ups``: follow-ups of dissatisfied ratings: state and times, the rating's key.
* ``v_abandoned_sessions``: scans that ended without a face (coverage).
* ``v_targets``, ``v_units``: yearly targets and the catalogue's units (names are public).

The SQL is written for each dialect (JSON and dates differ) and frozen here, as a migration
must be. Whoever later rebuilds one of the underlying tables on SQLite (``batch_alter_table``
copies and renames it, and SQLite refuses to rename under a view that names it) drops the views
first and creates them again, as :func:`downgrade` and :func:`upgrade` do.
"""

# The views' SQL is put together from this file's constants only (no input reaches it).
# ruff: noqa: S608

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ZONE = "Asia/Ho_Chi_Minh"
FACTORS = ("access", "procedure", "officer", "result", "feedback")


def _local_date(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST(({column} AT TIME ZONE '{ZONE}') AS DATE)"
    return f"date({column}, '+7 hours')"  # SQLite keeps UTC text; Viet Nam has no DST


def _factor(name: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST(r.factors ->> '{name}' AS SMALLINT) AS factor_{name}"
    return f"CAST(json_extract(r.factors, '$.{name}') AS INTEGER) AS factor_{name}"


def _json_text(column: str, dialect: str) -> str:
    return f"CAST({column} AS TEXT)" if dialect == "postgresql" else column


def _views(dialect: str) -> dict[str, str]:
    factors = ",\n    ".join(_factor(name, dialect) for name in FACTORS)
    dimensions = (
        "NULLIF(stage, '') AS stage, NULLIF(counter, '') AS counter, "
        "NULLIF(officer, '') AS officer, NULLIF(procedure, '') AS procedure, "
        "NULLIF(field, '') AS field"
    )
    satisfied = "SUM(CASE WHEN score >= 4 THEN n ELSE 0 END)"
    return {
        "v_ratings": f"""
SELECT
    r.id, r.unit, r.kiosk, r.dossier_code, r.stage, r.channel,
    r.counter, r.officer, r.procedure, r.field,
    r.score, CASE WHEN r.score >= 4 THEN 1 ELSE 0 END AS satisfied,
    {factors},
    {_json_text("r.reasons", dialect)} AS reasons,
    r.lang, r.rated_at, {_local_date("r.rated_at", dialect)} AS rated_on,
    r.received_at, r.duration_ms,
    r.receipt_verified AS verified, r.receipt_known AS known,
    r.counted, r.suspect, r.assisted
FROM ratings r""",
        "v_receipts": f"""
SELECT
    dossier_code, unit, procedure, counter, officer, origin,
    issued_at, {_local_date("issued_at", dialect)} AS issued_on, promised_on,
    returned_at, returned_by, printed
FROM receipts""",
        "v_satisfaction_monthly": f"""
SELECT
    unit, month, {dimensions},
    SUM(n) AS n, {satisfied} AS satisfied,
    SUM(CASE WHEN score = 1 THEN n ELSE 0 END) AS n_score_1,
    SUM(CASE WHEN score = 2 THEN n ELSE 0 END) AS n_score_2,
    SUM(CASE WHEN score = 3 THEN n ELSE 0 END) AS n_score_3,
    SUM(CASE WHEN score = 4 THEN n ELSE 0 END) AS n_score_4,
    SUM(CASE WHEN score = 5 THEN n ELSE 0 END) AS n_score_5
FROM rating_month_rollups
GROUP BY unit, month, stage, counter, officer, procedure, field""",
        "v_factors_monthly": f"""
SELECT unit, month, NULLIF(officer, '') AS officer, factor, SUM(n) AS n, {satisfied} AS satisfied
FROM factor_month_rollups
GROUP BY unit, month, officer, factor""",
        "v_reasons_monthly": f"""
SELECT unit, month, {dimensions}, reason, n
FROM reason_month_rollups""",
        "v_follow_ups": f"""
SELECT
    f.rating_id, f.unit, f.state, f.assignee_officer, f.opened_at, f.updated_at,
    {_local_date("f.opened_at", dialect)} AS opened_on,
    r.score, r.stage, r.channel, r.counter, r.officer, r.procedure, r.field, r.rated_at
FROM follow_ups f JOIN ratings r ON r.id = f.rating_id""",
        "v_abandoned_sessions": f"""
SELECT
    id, unit, kiosk, dossier_code, stage, counter, officer, procedure, field, reason,
    scanned_at, {_local_date("scanned_at", dialect)} AS scanned_on, ended_at, received_at,
    receipt_verified AS verified, receipt_known AS known
FROM abandoned_sessions""",
        "v_targets": """
SELECT unit, year, rate FROM targets""",
        "v_units": """
SELECT code, name, kind, parent FROM units""",
    }


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, body in _views(dialect).items():
        op.execute(f"CREATE VIEW {name} AS{body}")
    op.create_index("ix_ratings_received_at_id", "ratings", ["received_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_ratings_received_at_id", table_name="ratings")
    for name in reversed(list(_views(op.get_bind().dialect.name))):
        op.execute(f"DROP VIEW IF EXISTS {name}")
