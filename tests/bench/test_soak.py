"""Soak, quick form: ``bench/soak.py --quick`` with real Mosquitto, hub and kiosk processes (30
kiosks for 15 s with random dropped links); nothing lost, nothing stored twice, outboxes drained,
and the tap-to-ack and memory figures printed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()),
        reason="mosquitto is not installed",
    ),
]


def figure(output: str, name: str) -> str:
    match = re.search(rf"\b{name}=(\S+)", output)
    assert match, f"no {name}= in:\n{output}"
    return match.group(1)


def test_soak_quick_loses_and_doubles_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "soak.py"), "--quick", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    output = result.stdout + result.stderr[-3000:]
    assert result.returncode == 0, output
    summary = next(line for line in result.stdout.splitlines() if line.startswith("soak: "))
    assert int(figure(summary, "ratings")) > 0, output
    assert int(figure(summary, "lost")) == 0, output
    assert int(figure(summary, "duplicated")) == 0, output
    assert "NOT DRAINED" not in output
    tap_ack = next(line for line in result.stdout.splitlines() if line.startswith("tap->ack: "))
    assert float(figure(tap_ack, "p99_ms")) > 0, output
    assert "hub rss: first_mib=" in result.stdout, output
