"""Backups that restore to one moment, and a PostgreSQL password that never reaches a command
line: tried on a real SQLite in WAL mode and on the session's PostgreSQL with a password login."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from hub.store.backup import MaintenanceError, backup_database, pg_environment, pg_passfile
from tests.conftest import PostgresServer

NOON = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


def test_a_sqlite_backup_holds_what_is_still_in_the_wal(tmp_path: Path) -> None:
    """A plain copy of the database file misses commits not yet checkpointed from ``-wal``."""
    database = tmp_path / "hub.db"
    writer = sqlite3.connect(database)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.execute("INSERT INTO t VALUES (42)")
    writer.commit()
    try:
        shutil.copy(database, tmp_path / "plain.db")
        with sqlite3.connect(tmp_path / "plain.db") as plain:
            assert plain.execute("SELECT name FROM sqlite_master").fetchall() == []
        backup = backup_database(f"sqlite:///{database}", tmp_path / "backups", NOON)
    finally:
        writer.close()
    assert backup == tmp_path / "backups" / "hailong-20261120T050000Z.sqlite3"
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT x FROM t").fetchall() == [(42,)]
    with pytest.raises(MaintenanceError, match="exists already"):  # never overwritten
        backup_database(f"sqlite:///{database}", tmp_path / "backups", NOON)


def test_the_url_becomes_libpq_variables_without_the_password() -> None:
    url = make_url(
        "postgresql+psycopg://hub:s3cr%3At@db.example:6432/hailong?sslmode=verify-full"
        "&sslrootcert=/etc/hailong/ca.pem"
    )
    env = pg_environment(url, {"PATH": "/usr/bin", "PGPASSWORD": "old"})
    assert env == {
        "PATH": "/usr/bin",
        "PGPASSWORD": "old",  # removed by pg_passfile when the URL has a password
        "PGHOST": "db.example",
        "PGPORT": "6432",
        "PGUSER": "hub",
        "PGDATABASE": "hailong",
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": "/etc/hailong/ca.pem",
    }
    with pytest.raises(MaintenanceError, match="cannot be given: options"):
        pg_environment(make_url("postgresql://hub@db/hailong?options=-c%20x%3Dy"), {})


def test_the_passfile_is_private_escaped_and_gone_afterwards() -> None:
    with pg_passfile("a:b\\c", {"PGPASSWORD": "old", "PGUSER": "hub"}) as env:
        passfile = Path(env["PGPASSFILE"])
        assert passfile.read_text() == "*:*:*:*:a\\:b\\\\c\n"
        assert passfile.stat().st_mode & 0o777 == 0o600
        assert passfile.parent.stat().st_mode & 0o777 == 0o700
        assert "PGPASSWORD" not in env
        assert env["PGUSER"] == "hub"
    assert not passfile.parent.exists()
    with pg_passfile(None, {"PGUSER": "hub"}) as env:
        assert env == {"PGUSER": "hub"}


@pytest.fixture
def password_login(postgres_server: PostgresServer) -> Iterator[tuple[str, str]]:
    """A role that must give its password (scram-sha-256) and owns a database with one row; the
    rest of the session's server keeps trusting everyone."""
    role, password = f"backup_{uuid.uuid4().hex[:8]}", "pa:ss\\wörd"
    admin_url = postgres_server.url().replace("+psycopg", "")
    hba = postgres_server.root / "data" / "pg_hba.conf"
    original = hba.read_text()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("SET password_encryption = 'scram-sha-256'")
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        admin.execute(f"CREATE DATABASE {role} OWNER {role}")
        hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n{original}")
        admin.execute("SELECT pg_reload_conf()")
    try:
        yield role, password
    finally:
        hba.write_text(original)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")
            admin.execute(f"DROP DATABASE {role} WITH (FORCE)")
            admin.execute(f"DROP ROLE {role}")


def test_pg_dump_logs_in_with_the_urls_password(
    postgres_server: PostgresServer, password_login: tuple[str, str], tmp_path: Path
) -> None:
    role, password = password_login
    url = make_url(postgres_server.url(role)).set(username=role, password=password)
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(False)) as owner:
        owner.execute("CREATE TABLE t (x text)")
        owner.execute("INSERT INTO t VALUES ('kept')")
    wrong = url.set(password="wrong").render_as_string(False)
    with pytest.raises(MaintenanceError, match="password authentication failed"):
        backup_database(wrong, tmp_path / "wrong", NOON)
    assert list((tmp_path / "wrong").iterdir()) == []  # nothing half-written left

    backup = backup_database(url.render_as_string(False), tmp_path, NOON)
    assert backup.name == "hailong-20261120T050000Z.dump"
    assert backup.read_bytes().startswith(b"PGDMP")  # pg_restore's custom format
    assert password.encode() not in backup.read_bytes()
