"""Printer configuration: every kind loads from TOML; a mistake names the file, the key and what
was expected, before anything prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from hailong.settings import ConfigError, HubSettings, load_hub

HEAD = """
[hub]
unit_file = "unit.toml"
database_url = "sqlite:///hub.db"
public_base_url = "https://hailong.example.gov.vn"

[mqtt]
username = "hub"
password_file = "hub.password"

[receipts]
key_dir = "keys"
"""

CONFIG = Path(__file__).resolve().parents[3] / "config"


def load_printers(tmp_path: Path, printers: str) -> HubSettings:
    path = tmp_path / "hub.toml"
    path.write_text(HEAD + printers, encoding="utf-8")
    return load_hub(path)


def refusal(tmp_path: Path, printers: str) -> str:
    with pytest.raises(ConfigError) as failure:
        load_printers(tmp_path, printers)
    message = str(failure.value)
    assert str(tmp_path / "hub.toml") in message
    return message


def test_every_kind_loads(tmp_path: Path) -> None:
    settings = load_printers(
        tmp_path,
        """
[printers.Q1]
kind = "network"
host = "192.168.1.50"
profile = "TM-T88V"
text_mode = "codepage"

[printers.Q2]
kind = "usb"
vendor_id = 0x04b8
product_id = 0x0e28
in_ep = 0x81
out_ep = 0x01
profile = "default"

[printers.Q3]
kind = "serial"
device = "/dev/serial/by-id/usb-Prolific_USB-Serial-if00-port0"
baudrate = 115200
paper_width_mm = 58
text_mode = "image"
check_status = false

[printers.Q4]
kind = "file"
path = "printers/Q4.escpos"

[printers.Q5]
kind = "dummy"
""",
    )
    q1, q2, q3, q4, q5 = (settings.printers[f"Q{i}"] for i in range(1, 6))
    assert (q1.host, q1.port, q1.profile, q1.text_mode) == (
        "192.168.1.50",
        9100,
        "TM-T88V",
        "codepage",
    )
    assert (q2.vendor_id, q2.product_id, q2.in_ep, q2.out_ep) == (0x04B8, 0x0E28, 0x81, 0x01)
    assert q2.text_mode == "auto"
    assert (q3.device, q3.baudrate, q3.check_status) == (
        "/dev/serial/by-id/usb-Prolific_USB-Serial-if00-port0",  # a stable link, not resolved
        115200,
        False,
    )
    assert q4.path == tmp_path / "printers" / "Q4.escpos"
    assert q5.kind == "dummy"


def test_the_shipped_hub_config_keeps_its_demo_printers_as_files() -> None:
    settings = load_hub(CONFIG / "hub.toml")
    assert {code: p.kind for code, p in settings.printers.items()} == {
        "Q1": "file",
        "Q2": "file",
        "Q3": "file",
    }


@pytest.mark.parametrize(
    ("printers", "expected"),
    [
        (
            '[printers.Q1]\nkind = "usb"\nvendor_id = 0x04b8',
            "key `printers.Q1`: Value error, a usb printer needs `vendor_id` and `product_id`",
        ),
        (
            '[printers.Q1]\nkind = "usb"\nvendor_id = "04b8"\nproduct_id = 0x0202',
            "`vendor_id` must be a TOML integer, written in hex without quotes (e.g. vendor_id = 0x04b8)",
        ),
        (
            '[printers.Q1]\nkind = "usb"\nvendor_id = 0x04b8\nproduct_id = 0x0202\nin_ep = 0x02',
            "`in_ep` must be from 0x81 to 0x8f (got 0x2)",
        ),
        (
            '[printers.Q1]\nkind = "usb"\nvendor_id = 0x04b8\nproduct_id = 0x0202\nhost = "x"',
            "`host` is for kind = 'network' printers, not for kind = 'usb'",
        ),
        (
            '[printers.Q1]\nkind = "file"\npath = "x"\ncheck_status = false',
            "`check_status` is for kind = 'network' or 'usb' or 'serial' printers",
        ),
        (
            '[printers.Q1]\nkind = "serial"',
            "a serial printer needs `device` (e.g. /dev/ttyUSB0)",
        ),
        (
            '[printers.Q1]\nkind = "serial"\ndevice = "/dev/ttyS0"\nbaudrate = 9601',
            "`baudrate` must be one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, "
            "230400 (got 9601)",
        ),
        (
            '[printers.Q1]\nkind = "network"',
            "a network printer needs `host`",
        ),
        (
            '[printers.Q1]\nkind = "dummy"\nprofile = "TM-T88"',
            "`profile` 'TM-T88' is not a python-escpos printer profile; known profiles: ",
        ),
        (
            '[printers.Q1]\nkind = "dummy"\ntext_mode = "codepage"',
            'text_mode = "codepage" needs `profile`',
        ),
        (
            '[printers.Q1]\nkind = "dummy"\ntext_mode = "codepage"\nprofile = "simple"',
            "profile 'simple' has no Vietnamese code page (CP1258 or TCVN-3)",
        ),
        (
            '[printers.Q1]\nkind = "dummy"\ntext_mode = "raster"',
            "key `printers.Q1.text_mode`: Input should be 'auto', 'image' or 'codepage'",
        ),
        (
            '[printers.Q1]\nkind = "bluetooth"',
            "key `printers.Q1.kind`: Input should be 'file', 'network', 'usb', 'serial' or 'dummy'",
        ),
    ],
)
def test_a_mistake_names_the_key_and_what_was_expected(
    tmp_path: Path, printers: str, expected: str
) -> None:
    message = refusal(tmp_path, printers)
    assert expected in message


def test_an_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    message = refusal(tmp_path, '[printers.Q1]\nkind = "dummy"\nprofile = "TM-T88"')
    assert "TM-T88V" in message
    assert "NT-5890K" in message


def test_codepage_without_vietnamese_suggests_profiles_that_have_it(tmp_path: Path) -> None:
    message = refusal(
        tmp_path, '[printers.Q1]\nkind = "dummy"\ntext_mode = "codepage"\nprofile = "simple"'
    )
    assert 'use text_mode = "image"' in message
    assert "TM-T88V" in message
    assert "CT-S651" in message
