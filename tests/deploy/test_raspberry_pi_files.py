"""The Raspberry Pi deployment files say what the kiosk needs: the right command, user, restart
policy, Qt platform, device access, a valid example config, a shell script bash accepts and a
udev rule that names the scanner."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from hailong.settings import load_kiosk

PI = Path(__file__).resolve().parents[2] / "deploy" / "raspberry-pi"
SERVICE = PI / "hailong-kiosk.service"
_UDEV_FIELD = re.compile(
    r'\s*(?P<key>[A-Z]+(?:\{\w+\})?)\s*(?P<op>==|\+=|=)\s*"(?P<value>[^"]*)"\s*'
)


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(SERVICE.read_text(encoding="utf-8"))
    return parser


def all_values(key: str) -> list[str]:
    """Every value of a key that systemd accumulates (configparser keeps only the last)."""
    return [
        line.split("=", 1)[1].strip()
        for line in SERVICE.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{key}=")
    ]


def environment(values: list[str]) -> dict[str, str]:
    pairs = [item for value in values for item in shlex.split(value)]
    return dict(pair.split("=", 1) for pair in pairs)


def env_file(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    active = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return dict(line.split("=", 1) for line in active)


def test_service_runs_the_kiosk_command_under_cage_with_a_config() -> None:
    service = unit()["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == "/usr/bin/cage"
    kiosk = argv[argv.index("--") + 1 :]  # what cage runs as its only window
    # The kiosk's own command: it starts without loading the rest of the CLI (kiosk/launch.py).
    assert Path(kiosk[0]).name == "hailong-kiosk"
    assert kiosk[0].startswith("/opt/hailong/venv/bin/")
    assert kiosk[kiosk.index("--config") + 1] == "/etc/hailong/kiosk.toml"
    assert "--windowed" not in kiosk  # full screen
    assert "-s" not in argv[: argv.index("--")]  # no switching to a console from the kiosk


def test_service_logs_in_on_tty1_and_restarts_a_frozen_kiosk() -> None:
    """The autologin (a PAM session on tty1, no getty there) and the watchdog the kiosk feeds
    (kiosk/service_notify.py) from cage's child process."""
    parser = unit()
    service = parser["Service"]
    assert service["PAMName"] == "hailong-kiosk"
    assert service["TTYPath"] == "/dev/tty1"
    assert service["StandardInput"] == "tty-fail"
    assert service["StandardOutput"] == "journal"  # not the tty cage draws on
    assert "getty@tty1.service" in parser["Unit"]["Conflicts"].split()
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "all"
    assert int(service["WatchdogSec"]) >= 10
    # The session's runtime folder (/run/user/<uid>) stays reachable; the homes do not.
    assert "ProtectHome" not in service
    assert set(service["InaccessiblePaths"].split()) == {"-/home", "-/root"}
    pam = (PI / "hailong-kiosk.pam").read_text(encoding="utf-8").splitlines()
    stacks = [line.split() for line in pam if line.strip() and not line.startswith("#")]
    assert ["session", "required", "pam_systemd.so"] in stacks  # logind: the seat's devices
    assert ["auth", "required", "pam_unix.so"] in stacks  # no password: nobody logs in by it
    install = (PI / "install.sh").read_text(encoding="utf-8")
    assert '"$HERE/hailong-kiosk.pam" "$PAM_SERVICE"' in install
    assert "PAM_SERVICE=/etc/pam.d/hailong-kiosk" in install


def test_service_restarts_always_as_the_hailong_user() -> None:
    parser = unit()
    service = parser["Service"]
    assert service["Restart"] == "always"
    assert service["User"] == "hailong"
    assert service["Group"] == "hailong"
    assert parser["Unit"]["StartLimitIntervalSec"] == "0"
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_service_sets_qt_for_wayland_under_cage() -> None:
    service = unit()["Service"]
    env = environment(all_values("Environment"))
    assert env["QT_QPA_PLATFORM"] == "wayland"
    assert env["QT_WAYLAND_DISABLE_WINDOWDECORATION"] == "1"
    assert service["EnvironmentFile"] == "-/etc/hailong/kiosk.env"
    text = SERVICE.read_text(encoding="utf-8")
    assert "ExecStart=/opt/hailong/venv/bin/hailong-kiosk" in text  # the eglfs drop-in, commented


def test_service_hardening_keeps_display_input_and_serial_reachable() -> None:
    service = unit()["Service"]
    assert set(service["SupplementaryGroups"].split()) >= {"video", "input", "render", "dialout"}
    assert service.get("PrivateDevices", "no") in ("no", "false")
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["StateDirectory"] == "hailong"
    allowed = {value.split()[0] for value in all_values("DeviceAllow")}
    assert {"char-drm", "char-input", "char-ttyACM", "char-ttyUSB"} <= allowed
    assert service["DevicePolicy"] == "closed"


def test_env_file_matches_the_unit() -> None:
    env = env_file(PI / "hailong-kiosk.env")
    assert env["QT_QPA_PLATFORM"] == "wayland"
    assert env["QT_WAYLAND_DISABLE_WINDOWDECORATION"] == "1"
    assert not any(key.startswith("QT_QPA_EGLFS") for key in env)
    text = (PI / "hailong-kiosk.env").read_text(encoding="utf-8")
    assert "#QT_QPA_PLATFORM=eglfs" in text  # the eglfs alternative, commented
    assert "#QT_QPA_EGLFS_KMS_CONFIG=/etc/hailong/eglfs-kms.json" in text
    assert "#QT_QPA_EGLFS_ROTATION=" in text
    assert "#QT_QPA_EVDEV_TOUCHSCREEN_PARAMETERS=rotate=" in text


def test_example_kiosk_config_is_valid_and_points_at_installed_paths() -> None:
    settings = load_kiosk(PI / "kiosk.toml")
    assert settings.kiosk.outbox_path == Path("/var/lib/hailong/outbox.db")
    assert settings.mqtt.username == settings.kiosk.id
    secrets = Path("/etc/hailong/secrets")
    assert settings.mqtt.password_file == secrets / "mqtt" / f"{settings.kiosk.id}.password"
    assert settings.kiosk.staff_pin_file == secrets / f"{settings.kiosk.id}.pin"
    assert settings.receipts.key_dir == secrets / "receipt-keys-public"


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_install_script_parses() -> None:
    script = PI / "install.sh"
    result = subprocess.run(
        ["bash", "-n", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert os.access(script, os.X_OK)
    text = script.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    assert "refusing to overwrite" in text


def test_udev_rule_names_the_serial_scanner() -> None:
    lines = (PI / "99-hailong-scanner.rules").read_text(encoding="utf-8").splitlines()
    (rule,) = [line for line in lines if line.strip() and not line.startswith("#")]
    fields: dict[str, tuple[str, str]] = {}
    for part in rule.split(","):
        match = _UDEV_FIELD.fullmatch(part)
        assert match, f"not a udev key: {part!r}"
        fields[match["key"]] = (match["op"], match["value"])
    assert fields["SUBSYSTEM"] == ("==", "tty")
    for attr in ("ATTRS{idVendor}", "ATTRS{idProduct}"):
        op, value = fields[attr]
        assert op == "=="
        assert re.fullmatch(r"[0-9a-f]{4}", value), value
    assert fields["SYMLINK"] == ("+=", "hailong-scanner")
    assert fields["GROUP"] == ("=", "dialout")
    assert fields["MODE"] == ("=", "0660")


def _env_move(etc: Path, systemd: Path) -> subprocess.CompletedProcess[str]:
    """install.sh's step that moves an older kiosk.env from eglfs to cage, run alone on ``etc``
    (the script's own lines, with /etc/systemd/system pointed at ``systemd``)."""
    script = (PI / "install.sh").read_text(encoding="utf-8")
    start = script.index("# Earlier versions ran the kiosk with eglfs")
    end = script.index("\nfi\n", start) + len("\nfi\n")
    step = script[start:end].replace("/etc/systemd/system", str(systemd))
    prelude = f'set -euo pipefail\nETC={etc}\nUNIT=hailong-kiosk.service\nsay() {{ echo "$*"; }}\n'
    return subprocess.run(
        ["bash", "-c", prelude + step], capture_output=True, text=True, check=True
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_an_eglfs_kiosk_env_is_moved_to_cage_once_and_kept(tmp_path: Path) -> None:
    etc, systemd = tmp_path / "etc", tmp_path / "systemd"
    etc.mkdir()
    old = "QT_QPA_PLATFORM=eglfs\nQT_QPA_EGLFS_HIDECURSOR=1\n#QT_QPA_EGLFS_ROTATION=90\nX=1\n"
    (etc / "kiosk.env").write_text(old)
    assert "moved" in _env_move(etc, systemd).stdout
    assert (etc / "kiosk.env.eglfs.bak").read_text() == old
    env = env_file(etc / "kiosk.env")
    assert env == {
        "X": "1",
        "QT_QPA_PLATFORM": "wayland",
        "QT_WAYLAND_DISABLE_WINDOWDECORATION": "1",
    }
    moved = (etc / "kiosk.env").read_text()
    assert _env_move(etc, systemd).stdout == ""  # a second run changes nothing
    assert (etc / "kiosk.env").read_text() == moved


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_a_kiosk_run_without_cage_by_a_drop_in_keeps_eglfs(tmp_path: Path) -> None:
    etc, systemd = tmp_path / "etc", tmp_path / "systemd"
    etc.mkdir()
    dropins = systemd / "hailong-kiosk.service.d"
    dropins.mkdir(parents=True)
    (dropins / "override.conf").write_text(
        "[Service]\nExecStart=\nExecStart=/opt/hailong/venv/bin/hailong-kiosk --config x\n"
    )
    (etc / "kiosk.env").write_text("QT_QPA_PLATFORM=eglfs\n")
    assert _env_move(etc, systemd).stdout == ""
    assert (etc / "kiosk.env").read_text() == "QT_QPA_PLATFORM=eglfs\n"
    # The shipped file is Wayland already: nothing to move.
    (etc / "kiosk.env").write_text((PI / "hailong-kiosk.env").read_text(encoding="utf-8"))
    dropins.joinpath("override.conf").unlink()
    assert _env_move(etc, systemd).stdout == ""
