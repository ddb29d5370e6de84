"""The kiosk's start-up: the start screen on the glass first, everything else after it.

A kiosk that imported and built everything before drawing anything showed a black screen for
~3 s on a Raspberry Pi's budget (bench/kiosk_pi.py: a fifth of one core). The start screen needs
little: Qt, its own widgets, where the scanner stands (the config file, read as plain TOML) and
whether walk-ins are allowed (the unit configuration cached in the outbox, read with ``sqlite3``).
So start-up is two steps:

1. :meth:`Launch.show`: those few values read without validation (anything missing or unreadable
   gives the default, and the next step reports the problem), the window with its start screen
   built and shown.
2. Once that screen has been painted (or 2 s later without a paint), in one call on the Qt
   thread (:meth:`Launch.finish`): the settings loaded and validated, the other screens, the
   controller, outbox, uplink, voice and button box (:func:`kiosk.app.build_kiosk`), then READY
   to systemd. A tap or a scan made while it runs waits in Qt's queue and reaches the controller
   once it is there: the step never returns to the event loop half done.

A config file that fails validation stops the kiosk with the message naming file and key (exit
status 2), as before; anything else failing in step 2 stops it with status 1 and the traceback in
the log, so the service manager restarts it rather than leave a start screen that answers nothing.

``hailong-kiosk`` (:func:`main`) is this without the rest of the command line (click, the hub's
settings): what the Pi's service runs. ``hailong kiosk`` runs the same :func:`run`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sqlite3
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from kiosk.domain.screen import Screen
from kiosk.ui.after_paint import after_next_paint
from kiosk.ui.pyside_imports import quicken
from kiosk.ui.window import KioskWindow

if TYPE_CHECKING:
    from kiosk.app import Kiosk
    from kiosk.service_notify import ServiceNotifier

log = logging.getLogger(__name__)

# As in hailong/settings (KioskSection): tests/kiosk/test_launch.py keeps the two the same.
DEFAULT_SCANNER_POSITION = "bottom"
FIRST_LANG = "vi"  # every citizen's session starts in Vietnamese (kiosk/domain/session.py)
FINISH_FALLBACK_MS = 2_000
EXIT_CONFIG = 2  # as `hailong` exits on a ConfigError
EXIT_FAILED = 1
_WALK_IN_SQL = (
    "SELECT json_extract(CAST(value AS TEXT), '$.policy.allow_walk_in') "
    "FROM kiosk_state WHERE key = 'unit_config'"
)


class FirstScreen(NamedTuple):
    """What the start screen shows before the settings are validated (a NamedTuple: the
    ``dataclasses`` module would be one more import before the first paint)."""

    scanner_position: str = DEFAULT_SCANNER_POSITION
    allow_walk_in: bool = False


def read_first_screen(config_path: Path) -> FirstScreen:
    """The start screen's few values, read without pydantic: the file is validated whole right
    after the first paint, and any value here that would fail there gives the default now."""
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return FirstScreen()
    section = raw.get("kiosk")
    if not isinstance(section, dict):
        return FirstScreen()
    position = section.get("scanner_position", DEFAULT_SCANNER_POSITION)
    outbox = section.get("outbox_path")
    walk_in = False
    if isinstance(outbox, str) and outbox:
        path = Path(outbox)
        if not path.is_absolute():  # as the settings resolve it: against the config's folder
            path = config_path.resolve().parent / path
        walk_in = _cached_walk_in(path)
    return FirstScreen(position if isinstance(position, str) else DEFAULT_SCANNER_POSITION, walk_in)


def _cached_walk_in(outbox: Path) -> bool:
    """Whether the unit configuration the outbox holds (the hub's last) allows walk-ins; False
    when there is none yet or it cannot be read (the controller applies it again once built)."""
    if not outbox.is_file():
        return False
    try:
        conn = sqlite3.connect(f"{outbox.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute(_WALK_IN_SQL).fetchone()
    except sqlite3.Error:  # no table yet, a damaged file, JSON that does not parse
        return False
    finally:
        conn.close()
    return bool(row and row[0] == 1)


class Launch:
    """One kiosk process: :meth:`show` draws the start screen, :meth:`finish` (queued by it to
    run after the first paint) builds the rest. ``kiosk`` is set once it has; ``exit_code`` says
    why the kiosk stopped if it could not be."""

    def __init__(self, config_path: Path, *, windowed: bool) -> None:
        self.config_path = config_path
        self.windowed = windowed
        self.window: KioskWindow | None = None
        self.kiosk: Kiosk | None = None
        self.notifier: ServiceNotifier | None = None
        self.exit_code = 0
        self.signals: StopOnSignals | None = None

    def show(self) -> KioskWindow:
        quicken()  # the next step imports ~250 modules after PySide6 (kiosk/ui/pyside_imports.py)
        first = read_first_screen(self.config_path)
        QApplication.instance() or QApplication(sys.argv)
        window = KioskWindow(complete=False)
        window.attract.set_scanner_position(first.scanner_position)
        window.attract.set_walk_in(first.allow_walk_in)
        window.attract.set_lang(FIRST_LANG)  # as the controller draws it once built
        window.set_lang(FIRST_LANG)
        window.show_screen(Screen.ATTRACT)
        if self.windowed:
            window.resize(1280, 800)
            window.show()
        else:
            window.setWindowFlag(Qt.WindowType.FramelessWindowHint)
            window.locked = True
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
            window.show_full_screen()
        # Built once the start screen is painted; without a paint (a display unplugged, a
        # compositor that never shows the window) after FINISH_FALLBACK_MS anyway, so ratings
        # still go out and systemd still hears READY.
        after_next_paint(window, self.finish, FINISH_FALLBACK_MS)
        self.window = window
        return window

    def finish(self) -> None:
        """Everything the start screen did not need; on failure, the kiosk stops (see above)."""
        if self.kiosk is not None or self.window is None:
            return
        self.signals = StopOnSignals()
        try:
            self.kiosk = self._build(self.window)
        except Exception as exc:
            from hailong.settings import ConfigError

            if isinstance(exc, ConfigError):
                print(f"error: {exc}", file=sys.stderr)
                self.exit_code = EXIT_CONFIG
            else:
                log.critical("the kiosk could not start", exc_info=True)
                self.exit_code = EXIT_FAILED
            self.window.locked = False
            QCoreApplication.exit(self.exit_code)
            return
        # Under systemd (deploy/raspberry-pi/hailong-kiosk.service): ready once it answers, then
        # the watchdog pings from the event loop (kiosk/service_notify.py).
        from kiosk.service_notify import ServiceNotifier, start_notifying

        self.notifier = ServiceNotifier.from_environment()
        if self.notifier is not None:
            start_notifying(self.notifier, self.window)

    def _build(self, window: KioskWindow) -> Kiosk:
        # No pydantic plugins in a kiosk: without this, its first validator scans every installed
        # package's entry points for one (~4 ms of CPU here, ~20 ms on a Pi; docs/kiosk.md).
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        from hailong.settings import load_kiosk
        from kiosk.app import build_kiosk

        return build_kiosk(load_kiosk(self.config_path), window=window)

    def close(self) -> None:
        if self.notifier is not None:
            self.notifier.stopping()
        if self.signals is not None:
            self.signals.remove()
            self.signals = None
        if self.kiosk is not None:
            self.kiosk.close()
        elif self.window is not None:
            self.window.locked = False
            self.window.close()


class StopOnSignals:
    """SIGTERM (systemd's stop) and SIGINT (Ctrl-C) end the event loop, so the kiosk closes as on
    any stop: the citizen's open rating is kept and published like any other, the outbox closed.
    Without this SIGTERM killed the process outright (crash recovery then closed the rating at
    the next start) and Ctrl-C raised inside a Qt callback, which Qt only printed.

    Python runs a signal's handler only when it next runs Python code, which Qt's loop may not do
    for a while; the wake-up descriptor makes Qt's loop wake Python at once. Installed when the
    rest is built (before that there is nothing to close, and the default, stop now, is right);
    :meth:`remove` puts back what was there."""

    def __init__(self) -> None:
        import signal
        import socket

        from PySide6.QtCore import QSocketNotifier

        self._wake, self._woken = socket.socketpair()
        for end in (self._wake, self._woken):
            end.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._woken.fileno())
        self._notifier = QSocketNotifier(self._wake.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)
        self._old = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def _stop(self, _signum: int, _frame: object) -> None:
        from PySide6.QtCore import QTimer

        # exit(), not quit(): quit() first asks every window to close, and the locked full-screen
        # window refuses (KioskWindow.closeEvent). Queued, so it also works before the loop runs.
        QTimer.singleShot(0, lambda: QCoreApplication.exit(0))

    def _drain(self) -> None:
        with contextlib.suppress(OSError):  # nothing left to read: the handler has run
            self._wake.recv(512)

    def remove(self) -> None:
        import signal

        for sig, old in self._old.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)
        signal.set_wakeup_fd(self._old_fd)
        self._notifier.setEnabled(False)
        self._wake.close()
        self._woken.close()


def run(config_path: Path, *, windowed: bool) -> int:
    """Run the kiosk until it is stopped; its exit status."""
    if not config_path.is_file():  # said at once, before a window opens
        print(f"error: {config_path}: file not found", file=sys.stderr)
        return EXIT_CONFIG
    launch = Launch(config_path, windowed=windowed)
    launch.show()
    app = QApplication.instance()
    assert app is not None
    try:
        code = app.exec()
    finally:
        launch.close()
    return launch.exit_code or code


def main(argv: Sequence[str] | None = None) -> int:
    """``hailong-kiosk``: the kiosk alone (``hailong kiosk`` also renders screenshots)."""
    parser = argparse.ArgumentParser(prog="hailong-kiosk", description="Run the kiosk.")
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("config/kiosk.toml"),
        help="the kiosk's config file (default: config/kiosk.toml)",
    )
    parser.add_argument(
        "--windowed", action="store_true", help="a normal window instead of full screen"
    )
    args = parser.parse_args(argv)
    return run(args.config, windowed=args.windowed)


if __name__ == "__main__":
    sys.exit(main())
