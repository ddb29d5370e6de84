"""Engine creation: SQLite gets WAL and a busy timeout so readers never block the ingest writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from hub.store.models import Base

FIRST_REVISION = "0001"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# The rollups' upsert (INSERT ... ON CONFLICT DO UPDATE) is written for these two.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"[hub] database_url: the hub runs on {' or '.join(SUPPORTED_BACKENDS)}, "
            f"not {backend} ({parsed.render_as_string(hide_password=True)})"
        )
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    upgrade(engine)
    _check_schema(engine)
    return engine


MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to this version's head (idempotent; run by every process that opens it).

    A database made before migrations existed (tables but no ``alembic_version``) is stamped as
    the first revision, then upgraded; if it lacks columns, :func:`_check_schema` says which.
    """
    with engine.begin() as connection:
        config = _alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "ratings" in tables and "alembic_version" not in tables:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")


class SchemaError(RuntimeError):
    """The database was made by an older version of Hài Lòng and lacks columns this one needs."""


def _check_schema(engine: Engine) -> None:
    """Fail at start-up, naming what is missing, rather than on the first query at the counter.

    ``create_all`` adds missing tables but never columns; until migrations exist, an older
    database must be upgraded by hand (or, for the demo, deleted).
    """
    inspector = inspect(engine)
    missing = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name not in {c["name"] for c in inspector.get_columns(table.name)}
    ]
    if missing:
        raise SchemaError(
            f"the database {engine.url.render_as_string(hide_password=True)} predates this "
            f"version: missing {', '.join(missing)}"
        )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
