"""The ``hailong`` command as an officer and a unit head use it, on a copy of the example config."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hailong.cli import cli
from tests.support.escpos_raster import decode_qr, extract_raster_images

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """config/ copied beside a fresh var/, so the test writes nothing into the repository."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target / "hub.toml"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_issue_print_verify_and_report(config: Path, tmp_path: Path) -> None:
    code, out = run("init", "--config", str(config))
    assert code == 0
    assert "13 new" in out  # receipt key, 4 MQTT passwords, 3 PINs, 5 web secrets
    code, out = run(
        "receipt", "issue", "--config", str(config),
        "--counter", "Q1", "--officer", "CB001", "--procedure", "1.001193",
        "--png", str(tmp_path / "slip.png"),
    )  # fmt: skip
    assert code == 0, out
    assert "Mã hồ sơ / dossier code: 000.00.20.H41-" in out
    assert "đã in / printed on Q1" in out
    printed = (tmp_path / "var" / "printers" / "Q1.escpos").read_bytes()
    (url,) = decode_qr(extract_raster_images(printed))
    assert f"QR: {url}" in out
    assert (tmp_path / "slip.png").stat().st_size > 1000

    code, out = run("receipt", "verify", "--config", str(config), url)
    assert code == 0
    assert "hợp lệ" in out.lower()
    code, out = run("receipt", "verify", "--config", str(config), url[:-2] + "xx")
    assert code == 1

    code, out = run("receipt", "return", "--config", str(config), "--officer", "CB002", url)
    assert code == 0, out
    assert "by CB002" in out
    assert "rating offered at: kiosk-q1" in out
    code, out = run("receipt", "return", "--config", str(config), "--officer", "CB002", url)
    assert "đã ghi trước đó" in out
    refused, why = run(
        "receipt", "return", "--config", str(config), "--officer", "CB002", "--counter", "Q9", url
    )
    assert refused == 1
    assert "unknown counter" in why

    dossier = out.split("returned: ")[1].split()[0]
    code, out = run("receipt", "reprint", "--config", str(config), dossier)
    assert code == 0, out
    assert "đã in / printed on Q1" in out
    code, out = run("receipt", "reprint", "--config", str(config), dossier[:-4] + "9999")
    assert code == 1
    assert "no receipt" in out

    other_system = "000.00.20.H41-261125-0500"
    register = ("receipt", "register", "--config", str(config), other_system,
                "--counter", "Q2", "--officer", "CB003", "--procedure", "1.000894")  # fmt: skip
    code, out = run(*register)
    assert code == 0, out
    assert f"Mã hồ sơ / dossier code: {other_system}" in out
    printed = (tmp_path / "var" / "printers" / "Q2.escpos").read_bytes()
    (registered_url,) = decode_qr(extract_raster_images(printed))
    code, out = run("receipt", "verify", "--config", str(config), registered_url)
    assert code == 0, out
    code, out = run(*register)
    assert code == 1
    assert "already in the register" in out

    code, out = run("report", "summary", "--config", str(config))
    assert code == 0
    assert "MĐHL theo quầy / Satisfaction by counter" in out
    assert "chưa có đánh giá" in out


def test_unknown_officer_is_named_with_the_valid_ones(config: Path) -> None:
    run("init", "--config", str(config))
    code, out = run(
        "receipt", "issue", "--config", str(config),
        "--counter", "Q1", "--officer", "CB999", "--procedure", "1.001193",
    )  # fmt: skip
    assert code == 1
    assert "unknown officer 'CB999'" in out
    assert "CB001" in out


def test_config_error_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "hub.toml"
    bad.write_text('[hub]\nunit_file = "unit.toml"\ndatabase_url = 5\n')
    result = subprocess.run(
        [sys.executable, "-m", "hailong", "report", "summary", "--config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Configuration error" in result.stderr
    assert f"{bad}: key `hub.database_url`" in result.stderr
    assert "Traceback" not in result.stderr


def test_rotating_the_receipt_key_keeps_old_receipts_valid(config: Path, tmp_path: Path) -> None:
    run("init", "--config", str(config))
    issue = ("receipt", "issue", "--config", str(config),
             "--counter", "Q1", "--officer", "CB001", "--procedure", "1.001193")  # fmt: skip
    code, out = run(*issue)
    assert code == 0, out
    old_url = out.split("QR: ")[1].split()[0]
    code, out = run("keys", "rotate", "--config", str(config), "--grace-days", "30")
    assert code == 0, out
    assert "Key k2 signs from now on; key k1 verifies until" in out
    code, out = run("keys", "rotate", "--config", str(config))
    assert "nothing changed" in out
    code, out = run(*issue)
    new_url = out.split("QR: ")[1].split()[0]
    assert "&k=k2&" in new_url
    for url in (old_url, new_url):
        code, out = run("receipt", "verify", "--config", str(config), url)
        assert code == 0, out
