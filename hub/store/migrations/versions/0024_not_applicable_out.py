"""the read-only views show "không áp dụng"; return offers' retention index

Revision ID: 0024
Revises: 0023

Issue 18 follow-up: revision 0022 stored the survey questions a citizen answered "Không áp dụng"
(``ratings.not_applicable``), but revision 0013's ``v_ratings`` names its columns and so did not
show them: a BI tool could not tell a question that did not apply from one skipped. This
revision gives ``v_ratings`` a last column ``not_applicable`` (the factor names as JSON text,
NULL when none), beside ``factor_access`` ... ``factor_feedback`` (a factor is in one or the
other, never both). The rollup views need nothing: an answer of "does not apply" is in no
factor's n, so the month figures are unchanged.

It also indexes ``return_offers (offered_at)``: revision 0023's table had no retention, and the
hub now deletes published or expired offers after ``[hub] return_offer_days``
(:func:`hub.store.retention.prune_return_offers`) through this index. A plain CREATE INDEX.

The column goes last so PostgreSQL can ``CREATE OR REPLACE`` the view: the read-only role's
``SELECT`` grant on it (``hailong db readonly-role``) stays. SQLite has no grants and no
``OR REPLACE`` for views: the view is dropped and created. Both bodies are frozen here (0013's
as it was, for the downgrade), as a migration's SQL must be.
"""

# The views' SQL is put together from this file's constants only (no input reaches it).
# ruff: noqa: S608

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

FACTORS = ("access", "procedure", "officer", "result", "feedback")


def _v_ratings(dialect: str, *, not_applicable: bool) -> str:
    """``v_ratings`` as 0013 made it, with ``not_applicable`` last when asked."""
    if dialect == "postgresql":
        factors = [f"CAST(r.factors ->> '{f}' AS SMALLINT) AS factor_{f}" for f in FACTORS]
        reasons = "CAST(r.reasons AS TEXT)"
        rated_on = "CAST((r.rated_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS DATE)"
        extra = ",\n    CAST(r.not_applicable AS TEXT) AS not_applicable"
    else:
        factors = [
            f"CAST(json_extract(r.factors, '$.{f}') AS INTEGER) AS factor_{f}" for f in FACTORS
        ]
        reasons, rated_on = "r.reasons", "date(r.rated_at, '+7 hours')"
        extra = ",\n    r.not_applicable"
    columns = ",\n    ".join(factors)
    return f"""
SELECT
    r.id, r.unit, r.kiosk, r.dossier_code, r.stage, r.channel,
    r.counter, r.officer, r.procedure, r.field,
    r.score, CASE WHEN r.score >= 4 THEN 1 ELSE 0 END AS satisfied,
    {columns},
    {reasons} AS reasons,
    r.lang, r.rated_at, {rated_on} AS rated_on,
    r.received_at, r.duration_ms,
    r.receipt_verified AS verified, r.receipt_known AS known,
    r.counted, r.suspect, r.assisted{extra if not_applicable else ""}
FROM ratings r"""


def _recreate(*, not_applicable: bool, replace: bool) -> None:
    dialect = op.get_bind().dialect.name
    body = _v_ratings(dialect, not_applicable=not_applicable)
    if dialect == "postgresql" and replace:
        op.execute(f"CREATE OR REPLACE VIEW v_ratings AS{body}")
        return
    op.execute("DROP VIEW IF EXISTS v_ratings")
    op.execute(f"CREATE VIEW v_ratings AS{body}")


def upgrade() -> None:
    _recreate(not_applicable=True, replace=True)
    op.create_index("ix_return_offers_offered_at", "return_offers", ["offered_at"])


def downgrade() -> None:
    op.drop_index("ix_return_offers_offered_at", table_name="return_offers")
    # PostgreSQL cannot drop a view's column in place: dropped and created (its grants go with
    # it; ``hailong db readonly-role`` gives them back).
    _recreate(not_applicable=False, replace=False)
