"""``hailong bridge``: a standalone button box wired to its own outbox and uplink.

The serial link feeds the :class:`~firmware_bridge.button_box.ButtonBox`; the box stores ratings
in a :class:`kiosk.outbox.Outbox` that a :class:`kiosk.uplink.Uplink` publishes to the hub, exactly
as a kiosk does (same code, same exactly-once guarantee: only the hub's ack empties the outbox).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from types import TracebackType

from firmware_bridge.button_box import ButtonBox
from firmware_bridge.serial_port import link_to
from hailong.settings import FirmwareBridgeSettings
from kiosk.outbox import Outbox
from kiosk.uplink import Uplink

log = logging.getLogger(__name__)


class Bridge:
    def __init__(self, settings: FirmwareBridgeSettings, *, retry_every: float = 1.0) -> None:
        self.settings = settings
        kiosk = settings.kiosk
        self.outbox = Outbox(kiosk.outbox_path)
        self.uplink = Uplink(
            settings.mqtt,
            kiosk.unit,
            kiosk.id,
            self.outbox,
            resend_after=kiosk.resend_after_seconds,
        )
        self.link = link_to(
            settings.bridge,
            on_message=lambda message: self.box.handle(message),
            on_state=lambda state: self.box.link_changed(state),
            retry_every=retry_every,
        )
        self.box = ButtonBox(settings, self.outbox, self.uplink, self.link.send)
        self.uplink.on_acked = self.box.acked
        self.uplink.devices.states["button_box"] = "missing"

    def start(self) -> None:
        self.uplink.start()
        self.box.start()
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        self.box.stop()
        self.uplink.stop()
        self.outbox.close()

    def __enter__(self) -> Bridge:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_bridge(settings: FirmwareBridgeSettings) -> int:
    """Run until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Bridge(settings) as bridge:
        where = settings.bridge.describe()
        log.info(
            "button box bridge for %s (%s) on %s", settings.kiosk.id, settings.kiosk.unit, where
        )
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        log.info(
            "stopping: %d ratings pending, presses ignored %s, bad frames %s",
            bridge.outbox.depth(),
            dict(bridge.box.ignored),
            dict(bridge.link.errors),
        )
    return 0
