"""bench/kiosk_pi.py, shrunk to one start-up run: both passes run (or the quota pass says why it
cannot) and the table puts each figure beside the other with their ratio (no timing checks)."""

from __future__ import annotations

import re

from tests.bench.test_bench_smoke import line, run_bench

_ROW = re.compile(r"^\| startup: cold start, median \| ([\d.]+) s \| (.+?) \| (.+?) \| (.+?) \|$")


def test_the_start_up_bench_runs_unrestricted_and_under_the_quota() -> None:
    lines = run_bench("kiosk_pi.py", "--only", "startup", "--runs", "1", timeout=150)
    quota = line(lines, r"# quota run: ")
    row = _ROW.match(line(lines, r"\| startup: cold start, median \|"))
    assert row, lines[-12:]
    unrestricted, confined, ratio, goal = row.groups()
    assert float(unrestricted) > 0
    assert "< 1.5 s:" in goal
    if "skipped" in quota:
        assert "no cgroup can be written" in quota
        assert confined == "skipped"
        assert ratio == "-"
    else:
        assert "of one core" in quota
        assert float(confined.removesuffix(" s")) > 0
        assert float(ratio.removesuffix("x")) > 0
        line(lines, r"## startup, quota so far: periods=\d+ throttled=\d+")
