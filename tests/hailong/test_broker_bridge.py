"""The bridge and central-broker generators: every valid input gives configuration Mosquitto (and
EMQX) can parse, with nothing injected; every invalid one is refused; the shipped examples are
exactly what the generators write. The bridge itself is tried on real brokers in
tests/deploy/test_broker_bridge.py."""

from __future__ import annotations

import os
import re
import signal
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hailong import broker_bridge as bb
from hailong.broker import BrokerFiles, free_port, wait_for_port
from hailong.contract import topics
from hailong.provision import SecretsLayout
from hailong.settings import load

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "deploy" / "broker"
EXAMPLE_UNITS = ("000.00.20.H41", "000.00.21.H41", "000.00.22.H41")
EXAMPLE_PASSWORD = "REPLACE-with-var-secrets-mqtt-bridge-000.00.20.H41.password"

# Options a generated bridge include may contain, each with how many values it takes.
_BRIDGE_OPTIONS = {
    "max_queued_bytes": 1,
    "autosave_on_changes": 1,
    "autosave_interval": 1,
    "connection": 1,
    "address": 1,
    "bridge_protocol_version": 1,
    "remote_clientid": 1,
    "local_clientid": 1,
    "cleansession": 1,
    "local_cleansession": 1,
    "try_private": 1,
    "bridge_attempt_unsubscribe": 1,
    "bridge_outgoing_retain": 1,
    "start_type": 1,
    "restart_timeout": 2,
    "keepalive_interval": 1,
    "bridge_max_packet_size": 1,
    "notifications": 1,
    "notification_topic": 1,
    "remote_username": 1,
    "remote_password": 1,
    "bridge_cafile": 1,
    "bridge_tls_version": 1,
    "bridge_insecure": 1,
    "bridge_certfile": 1,
    "bridge_keyfile": 1,
    "topic": 3,
}
_TOPIC_CHARS = re.compile(r"^[A-Za-z0-9._/+-]+$")


def parse_mosquitto(text: str) -> list[tuple[str, list[str]]]:
    """Mosquitto's own reading of a config file: ``#`` lines and blank lines are skipped, the
    first token is the option, the rest its values (split on spaces)."""
    options = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        assert line == line.strip(), f"stray whitespace around {line!r}"
        key, *values = line.split(" ")
        options.append((key, values))
    return options


def bridge_settings(**overrides: Any) -> bb.BridgeSettings:
    fields: dict[str, Any] = {
        "unit": "000.00.20.H41",
        "central_host": "mqtt.hailong.example.gov.vn",
        "central_port": 8883,
        "password_file": Path("/etc/hailong/secrets/mqtt/bridge-000.00.20.H41.password"),
        "ca_file": Path("/etc/hailong/tls/province-ca.crt"),
    }
    fields.update(overrides)
    return bb.BridgeSettings(**fields)


# -- strategies ----------------------------------------------------------------------------------

unit_codes = st.from_regex(r"\A[0-9A-Z][0-9A-Z.]{2,19}\Z")
labels = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?\Z")
hosts = st.lists(labels, min_size=1, max_size=4).map(".".join)
passwords = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation, min_size=16)
paths = st.lists(st.from_regex(r"\A[A-Za-z0-9._-]{1,12}\Z"), min_size=1, max_size=4).map(
    lambda parts: Path("/", *parts)
)


@st.composite
def valid_bridges(draw: st.DrawFn) -> tuple[bb.BridgeSettings, str]:
    tls = draw(st.booleans())
    host = draw(hosts) if tls else draw(st.sampled_from(["127.0.0.1", "localhost"]))
    base = draw(st.integers(1, 3600))
    client_cert = tls and draw(st.booleans())
    settings_ = bb.BridgeSettings(
        unit=draw(unit_codes),
        central_host=host,
        central_port=draw(st.integers(1, 65535)),
        password_file=draw(paths),
        ca_file=draw(paths) if tls else None,
        cert_file=draw(paths) if client_cert else None,
        key_file=draw(paths) if client_cert else None,
        keepalive=draw(st.integers(5, 3600)),
        restart_base=base,
        restart_cap=draw(st.integers(base, 3600)),
        site_max_queued_bytes=draw(st.integers(0, 16 * 1024**3)),
        site_autosave_changes=draw(st.integers(0, 10_000_000)),
    )
    return settings_, draw(passwords.filter(lambda p: len(p) <= 256))


# -- the bridge section --------------------------------------------------------------------------


@settings(max_examples=200)
@given(valid_bridges())
def test_any_valid_bridge_gives_a_config_mosquitto_reads_back(
    case: tuple[bb.BridgeSettings, str],
) -> None:
    bridge, password = case
    options = parse_mosquitto(bb.bridge_conf_text(bridge, password))
    keys = [key for key, _ in options]
    for key, values in options:
        assert key in _BRIDGE_OPTIONS, f"unknown option {key}"
        assert len(values) == _BRIDGE_OPTIONS[key], f"{key} {values}"
    # Site-wide options first, then one bridge: everything after `connection` belongs to it.
    assert keys.count("connection") == 1
    site_wide = keys[: keys.index("connection")]
    autosave = ["autosave_on_changes", "autosave_interval"] if bridge.site_autosave_changes else []
    assert site_wide == ["max_queued_bytes", *autosave]
    single = {key: values[0] for key, values in options if key != "topic"}
    assert single["connection"] == single["remote_clientid"] == bb.bridge_client_id(bridge.unit)
    assert single["address"] == f"{bridge.central_host}:{bridge.central_port}"
    assert single["remote_username"] == f"bridge-{bridge.unit}"
    assert single["remote_password"] == password
    assert single["cleansession"] == single["local_cleansession"] == "false"
    assert single["try_private"] == "true"
    assert single["bridge_attempt_unsubscribe"] == "false"
    assert int(single["max_queued_bytes"]) == bridge.site_max_queued_bytes
    if bridge.site_autosave_changes:
        assert int(single["autosave_interval"]) == bridge.site_autosave_changes
    assert ("bridge_cafile" in single) == (bridge.ca_file is not None)
    if bridge.ca_file is not None:
        assert single["bridge_cafile"] == str(bridge.ca_file)
        assert single["bridge_insecure"] == "false"
    assert ("bridge_certfile" in single) == (bridge.cert_file is not None)
    bridged = [values for key, values in options if key == "topic"]
    assert {(pattern, direction) for pattern, direction, _qos in bridged} == set(
        bb.bridged_topics(bridge.unit)
    )
    for pattern, _direction, qos in bridged:
        assert qos == "1"
        assert pattern.startswith(f"{topics.PREFIX}/{bridge.unit}/")
        assert _TOPIC_CHARS.match(pattern)
        assert "#" not in pattern


def test_the_bridge_carries_exactly_the_contract_topics_of_its_unit() -> None:
    unit = "000.00.20.H41"
    carried = dict(bb.bridged_topics(unit))
    assert {p for p, d in carried.items() if d == "out"} == {
        "hailong/v1/000.00.20.H41/+/ratings",
        "hailong/v1/000.00.20.H41/+/status",
    }
    assert {p for p, d in carried.items() if d == "in"} == {
        "hailong/v1/000.00.20.H41/+/acks",
        "hailong/v1/000.00.20.H41/+/offers",
        topics.unit_config(unit),
        topics.rated(unit),
        topics.returned(unit),
    }


@given(
    password=st.text(min_size=0, max_size=300).filter(
        lambda p: not re.fullmatch(r"[\x21-\x7e]{16,256}", p)
    )
)
def test_a_password_that_could_break_its_line_is_refused(password: str) -> None:
    with pytest.raises(bb.BridgeError, match="password"):
        bb.bridge_conf_text(bridge_settings(), password)


def test_a_newline_in_the_password_cannot_inject_an_option() -> None:
    with pytest.raises(bb.BridgeError):
        bb.bridge_conf_text(bridge_settings(), "x" * 16 + "\ntopic # both 2")


bad_units = st.text(max_size=30).filter(lambda u: not re.fullmatch(r"[0-9A-Z][0-9A-Z.]{2,19}", u))
bad_hosts = st.one_of(
    st.just(""),
    st.text(min_size=1, max_size=40).filter(
        lambda h: not re.fullmatch(r"[A-Za-z0-9.-]+", h) or h.startswith(("-", ".")) or ".." in h
    ),
)


@given(unit=bad_units)
def test_a_unit_code_outside_the_contract_is_refused(unit: str) -> None:
    with pytest.raises(ValidationError):
        bridge_settings(unit=unit)
    with pytest.raises(bb.BridgeError):
        bb.central_acl_text([unit])


@given(host=bad_hosts)
def test_a_host_that_is_not_a_name_or_an_ipv4_address_is_refused(host: str) -> None:
    with pytest.raises(ValidationError):
        bridge_settings(central_host=host)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ca_file": None}, "off this machine: set ca_file"),
        ({"central_host": "10.0.0.5", "ca_file": None}, "off this machine"),
        ({"cert_file": Path("/etc/hailong/tls/site.crt")}, "go together"),
        ({"ca_file": Path("tls/ca.crt")}, "absolute"),
        ({"ca_file": Path("/etc/hailong/my ca.crt")}, "whitespace"),
        ({"restart_base": 30, "restart_cap": 10}, "restart_cap"),
        ({"central_port": 0}, "greater than or equal to 1"),
        ({"keepalive": 2}, "greater than or equal to 5"),
        ({"site_max_queued_bytes": -1}, "greater than or equal to 0"),
        ({"site_autosave_changes": -1}, "greater than or equal to 0"),
        ({"central_host": "[::1]"}, "host name or an IPv4"),
        ({"unknown": 1}, "Extra inputs"),
    ],
)
def test_unsafe_bridge_settings_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        bridge_settings(**overrides)


def test_plain_mqtt_is_allowed_only_to_this_machine() -> None:
    local = bridge_settings(central_host="127.0.0.1", ca_file=None)
    text = bb.bridge_conf_text(local, "p" * 24)
    assert "bridge_cafile" not in text


def test_attach_bridge_writes_a_private_include_once(tmp_path: Path) -> None:
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("listener 1883 127.0.0.1\nallow_anonymous false\n")
    files = BrokerFiles(conf=conf, log=tmp_path / "mosquitto.log")
    path = bb.attach_bridge(files, bridge_settings(), "s" * 32)
    again = bb.attach_bridge(files, bridge_settings(), "t" * 32)
    assert path == again == tmp_path / "bridge.d" / "hailong-bridge.conf"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "bridge.d").stat().st_mode & 0o777 == 0o700
    assert "remote_password " + "t" * 32 in path.read_text()
    lines = conf.read_text().splitlines()
    assert lines == [
        "listener 1883 127.0.0.1",
        "allow_anonymous false",
        f"include_dir {tmp_path / 'bridge.d'}",
    ]


# -- the central broker --------------------------------------------------------------------------


@settings(max_examples=100)
@given(units=st.lists(unit_codes, min_size=1, max_size=8, unique=True))
def test_the_central_acl_confines_every_bridge_to_its_unit(units: list[str]) -> None:
    blocks: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for key, values in parse_mosquitto(bb.central_acl_text(units)):
        if key == "user":
            current = values[0]
            assert current not in blocks, "one block per user"
            blocks[current] = []
        else:
            assert key == "topic"
            access, pattern = values
            blocks[current].append((access, pattern))
    assert blocks.pop("hub") == [
        ("readwrite", "hailong/v1/#"),
        ("read", "hailong/bridge/#"),
    ]
    assert set(blocks) == {f"bridge-{u}" for u in units}
    for unit in units:
        rules = blocks[f"bridge-{unit}"]
        for access, pattern in rules:
            assert access in {"read", "write"}
            assert pattern.startswith((f"hailong/v1/{unit}/", f"hailong/bridge/{unit}/"))
        writes = {p for a, p in rules if a == "write"}
        assert writes == {
            f"hailong/v1/{unit}/+/ratings",
            f"hailong/v1/{unit}/+/status",
            f"hailong/bridge/{unit}/state",
        }


@settings(max_examples=100)
@given(units=st.lists(unit_codes, min_size=1, max_size=8, unique=True))
def test_the_emqx_acl_is_well_formed_and_ends_in_deny_all(units: list[str]) -> None:
    text = bb.emqx_acl_text(units)
    rules = [line for line in text.splitlines() if line and not line.startswith("%%")]
    assert rules[-1] == "{deny, all}."
    rule = re.compile(
        r'^\{allow, \{username, "([^"]+)"\}, (all|publish|subscribe), \[("[^"]+"(, "[^"]+")*)\]\}\.$'
    )
    for line in rules[:-1]:
        match = rule.match(line)
        assert match, line
        user, patterns = match.group(1), re.findall(r'"([^"]+)"', match.group(3))
        if user != "hub":
            unit = user.removeprefix("bridge-")
            assert unit in units
            assert all(
                p.startswith((f"hailong/v1/{unit}/", f"hailong/bridge/{unit}/")) for p in patterns
            )


@pytest.mark.parametrize("units", [[], ["000.00.20.H41", "000.00.20.H41"]])
def test_the_central_broker_needs_distinct_units(units: list[str]) -> None:
    with pytest.raises(bb.BridgeError):
        bb.central_acl_text(units)
    with pytest.raises(bb.BridgeError):
        bb.emqx_acl_text(units)


def test_central_secrets_are_created_once_and_private(tmp_path: Path) -> None:
    layout = SecretsLayout(tmp_path / "secrets")
    created = bb.ensure_central_secrets(layout, list(EXAMPLE_UNITS))
    assert {p.name for p in created} == {
        "hub.password",
        *(f"bridge-{u}.password" for u in EXAMPLE_UNITS),
    }
    first = {p: p.read_text() for p in created}
    assert bb.ensure_central_secrets(layout, list(EXAMPLE_UNITS)) == []
    for path, text in first.items():
        assert path.read_text() == text, "never overwritten"
        assert path.stat().st_mode & 0o777 == 0o600
        bb.check_password(text.strip())  # usable as a bridge password


def test_the_central_broker_files(tmp_path: Path) -> None:
    layout = SecretsLayout(tmp_path / "secrets")
    bb.ensure_central_secrets(layout, ["000.00.20.H41"])
    files = bb.write_central_broker_files(["000.00.20.H41"], layout, tmp_path / "central", 8883)
    conf = {k: v for k, v in parse_mosquitto(files.conf.read_text()) if k != "log_type"}
    assert conf["allow_anonymous"] == ["false"]
    assert conf["persistence"] == ["true"]
    assert conf["max_queued_messages"] == ["1000000"]
    users = [line.split(":")[0] for line in (tmp_path / "central" / "passwd").read_text().split()]
    assert users == ["hub", "bridge-000.00.20.H41"]
    assert (tmp_path / "central" / "passwd").stat().st_mode & 0o777 == 0o600


def test_a_central_broker_off_loopback_needs_tls(tmp_path: Path) -> None:
    common = {"units": ["000.00.20.H41"], "secrets_dir": tmp_path, "out_dir": tmp_path}
    with pytest.raises(ValidationError, match="off this machine"):
        bb.CentralSettings(**common, bind="0.0.0.0")
    bb.CentralSettings(**common, bind="0.0.0.0", cert_file=tmp_path / "c", key_file=tmp_path / "k")


# -- the shipped examples are the generators' output -----------------------------------------------


def example_site_bridge() -> bb.BridgeSettings:
    """What deploy/broker/bridge.toml.example says, on a site box installed in /opt/hailong."""
    secrets = Path("/opt/hailong/var/secrets")
    return bb.BridgeSettings(
        unit="000.00.20.H41",
        central_host="mqtt.hailong.example.gov.vn",
        central_port=8883,
        password_file=secrets / "mqtt" / "bridge-000.00.20.H41.password",
        ca_file=secrets / "tls" / "province-ca.crt",
    )


def test_the_example_configs_load() -> None:
    bridge = load(EXAMPLES / "bridge.toml.example", bb.BridgeFile).bridge
    expected = example_site_bridge()
    same = ("unit", "central_host", "central_port", "keepalive")
    for key in (*same, "site_max_queued_bytes", "site_autosave_changes"):
        assert getattr(bridge, key) == getattr(expected, key)
    assert bridge.password_file.name == expected.password_file.name
    assert bridge.ca_file is not None
    assert bridge.ca_file.name == "province-ca.crt"
    central = load(EXAMPLES / "central.toml.example", bb.CentralFile).central
    assert central.units == EXAMPLE_UNITS
    assert central.cert_file is not None


def test_the_example_bridge_section_is_the_generated_one() -> None:
    expected = bb.bridge_conf_text(example_site_bridge(), EXAMPLE_PASSWORD)
    assert (EXAMPLES / "site-bridge.conf.example").read_text() == expected


def test_the_example_acls_are_the_generated_ones() -> None:
    assert (EXAMPLES / "central-acl.example").read_text() == bb.central_acl_text(EXAMPLE_UNITS)
    assert (EXAMPLES / "emqx" / "acl.conf").read_text() == bb.emqx_acl_text(EXAMPLE_UNITS)


def test_the_emqx_compose_file_describes_three_clustered_nodes() -> None:
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((EXAMPLES / "emqx" / "docker-compose.yml").read_text())
    nodes = compose["services"]
    assert len(nodes) == 3
    for node in nodes.values():
        env = node["environment"]
        assert env["EMQX_CLUSTER__DISCOVERY_STRATEGY"] == "static"
        assert all(name in env["EMQX_CLUSTER__STATIC__SEEDS"] for name in nodes)
        mounts = " ".join(node["volumes"])
        assert "acl.conf" in mounts
        assert "emqx.conf" in mounts
        assert any("var/secrets" in item for item in node.get("env_file", []))


# -- the command line --------------------------------------------------------------------------


def _site_configs(tmp_path: Path, unit: str = "000.00.20.H41") -> tuple[Path, Path]:
    hub = tmp_path / "hub.toml"
    hub.write_text(
        f"""
[hub]
unit_file = "{REPO / "config" / "unit.toml"}"
database_url = "sqlite:///var/hub/hailong.db"
public_base_url = "https://hailong.example.gov.vn"

[mqtt]
port = 18830
username = "hub"
password_file = "var/secrets/mqtt/hub.password"

[receipts]
key_dir = "var/secrets/receipt-keys"
"""
    )
    bridge = tmp_path / "bridge.toml"
    bridge.write_text(
        f"""
[bridge]
unit = "{unit}"
central_host = "127.0.0.1"
central_port = 18883
password_file = "var/secrets/mqtt/bridge-{unit}.password"
"""
    )
    return hub, bridge


def test_the_site_command_writes_a_bridged_broker(tmp_path: Path) -> None:
    hub, bridge = _site_configs(tmp_path)
    secret = tmp_path / "var" / "secrets" / "mqtt" / "bridge-000.00.20.H41.password"
    secret.parent.mkdir(parents=True)
    secret.write_text("copied-from-the-centre-0123456789\n")
    code = bb.main(["site", "--config", str(hub), "--bridge", str(bridge), "--write-only"])
    assert code == 0
    broker_dir = tmp_path / "var" / "broker"
    conf = (broker_dir / "mosquitto.conf").read_text()
    assert f"include_dir {broker_dir / 'bridge.d'}" in conf.splitlines()
    include = (broker_dir / "bridge.d" / "hailong-bridge.conf").read_text()
    assert "remote_password copied-from-the-centre-0123456789\n" in include
    assert "address 127.0.0.1:18883" in include


def test_the_site_command_refuses_another_units_bridge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub, bridge = _site_configs(tmp_path, unit="000.00.21.H41")
    code = bb.main(["site", "--config", str(hub), "--bridge", str(bridge), "--write-only"])
    assert code == 2
    assert "is not this site's unit" in capsys.readouterr().err


def test_the_central_command_creates_secrets_and_files(tmp_path: Path) -> None:
    config = tmp_path / "central.toml"
    config.write_text(
        """
[central]
units = ["000.00.20.H41", "000.00.21.H41"]
secrets_dir = "secrets"
out_dir = "central"
port = 18883
"""
    )
    assert bb.main(["central", "--config", str(config), "--write-only"]) == 0
    assert (tmp_path / "secrets" / "mqtt" / "bridge-000.00.21.H41.password").exists()
    acl = (tmp_path / "central" / "acl").read_text()
    assert acl == bb.central_acl_text(["000.00.20.H41", "000.00.21.H41"])
    assert "listener 18883 127.0.0.1" in (tmp_path / "central" / "mosquitto.conf").read_text()


@pytest.mark.timeout(60)
def test_the_central_broker_command_exits_non_zero_when_its_mosquitto_dies(tmp_path: Path) -> None:
    """Like ``hailong broker``: a dead Mosquitto must not leave a live command for systemd."""
    port = free_port()
    config = tmp_path / "central.toml"
    config.write_text(
        f'[central]\nunits = ["000.00.20.H41"]\nsecrets_dir = "secrets"\n'
        f'out_dir = "central"\nport = {port}\n'
    )
    command = [sys.executable, "-m", "hailong.broker_bridge", "central", "--config", str(config)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, timeout=20)
        (child,) = _mosquitto_children(proc.pid)
        os.kill(child, signal.SIGKILL)
        assert proc.wait(timeout=10) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _mosquitto_children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            name = (stat.parent / "comm").read_text().strip()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == parent and name == "mosquitto":
            found.append(int(stat.parent.name))
    return found
