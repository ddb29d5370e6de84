"""Every systemd unit in deploy/ is one systemd accepts (``systemd-analyze verify`` without a
word to say), and the ones on the hub box restart what dies: `hailong broker` exits 1 when
Mosquitto dies and the hub exits non-zero when it fails, so ``Restart=on-failure`` brings them
back, while a clean stop (exit 0) stays stopped. The brokers reload on SIGHUP; the hub and its
workers are one target."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted([*DEPLOY.rglob("*.service"), *DEPLOY.rglob("*.target")])
SERVICES = [p for p in UNITS if p.suffix == ".service"]
HUB_BOX = DEPLOY / "hub"
# The installed interpreter and command, replaced by this checkout's for `systemd-analyze verify`,
# which insists that ExecStart's program exists.
_INSTALLED = re.compile(r"/opt/hailong/venv/bin/(hailong|python)\b")


def parse(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_the_hub_box_has_the_broker_the_hub_its_workers_and_their_target() -> None:
    assert {p.name for p in HUB_BOX.glob("hailong-*")} == {
        "hailong-broker.service",
        "hailong-hub.service",
        "hailong-hub-worker@.service",
        "hailong-hub.target",
    }
    assert {p.name for p in UNITS} >= {
        "hailong-broker.service",
        "hailong-hub.service",
        "hailong-kiosk.service",
        "hailong-site-broker.service",
        "hailong-central-broker.service",
    }


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("hailong-broker.service", "broker"),
        ("hailong-hub.service", "hub"),
        ("hailong-hub-worker@.service", "hub"),
    ],
)
def test_hub_box_units_run_the_command_and_restart_it_on_failure(name: str, command: str) -> None:
    unit = parse(HUB_BOX / name)
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[:2] == ["/opt/hailong/venv/bin/hailong", command]
    assert argv[argv.index("--config") + 1] == "/etc/hailong/hub.toml"
    assert service["Restart"] == "on-failure"
    # Exit status 1 (Mosquitto died; a hub worker died) must count as a failure.
    assert "SuccessExitStatus" not in service
    assert "RestartPreventExitStatus" not in service
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"  # never give up
    assert service["User"] == service["Group"] == "hailong"
    assert service["StateDirectory"] == "hailong"
    assert unit["Install"]["WantedBy"].split()[0] == "multi-user.target"


def test_only_hailong_broker_gets_sigterm_so_mosquitto_stops_cleanly() -> None:
    service = parse(HUB_BOX / "hailong-broker.service")["Service"]
    assert service["KillMode"] == "mixed"
    assert service["StandardError"] == "journal"  # where the refusals are logged


def test_the_hub_starts_after_the_local_broker_without_requiring_it() -> None:
    unit = parse(HUB_BOX / "hailong-hub.service")["Unit"]
    assert "hailong-broker.service" in unit["After"].split()
    assert unit["Wants"] == "hailong-broker.service"
    assert "Requires" not in unit


def test_every_long_running_unit_restarts() -> None:
    for path in SERVICES:
        assert parse(path)["Service"]["Restart"] in {"always", "on-failure"}, path


@pytest.mark.parametrize(
    "path",
    [HUB_BOX / "hailong-broker.service", *DEPLOY.glob("broker/systemd/*.service")],
    ids=lambda p: p.name,
)
def test_brokers_reload_on_sighup_to_the_supervisor(path: Path) -> None:
    """Mosquitto runs in a session of its own under the supervisor, which passes SIGHUP on after
    writing the files again (tests/hailong/test_broker.py tries it on a real Mosquitto)."""
    service = parse(path)["Service"]
    assert shlex.split(service["ExecReload"]) == ["/bin/kill", "-HUP", "$MAINPID"]
    assert service["KillMode"] == "mixed"


def test_the_worker_group_is_the_hub_and_its_workers_without_the_broker() -> None:
    target = parse(HUB_BOX / "hailong-hub.target")
    assert target["Unit"]["Wants"] == "hailong-hub.service"
    assert target["Install"]["WantedBy"] == "multi-user.target"
    hub = parse(HUB_BOX / "hailong-hub.service")
    worker = parse(HUB_BOX / "hailong-hub-worker@.service")
    for unit in (hub, worker):
        assert unit["Unit"]["PartOf"] == "hailong-hub.target"  # restarted with the target
        assert unit["Install"]["WantedBy"].split() == ["multi-user.target", "hailong-hub.target"]
    # One process serves the staff page; the workers only ingest.
    assert "--no-web" in shlex.split(worker["Service"]["ExecStart"])
    assert "--no-web" not in shlex.split(hub["Service"]["ExecStart"])
    assert "PartOf" not in parse(HUB_BOX / "hailong-broker.service")["Unit"]


HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "CapabilityBoundingSet": "",
    "RestrictNamespaces": "yes",
    "SystemCallFilter": "@system-service",
    "User": "hailong",
}


@pytest.mark.parametrize(
    "path",
    [*HUB_BOX.glob("*.service"), *DEPLOY.glob("broker/systemd/*.service")],
    ids=lambda p: p.name,
)
def test_server_units_run_unprivileged_on_a_read_only_system(path: Path) -> None:
    service = parse(path)["Service"]
    assert {key: service.get(key) for key in HARDENING} == HARDENING
    # The only writable place: /var/lib/hailong, made and owned for the service's user.
    assert service["StateDirectory"] == "hailong"
    assert service["WorkingDirectory"] == "/var/lib/hailong"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None and not os.environ.get("CI"),
    reason="systemd-analyze missing (apt-get install systemd)",
)
@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_systemd_accepts_the_unit(path: Path, tmp_path: Path) -> None:
    """Every unit is copied, with this checkout's interpreter in place of /opt/hailong/venv (verify
    insists that ExecStart's program exists), beside all the others, so the names one unit gives
    another (Wants=, PartOf=) resolve; any complaint about one of our units fails the test."""
    venv = Path(sys.executable).parent
    assert (venv / "hailong").exists()
    # The kiosk's compositor, where this machine lacks it (CI installs it for test_cage_kiosk.py).
    cage = "/usr/bin/cage" if Path("/usr/bin/cage").exists() else "/bin/true"
    for unit in UNITS:
        text = _INSTALLED.sub(lambda m: str(venv / m.group(1)), unit.read_text(encoding="utf-8"))
        text = text.replace("ExecStart=/usr/bin/cage ", f"ExecStart={cage} ")
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(tmp_path / path.name)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SYSTEMD_UNIT_PATH": f"{tmp_path}:"},
    )
    # systemd-analyze exits 0 on unknown keys and bad values; it says so on stderr.
    complaints = [
        line for line in result.stderr.splitlines() if "hailong-" in line or str(tmp_path) in line
    ]
    assert result.returncode == 0, result.stderr
    assert complaints == []
