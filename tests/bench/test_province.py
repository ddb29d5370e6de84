"""The province benchmark still runs: shrunk to a dozen units it exits 0, proves its generated
rollups equal what ingest's ``add_to_rollups`` writes, and prints every figure (no timing checks)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.bench.test_bench_smoke import assert_positive, figures, line, run_bench

needs = pytest.mark.skipif(
    not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    or shutil.which("mosquitto_pub") is None,
    reason="PostgreSQL or Mosquitto is not installed",
)


@needs
def test_province_bench() -> None:
    lines = run_bench(
        "province.py", "--ratings", "6000", "--repeat", "2", "--load-seconds", "1", timeout=150
    )
    generation = figures(line(lines, r"generation: generated in "))
    assert generation["ratings"] == 6000
    assert generation["receipts"] > generation["ratings"], "unrated receipts: coverage < 100 %"
    assert_positive(generation, "seconds", "rating_rollups", "factor_rollups", "hour_rollups")
    database = figures(line(lines, r"database: "))
    assert database["units"] == 12
    assert database["kiosks"] == 40
    line(lines, r"check rollups = add_to_rollups \(.* ratings, .*\): ok$")
    assert_positive(figures(line(lines, r"baseline GET /healthz: ")), "p50_ms", "p95_ms")
    for page in ("province page quarter", "unit page quarter", "trend page province"):
        values = figures(line(lines, rf"{page}: "))
        assert_positive(values, "p50_ms", "p95_ms", "max_ms", "ratio_p95")
        assert values["n"] == 2
        assert_positive(figures(line(lines, rf"{page} under load: ")), "p50_ms", "p95_ms")
    assert_positive(figures(line(lines, r"report quarterly unit \(baseline\): ")), "seconds")
    assert_positive(figures(line(lines, r"report quarterly province: ")), "seconds", "ratio")
    quiet = figures(line(lines, r"acks quiet \(baseline\): "))
    loaded = figures(line(lines, r"acks while pages are read: "))
    for acks in (quiet, loaded):
        assert acks["n"] == 5, "at least 5 ratings a second for 1 s"
        assert acks["unacked"] == 0
        assert_positive(acks, "p50_ms", "p95_ms")
    for goal in ("pages p95", "province report", "acks"):
        line(lines, rf"goal: {goal} .* -> (met|NOT met)")
