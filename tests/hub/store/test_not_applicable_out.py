"""Revision 0024: ``v_ratings`` shows the survey questions answered "không áp dụng", on SQLite and
PostgreSQL; down to 0023 the view is 0013's again, and up again it carries them; on PostgreSQL the
read-only role's grant on the view survives the upgrade (the view is replaced, not dropped)."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from hub.store.db import _alembic_config, make_engine, session_factory
from hub.store.readonly import create_readonly_role
from tests.support.dossier_feed import seed

PASSWORD = "a-long-enough-password-for-bi"


def _not_applicable(url: str) -> dict[str, list[str] | None]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, not_applicable FROM v_ratings")).all()
    engine.dispose()
    return {row[0]: json.loads(row[1]) if row[1] is not None else None for row in rows}


def test_v_ratings_shows_not_applicable_and_0023_does_not(database_url: str) -> None:
    engine = make_engine(database_url)
    seeded = seed(session_factory(engine))
    shown = _not_applicable(database_url)
    assert shown.pop(seeded.not_applicable) == ["feedback"]
    assert shown
    assert set(shown.values()) == {None}
    columns = [c["name"] for c in inspect(engine).get_columns("v_ratings")]
    assert columns[-1] == "not_applicable"
    assert "factor_feedback" in columns
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0023")
    columns = [c["name"] for c in inspect(engine).get_columns("v_ratings")]
    assert "not_applicable" not in columns
    assert columns[-1] == "assisted"
    engine.dispose()
    again = _not_applicable(database_url)  # make_engine migrates to head again
    assert again[seeded.not_applicable] == ["feedback"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_read_only_role_keeps_its_grant_through_the_upgrade(database_url: str) -> None:
    postgres_url = database_url
    seeded = seed(session_factory(make_engine(postgres_url)))
    role = f"bi_{uuid.uuid4().hex[:10]}"
    owner = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    reader = make_url(postgres_url).set(drivername="postgresql", username=role)
    try:
        create_readonly_role(postgres_url, role, PASSWORD)
        engine = make_engine(postgres_url)
        with engine.begin() as connection:  # a database still at 0023, its role granted
            command.downgrade(_alembic_config(connection), "0023")
        engine.dispose()
        with psycopg.connect(owner, autocommit=True) as admin:
            admin.execute(f"GRANT SELECT ON v_ratings TO {role}")
        make_engine(postgres_url).dispose()  # the hub starts: up to 0024
        with psycopg.connect(reader.render_as_string(False), autocommit=True) as bi:
            row = bi.execute(
                "SELECT not_applicable FROM v_ratings WHERE id = %s", (seeded.not_applicable,)
            ).fetchone()
        assert row is not None
        assert json.loads(row[0]) == ["feedback"]
    finally:
        with psycopg.connect(owner, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE IF EXISTS {role}")
