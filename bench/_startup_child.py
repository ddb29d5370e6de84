"""One cold start for bench/kiosk_startup.py: a fresh interpreter that starts the kiosk the way
``hailong-kiosk`` does (kiosk/launch.py) and reports when its start screen was painted and when
the kiosk was ready to answer a tap, or (the baseline) shows an empty QWidget.

    python bench/_startup_child.py kiosk|baseline T0 CONFIG

Only ``sys``, ``time`` and ``json`` before the thing measured, so the bench's own imports are not
counted in either. Prints one line, ``RESULT {json}``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

RESULT = "RESULT "


def _first_paint(window: Any, timeout: float = 20.0) -> tuple[str, float, float]:
    """Process events until the window's first paint has gone through; how it was seen, when
    (``time.time()``), and the CPU time this process had used by then.

    The clock stops in a callback queued by the paint event, so it runs once that paint has
    finished, and before what the kiosk itself queued to run after its first paint (installed
    later, this watcher is called first, and its callback queued first).
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


def baseline() -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication, QWidget

    imported = time.time()
    app = QApplication(sys.argv)
    window = QWidget()
    window.resize(1280, 800)
    window.show()
    seen, painted, cpu = _first_paint(window)
    result = {"imported": imported, "painted": painted, "cpu_s": cpu, "seen": seen}
    result["ok"] = window.isVisible()
    del app
    return result


def kiosk(config: Path) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from kiosk.launch import Launch

    imported = time.time()
    launch = Launch(config, windowed=True)
    window = launch.show()
    seen, painted, cpu = _first_paint(window)
    deadline = time.monotonic() + 60
    while launch.kiosk is None and not launch.exit_code and time.monotonic() < deadline:
        QApplication.processEvents()
    # Ready once the outbox has opened too (right after the next paint): a scan is then answered
    # without waiting for anything.
    while launch.kiosk and not getattr(launch.kiosk.outbox, "is_open", True):
        if time.monotonic() > deadline:
            break
        QApplication.processEvents()
    ready, ready_cpu = time.time(), time.process_time()
    result: dict[str, Any] = {"imported": imported, "painted": painted, "cpu_s": cpu}
    result |= {"ready": ready, "ready_cpu_s": ready_cpu, "seen": seen}
    result["ok"] = launch.kiosk is not None and window.isVisible()
    result["screen"] = str(launch.kiosk.window.current) if launch.kiosk else None
    result["exit_code"] = launch.exit_code
    launch.close()
    return result


def main() -> None:
    kind, t0, config = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])
    started = time.time()
    result = baseline() if kind == "baseline" else kiosk(config)
    result |= {"kind": kind, "t0": t0, "main": started}
    print(RESULT + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
