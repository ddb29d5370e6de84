"""The read-only role a BI tool connects as (``hailong db readonly-role``): SELECT on the views of
revision 0013 (no personal data), nothing on any table, no write.

PostgreSQL only: SQLite has no users. The password never reaches the server, its logs or this
process's output in clear: libpq turns it into a SCRAM-SHA-256 verifier here
(``PQencryptPasswordConn``), and ``ALTER ROLE ... PASSWORD`` stores that.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from hub.store.db import make_engine

# The views of revision 0013, all a read-only role may read (a test checks they are all there).
VIEWS = (
    "v_ratings",
    "v_receipts",
    "v_satisfaction_monthly",
    "v_factors_monthly",
    "v_reasons_monthly",
    "v_follow_ups",
    "v_abandoned_sessions",
    "v_targets",
    "v_units",
)
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ReadonlyRoleError(RuntimeError):
    """The role cannot be made here (SQLite, a bad name, a hub user without CREATEROLE)."""


def create_readonly_role(database_url: str, name: str, password: str) -> list[str]:
    """Create ``name`` (or bring an existing one back to exactly this), migrating the database to
    its views first. Returns notes for the operator (never the password)."""
    if not ROLE_NAME.match(name):
        raise ReadonlyRoleError(
            f"{name!r}: a role name is lower-case letters, digits and _ (at most 63), "
            "not starting with a digit"
        )
    if len(password) < 16:
        raise ReadonlyRoleError("the password must have at least 16 characters")
    if make_url(database_url).get_backend_name() != "postgresql":
        raise ReadonlyRoleError(
            "SQLite has no database users or roles: the views (v_ratings, ...) are in the file, "
            "so give a BI tool a copy of it (`hailong db backup`), or run the hub on PostgreSQL "
            "(docs/data-out.md)"
        )
    engine = make_engine(database_url)  # migrated: the views exist
    try:
        with engine.begin() as connection:
            return _grant(connection, name, password)
    except Exception as exc:
        if "permission denied" in str(exc) or "must have CREATEROLE" in str(exc):
            raise ReadonlyRoleError(
                f"the hub's database user cannot create roles ({str(exc).splitlines()[0]}): "
                "run this as a user with CREATEROLE (or the database owner)"
            ) from exc
        raise
    finally:
        engine.dispose()


def _grant(connection: Connection, name: str, password: str) -> list[str]:
    from psycopg import sql

    driver = connection.connection.driver_connection
    assert driver is not None
    verifier = driver.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
    role = sql.Identifier(name)

    def run(statement: sql.Composable) -> None:
        connection.exec_driver_sql(statement.as_string(driver))

    exists = connection.exec_driver_sql(
        "SELECT 1 FROM pg_roles WHERE rolname = %(name)s", {"name": name}
    ).first()
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
    verb = "ALTER" if exists else "CREATE"
    run(
        sql.SQL(verb + " ROLE {} WITH " + attributes + " PASSWORD {}").format(
            role, sql.Literal(verifier.decode())
        )
    )
    # A session that forgets where it is still cannot write (the grants already forbid it).
    run(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role))
    # An existing role keeps nothing it was given before: only the views below.
    run(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(role))
    run(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(role))
    database = connection.exec_driver_sql("SELECT current_database()").scalar_one()
    run(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role))
    run(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
    views = sql.SQL(", ").join(sql.Identifier(view) for view in VIEWS)
    run(sql.SQL("GRANT SELECT ON {} TO {}").format(views, role))
    notes = [f"role {name}: SELECT on {', '.join(VIEWS)} in database {database}"]
    can_create = connection.exec_driver_sql(
        "SELECT has_schema_privilege(%(name)s, 'public', 'CREATE')", {"name": name}
    ).scalar_one()
    if can_create:  # PostgreSQL before 15 lets PUBLIC create in schema public
        notes.append(
            "note: every role may create tables in schema public here (PostgreSQL < 15): "
            "consider REVOKE CREATE ON SCHEMA public FROM PUBLIC"
        )
    return notes
