"""The device simulator on a pty pair, driven through pyserial as the bridge drives a device."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
import serial

from firmware_bridge.protocol import (
    Buzz,
    Decoder,
    DeviceInfo,
    FrameError,
    Heartbeat,
    InfoRequest,
    Light,
    Message,
    Press,
    Scan,
    encode,
)
from firmware_bridge.simulator import DEFAULT_INFO, DeviceSimulator


@pytest.fixture
def sim() -> Iterator[DeviceSimulator]:
    simulator = DeviceSimulator(heartbeat_seconds=None)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def host(sim: DeviceSimulator) -> Iterator[serial.Serial]:
    port = serial.Serial(sim.port, baudrate=115200, timeout=0.05)
    yield port
    port.close()


def read_messages(
    port: serial.Serial, decoder: Decoder, count: int, timeout: float = 5.0
) -> list[Message | FrameError]:
    out: list[Message | FrameError] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        out += decoder.feed(port.read(256))
    return out


def read_until_failure(port: serial.Serial) -> None:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        port.read(1)


def test_port_is_a_stable_symlink_to_the_pty(sim: DeviceSimulator) -> None:
    assert os.path.islink(sim.port)
    assert sim.tty is not None
    assert sim.tty.startswith("/dev/")
    assert os.path.realpath(sim.port) == os.path.realpath(sim.tty)


def test_info_request_is_answered(sim: DeviceSimulator, host: serial.Serial) -> None:
    host.write(encode(InfoRequest(), seq=1))
    assert read_messages(host, Decoder(), 1) == [DEFAULT_INFO]
    assert sim.wait_for(lambda: InfoRequest() in sim.received)


def test_presses_and_scans_reach_the_host(sim: DeviceSimulator, host: serial.Serial) -> None:
    sim.press(1)
    sim.scan("000.00.20.H41-261125-0007")
    sim.press(5)
    decoder = Decoder()
    assert read_messages(host, decoder, 3) == [
        Press(1),
        Scan("000.00.20.H41-261125-0007"),
        Press(5),
    ]
    assert decoder.frames == 3
    assert not decoder.errors


def test_lights_and_buzzes_are_recorded(sim: DeviceSimulator, host: serial.Serial) -> None:
    commands: list[Message] = [Light("accepted"), Buzz(120), Light("buffered")]
    for seq, message in enumerate(commands):
        host.write(encode(message, seq))
    host.flush()
    assert sim.wait_for(lambda: len(sim.lights) == 2)
    assert sim.lights == ["accepted", "buffered"]
    assert sim.buzzes == [120]


def test_commands_split_across_writes(sim: DeviceSimulator, host: serial.Serial) -> None:
    frame = encode(Light("fault"), 9)
    for i in range(len(frame)):
        host.write(frame[i : i + 1])
        host.flush()
    assert sim.wait_for(lambda: sim.lights == ["fault"])


def test_garbage_from_the_device_is_counted_not_decoded(
    sim: DeviceSimulator, host: serial.Serial
) -> None:
    sim.send_raw(b"\x00\xde\xad\xbe\xef\x00")  # random bytes between delimiters
    sim.send_raw(encode(Press(3))[:-1][:4] + b"\x00")  # a truncated frame
    sim.send_raw(b"\x01" * 1000 + b"\x00")  # oversized: no delimiter for far too long
    sim.press(4)
    decoder = Decoder()
    out = read_messages(host, decoder, 4)
    assert out[-1] == Press(4)
    assert [m for m in out if not isinstance(m, FrameError)] == [Press(4)]
    assert decoder.errors["oversized"] == 1
    assert sum(decoder.errors.values()) == 3


def test_garbage_from_the_host_is_counted(sim: DeviceSimulator, host: serial.Serial) -> None:
    host.write(b"\x07\x01\x82\x00" + encode(Light("idle")))
    assert sim.wait_for(lambda: sim.lights == ["idle"])
    assert sum(sim.decoder.errors.values()) == 1


def test_heartbeats() -> None:
    with DeviceSimulator(heartbeat_seconds=0.1) as sim:
        port = serial.Serial(sim.port, timeout=0.05)
        try:
            out = read_messages(port, Decoder(), 3)
        finally:
            port.close()
    beats = [m for m in out if isinstance(m, Heartbeat)]
    assert len(beats) >= 3
    assert beats == sorted(beats, key=lambda b: b.uptime_ms)


def test_device_info_announced_on_boot_to_an_open_port() -> None:
    sim = DeviceSimulator(heartbeat_seconds=None, announce=False)
    sim.start()
    try:
        port = serial.Serial(sim.port, timeout=0.05)
        sim.send(DeviceInfo("hl-pico", "1.0.0", 5))
        assert read_messages(port, Decoder(), 1) == [DeviceInfo("hl-pico", "1.0.0", 5)]
        port.close()
    finally:
        sim.stop()


def test_unplug_fails_the_host_and_replug_keeps_the_path(
    sim: DeviceSimulator, host: serial.Serial
) -> None:
    assert sim.tty is not None
    sim.unplug()
    assert not sim.plugged
    assert not os.path.lexists(sim.port)
    with pytest.raises(serial.SerialException):
        read_until_failure(host)
    host.close()
    with pytest.raises(serial.SerialException):
        serial.Serial(sim.port, timeout=0.05)

    sim.replug()
    assert sim.plugged
    assert sim.tty is not None  # /dev/pts/N: N may differ from first_tty's
    assert os.path.realpath(sim.port) == os.path.realpath(sim.tty)
    again = serial.Serial(sim.port, timeout=0.05)
    try:
        again.write(encode(InfoRequest()))
        assert read_messages(again, Decoder(), 1) == [DEFAULT_INFO]
        sim.press(2)
        assert read_messages(again, Decoder(), 1) == [Press(2)]
    finally:
        again.close()


def test_stop_removes_the_link() -> None:
    sim = DeviceSimulator(heartbeat_seconds=None).start()
    path = sim.port
    sim.stop()
    assert not os.path.lexists(path)
    assert not os.path.exists(os.path.dirname(path))


def test_host_not_reading_does_not_block_the_device() -> None:
    with DeviceSimulator(heartbeat_seconds=None) as sim:
        started = time.monotonic()
        for _ in range(2000):
            sim.scan("x" * 200)
        assert time.monotonic() - started < 10
        assert sim.dropped_bytes > 0
