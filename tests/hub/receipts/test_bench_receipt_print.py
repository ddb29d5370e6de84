"""The receipt-print benchmark still runs: shrunk, it exits 0 and prints its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "receipt_print.py"


def test_the_benchmark_prints_percentiles_ratios_and_the_goal() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--iterations", "3", "--paper", "58"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for name in ("baseline \\(send a pre-built image slip\\)", "image", "codepage"):
        assert re.search(rf"^{name}: p50_ms=[\d.]+ p95_ms=[\d.]+ p99_ms=[\d.]+ .* n=3 ", out, re.M)
    for mode in ("image", "codepage"):
        assert re.search(
            rf"^ratio {mode}/baseline: p50=[\d.]+x p95=[\d.]+x p99=[\d.]+x$", out, re.M
        )
    assert re.search(
        r"^goal: p95 < 300 ms -> image (met|NOT met), codepage (met|NOT met)$", out, re.M
    )
    assert "the fake printer read 18 slips" in out
