"""The generated Mosquitto configuration, tried against a real broker: users, passwords, ACLs and
bound client ids; and ``hailong broker`` as systemd runs it: a real process whose Mosquitto child
is killed, and whose log must show what the broker refused."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hailong import broker as broker_mod
from hailong.broker import (
    acl_text,
    client_id_bindings,
    describe_exit,
    dynsec_plugin,
    kiosk_reads,
    password_hash,
    run_supervised,
    write_broker_files,
)
from hailong.contract import topics
from hailong.provision import SecretsLayout, init_secrets, mqtt_users
from hailong.settings import ConfigError, KioskEntry, MqttSettings, Unit, load_unit
from tests.conftest import UNIT_CODE, Broker

CONFIG = Path(__file__).resolve().parents[2] / "config"


def _client(settings: MqttSettings, password: str | None = None) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=settings.username)
    client.username_pw_set(settings.username, password or settings.password())
    return client


def _connect_result(client: mqtt.Client, port: int) -> str:
    done = threading.Event()
    result: list[str] = []

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        result.append(str(reason))
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert done.wait(5)
    return result[0]


def test_password_hash_format() -> None:
    entry = password_hash("secret", salt=b"0123456789ab")
    assert entry.startswith("$7$101$")
    assert entry == password_hash("secret", salt=b"0123456789ab")


def test_acl_confines_each_kiosk(unit: Unit) -> None:
    text = acl_text(unit)
    assert f"topic write {topics.ratings(UNIT_CODE, 'kiosk-q1')}" in text
    assert "user hub\ntopic readwrite hailong/v1/#" in text


def test_init_secrets_is_idempotent(tmp_path, unit: Unit) -> None:  # type: ignore[no-untyped-def]
    layout = SecretsLayout(tmp_path)
    first = init_secrets(unit, layout)
    passwords = [p for p in first if p.parent == layout.mqtt]
    assert sorted(p.name for p in passwords) == sorted(
        f"{user}.password" for user in ["hub", *(k.id for k in unit.kiosks)]
    )
    assert {layout.staff_pin_file(k.id) for k in unit.kiosks} <= set(first)
    before = layout.mqtt_password_file("hub").read_text()
    assert init_secrets(unit, layout) == []
    assert layout.mqtt_password_file("hub").read_text() == before
    assert (layout.mqtt_password_file("hub").stat().st_mode & 0o777) == 0o600


def test_wrong_password_and_anonymous_are_refused(broker: Broker) -> None:
    settings = broker.mqtt_settings("kiosk-q1")
    assert _connect_result(_client(settings, password="wrong"), broker.port) == "Not authorized"
    anonymous = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    assert _connect_result(anonymous, broker.port) == "Not authorized"


@pytest.mark.timeout(30)
def test_kiosk_cannot_publish_as_another_kiosk(broker: Broker) -> None:
    received: list[str] = []
    got_own = threading.Event()
    hub = _client(broker.mqtt_settings("hub"))

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        received.append(message.topic)
        if message.payload == b"own":
            got_own.set()

    subscribed = threading.Event()
    hub.on_message = on_message
    hub.on_subscribe = lambda *_args: subscribed.set()
    assert _connect_result(hub, broker.port) == "Success"
    hub.subscribe(topics.RATINGS_SUBSCRIPTION, qos=1)
    assert subscribed.wait(5)
    kiosk = _client(broker.mqtt_settings("kiosk-q1"))
    assert _connect_result(kiosk, broker.port) == "Success"
    # Publish the forged one first: delivery is in order, so once "own" arrives, "forged" never will.
    kiosk.publish(topics.ratings(UNIT_CODE, "kiosk-q2"), b"forged", qos=1).wait_for_publish(5)
    kiosk.publish(topics.ratings(UNIT_CODE, "kiosk-q1"), b"own", qos=1).wait_for_publish(5)
    assert got_own.wait(5)
    assert received == [topics.ratings(UNIT_CODE, "kiosk-q1")]
    for client in (hub, kiosk):
        client.loop_stop()
        client.disconnect()


def test_client_id_bindings_bind_only_and_defer_everything_else() -> None:
    config = client_id_bindings({"kiosk-q2": "kiosk-q2", "kiosk-q1": "kiosk-q1"})
    assert config["defaultACLAccess"] == {
        "publishClientSend": False,
        "publishClientReceive": False,
        "subscribe": False,
        "unsubscribe": False,
    }
    assert config["clients"] == [
        {"username": "kiosk-q1", "clientid": "kiosk-q1", "roles": [], "groups": []},
        {"username": "kiosk-q2", "clientid": "kiosk-q2", "roles": [], "groups": []},
    ]
    # No password in the plugin: password_file stays the one place a password is checked.
    clients = config["clients"]
    assert isinstance(clients, list)
    assert all("password" not in client for client in clients)
    assert config["roles"] == config["groups"] == []


def test_broker_files_bind_every_kiosk_and_leave_the_hub_free(
    tmp_path: Path, unit: Unit, secrets_layout: SecretsLayout
) -> None:
    files = write_broker_files(unit, secrets_layout, tmp_path, 18999)
    bindings = tmp_path / "client-ids.json"
    assert (bindings.stat().st_mode & 0o777) == 0o600
    clients = json.loads(bindings.read_text())["clients"]
    assert {c["username"]: c["clientid"] for c in clients} == {k.id: k.id for k in unit.kiosks}
    conf = files.conf.read_text().splitlines()
    assert f"plugin {dynsec_plugin()}" in conf
    assert f"plugin_opt_config_file {bindings}" in conf
    assert f"acl_file {tmp_path / 'acl'}" in conf  # the ACLs are still the acl_file's
    assert "log_dest stderr" not in conf
    assert not files.supervised


def test_supervised_broker_files_log_debug_to_stderr(
    tmp_path: Path, unit: Unit, secrets_layout: SecretsLayout
) -> None:
    files = write_broker_files(unit, secrets_layout, tmp_path, 18999, supervised=True)
    conf = files.conf.read_text().splitlines()
    assert files.supervised
    assert {"log_dest stderr", "log_type debug", "log_timestamp false"} <= set(conf)
    assert not any(line.startswith("log_dest file") for line in conf)


def test_rewriting_the_files_keeps_the_supervised_log(
    tmp_path: Path, unit: Unit, secrets_layout: SecretsLayout
) -> None:
    """The administration page rewrites them without saying how the broker logs."""
    write_broker_files(unit, secrets_layout, tmp_path, 18999, supervised=True)
    again = write_broker_files(unit, secrets_layout, tmp_path, 18999)
    assert again.supervised
    assert "log_dest stderr" in again.conf.read_text().splitlines()
    assert again.bindings == tmp_path / "client-ids.json"
    write_broker_files(unit, secrets_layout, tmp_path, 18999, supervised=False)
    assert not write_broker_files(unit, secrets_layout, tmp_path, 18999).supervised


@pytest.mark.parametrize("kiosk_id", ["hub", "hailong-hub", "hailong-hub-000.00.20.H41",
                                      "hailong-broker-flush-7"])  # fmt: skip
def test_a_kiosk_cannot_be_named_like_the_hub(unit: Unit, kiosk_id: str) -> None:
    """Its bound client id would be one of the hub's."""
    odd = unit.model_copy(update={"kiosks": (KioskEntry(id=kiosk_id, counter="Q1"),)})
    with pytest.raises(ConfigError, match="reserved for the hub"):
        mqtt_users(odd)


def test_kiosk_names_merely_containing_hub_are_fine(unit: Unit) -> None:
    fine = unit.model_copy(update={"kiosks": (KioskEntry(id="kiosk-hub-1", counter="Q1"),)})
    assert mqtt_users(fine) == ["hub", "kiosk-hub-1"]


def test_without_the_dynamic_security_plugin_no_broker_is_configured(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="take the hub's session"):
        dynsec_plugin([tmp_path])


def test_kiosk_reads_are_what_the_acl_lets_each_kiosk_read(unit: Unit) -> None:
    reads = kiosk_reads(unit)
    assert set(reads) == {k.id for k in unit.kiosks}
    text = acl_text(unit)
    for kiosk, allowed in reads.items():
        block = text.split(f"user {kiosk}\n", 1)[1].split("\n\n", 1)[0]
        assert allowed == {line.split()[-1] for line in block.splitlines() if " read " in line}


def test_a_broker_that_cannot_start_is_a_failure_too(
    tmp_path: Path, unit: Unit, secrets_layout: SecretsLayout, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hailong.broker")
    taken = broker_mod.free_port()
    files = write_broker_files(unit, secrets_layout, tmp_path, taken, supervised=True)
    with socket.socket() as holder:  # someone else listens there: Mosquitto cannot bind
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        hub = MqttSettings(
            port=taken, username="hub", password_file=secrets_layout.mqtt_password_file("hub")
        )
        assert run_supervised(broker_mod.MosquittoProcess(files, taken, flush_login=hub)) == 1
    assert "mosquitto did not start: mosquitto exited with 1" in caplog.text
    assert "Address already in use" in caplog.text


def test_exits_are_described() -> None:
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-200) == "killed by signal 200"
    assert describe_exit(0) == "exited with status 0"
    assert describe_exit(3) == "exited with status 3"


# -- `hailong broker` as a real process ----------------------------------------------------------


class BrokerCommand:
    """``hailong broker`` on a copy of config/ and a free port, its output collected."""

    def __init__(self, root: Path) -> None:
        shutil.copytree(CONFIG, root / "config")
        self.port = broker_mod.free_port()
        hub_toml = root / "config" / "hub.toml"
        text = re.sub(r"(?m)^port = 18830.*$", f"port = {self.port}", hub_toml.read_text())
        hub_toml.write_text(text)
        self.secrets = SecretsLayout(root / "var" / "secrets")
        self.out = root / "broker.out"
        with self.out.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hailong", "broker", "--config", str(hub_toml)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        broker_mod.wait_for_port(self.port, timeout=30)

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def mosquitto_pid(self) -> int:
        """The ``mosquitto`` process whose parent is ``hailong broker`` (read from /proc)."""
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                name = (stat.parent / "comm").read_text().strip()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and name == "mosquitto":
                return int(stat.parent.name)
        raise AssertionError(f"no mosquitto child of {self.proc.pid}:\n{self.output()}")

    def wait_for_output(self, pattern: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output())
            if found:
                return found.group(0)
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not in the output of hailong broker:\n{self.output()}")

    def client(self, user: str, client_id: str) -> mqtt.Client:
        password = self.secrets.mqtt_password_file(user).read_text().strip()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        client.username_pw_set(user, password)
        return client

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def broker_command(tmp_path: Path) -> Iterator[BrokerCommand]:
    command = BrokerCommand(tmp_path)
    try:
        yield command
    finally:
        command.close()


@pytest.mark.timeout(60)
def test_hailong_broker_exits_non_zero_and_says_why_when_mosquitto_dies(
    broker_command: BrokerCommand,
) -> None:
    """Finding 7: the old command waited for ever with nothing listening and nothing logged."""
    broker_command.wait_for_output(r"mosquitto \(pid \d+\) listening")  # past its start-up
    child = broker_command.mosquitto_pid()
    os.kill(child, signal.SIGKILL)
    code = broker_command.proc.wait(timeout=5)
    assert code == 1
    output = broker_command.output()
    assert f"mosquitto killed by SIGKILL; nothing listens on port {broker_command.port}" in output
    assert "ERROR hailong.broker" in output


@pytest.mark.timeout(60)
def test_hailong_broker_stops_mosquitto_and_exits_zero_on_sigterm(
    broker_command: BrokerCommand,
) -> None:
    broker_command.wait_for_output(r"mosquitto \(pid \d+\) listening")
    child = broker_command.mosquitto_pid()
    broker_command.proc.send_signal(signal.SIGTERM)
    assert broker_command.proc.wait(timeout=15) == 0
    assert not Path(f"/proc/{child}").exists() or "zombie" in _state(child)
    assert "SIGTERM: stopping mosquitto" in broker_command.output()
    with pytest.raises(TimeoutError, match="nothing listens"):
        broker_mod.wait_for_port(broker_command.port, timeout=0.5)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]
    except OSError:
        return "zombie"


@pytest.mark.timeout(60)
def test_hailong_broker_logs_refused_publishes_logins_and_subscriptions(
    broker_command: BrokerCommand,
) -> None:
    """The refusals an operator must see, as warnings in the command's own log (the journal)."""
    forged = topics.acks(UNIT_CODE, "kiosk-q2")
    kiosk = broker_command.client("kiosk-q1", "kiosk-q1")
    subscribed = threading.Event()
    kiosk.on_subscribe = lambda *_args: subscribed.set()
    kiosk.connect("127.0.0.1", broker_command.port)
    kiosk.loop_start()
    try:
        kiosk.publish(forged, b"forged", qos=1).wait_for_publish(5)
        kiosk.subscribe(topics.ratings(UNIT_CODE, "kiosk-q2"), qos=1)
        assert subscribed.wait(5)
    finally:
        kiosk.loop_stop()
        kiosk.disconnect()
    thief = broker_command.client("kiosk-q1", "hailong-hub")
    refused = threading.Event()

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            refused.set()

    thief.on_connect = on_connect
    thief.connect("127.0.0.1", broker_command.port)
    thief.loop_start()
    try:
        assert refused.wait(5)
    finally:
        thief.loop_stop()
    broker_command.wait_for_output(
        rf"WARNING hailong.broker.mosquitto: broker refused a publish from 'kiosk-q1' "
        rf"to '{re.escape(forged)}'"
    )
    broker_command.wait_for_output(
        r"WARNING hailong.broker.mosquitto: kiosk 'kiosk-q1' subscribed to "
        rf"'{re.escape(topics.ratings(UNIT_CODE, 'kiosk-q2'))}', outside its own topics"
    )
    broker_command.wait_for_output(
        r"WARNING hailong.broker.mosquitto: broker refused a login from 127\.0\.0\.1 "
        r"\(CONNACK 5: not authorised"
    )
    # The per-message chatter of debug level stays out of the log.
    assert "Received PUBLISH" not in broker_command.output()
    assert "Sending PUBACK" not in broker_command.output()


@pytest.mark.timeout(90)
def test_a_kiosk_added_on_the_admin_page_is_bound_once_the_files_change(
    broker_command: BrokerCommand, tmp_path: Path
) -> None:
    """Mosquitto never rereads the client-id file (not even on SIGHUP): hailong broker restarts
    it when the file changes, as it does when the administration page adds a kiosk."""
    broker_command.wait_for_output(r"mosquitto \(pid \d+\) listening")
    first = broker_command.mosquitto_pid()
    unit_file = tmp_path / "config" / "unit.toml"
    unit_file.write_text(unit_file.read_text() + '\n[[kiosks]]\nid = "kiosk-q4"\ncounter = "Q1"\n')
    unit = load_unit(unit_file)
    init_secrets(unit, broker_command.secrets)
    # What hub/web/admin.py does when a kiosk is added.
    write_broker_files(
        unit, broker_command.secrets, tmp_path / "var" / "broker", broker_command.port
    )
    broker_command.wait_for_output(r"client-ids\.json changed .*: restarting mosquitto")
    broker_command.wait_for_output(r"(?s)restarting mosquitto.*mosquitto \(pid \d+\) listening")
    assert broker_command.mosquitto_pid() != first
    for client_id, expected in (("hailong-hub", "Not authorized"), ("kiosk-q4", "Success")):
        client = broker_command.client("kiosk-q4", client_id)
        assert _connect_result(client, broker_command.port) == expected
        client.loop_stop()
        client.disconnect()
    # Still the supervised log: the refusal above is in it.
    broker_command.wait_for_output(r"WARNING hailong.broker.mosquitto: broker refused a login")


def _logs_in(command: BrokerCommand, user: str, password: str) -> bool:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user)
    client.username_pw_set(user, password)
    try:
        return _connect_result(client, command.port) == "Success"
    finally:
        client.loop_stop()
        client.disconnect()


@pytest.mark.timeout(90)
def test_sighup_rewrites_the_files_and_mosquitto_rereads_them_without_a_restart(
    broker_command: BrokerCommand, tmp_path: Path
) -> None:
    """``systemctl reload hailong-broker`` (ExecReload= sends SIGHUP): a changed kiosk password
    takes effect in the same Mosquitto; a configuration that no longer loads changes nothing."""
    broker_command.wait_for_output(r"mosquitto \(pid \d+\) listening")
    mosquitto = broker_command.mosquitto_pid()
    secret = broker_command.secrets.mqtt_password_file("kiosk-q1")
    old = secret.read_text().strip()
    secret.write_text("a-new-password-for-q1\n")
    broker_command.proc.send_signal(signal.SIGHUP)
    broker_command.wait_for_output(rf"SIGHUP: mosquitto \(pid {mosquitto}\) rereads")
    deadline = time.monotonic() + 10
    while not _logs_in(broker_command, "kiosk-q1", "a-new-password-for-q1"):
        assert time.monotonic() < deadline, broker_command.output()
        time.sleep(0.2)
    assert not _logs_in(broker_command, "kiosk-q1", old)

    hub_toml = tmp_path / "config" / "hub.toml"
    hub_toml.write_text(hub_toml.read_text() + "\n[nonsense\n")
    broker_command.proc.send_signal(signal.SIGHUP)
    broker_command.wait_for_output(r"ERROR hailong\.broker: SIGHUP: configuration not reloaded")
    assert broker_command.proc.poll() is None
    assert broker_command.mosquitto_pid() == mosquitto
    assert _logs_in(broker_command, "kiosk-q1", "a-new-password-for-q1")
