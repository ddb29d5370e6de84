"""Finding a button box by its USB vendor and product id.

Which USB devices are plugged in is hardware the test machine does not have, so
``serial.tools.list_ports.comports`` is replaced by a fake listing real ``ListPortInfo`` objects
(the type pyserial returns); in the last test the matching entry points at a simulated device's
real pty, so the link opens and talks to it through the id lookup.
"""

from __future__ import annotations

import time

import pytest
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from firmware_bridge.protocol import InfoRequest, Message, Press
from firmware_bridge.serial_port import find_port, link_to
from firmware_bridge.simulator import DeviceSimulator
from hailong.settings import SerialDevice

PICO = (0x2E8A, 0x000A)


def port_info(device: str, vid: int | None, pid: int | None) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid = vid, pid
    return info


def fake_ports(monkeypatch: pytest.MonkeyPatch, *ports: ListPortInfo) -> None:
    monkeypatch.setattr(list_ports, "comports", lambda *_args, **_kw: list(ports))


def test_the_first_port_with_both_ids_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_ports(
        monkeypatch,
        port_info("/dev/ttyS0", None, None),  # a built-in UART: no USB ids
        port_info("/dev/ttyUSB0", 0x0403, 0x6001),  # another vendor's adapter
        port_info("/dev/ttyACM1", PICO[0], 0x0005),  # same vendor, other product
        port_info("/dev/ttyACM2", *PICO),
        port_info("/dev/ttyACM3", *PICO),
    )
    assert find_port(*PICO) == "/dev/ttyACM2"


def test_no_matching_port_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_ports(monkeypatch, port_info("/dev/ttyUSB0", 0x0403, 0x6001))
    assert find_port(*PICO) is None
    fake_ports(monkeypatch)
    assert find_port(*PICO) is None


def test_a_link_configured_by_usb_ids_finds_and_reads_the_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[Message] = []
    with DeviceSimulator(heartbeat_seconds=0.2) as sim:
        assert sim.tty is not None
        fake_ports(monkeypatch, port_info("/dev/ttyS0", None, None), port_info(sim.tty, *PICO))
        device = SerialDevice(vendor_id=PICO[0], product_id=PICO[1])
        link = link_to(device, on_message=received.append, retry_every=0.1)
        link.start()
        try:
            assert sim.wait_for(lambda: InfoRequest() in sim.received)
            sim.press(3)
            deadline = time.monotonic() + 5
            while Press(3) not in received and time.monotonic() < deadline:
                time.sleep(0.02)
            assert Press(3) in received
            assert link.state == "connected"
        finally:
            link.stop()
