"""Every systemd unit in deploy/ is one systemd accepts, and the ones on the hub box restart what
dies: `hailong broker` exits 1 when Mosquitto dies and the hub exits non-zero when it fails, so
``Restart=on-failure`` brings them back, while a clean stop (exit 0) stays stopped."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted(DEPLOY.rglob("*.service"))
HUB_BOX = DEPLOY / "hub"
# The installed interpreter and command, replaced by this checkout's for `systemd-analyze verify`,
# which insists that ExecStart's program exists.
_INSTALLED = re.compile(r"/opt/hailong/venv/bin/(hailong|python)\b")


def parse(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_the_hub_box_has_a_unit_for_the_broker_and_one_for_the_hub() -> None:
    assert {p.name for p in HUB_BOX.glob("*.service")} == {
        "hailong-broker.service",
        "hailong-hub.service",
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
    [("hailong-broker.service", "broker"), ("hailong-hub.service", "hub")],
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
    assert unit["Install"]["WantedBy"] == "multi-user.target"


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
    for path in UNITS:
        assert parse(path)["Service"]["Restart"] in {"always", "on-failure"}, path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_systemd_accepts_the_unit(path: Path, tmp_path: Path) -> None:
    venv = Path(sys.executable).parent
    text = _INSTALLED.sub(lambda m: str(venv / m.group(1)), path.read_text(encoding="utf-8"))
    assert (venv / "hailong").exists()
    copy = tmp_path / path.name
    copy.write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    # systemd-analyze exits 0 on unknown keys and bad values; it says so on stderr.
    complaints = [line for line in result.stderr.splitlines() if str(copy) in line]
    assert result.returncode == 0, result.stderr
    assert complaints == []
