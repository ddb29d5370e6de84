"""Engines as the hub opens them: durable SQLite commits, and a schema several processes can
create at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from hub.store.db import make_engine
from hub.store.models import Base


def test_sqlite_commits_reach_the_disk_before_the_hub_acknowledges(tmp_path: Path) -> None:
    """The hub acknowledges a rating once its batch is committed, and the kiosk then deletes its
    copy: with WAL and ``synchronous=NORMAL`` a power cut could roll back a commit already
    acknowledged. FULL syncs the WAL at every commit, as the kiosk's outbox does."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()


def test_several_workers_can_create_a_fresh_schema_at_once(database_url: str) -> None:
    """Shared workers started together (a fresh install, a reboot) each run the migrations: one
    creates the schema and the others find it at the head revision, none fails."""
    workers = 4
    barrier = threading.Barrier(workers)

    def open_engine() -> Engine:
        barrier.wait()
        return make_engine(database_url)

    with ThreadPoolExecutor(workers) as pool:
        engines = list(pool.map(lambda _n: open_engine(), range(workers)))
    try:
        tables = set(inspect(engines[0]).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_sessions_run_without_jit(database_url: str) -> None:
    """Every hub read is short; JIT compiling each cost more than the read (bench/coverage.py)."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
