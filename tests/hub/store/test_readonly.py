"""The read-only views of revision 0013 hold no personal data and agree with the tables, on SQLite
and PostgreSQL; the read-only role (``hailong db readonly-role``) reads the views and nothing
else, and writes nothing, on a real PostgreSQL."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from hub.store.db import make_engine, session_factory
from hub.store.readonly import VIEWS, ReadonlyRoleError, create_readonly_role
from tests.support.dossier_feed import PERSONAL, seed

PASSWORD = "a-long-enough-password-for-bi"
# Columns that hold, or could hold, personal data or secrets: never in a view.
FORBIDDEN_COLUMNS = {
    "comment",
    "callback_phone",
    "citizen_name",
    "citizen_contact",
    "url",
    "key_id",
    "entered_by",
    "assignee",
    "actor",
    "note",
    "claim_mismatch",
    "set_by",
}


def test_the_views_are_there_without_personal_columns_and_agree_with_the_tables(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    seeded = seed(session_factory(engine))
    inspector = inspect(engine)
    assert set(inspector.get_view_names()) == set(VIEWS)
    for view in VIEWS:
        columns = {c["name"] for c in inspector.get_columns(view)}
        assert not columns & FORBIDDEN_COLUMNS, view
    with engine.connect() as connection:
        for view in VIEWS:
            rows = connection.execute(text(f"SELECT * FROM {view}")).all()
            dump = repr(rows)
            assert not any(secret in dump for secret in PERSONAL), view
        ratings = connection.execute(text("SELECT count(*) FROM ratings")).scalar_one()
        assert connection.execute(text("SELECT count(*) FROM v_ratings")).scalar_one() == ratings
        counted = connection.execute(
            text("SELECT count(*), sum(satisfied) FROM v_ratings WHERE counted")
        ).one()
        monthly = connection.execute(
            text("SELECT sum(n), sum(satisfied) FROM v_satisfaction_monthly")
        ).one()
        assert tuple(map(int, monthly)) == tuple(map(int, counted)) == (ratings - 2, 9)
        first = connection.execute(
            text(
                "SELECT factor_officer, factor_access, factor_result, rated_on, reasons, "
                "assisted FROM v_ratings WHERE id = :id"
            ),
            {"id": seeded.feed_ids[0]},
        ).one()
        assert first[:3] == (4, 2, None)
        assert str(first[3]) == "2026-11-20"  # 08:59:30 in Hà Nội
        assert '"rude"' in first[4]
        assert not first[5]
        assisted = connection.execute(
            text("SELECT assisted, channel FROM v_ratings WHERE id = :id"), {"id": seeded.assisted}
        ).one()
        assert (bool(assisted[0]), assisted[1]) == (True, "paper")
        receipts = connection.execute(
            text("SELECT count(*), count(returned_at), min(issued_on) FROM v_receipts")
        ).one()
        assert receipts[:2] == (12, 4)
        assert str(receipts[2]) == "2026-11-20"


def test_sqlite_has_no_roles(tmp_path: object) -> None:
    with pytest.raises(ReadonlyRoleError, match="SQLite has no database users"):
        create_readonly_role(f"sqlite:///{tmp_path}/hub.db", "hailong_bi", PASSWORD)


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("Hailong", PASSWORD),
        ("1bi", PASSWORD),
        ("bi; drop table ratings", PASSWORD),
        ("x" * 64, PASSWORD),
        ("hailong_bi", "short"),
    ],
)
def test_a_bad_name_or_short_password_is_refused_before_anything(name: str, password: str) -> None:
    with pytest.raises(ReadonlyRoleError):
        create_readonly_role("postgresql+psycopg://nobody@127.0.0.1:1/none", name, password)


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("roles are PostgreSQL's")
    return database_url


def _as(url: str, role: str) -> str:
    return make_url(url).set(drivername="postgresql", username=role).render_as_string(False)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_role_reads_the_views_only_and_writes_nothing(postgres_url: str) -> None:
    seed(session_factory(make_engine(postgres_url)))
    role = f"bi_{uuid.uuid4().hex[:10]}"
    owner = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    try:
        notes = create_readonly_role(postgres_url, role, PASSWORD)
        assert PASSWORD not in "".join(notes)
        with psycopg.connect(owner) as admin:
            stored = admin.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)
            ).fetchone()
            assert stored is not None
            assert stored[0].startswith("SCRAM-SHA-256$")  # a verifier, not the password
            admin.execute(f"GRANT SELECT ON ratings TO {role}")  # a grant from before ...
        create_readonly_role(postgres_url, role, PASSWORD)  # ... taken back on a second run
        with psycopg.connect(_as(postgres_url, role), autocommit=True) as bi:
            for view in VIEWS:
                bi.execute(f"SELECT * FROM {view} LIMIT 5").fetchall()
            assert bi.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
            for table in ("ratings", "receipts", "follow_up_events", "alembic_version"):
                with pytest.raises(errors.InsufficientPrivilege):
                    bi.execute(f"SELECT * FROM {table} LIMIT 1")
            bi.execute("SET default_transaction_read_only = off")  # even then:
            for statement in (
                "INSERT INTO v_targets (unit, year, rate) VALUES ('X', 2027, 90)",
                "UPDATE v_ratings SET score = 5",
                "DELETE FROM v_receipts",
                "CREATE TABLE mine (x int)",
                "DELETE FROM ratings",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    bi.execute(statement)
    finally:
        with psycopg.connect(owner, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE IF EXISTS {role}")
