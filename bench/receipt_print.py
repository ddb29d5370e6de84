"""Issue a receipt and print it to a (fake) network printer, in both text modes.

    python bench/receipt_print.py [--quick] [--iterations N] [--paper 58|80]

One timed print is what the counter officer waits for: ``issue_receipt`` (code allocated, signed,
committed to a SQLite register) then ``print_receipt`` (slip built, ``DLE EOT`` status asked, the
bytes sent over TCP, connection closed, receipt marked printed). The printer is the fake ESC/POS
printer of ``tests/support/fake_printer.py`` on 127.0.0.1, which answers the status requests and
reads every byte. Modes: ``image`` (the whole slip as a raster) and ``codepage`` (profile
TM-T20II: text in CP1258, QR as a raster). The baseline, in the same run, sends an already built
image slip's bytes over the same kind of connection, with no issuing, building or status: the cost
of the socket and the fake printer alone.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import _common

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from hailong.settings import PrinterSettings, Unit
    from hub.receipts.issuing import IssuedReceipt

GOAL_P95_MS = 300.0
WARMUP = 3
CODEPAGE_PROFILE = "TM-T20II"  # Epson, 203 dpi, 576 dots, CP1258 as page 52


@dataclass
class Timings:
    name: str
    total_ms: list[float]
    size: int = 0

    def line(self) -> str:
        t = self.total_ms
        return (
            f"{self.name}: p50_ms={_common.percentile(t, 50):.2f} "
            f"p95_ms={_common.percentile(t, 95):.2f} p99_ms={_common.percentile(t, 99):.2f} "
            f"max_ms={max(t):.2f} mean_ms={statistics.fmean(t):.2f} n={len(t)} "
            f"bytes={self.size}"
        )


def timed(count: int, step: Callable[[], object]) -> list[float]:
    for _ in range(WARMUP):
        step()
    out: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        step()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 iterations instead of 200")
    parser.add_argument("--iterations", type=int, help="prints per mode (overrides --quick)")
    parser.add_argument("--paper", type=int, choices=(58, 80), default=80, help="paper width, mm")
    args = parser.parse_args()
    iterations = args.iterations or (20 if args.quick else 200)
    _common.sigterm_as_interrupt()
    sys.path.insert(0, str(_common.REPO))  # for tests.support.fake_printer

    from escpos.printer import Network

    from hailong.settings import PrinterSettings, load_unit
    from hub.receipts.issuing import issue_receipt
    from hub.receipts.printer import build_job, connect, print_receipt, send
    from hub.store.db import make_engine, session_factory
    from tests.support.fake_printer import FakePrinter

    unit = load_unit(_common.REPO / "config" / "unit.toml")
    print("# receipt print: issue (SQLite register) + build + DLE EOT status + send over TCP")
    print(
        f"# Python {platform.python_version()}, {os.cpu_count()} CPUs; fake ESC/POS printer on "
        f"127.0.0.1; {args.paper} mm paper; {iterations} timed prints per mode after {WARMUP} "
        "warm-up"
    )
    with _common.temp_dir("hailong-bench-print-") as root, FakePrinter("ok") as fake:
        keyring = _common.receipt_keys(_common.throwaway_receipt_keys(root)).keyring()
        sessions = session_factory(make_engine(f"sqlite:///{root / 'hub.db'}"))
        modes: dict[str, PrinterSettings] = {
            "image": PrinterSettings(
                kind="network",
                host=fake.host,
                port=fake.port,
                paper_width_mm=args.paper,
                text_mode="image",
            ),
            "codepage": PrinterSettings(
                kind="network",
                host=fake.host,
                port=fake.port,
                paper_width_mm=args.paper,
                profile=CODEPAGE_PROFILE,
                text_mode="codepage",
            ),
        }
        now = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)

        def issue() -> IssuedReceipt:
            return issue_receipt(
                sessions,
                unit,
                keyring,
                _common.BASE_URL,
                counter="Q1",
                officer="CB001",
                procedure="1.001193",
                now=now,
            )

        sample = issue()
        built = {name: build_job(sample, unit, s) for name, s in modes.items()}
        for name, job in built.items():
            assert job.mode == name, f"{name} slip built as {job.mode} ({job.fallback})"

        def send_prebuilt() -> None:
            printer = Network(fake.host, fake.port, timeout=5)
            connect(printer)
            send(printer, built["image"].data)
            printer.close()

        baseline = Timings(
            "baseline (send a pre-built image slip)",
            timed(iterations, send_prebuilt),
            len(built["image"].data),
        )
        print(baseline.line())
        results: list[Timings] = []
        for name, settings in modes.items():
            serve = functools.partial(_serve, issue, unit, settings, sessions, print_receipt)
            timing = Timings(name, timed(iterations, serve), len(built[name].data))
            results.append(timing)
            print(timing.line())
            build_ms = timed(
                max(5, iterations // 4), functools.partial(build_job, sample, unit, settings)
            )
            issue_ms = timed(max(5, iterations // 4), issue)
            print(
                f"  {name} parts: issue_p50_ms={_common.percentile(issue_ms, 50):.2f} "
                f"build_p50_ms={_common.percentile(build_ms, 50):.2f} "
                f"build_p95_ms={_common.percentile(build_ms, 95):.2f}"
            )
        expected = (WARMUP + iterations) * (1 + len(modes))
        received = fake.wait_for_jobs(expected, timeout=30)
        print(f"# the fake printer read {len(received)} slips, {sum(map(len, received))} bytes")
    base = {p: _common.percentile(baseline.total_ms, p) for p in (50, 95, 99)}
    for timing in results:
        ratios = " ".join(
            f"p{p}={_common.ratio(_common.percentile(timing.total_ms, p), base[p])}"
            for p in (50, 95, 99)
        )
        print(f"ratio {timing.name}/baseline: {ratios}")
    verdicts = ", ".join(
        f"{t.name} {'met' if _common.percentile(t.total_ms, 95) < GOAL_P95_MS else 'NOT met'}"
        for t in results
    )
    print(f"goal: p95 < {GOAL_P95_MS:.0f} ms -> {verdicts}")
    return 0


def _serve(
    issue: Callable[[], IssuedReceipt],
    unit: Unit,
    settings: PrinterSettings,
    sessions: sessionmaker[Session],
    print_receipt: Callable[..., bytes | None],
) -> None:
    """One citizen: a new receipt, printed and marked printed."""
    print_receipt(issue(), unit, settings, sessions=sessions)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
