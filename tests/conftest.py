"""Shared fixtures: a unit's configuration, its secrets in a temp folder, a real Mosquitto broker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hailong import broker as broker_mod
from hailong.contract.receipt import KeyRing
from hailong.provision import SecretsLayout, init_secrets
from hailong.settings import (
    HubSection,
    HubSettings,
    MqttSettings,
    PrinterSettings,
    ReceiptKeys,
    Unit,
    load_unit,
)
from hub.store.db import make_engine, session_factory

REPO = Path(__file__).resolve().parents[1]
UNIT_CODE = "000.00.20.H41"


@pytest.fixture(scope="session")
def unit() -> Unit:
    return load_unit(REPO / "config" / "unit.toml")


@pytest.fixture(scope="session")
def secrets_layout(tmp_path_factory: pytest.TempPathFactory, unit: Unit) -> SecretsLayout:
    layout = SecretsLayout(tmp_path_factory.mktemp("secrets"))
    init_secrets(unit, layout)
    return layout


@pytest.fixture(scope="session")
def receipt_keys(secrets_layout: SecretsLayout) -> ReceiptKeys:
    return ReceiptKeys(key_dir=secrets_layout.receipt_keys, active_key="k1")


@pytest.fixture(scope="session")
def keyring(receipt_keys: ReceiptKeys) -> KeyRing:
    return receipt_keys.keyring()


@dataclass
class Broker:
    """A running Mosquitto with the unit's users and ACLs, on a free loopback port."""

    port: int
    layout: SecretsLayout
    process: broker_mod.MosquittoProcess

    def mqtt_settings(self, user: str) -> MqttSettings:
        return MqttSettings(
            host="127.0.0.1",
            port=self.port,
            username=user,
            password_file=self.layout.mqtt_password_file(user),
            keepalive=5,
        )

    def restart(self) -> None:
        self.process.stop()
        self.process.start()


@pytest.fixture
def broker(tmp_path: Path, unit: Unit, secrets_layout: SecretsLayout) -> Iterator[Broker]:
    port = broker_mod.free_port()
    files = broker_mod.write_broker_files(unit, secrets_layout, tmp_path / "broker", port)
    with broker_mod.MosquittoProcess(files, port) as process:
        yield Broker(port=port, layout=secrets_layout, process=process)


@pytest.fixture
def hub_settings(tmp_path: Path, broker: Broker, receipt_keys: ReceiptKeys) -> HubSettings:
    """A hub on a fresh SQLite database, logged in to the test broker, printing to a Dummy."""
    return HubSettings(
        hub=HubSection(
            unit_file=REPO / "config" / "unit.toml",
            database_url=f"sqlite:///{tmp_path / 'hub.db'}",
            public_base_url="https://hailong.example.gov.vn",
            # Many tests rate fixed days of November 2026 through the hub; the window itself is
            # tested with explicit clocks (tests/hub/domain/test_ingest.py), not by the calendar.
            rated_at_max_past_days=3650,
        ),
        mqtt=broker.mqtt_settings("hub"),
        receipts=receipt_keys,
        printers={"Q1": PrinterSettings(kind="dummy", paper_width_mm=80)},
    )


@pytest.fixture
def hub_sessions(hub_settings: HubSettings) -> sessionmaker[Session]:
    return session_factory(make_engine(hub_settings.hub.database_url))


# -- databases: every store test runs on SQLite and on a throw-away PostgreSQL cluster -------------

POSTGRES_BINARIES = Path("/usr/lib/postgresql")  # Debian's layout: <version>/bin/{initdb,pg_ctl}


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of our own on 127.0.0.1 (trust auth), deleted after the session."""

    port: int
    root: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def _postgres_bin() -> Path | None:
    """The newest installed version's bin folder, or None."""
    found = [p.parent for p in POSTGRES_BINARIES.glob("*/bin/pg_ctl")]
    versions = sorted(found, key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0)
    return versions[-1] if versions else None


def _run_as_owner(command: list[str | Path], cwd: Path) -> None:
    """PostgreSQL refuses to run as root: as root, run it as Debian's ``postgres`` user."""
    import subprocess

    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    result = subprocess.run(
        [*prefix, *map(str, command)], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command))} exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """initdb + pg_ctl on a temp folder and a free port; stopped and removed at the end."""
    import shutil
    import tempfile

    binaries = _postgres_bin()
    if binaries is None:
        message = (
            f"PostgreSQL is not installed (no {POSTGRES_BINARIES}/*/bin/pg_ctl): "
            "run `bash scripts/setup.sh test`, which installs Debian's postgresql package"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Not under pytest's tmp_path: its parents are private to us, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="hailong-pg-"))
    try:
        if os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam("postgres")  # created by Debian's postgresql package
            os.chown(root, owner.pw_uid, owner.pw_gid)
        data = root / "data"
        initdb = [binaries / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        _run_as_owner([*initdb, "--locale=C.UTF-8", "--no-sync"], root)
        port = broker_mod.free_port()
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        pg_ctl = [binaries / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "-t", "60"]
        _run_as_owner([*pg_ctl, "-o", options, "start"], root)
        try:
            yield PostgresServer(port=port, root=root)
        finally:
            _run_as_owner([binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh database in the session's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    import uuid

    import psycopg

    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server.url().replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield server.url(name)
    with psycopg.connect(server.url().replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
