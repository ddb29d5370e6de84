"""Resident memory of a kiosk that is offline for a long time: built, then after every --step of
--ratings simulated citizens (scan a new signed receipt, tap a face, thank-you screen drawn, back
to the start), with the uplink started against a closed port so every rating stays in the outbox.

    python bench/kiosk_memory.py [--quick] [--ratings N] [--step K]

RSS is VmRSS from /proc/self/status. The baseline, in the same process, is the RSS after building
the kiosk (the interpreter, Qt and the app already loaded); the figure of interest is the growth
from there, and whether it levels off. Off-screen (QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import _common

GOAL_MB = 200.0


def mb(kib: int) -> float:
    """kB as /proc reports them (KiB) to MB (10^6 bytes)."""
    return kib * 1024 / 1e6


def slope_per(step: int, xs: list[int], ys: list[float]) -> float:
    """Least-squares growth of ys per ``step`` of xs."""
    n = len(xs)
    if n < 2:
        return 0.0
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return 0.0
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return cov / var * step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 ratings instead of 10,000")
    parser.add_argument("--ratings", type=int, help="ratings to simulate (overrides --quick)")
    parser.add_argument("--step", type=int, help="sample RSS every this many ratings")
    parser.add_argument(
        "--dir", type=Path, help="where the outbox goes (default: the system temp folder)"
    )
    args = parser.parse_args()
    ratings = args.ratings or (1_000 if args.quick else 10_000)
    step = args.step or (1_000 if ratings >= 10_000 else max(1, ratings // 10))

    _common.offscreen()
    _common.stop_on_signals()
    from PySide6 import QtCore
    from PySide6.QtWidgets import QApplication

    from hailong.contract.scale import Score
    from kiosk.app import build_kiosk
    from kiosk.domain.screen import Screen

    app = QApplication.instance() or QApplication(sys.argv)
    rss_app = _common.vm_rss_kib()
    print(
        f"# kiosk resident memory over {ratings} ratings with the broker down (1280x800 offscreen)"
    )
    print(f"# Qt {QtCore.qVersion()}, {os.cpu_count()} CPUs; RSS = VmRSS, MB = 10^6 bytes")
    with _common.temp_dir("hailong-bench-memory-", args.dir) as root:
        print(f"# outbox: {root} ({_common.filesystem_of(root)})")
        keys = _common.receipt_keys(_common.throwaway_receipt_keys(root))
        receipts = _common.ReceiptFactory(keys.keyring())
        settings = _common.kiosk_settings(
            root / "outbox.db", keys, _common.offline_mqtt(root, _common.closed_port())
        )
        kiosk = build_kiosk(settings, start_uplink=True)
        try:
            window, controller = kiosk.window, kiosk.controller
            window.resize(1280, 800)
            window.show()
            _common.wait_until(lambda: window.isVisible(), 5)
            window.repaint()
            rss_built = _common.vm_rss_kib()
            print(f"rss before build (interpreter + imports + QApplication): {mb(rss_app):.1f} MB")
            print(f"rss after build: {mb(rss_built):.1f} MB")
            xs: list[int] = [0]
            ys: list[float] = [mb(rss_built)]
            for done in range(1, ratings + 1):
                _common.check_stop()
                controller.submit_code(receipts())
                if _common.screen_of(window) is not Screen.RATING:
                    raise RuntimeError(f"scan {done} led to {window.current}")
                QApplication.processEvents()
                controller.rate(Score.VERY_SATISFIED if done % 2 else Score.SATISFIED)
                if _common.screen_of(window) is not Screen.THANKS:
                    raise RuntimeError(f"rating {done} led to {window.current}")
                window.repaint()
                controller.reset()
                QApplication.processEvents()
                if done % step == 0 or done == ratings:
                    rss = mb(_common.vm_rss_kib())
                    xs.append(done)
                    ys.append(rss)
                    print(
                        f"rss after {done} ratings: {rss:.1f} MB "
                        f"(+{rss - mb(rss_built):.1f} MB, outbox depth {kiosk.outbox.depth()})"
                    )
            depth = kiosk.outbox.depth()
            online = kiosk.uplink is not None and kiosk.uplink.connected
        finally:
            kiosk.close()
        files = sum(p.stat().st_size for p in root.glob("outbox.db*"))
    half = [i for i, x in enumerate(xs) if x >= ratings / 2]
    growth = slope_per(1_000, [xs[i] for i in half], [ys[i] for i in half])
    final = ys[-1]
    print(f"rss series MB: {' '.join(f'{y:.1f}' for y in ys)}")
    print(
        f"outbox depth at the end: {depth} (uplink connected: {'yes' if online else 'no'}), "
        f"outbox files {files / 1e6:.1f} MB"
    )
    print(f"growth per 1000 ratings over the last half: {growth:+.2f} MB")
    print(f"growth over the whole run: {final - ys[0]:+.1f} MB")
    print(f"ratio final/after-build: {final / ys[0]:.3f}x")
    verdict = "met" if final < GOAL_MB else "NOT met"
    print(f"goal: final rss < {GOAL_MB:.0f} MB -> {verdict} (final {final:.1f} MB; informational)")
    del app
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
