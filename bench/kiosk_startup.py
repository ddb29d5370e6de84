"""Cold start: from launching a Python process to the kiosk's start screen painted at 1280x800.

    python bench/kiosk_startup.py [--quick] [--runs N]

Each run is a fresh interpreter (bench/_startup_child.py) starting the kiosk as ``hailong-kiosk``
does (kiosk/launch.py) from a config file written here: a throw-away receipt key, a broker nobody
runs, and a fresh copy each run of an outbox holding the unit's configuration, as a kiosk restarted
in the field has. The clock starts in the parent with ``time.time()`` just
before ``Popen`` and stops in the child with ``time.time()`` once the event loop has processed
the window's first paint, so interpreter start-up, every import, reading the config and the first
frame are all inside. The baseline, interleaved with the kiosk runs, is a process that starts a
QApplication and shows an empty QWidget the same way. One warm-up run of each is not counted.
Off-screen (QT_QPA_PLATFORM=offscreen), so nothing is uploaded to a GPU.

The kiosk draws its start screen before it validates its settings and builds the rest (the other
screens, the controller, the outbox, the uplink): the goal is the screen a citizen sees. How long
until that rest is built and a tap is answered ("ready") is printed too: a tap made before then
waits in Qt's queue. Each run also reports the CPU time the child had used, which other processes
on a shared machine change far less than wall time. bench/kiosk_pi.py runs this twice: as it
is, and inside a CPU quota standing in for a Pi.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _common

GOAL_S = 1.5
WIDTH, HEIGHT = 1280, 800  # as Launch(windowed=True) opens it
RESULT = "RESULT "
BENCH = Path(__file__).resolve().parent
CHILD = BENCH / "_startup_child.py"


# -- parent side (the child is bench/_startup_child.py) ---------------------------------------


def write_config(workdir: Path) -> Path:
    """A kiosk config in ``workdir`` as an installer writes one: the receipts' public keys
    (``_common.throwaway_receipt_keys`` made them), an outbox there, and a broker nobody runs."""
    password = workdir / "kiosk.password"
    password.write_text("unused\n")
    config = workdir / "kiosk.toml"
    config.write_text(
        f"""[kiosk]
id = "{_common.KIOSK_ID}"
unit = "{_common.UNIT_CODE}"
counter = "Q1"
outbox_path = "outbox.db"

[mqtt]
host = "127.0.0.1"
port = {_common.closed_port()}
username = "{_common.KIOSK_ID}"
password_file = "kiosk.password"

[receipts]
key_dir = "receipt-keys-public"
""",
        encoding="utf-8",
    )
    return config


def cached_outbox(path: Path) -> Path:
    """An outbox as a kiosk restarted in the field has one: its tables made, and the unit's
    configuration from the hub cached there (walk-ins allowed, so the start screen reads it)."""
    from hailong.settings import load_unit
    from kiosk.outbox import Outbox

    config = load_unit(_common.REPO / "config" / "unit.toml").to_message()
    policy = config.policy.model_copy(update={"allow_walk_in": True})
    outbox = Outbox(path)
    outbox.save_unit_config(config.model_copy(update={"policy": policy}).to_bytes())
    outbox.close()
    return path


def run_once(kind: str, config: Path, outbox: Path) -> dict[str, Any]:
    """One cold start, on a fresh copy of ``outbox`` (nothing pending, nothing left open)."""
    shutil.copyfile(outbox, config.parent / "outbox.db")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.time()
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), kind, repr(t0), str(config)],
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


def summarise(name: str, runs: list[dict[str, Any]], end: str = "painted") -> tuple[float, float]:
    totals = [r[end] - r["t0"] for r in runs]
    median = statistics.median(totals)
    p90 = _common.percentile(totals, 90)
    cpu = statistics.median(r["cpu_s" if end == "painted" else f"{end}_cpu_s"] for r in runs)
    print(
        f"{name}: median_s={median:.3f} p90_s={p90:.3f} "
        f"min_s={min(totals):.3f} max_s={max(totals):.3f} n={len(totals)} cpu_median_s={cpu:.3f}"
    )
    return median, p90


def phases(runs: list[dict[str, Any]], *steps: str) -> str:
    def med(a: str, b: str) -> float:
        return float(statistics.median(r[b] - r[a] for r in runs))

    names = {  # start_screen: built and painted; then the rest built until ready
        "main": "interpreter",
        "imported": "imports",
        "painted": "start_screen",
        "ready": "rest",
    }
    marks = ("t0", *steps)
    return " ".join(f"{names[b]}={med(a, b):.3f}" for a, b in itertools.pairwise(marks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs of each instead of 10")
    parser.add_argument("--runs", type=int, help="runs of each variant (overrides --quick)")
    args = parser.parse_args()
    _common.offscreen()
    _common.sigterm_as_interrupt()
    runs = args.runs or (2 if args.quick else 10)
    from PySide6 import QtCore

    print(f"# kiosk cold start to a painted start screen ({WIDTH}x{HEIGHT}, offscreen)")
    print(
        f"# python {platform.python_version()}, Qt {QtCore.qVersion()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    print(
        "# clock: parent time.time() just before Popen -> child time.time() after the first "
        "paint event of the window was processed (interpreter start-up included); "
        "ready: the whole kiosk built (settings validated, controller, outbox, uplink)"
    )
    print(f"# runs: {runs} per variant, interleaved, after 1 uncounted warm-up of each")
    print(
        "# cpu_median_s: CPU time the child had used at its first paint (all its threads): "
        "what other processes on the machine change least"
    )
    with _common.temp_dir("hailong-bench-startup-") as workdir:
        _common.throwaway_receipt_keys(workdir)
        config = write_config(workdir)
        template = cached_outbox(workdir / "outbox-template.db")
        results: dict[str, list[dict[str, Any]]] = {"baseline": [], "kiosk": []}
        for kind in results:
            run_once(kind, config, template)  # warm-up: page cache, .pyc files, font cache
        for _ in range(runs):
            for kind, bucket in results.items():
                bucket.append(run_once(kind, config, template))
    kiosk = results["kiosk"]
    base_median, base_p90 = summarise(
        "baseline (QApplication + empty QWidget)", results["baseline"]
    )
    median, p90 = summarise("kiosk (hailong-kiosk: start screen painted)", kiosk)
    summarise("kiosk ready (every screen, controller, outbox, uplink)", kiosk, "ready")
    print(f"kiosk phases (median s): {phases(kiosk, 'main', 'imported', 'painted', 'ready')}")
    print(
        f"baseline phases (median s): {phases(results['baseline'], 'main', 'imported', 'painted')}"
    )
    seen = sorted({r["seen"] for r in kiosk})
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
