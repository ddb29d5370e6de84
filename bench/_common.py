"""Shared pieces of the kiosk benchmarks: settings in a temp folder, signed receipts, percentiles,
a real Mosquitto broker (the slow link to it is bench/_delayproxy.py).

Importing this module is cheap (standard library only); Qt, pydantic and SQLAlchemy are imported
inside the functions that need them, so a benchmark controls when that cost is paid.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hailong.broker import MosquittoProcess
    from hailong.contract.receipt import KeyRing
    from hailong.provision import SecretsLayout
    from hailong.settings import KioskSettings, MqttSettings, ReceiptKeys
    from kiosk.domain.screen import Screen
    from kiosk.ui.window import KioskWindow

REPO = Path(__file__).resolve().parents[1]
UNIT_CODE = "000.00.20.H41"  # the example unit in config/unit.toml
KIOSK_ID = "kiosk-q1"
BASE_URL = "https://hailong.example.gov.vn"


def offscreen() -> None:
    """Render off-screen whatever the caller's environment says (call before importing Qt)."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"


def sigterm_as_interrupt() -> None:
    """Turn SIGTERM into KeyboardInterrupt so `finally` blocks stop brokers and remove temp dirs.

    For scripts that run no Qt code in this process (a signal handler that raises inside a Qt
    virtual such as ``paintEvent`` is swallowed by PySide); Qt scripts use :func:`stop_on_signals`.
    """

    def _raise(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


_STOP = threading.Event()


def stop_on_signals() -> None:
    """Ctrl-C and SIGTERM ask the benchmark loop to stop (see :func:`check_stop`); a second one
    interrupts at once. The loop raises KeyboardInterrupt from plain Python, where `finally` and
    context managers run, instead of inside a Qt callback that would swallow it."""

    def _request(_signum: int, _frame: FrameType | None) -> None:
        if _STOP.is_set():
            raise KeyboardInterrupt
        _STOP.set()

    signal.signal(signal.SIGINT, _request)
    signal.signal(signal.SIGTERM, _request)


def check_stop() -> None:
    if _STOP.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def temp_dir(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """A temp folder (under ``parent`` if given) removed on exit, Ctrl-C included."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def filesystem_of(path: Path) -> str:
    """The mount point and type holding ``path`` (fsync costs differ wildly between them)."""
    best, kind = "", "?"
    target = str(path.resolve())
    for line in Path("/proc/mounts").read_text().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mount = parts[1]
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > len(best):
            best, kind = mount, parts[2]
    return f"{kind} on {best or '/'}"


# -- statistics ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline > 0 else "n/a"


# -- secrets, settings and receipts ----------------------------------------------------------------


def throwaway_secrets(root: Path) -> SecretsLayout:
    """Receipt key, MQTT passwords and staff PINs for the example unit, in ``root``."""
    from hailong.provision import SecretsLayout, init_secrets
    from hailong.settings import load_unit

    layout = SecretsLayout(root)
    init_secrets(load_unit(REPO / "config" / "unit.toml"), layout)
    return layout


def throwaway_receipt_keys(root: Path) -> Path:
    """Just the receipt keys (``<root>/receipt-keys``, Ed25519, with their public half in
    ``<root>/receipt-keys-public``), without loading the unit catalogue."""
    from hailong.provision import SecretsLayout, init_receipt_keys

    layout = SecretsLayout(root)
    init_receipt_keys(layout)
    return layout.receipt_keys


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def mqtt_settings(layout: SecretsLayout, port: int, user: str = KIOSK_ID) -> MqttSettings:
    from hailong.settings import MqttSettings

    return MqttSettings(
        host="127.0.0.1",
        port=port,
        username=user,
        password_file=layout.mqtt_password_file(user),
        keepalive=5,
    )


def offline_mqtt(root: Path, port: int | None = None) -> MqttSettings:
    """Credentials for a broker that is not there."""
    from hailong.settings import MqttSettings

    password = root / "kiosk.password"
    password.write_text("unused\n")
    return MqttSettings(
        host="127.0.0.1", port=port or closed_port(), username=KIOSK_ID, password_file=password
    )


def kiosk_settings(
    outbox: Path, receipts: ReceiptKeys, mqtt: MqttSettings, **kiosk: float
) -> KioskSettings:
    from hailong.settings import KioskSection, KioskSettings

    section = KioskSection(
        id=KIOSK_ID,
        unit=UNIT_CODE,
        counter="Q1",
        outbox_path=outbox,
        **kiosk,
    )
    return KioskSettings(kiosk=section, mqtt=mqtt, receipts=receipts.public())


def receipt_keys(key_dir: Path) -> ReceiptKeys:
    from hailong.settings import ReceiptKeys

    return ReceiptKeys(key_dir=key_dir, active_key="k1")


@dataclass
class ReceiptFactory:
    """A new signed receipt URL per call, as a counter would print them: never the same dossier."""

    keyring: KeyRing
    day: date = date(2026, 1, 1)
    sequence: int = 0
    per_day: int = 9999
    issued: int = field(default=0, init=False)

    def __call__(self) -> str:
        from hailong.contract.receipt import DossierCode, ReceiptClaims, sign

        self.sequence += 1
        if self.sequence > self.per_day:
            self.day += timedelta(days=1)
            self.sequence = 1
        self.issued += 1
        claims = ReceiptClaims(
            DossierCode(UNIT_CODE, self.day, self.sequence), "1.001193", "Q1", "CB001"
        )
        return sign(claims, self.keyring).url(BASE_URL)


# -- a real broker ---------------------------------------------------------------------------------


@contextlib.contextmanager
def mosquitto(root: Path, layout: SecretsLayout) -> Iterator[MosquittoProcess]:
    """Mosquitto with the example unit's users and ACLs on a free loopback port; always stopped."""
    from hailong import broker
    from hailong.settings import load_unit

    port = broker.free_port()
    files = broker.write_broker_files(
        load_unit(REPO / "config" / "unit.toml"), layout, root / "broker", port
    )
    process = broker.MosquittoProcess(files, port)
    try:
        process.start()
        yield process
    finally:
        process.stop()


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    """Poll ``predicate()`` (processing Qt events meanwhile) until true or ``timeout`` seconds."""
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_stop()
        QApplication.processEvents()
        if predicate():
            return True
        time.sleep(step)
    QApplication.processEvents()
    return bool(predicate())


def screen_of(window: KioskWindow) -> Screen:
    """The screen shown now (a call, so a type checker does not keep an earlier narrowing)."""
    return window.current


def vm_rss_kib() -> int:
    """Resident set size of this process, from /proc/self/status (no psutil)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")
