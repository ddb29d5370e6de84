"""Cold start: from launching a Python process to the kiosk's attract screen painted at 1280x800.

    python bench/kiosk_startup.py [--quick] [--runs N]

Each run is a fresh interpreter (this script again, in child mode). The clock starts in the parent
with ``time.time()`` just before ``Popen`` and stops in the child with ``time.time()`` once the
event loop has processed the window's first paint, so interpreter start-up, every import, building
the kiosk (with a fresh SQLite outbox and a throw-away receipt key, no uplink) and the first frame
are all inside. The baseline, interleaved with the kiosk runs, is a process that starts a
QApplication and shows an empty QWidget the same way. One warm-up run of each is not counted.
Off-screen (QT_QPA_PLATFORM=offscreen), so nothing is uploaded to a GPU.

The clock stops once the first paint has finished, before whatever the kiosk defers until after
it (the outbox opens then: kiosk/deferred_outbox.py). Each run also reports the CPU time the child
had used by then, which other processes on a shared machine change far less than wall time.
bench/kiosk_pi.py runs this twice: as it is, and inside a CPU quota standing in for a Pi.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _common

GOAL_S = 1.5
WIDTH, HEIGHT = 1280, 800
RESULT = "RESULT "


# -- child side --------------------------------------------------------------------------------


def _wait_for_first_paint(window: Any, timeout: float = 20.0) -> tuple[str, float, float]:
    """Process events until the window's first paint has gone through; returns how it was seen
    and when (``time.time()``), and the CPU time this process had used by then.

    The clock stops in a callback queued by the paint event, so it runs once that paint has
    finished, and before what the kiosk itself deferred until after its first paint (queued
    later: its own watcher was installed first, and Qt calls the newest event filter first).
    """
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    class PaintWatch(QObject):
        painted_at: float | None = None
        cpu_s = 0.0
        seen = False

        def mark(self) -> None:
            self.painted_at = time.time()
            self.cpu_s = time.process_time()

        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                QTimer.singleShot(0, self.mark)
            return False

    watch = PaintWatch()
    window.installEventFilter(watch)
    deadline = time.monotonic() + timeout
    while watch.painted_at is None and time.monotonic() < deadline:
        QApplication.processEvents()
    window.removeEventFilter(watch)
    if watch.painted_at is not None:
        return "paint-event", watch.painted_at, watch.cpu_s
    window.grab()  # the platform never asked for a paint: render the window ourselves
    return "grab-fallback", time.time(), time.process_time()


def child(kind: str, t0: float, workdir: Path) -> None:
    t_main = time.time()
    _common.offscreen()
    extra: dict[str, object] = {}
    if kind == "baseline":
        from PySide6.QtWidgets import QApplication, QWidget

        t_imported = time.time()
        app = QApplication(sys.argv)
        window = QWidget()
        t_built = time.time()
    else:
        # In the order of `hailong kiosk`: its settings are read (hailong.cli imports
        # hailong.settings at its top) before the kiosk's modules, and Qt with them, load;
        # like `hailong kiosk`, no pydantic plugins are looked for (hailong/cli.py).
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        mqtt = _common.offline_mqtt(workdir)
        keys = _common.receipt_keys(workdir / "receipt-keys")
        outbox = workdir / f"outbox-{os.getpid()}.db"
        settings = _common.kiosk_settings(outbox, keys, mqtt)
        from PySide6.QtWidgets import QApplication

        from kiosk.app import build_kiosk
        from kiosk.domain.session import Screen

        t_imported = time.time()
        kiosk = build_kiosk(settings, start_uplink=False)
        app = QApplication.instance()  # type: ignore[assignment]
        window = kiosk.window
        t_built = time.time()
    window.resize(WIDTH, HEIGHT)
    window.show()
    seen, t_painted, cpu_s = _wait_for_first_paint(window)
    if kind == "kiosk":
        extra["screen"] = str(kiosk.window.current)
        extra["ok"] = kiosk.window.current is Screen.ATTRACT and window.isVisible()
    else:
        extra["ok"] = window.isVisible()
    print(
        RESULT
        + json.dumps(
            {
                "kind": kind,
                "t0": t0,
                "main": t_main,
                "imported": t_imported,
                "built": t_built,
                "painted": t_painted,
                "cpu_s": cpu_s,
                "seen": seen,
                "size": [window.width(), window.height()],
                **extra,
            }
        ),
        flush=True,
    )
    if kind == "kiosk":
        kiosk.close()
        Path(outbox).unlink(missing_ok=True)
    del app


# -- parent side -------------------------------------------------------------------------------


def run_once(kind: str, workdir: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--workdir",
        str(workdir),
    ]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.time()
    proc = subprocess.Popen(
        [*command, "--t0", repr(t0)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for line in out.splitlines():
        if line.startswith(RESULT):
            result: dict[str, Any] = json.loads(line[len(RESULT) :])
            if not result.get("ok"):
                raise RuntimeError(f"{kind} child did not reach its first screen: {result}")
            return result
    raise RuntimeError(f"{kind} child failed (exit {proc.returncode}):\n{err[-2000:]}")


def summarise(name: str, runs: list[dict[str, Any]]) -> tuple[float, float]:
    totals = [r["painted"] - r["t0"] for r in runs]
    median = statistics.median(totals)
    p90 = _common.percentile(totals, 90)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    print(
        f"{name}: median_s={median:.3f} p90_s={p90:.3f} "
        f"min_s={min(totals):.3f} max_s={max(totals):.3f} n={len(totals)} cpu_median_s={cpu:.3f}"
    )
    return median, p90


def phases(runs: list[dict[str, Any]]) -> str:
    def med(a: str, b: str) -> float:
        return float(statistics.median(r[b] - r[a] for r in runs))

    return (
        f"interpreter+stdlib={med('t0', 'main'):.3f} imports={med('main', 'imported'):.3f} "
        f"build={med('imported', 'built'):.3f} show->painted={med('built', 'painted'):.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs of each instead of 10")
    parser.add_argument("--runs", type=int, help="runs of each variant (overrides --quick)")
    parser.add_argument("--child", choices=("kiosk", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.t0, args.workdir)
        return 0

    _common.offscreen()
    _common.sigterm_as_interrupt()
    runs = args.runs or (2 if args.quick else 10)
    from PySide6 import QtCore

    print(f"# kiosk cold start to a painted attract screen ({WIDTH}x{HEIGHT}, offscreen)")
    print(
        f"# python {platform.python_version()}, Qt {QtCore.qVersion()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    print(
        "# clock: parent time.time() just before Popen -> child time.time() after the first "
        "paint event of the window was processed (interpreter start-up included)"
    )
    print(f"# runs: {runs} per variant, interleaved, after 1 uncounted warm-up of each")
    print(
        "# cpu_median_s: CPU time the child had used at its first paint (all its threads): "
        "what other processes on the machine change least"
    )
    with _common.temp_dir("hailong-bench-startup-") as workdir:
        _common.throwaway_receipt_keys(workdir)
        results: dict[str, list[dict[str, Any]]] = {"baseline": [], "kiosk": []}
        for kind in results:
            run_once(kind, workdir)  # warm-up: page cache, .pyc files, font cache
        for _ in range(runs):
            for kind, bucket in results.items():
                bucket.append(run_once(kind, workdir))
    base_median, base_p90 = summarise(
        "baseline (QApplication + empty QWidget)", results["baseline"]
    )
    median, p90 = summarise("kiosk (import app, build_kiosk, show)", results["kiosk"])
    print(f"kiosk phases (median s): {phases(results['kiosk'])}")
    print(f"baseline phases (median s): {phases(results['baseline'])}")
    seen = sorted({r["seen"] for r in results["kiosk"]})
    print(f"# first frame detected by: {', '.join(seen)}")
    print(
        f"ratio kiosk/baseline: median={_common.ratio(median, base_median)} "
        f"p90={_common.ratio(p90, base_p90)}"
    )
    verdict = "met" if median < GOAL_S else "NOT met"
    print(f"goal: kiosk median < {GOAL_S} s -> {verdict} (median {median:.3f} s; informational)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
