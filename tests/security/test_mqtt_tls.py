"""MQTT over TLS on loopback, with a CA the test makes: kiosk → broker → hub and back, encrypted;
plain connections and clients trusting another CA are refused."""

from __future__ import annotations

import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from hailong import broker as broker_mod
from hailong.provision import SecretsLayout
from hailong.settings import BrokerSettings, HubSettings, MqttSettings, Unit
from hub.service import HubService
from kiosk.outbox import Outbox
from kiosk.uplink import Uplink
from tests.conftest import UNIT_CODE
from tests.hailong.contract.test_messages import make_rating

pytestmark = pytest.mark.timeout(60)


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.crt"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert))  # fmt: skip
    return key, cert


def make_server_cert(folder: Path, ca_key: Path, ca_cert: Path) -> tuple[Path, Path]:
    key, csr, cert = folder / "broker.key", folder / "broker.csr", folder / "broker.crt"
    extensions = folder / "san.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(csr))  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert))  # fmt: skip
    key.chmod(0o600)
    return key, cert


class TlsBroker:
    def __init__(self, port: int, layout: SecretsLayout, ca: Path) -> None:
        self.port, self.layout, self.ca = port, layout, ca

    def settings(self, user: str, ca: Path | None = None) -> MqttSettings:
        return MqttSettings(
            port=self.port,
            username=user,
            password_file=self.layout.mqtt_password_file(user),
            keepalive=5,
            ca_file=ca if ca is not None else self.ca,
        )


@pytest.fixture
def tls_broker(tmp_path: Path, unit: Unit, secrets_layout: SecretsLayout) -> Iterator[TlsBroker]:
    ca_key, ca_cert = make_ca(tmp_path, "test-ca")
    key, cert = make_server_cert(tmp_path, ca_key, ca_cert)
    port = broker_mod.free_port()
    listen = BrokerSettings(bind="127.0.0.1", certfile=cert, keyfile=key)
    files = broker_mod.write_broker_files(unit, secrets_layout, tmp_path / "b", port, listen)
    with broker_mod.MosquittoProcess(files, port):
        yield TlsBroker(port, secrets_layout, ca_cert)


def _connects(settings: MqttSettings, *, tls: bool = True) -> bool:
    result = threading.Event()
    # A kiosk user may connect only with its own id (the broker binds the two).
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=settings.username)
    client.username_pw_set(settings.username, settings.password())
    if tls and settings.ca_file:
        client.tls_set(ca_certs=str(settings.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.on_connect = lambda _c, _u, _f, reason, _p: reason.is_failure or result.set()
    try:
        client.connect("127.0.0.1", settings.port, 5)
    except (ssl.SSLError, OSError):
        return False
    client.loop_start()
    connected = result.wait(3)
    client.loop_stop()
    client.disconnect()
    return connected


def test_a_rating_travels_encrypted_and_is_acknowledged(
    tls_broker: TlsBroker,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    settings = hub_settings.model_copy(update={"mqtt": tls_broker.settings("hub")})
    outbox = Outbox(tmp_path / "outbox.db")
    uplink = Uplink(tls_broker.settings("kiosk-q1"), UNIT_CODE, "kiosk-q1", outbox, resend_after=1)
    with HubService(settings, unit, hub_sessions) as hub:
        assert hub.ready.wait(10)
        uplink.start()
        try:
            outbox.append(lambda seq: make_rating(seq=seq))
            deadline = time.monotonic() + 15
            while outbox.depth() and time.monotonic() < deadline:
                uplink.notify_new()
                time.sleep(0.1)
            assert outbox.depth() == 0
            assert hub.counters.stored == 1
        finally:
            uplink.stop()
            outbox.close()


def test_plain_mqtt_and_a_foreign_ca_are_refused(tls_broker: TlsBroker, tmp_path: Path) -> None:
    assert _connects(tls_broker.settings("kiosk-q1"))
    assert not _connects(tls_broker.settings("kiosk-q1"), tls=False)
    _key, other_ca = make_ca(tmp_path, "other-ca")
    assert not _connects(tls_broker.settings("kiosk-q1", ca=other_ca))


def test_a_broker_off_this_machine_needs_tls() -> None:
    with pytest.raises(ValidationError, match="off this machine"):
        BrokerSettings(bind="0.0.0.0")
    BrokerSettings(bind="0.0.0.0", certfile=Path("b.crt"), keyfile=Path("b.key"))
