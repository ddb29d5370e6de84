"""Tell systemd the kiosk is up and still alive (the sd_notify protocol), without libsystemd.

On a Pi the kiosk runs as ``hailong-kiosk.service`` (deploy/raspberry-pi/): ``Type=notify`` waits
for ``READY=1``, sent once the kiosk is built, right after its start screen is painted
(kiosk/launch.py), so "started" means a citizen can use it;
``WatchdogSec=`` restarts the kiosk when no ``WATCHDOG=1`` arrives in time. The pings come from a
timer on Qt's event loop, so a frozen screen (a loop stuck in a call) stops them and systemd
restarts the kiosk, where a plain ``Restart=always`` only catches a process that died.

The protocol is one datagram to the unix socket named in ``NOTIFY_SOCKET`` (``@`` first: an
abstract socket); no package is needed. The kiosk is usually not the service's main process but
the child of the ``cage`` compositor, so ``NotifyAccess=all`` in the unit lets it speak, and the
watchdog systemd announces for its main process (``WATCHDOG_PID``) is taken as the kiosk's own
when that process is the kiosk's parent.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger("kiosk.service_notify")


class NotifyEnvironmentError(ValueError):
    """What systemd put in the environment cannot be read (a bug or a hand-made environment)."""


def socket_address(value: str) -> str:
    """The address ``NOTIFY_SOCKET`` names: a path, or ``@name`` for an abstract socket."""
    if not value or "\0" in value:
        raise NotifyEnvironmentError(f"NOTIFY_SOCKET {value!r} is not a socket address")
    if value.startswith("@"):
        return "\0" + value[1:]
    if not value.startswith("/"):
        raise NotifyEnvironmentError(f"NOTIFY_SOCKET {value!r} is neither a path nor @name")
    return value


def watchdog_seconds(environ: Mapping[str, str], pid: int, parent_pid: int) -> float | None:
    """Seconds between systemd's watchdog deadlines for this process, or None without a watchdog.

    ``WATCHDOG_PID``, when set, names the process the watchdog is for: this one, or its parent
    (the compositor the kiosk runs under). Any other process's watchdog is not the kiosk's to feed.
    """
    usec = environ.get("WATCHDOG_USEC")
    if usec is None:
        return None
    if not usec.isdecimal() or int(usec) == 0:
        raise NotifyEnvironmentError(f"WATCHDOG_USEC {usec!r} is not a positive whole number")
    owner = environ.get("WATCHDOG_PID")
    if owner is not None:
        if not owner.isdecimal():
            raise NotifyEnvironmentError(f"WATCHDOG_PID {owner!r} is not a process id")
        if int(owner) not in (pid, parent_pid):
            return None
    return int(usec) / 1_000_000


@dataclass(frozen=True)
class ServiceNotifier:
    """Sends sd_notify states to one socket; a failed send is logged, never raised: the kiosk
    keeps serving citizens whatever systemd hears."""

    address: str
    watchdog: float | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServiceNotifier | None:
        """The notifier systemd asked for, or None when the kiosk does not run under it."""
        env = os.environ if environ is None else environ
        value = env.get("NOTIFY_SOCKET")
        if not value:
            return None
        try:
            return cls(socket_address(value), watchdog_seconds(env, os.getpid(), os.getppid()))
        except NotifyEnvironmentError as exc:
            # Serving citizens matters more than telling systemd: run on, unsupervised, and say so.
            log.error("not notifying systemd: %s", exc)
            return None

    def send(self, *states: str) -> bool:
        message = "\n".join(states).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message, self.address)
        except OSError as exc:
            log.warning("could not tell systemd %s: %s", states, exc)
            return False
        return True

    def ready(self) -> bool:
        return self.send("READY=1", "STATUS=Màn hình bắt đầu đang hiện / start screen showing")

    def alive(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")


def start_notifying(notifier: ServiceNotifier, parent: QObject) -> QTimer | None:
    """``READY=1`` once the event loop runs (the first paint is queued before it), then a
    ``WATCHDOG=1`` from the loop every half watchdog period, as systemd advises; the timer is
    returned (None without a watchdog) and lives as long as ``parent``."""
    QTimer.singleShot(0, lambda: notifier.ready())
    if notifier.watchdog is None:
        return None
    timer = QTimer(parent)
    timer.setInterval(max(1, int(notifier.watchdog * 1000 / 2)))
    # A lambda, not the bound method: Qt holds a bound method's object only weakly.
    timer.timeout.connect(lambda: notifier.alive())
    timer.start()
    return timer
