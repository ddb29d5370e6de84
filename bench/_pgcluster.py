"""A PostgreSQL cluster of the benchmark's own: ``initdb`` + ``pg_ctl`` on a folder and a free
loopback port, as tests/conftest.py starts one for the tests, but kept in ``--dir`` when asked so
a 50-million-rating database generated once is reused by the next runs.

Bulk-load friendly settings (``wal_level=minimal``: a COPY into a table truncated in the same
transaction writes no WAL; a large ``maintenance_work_mem`` for the index builds). ``fsync`` stays
on: the ack latency under load is measured on this server, and a hub runs with fsync.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

BINARIES = Path("/usr/lib/postgresql")  # Debian's layout: <version>/bin/{initdb,pg_ctl}
SETTINGS = (
    "-c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=8GB -c checkpoint_timeout=30min "
    "-c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=1GB -c max_connections=100 "
    "-c synchronous_commit=on -c jit=off"
)


def binaries() -> Path | None:
    """The newest installed version's bin folder, or None."""
    found = [p.parent for p in BINARIES.glob("*/bin/pg_ctl")]
    ranked = sorted(found, key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0)
    return ranked[-1] if ranked else None


def _as_owner(command: list[str | Path], cwd: Path) -> None:
    """PostgreSQL refuses to run as root: as root, run it as Debian's ``postgres`` user."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    result = subprocess.run(
        [*prefix, *map(str, command)], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command))} exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )


@contextlib.contextmanager
def cluster(root: Path) -> Iterator[str]:
    """A server on ``root/pgdata`` (created if missing), started for the block and stopped after;
    yields the SQLAlchemy URL of its ``postgres`` database."""
    from hailong.broker import free_port

    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError(f"PostgreSQL is not installed (no {BINARIES}/*/bin/pg_ctl)")
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        import pwd

        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "pgdata"
    if not (data / "PG_VERSION").exists():
        initdb: list[str | Path] = [
            bin_dir / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
        ]
        _as_owner([*initdb, "--locale=C.UTF-8", "--no-sync"], root)
    port = free_port()
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 {SETTINGS}"
    pg_ctl: list[str | Path] = [
        bin_dir / "pg_ctl",
        "-D",
        data,
        "-l",
        root / "server.log",
        "-w",
        "-t",
        "120",
    ]
    _as_owner([*pg_ctl, "-o", options, "start"], root)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        _as_owner([bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "120", "stop"], root)


def ensure_database(server_url: str, name: str) -> str:
    """``name`` on the server of ``server_url`` (created if missing); its SQLAlchemy URL."""
    import psycopg

    base, _, _ = server_url.rpartition("/")
    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            admin.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def recreate_database(url: str) -> None:
    """Drop the database of ``url`` and create it empty (the bench's own database only)."""
    base, _, name = url.rpartition("/")
    drop_database(f"{base}/postgres", name)
    ensure_database(f"{base}/postgres", name)


def libpq(url: str) -> str:
    """A SQLAlchemy ``postgresql+psycopg://`` URL as psycopg's own connection string."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
