"""Engine creation: SQLite gets WAL and a busy timeout so readers never block the ingest writer."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from hub.store.models import Base

FIRST_REVISION = "0001"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: the WAL is synced at every commit. The hub acknowledges a rating once its batch is
    # committed and the kiosk then deletes its copy; with NORMAL a power cut could roll back a
    # commit already acknowledged. One sync per batch, not per rating.
    cursor.execute("PRAGMA synchronous=FULL")
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
        # The hub's reads are many short ones; PostgreSQL's JIT compiled each rollup read
        # and added ~0.3 s to it (bench/coverage.py), far more than it ever saved.
        engine = create_engine(url, pool_pre_ping=True, connect_args={"options": "-c jit=off"})
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
    Processes that start together (shared workers after a reboot) take turns: without the lock
    two of them both found no tables and the second failed on "already exists" (SQLite) or
    hung (PostgreSQL).
    """
    with _sqlite_file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends; PostgreSQL's DDL is transactional, so the next
            # process sees the finished schema at the head revision.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config = _alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "ratings" in tables and "alembic_version" not in tables:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")


# pg_advisory_xact_lock's key for migrations: any constant this database's other users do not use.
_MIGRATION_LOCK = 0x4841494C  # "HAIL"


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive ``flock`` on ``<database>.migrate.lock`` beside a SQLite file (nothing for
    other databases): SQLite runs DDL outside pysqlite's implicit transactions, so a lock in
    the database itself would not cover the check for existing tables."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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


def is_transient(exc: BaseException) -> bool:
    """Whether a failed commit is the database's state (away, locked, full, a lost connection),
    which a retry of the same batch outlives, rather than something about a message in it (an
    integrity or data error, a value a driver cannot convert), which no retry ever will."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def short_error(exc: BaseException) -> str:
    """The first line of an error, short enough to log and store (SQLAlchemy's next lines hold
    the statement and its parameters, which may carry a citizen's comment)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"
