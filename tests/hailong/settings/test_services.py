"""The services' files (hailong/settings/services.py): a serial button box beside a kiosk."""

from __future__ import annotations

from pathlib import Path

import pytest

from hailong.settings import ConfigError, load_hub, load_kiosk
from tests.conftest import REPO

CONFIG = REPO / "config"


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        ("[serial]\n", "key `serial`: Value error, the serial device needs `port`"),
        ("[serial]\nvendor_id = 0x2e8a\n", "key `serial`: Value error, the serial device needs"),
        ('[serial]\nport = ""\n', "key `serial`: Value error, `port` is empty"),
        ('[serial]\nport = "/dev/ttyACM0"\nbaud = 9600\n', "key `serial.baud`: Extra inputs"),
    ],
)
def test_a_kiosk_serial_device_is_checked(tmp_path: Path, serial: str, expected: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text((CONFIG / "kiosk.toml").read_text() + "\n" + serial)
    with pytest.raises(ConfigError) as excinfo:
        load_kiosk(path)
    assert str(path) in str(excinfo.value)
    assert expected in str(excinfo.value)


def test_a_kiosk_serial_device_by_path_or_usb_ids(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    base = (CONFIG / "kiosk.toml").read_text()
    path.write_text(base + '\n[serial]\nport = "/dev/ttyACM0"\n')
    by_path = load_kiosk(path).serial
    assert by_path is not None
    assert by_path.port == "/dev/ttyACM0"
    path.write_text(base + "\n[serial]\nvendor_id = 0x2e8a\nproduct_id = 0x000a\n")
    by_ids = load_kiosk(path).serial
    assert by_ids is not None
    assert by_ids.describe() == "usb 2e8a:000a"
    assert load_kiosk(CONFIG / "kiosk.toml").serial is None


def _hub_with(tmp_path: Path, commented: str, value: str) -> Path:
    text = (CONFIG / "hub.toml").read_text()
    line = next(line for line in text.splitlines() if line.startswith(f"# {commented} ="))
    path = tmp_path / "hub.toml"
    path.write_text(text.replace(line, f"{commented} = {value}"))
    return path


@pytest.mark.parametrize(("value", "kept"), [("1", 1), ("30", 30), ("3650", 3650)])
def test_return_offer_days_within_bounds(tmp_path: Path, value: str, kept: int) -> None:
    assert load_hub(_hub_with(tmp_path, "return_offer_days", value)).hub.return_offer_days == kept


@pytest.mark.parametrize("value", ["0", "-1", "3651", '"30"', "1.5", "true"])
def test_return_offer_days_past_bounds_names_the_key(tmp_path: Path, value: str) -> None:
    path = _hub_with(tmp_path, "return_offer_days", value)
    with pytest.raises(ConfigError) as excinfo:
        load_hub(path)
    assert str(path) in str(excinfo.value)
    assert "hub.return_offer_days" in str(excinfo.value)


@pytest.mark.parametrize("value", ["1", "2"])
def test_the_feed_versions_a_receiver_may_ask_for(tmp_path: Path, value: str) -> None:
    assert load_hub(_hub_with(tmp_path, "feed_version", value)).export.feed_version == int(value)


@pytest.mark.parametrize("value", ["0", "3", '"2"', "-1"])
def test_any_other_feed_version_names_the_key(tmp_path: Path, value: str) -> None:
    path = _hub_with(tmp_path, "feed_version", value)
    with pytest.raises(ConfigError) as excinfo:
        load_hub(path)
    assert "export.feed_version" in str(excinfo.value)
