"""A tap on a face to the thank-you screen drawn, durable outbox write included, for three broker
conditions: up (a real Mosquitto, uplink connected), down (uplink pointed at a closed port) and
slow (a proxy in front of the real broker that holds every chunk for --delay-ms). The broker
and the proxy run in processes of their own, outside the CPU quota of bench/kiosk_pi.py.

    python bench/kiosk_tap.py [--quick] [--iterations M] [--conditions up,down,slow]

Each iteration scans a new signed receipt (``controller.submit_code``, not timed), lets the event
loop run for --pause-ms (a citizen looks at the faces before tapping one; without the pause, the
background work of one tap, such as the uplink publishing its rating once the thank-you screen
is drawn, and the CPU quota it used up, landed in the next tap's time), then times
``controller.rate(Score.SATISFIED)`` (the outbox commit with WAL + synchronous=FULL, the uplink's
publish of what is due, the screen switch) plus ``window.repaint()`` of the thank-you screen, then
``controller.reset()`` (not timed). No hub runs, so nothing is acknowledged and the outbox grows by
one rating per tap in every condition. The baseline, in the same run, is the same number of bare
SQLite inserts, one transaction each, with ``journal_mode=WAL`` and ``synchronous=FULL``: the cost
of durability alone. Off-screen (QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import _common
import _cpuquota
import _delayproxy

if TYPE_CHECKING:
    from hailong.settings import KioskSettings

GOAL_P99_MS = 50.0
CONDITIONS = ("up", "down", "slow")
WARMUP = 5
RATING_BYTES = 400  # one encoded rating with a verified receipt and no comment is ~360


@dataclass
class Timings:
    name: str
    total_ms: list[float]
    rate_ms: list[float]
    paint_ms: list[float]
    outbox_depth: int = 0
    connected: bool = False

    def line(self) -> str:
        t = self.total_ms
        return (
            f"{self.name}: p50_ms={_common.percentile(t, 50):.2f} "
            f"p95_ms={_common.percentile(t, 95):.2f} p99_ms={_common.percentile(t, 99):.2f} "
            f"max_ms={max(t):.2f} mean_ms={statistics.fmean(t):.2f} n={len(t)}"
        )


def sqlite_baseline(path: Path, count: int, payload_size: int) -> Timings:
    """Bare durable inserts: what the outbox cannot be faster than."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE outbox (id TEXT PRIMARY KEY, seq INTEGER, payload BLOB)")
        payload = os.urandom(payload_size)
        times: list[float] = []
        for seq in range(1, count + WARMUP + 1):
            _common.check_stop()
            start = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute("INSERT INTO outbox VALUES (?, ?, ?)", (str(uuid.uuid4()), seq, payload))
            conn.execute("COMMIT")
            if seq > WARMUP:
                times.append((time.perf_counter() - start) * 1000)
    finally:
        conn.close()
    return Timings("baseline (sqlite insert, WAL + synchronous=FULL)", times, times, [])


@contextlib.contextmanager
def slow_link(target_port: int, delay: float) -> Iterator[int]:
    """A :class:`_delayproxy.DelayProxy` in a process of its own (its port is yielded): the slow
    link is another machine, so its CPU is not the kiosk's, and under a CPU quota
    (bench/kiosk_pi.py) it is moved out of it like the broker."""
    command = [sys.executable, str(Path(__file__).resolve()), "--serve-proxy", str(target_port)]
    proc = subprocess.Popen(
        [*command, "--delay-ms", repr(delay * 1000)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        problem = _cpuquota.exempt(proc.pid)
        if problem:
            print(f"# {problem}")
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the slow-link proxy did not start: {line!r}")
        yield int(line.split()[1])
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the proxy stops when its stdin closes
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_proxy(target_port: int, delay_ms: float) -> None:
    """Child mode of :func:`slow_link`: relay until stdin closes."""
    with _delayproxy.DelayProxy(target_port, delay_ms / 1000) as proxy:
        print(f"PORT {proxy.port}", flush=True)
        sys.stdin.read()


def measure(
    name: str,
    settings: KioskSettings,
    iterations: int,
    receipts: _common.ReceiptFactory,
    *,
    expect_connected: bool,
    pause: float = 0.0,
) -> Timings:
    from PySide6.QtWidgets import QApplication

    from hailong.contract.scale import Score
    from kiosk.app import build_kiosk
    from kiosk.domain.screen import Screen

    kiosk = build_kiosk(settings, start_uplink=True)
    try:
        window, controller = kiosk.window, kiosk.controller
        window.resize(1280, 800)
        window.show()
        _common.wait_until(lambda: window.isVisible(), 5)
        uplink = kiosk.uplink
        assert uplink is not None
        if expect_connected:
            if not _common.wait_until(lambda: uplink.connected, 20):
                raise RuntimeError(f"{name}: the kiosk did not connect to the broker")
        else:
            _common.wait_until(lambda: False, 0.5)  # let the first connection attempt fail
        result = Timings(name, [], [], [])
        for i in range(iterations + WARMUP):
            _common.check_stop()
            controller.submit_code(receipts())
            if _common.screen_of(window) is not Screen.RATING:
                raise RuntimeError(f"{name}: scan led to {window.current}, not the rating screen")
            QApplication.processEvents()
            if pause > 0:
                _common.wait_until(lambda: False, pause, step=min(0.01, pause))
            start = time.perf_counter()
            controller.rate(Score.SATISFIED)
            rated = time.perf_counter()
            window.repaint()
            drawn = time.perf_counter()
            if _common.screen_of(window) is not Screen.THANKS:
                raise RuntimeError(
                    f"{name}: a tap led to {window.current}, not the thank-you screen"
                )
            if i >= WARMUP:
                result.total_ms.append((drawn - start) * 1000)
                result.rate_ms.append((rated - start) * 1000)
                result.paint_ms.append((drawn - rated) * 1000)
            controller.reset()
            QApplication.processEvents()
        result.outbox_depth = kiosk.outbox.depth()
        result.connected = uplink.connected
        if expect_connected and not result.connected:
            raise RuntimeError(f"{name}: the uplink lost its connection during the run")
        return result
    finally:
        kiosk.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 iterations instead of 500")
    parser.add_argument("--iterations", type=int, help="taps per condition (overrides --quick)")
    parser.add_argument(
        "--conditions", default=",".join(CONDITIONS), help="comma-separated: up,down,slow"
    )
    parser.add_argument("--delay-ms", type=float, default=200.0, help="slow link: delay per chunk")
    parser.add_argument(
        "--pause-ms",
        type=float,
        default=50.0,
        help="the event loop runs this long between the scan and the timed tap (0: back to back)",
    )
    parser.add_argument(
        "--dir", type=Path, help="where the outbox files go (default: the system temp folder)"
    )
    parser.add_argument("--serve-proxy", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_proxy:
        serve_proxy(args.serve_proxy, args.delay_ms)
        return 0
    iterations = args.iterations or (50 if args.quick else 500)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = set(conditions) - set(CONDITIONS)
    if unknown:
        parser.error(f"unknown conditions: {', '.join(sorted(unknown))}")

    _common.offscreen()
    _common.stop_on_signals()
    from PySide6 import QtCore
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    print("# tap on a face -> thank-you screen drawn (outbox commit included), 1280x800 offscreen")
    print(
        f"# Qt {QtCore.qVersion()}, {os.cpu_count()} CPUs; no hub: the outbox grows by one per tap"
    )
    print(
        f"# {iterations} timed taps per condition after {WARMUP} warm-up taps; "
        f"slow link = +{args.delay_ms:.0f} ms per chunk each way; "
        f"{args.pause_ms:.0f} ms between the scan and the tap"
    )
    results: list[Timings] = []
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(_common.temp_dir("hailong-bench-tap-", args.dir))
        print(f"# outbox and baseline files: {root} ({_common.filesystem_of(root)})")
        layout = _common.throwaway_secrets(root / "secrets")
        keys = _common.receipt_keys(layout.receipt_keys)
        receipts = _common.ReceiptFactory(keys.keyring())
        baseline = sqlite_baseline(root / "baseline.db", iterations, RATING_BYTES)
        print(baseline.line())
        broker = None
        if {"up", "slow"} & set(conditions):
            broker = stack.enter_context(_common.mosquitto(root, layout))
            problem = _cpuquota.exempt(broker.pid) if broker.pid else None
            if problem:
                print(f"# {problem}")
        for name in conditions:
            outbox = root / f"outbox-{name}.db"
            if name == "up":
                assert broker is not None
                mqtt = _common.mqtt_settings(layout, broker.port)
            elif name == "down":
                mqtt = _common.mqtt_settings(layout, _common.closed_port())
            else:
                assert broker is not None
                port = stack.enter_context(slow_link(broker.port, args.delay_ms / 1000))
                mqtt = _common.mqtt_settings(layout, port)
            settings = _common.kiosk_settings(outbox, keys, mqtt)
            timing = measure(
                name,
                settings,
                iterations,
                receipts,
                expect_connected=name != "down",
                pause=args.pause_ms / 1000,
            )
            results.append(timing)
            print(timing.line())
            print(
                f"  {name} parts: rate()_p50_ms={_common.percentile(timing.rate_ms, 50):.2f} "
                f"rate()_p99_ms={_common.percentile(timing.rate_ms, 99):.2f} "
                f"repaint_p50_ms={_common.percentile(timing.paint_ms, 50):.2f} "
                f"repaint_p99_ms={_common.percentile(timing.paint_ms, 99):.2f} "
                f"connected={'yes' if timing.connected else 'no'} "
                f"outbox_depth={timing.outbox_depth}"
            )
    base_p50 = _common.percentile(baseline.total_ms, 50)
    base_p99 = _common.percentile(baseline.total_ms, 99)
    for timing in results:
        p50 = _common.percentile(timing.total_ms, 50)
        p99 = _common.percentile(timing.total_ms, 99)
        print(
            f"ratio {timing.name}/baseline: p50={_common.ratio(p50, base_p50)} "
            f"p99={_common.ratio(p99, base_p99)}"
        )
    verdicts = ", ".join(
        f"{t.name} {'met' if _common.percentile(t.total_ms, 99) < GOAL_P99_MS else 'NOT met'}"
        for t in results
    )
    print(f"goal: p99 < {GOAL_P99_MS:.0f} ms -> {verdicts} (informational)")
    del app
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
