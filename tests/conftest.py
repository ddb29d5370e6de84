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
        ),
        mqtt=broker.mqtt_settings("hub"),
        receipts=receipt_keys,
        printers={"Q1": PrinterSettings(kind="dummy", paper_width_mm=80)},
    )


@pytest.fixture
def hub_sessions(hub_settings: HubSettings) -> sessionmaker[Session]:
    return session_factory(make_engine(hub_settings.hub.database_url))
