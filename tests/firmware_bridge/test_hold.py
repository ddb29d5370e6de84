"""Hold (0x05): a button kept down, which asks for the voice and never rates.

The codec's round trip and refusals at and past every bound; the reference firmware's button
timing (``Buttons`` in firmware/main.py, run under CPython with a clock the test moves): a short
press is one Press on its release, a long one is one Hold and nothing else; the simulator plays
both over a real pty.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.protocol import (
    HOLD_MS,
    MAX_HELD_MS,
    TYPE_HOLD,
    Decoder,
    FrameError,
    Hold,
    Message,
    Press,
    cobs_encode,
    crc16,
    encode,
)
from firmware_bridge.simulator import DeviceSimulator
from tests.firmware_bridge.test_simulator import read_messages

PROPERTY = settings(derandomize=True, max_examples=200, deadline=None)
FIRMWARE = Path(__file__).resolve().parents[2] / "firmware_bridge" / "firmware" / "main.py"


def _frame(payload: bytes, kind: int = TYPE_HOLD) -> bytes:
    body = bytes([1, kind, 0]) + payload
    return cobs_encode(body + crc16(body).to_bytes(2, "big")) + b"\x00"


# --- codec ---------------------------------------------------------------------------------------


@PROPERTY
@given(st.integers(1, 5), st.integers(0, MAX_HELD_MS), st.integers(0, 255))
def test_round_trip(level: int, held_ms: int, seq: int) -> None:
    decoder = Decoder()
    assert decoder.feed(encode(Hold(level, held_ms), seq)) == [Hold(level, held_ms)]
    assert decoder.last_seq == seq
    assert not decoder.errors


@pytest.mark.parametrize(
    ("level", "held_ms"), [(1, 0), (5, 0), (1, MAX_HELD_MS), (5, MAX_HELD_MS), (3, HOLD_MS)]
)
def test_values_at_the_bounds_pass(level: int, held_ms: int) -> None:
    assert Decoder().feed(encode(Hold(level, held_ms))) == [Hold(level, held_ms)]


@pytest.mark.parametrize(
    ("level", "held_ms"),
    [(0, 1500), (6, 1500), (True, 1500), (3, -1), (3, MAX_HELD_MS + 1), (3, False)],
)
def test_values_past_the_bounds_are_refused(level: int, held_ms: int) -> None:
    with pytest.raises(ValueError, match=r"level|held_ms"):
        Hold(level, held_ms)


@pytest.mark.parametrize(
    "payload",
    [
        bytes([0, 0x05, 0xDC]),  # level 0
        bytes([6, 0x05, 0xDC]),  # level 6
        bytes([255, 0xFF, 0xFF]),
        b"",
        bytes([3]),  # a Press's payload under the Hold type
        bytes([3, 0x05]),
        bytes([3, 0x05, 0xDC, 0x00]),
    ],
)
def test_bad_payloads_are_refused_and_the_next_frame_is_read(payload: bytes) -> None:
    decoder = Decoder()
    assert decoder.feed(_frame(payload) + encode(Press(2))) == [FrameError("bad payload"), Press(2)]
    assert decoder.errors == {"bad payload": 1}


@PROPERTY
@given(st.binary(max_size=8).filter(lambda p: len(p) != 3))
def test_any_other_length_is_refused(payload: bytes) -> None:
    assert Decoder().feed(_frame(payload)) == [FrameError("bad payload")]


@PROPERTY
@given(st.integers(0, 255), st.integers(0, MAX_HELD_MS))
def test_every_level_byte_outside_one_to_five_is_refused(level: int, held_ms: int) -> None:
    frame = _frame(bytes([level]) + held_ms.to_bytes(2, "big"))
    expected = Hold(level, held_ms) if 1 <= level <= 5 else FrameError("bad payload")
    assert Decoder().feed(frame) == [expected]


def test_a_host_that_does_not_know_a_type_refuses_it_and_goes_on() -> None:
    """What a host of the version before Hold does with one (checked against that version's
    decoder when Hold was added): "unknown type 0x05", counted, and the next frame is read."""
    decoder = Decoder()
    unknown = _frame(bytes([3, 0x05, 0xDC]), kind=0x06)  # the next free type plays Hold's part
    assert decoder.feed(unknown + encode(Press(4))) == [FrameError("unknown type 0x06"), Press(4)]
    assert decoder.errors == {"unknown type 0x06": 1}
    assert decoder.frames == 1


# --- the firmware's button timing ----------------------------------------------------------------


@pytest.fixture(scope="module")
def firmware() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hailong_pico_firmware_hold", FIRMWARE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pico_ticks_diff(a: int, b: int) -> int:
    """MicroPython's time.ticks_diff: ticks wrap at 2**30 on the RP2040."""
    half = 1 << 29
    return ((a - b + half) & ((1 << 30) - 1)) - half


def _run(
    firmware: ModuleType, pattern: list[tuple[int, int]], start: int = 0, button: int = 2
) -> list[tuple[int, Message]]:
    """Poll every millisecond through ``pattern`` (raw level, for how many ms) on one button;
    the messages the firmware sends, with the millisecond (from the start) each is sent at."""
    buttons = firmware.Buttons(5, _pico_ticks_diff)
    decoder = Decoder()
    out: list[tuple[int, Message]] = []
    t = 0
    for level, duration in [*pattern, (1, 100)]:  # always end with the button up
        for _ in range(duration):
            levels = [1] * 5
            levels[button] = level
            now = (start + t) & ((1 << 30) - 1)
            for kind, payload in buttons.poll(now, levels):
                (message,) = decoder.feed(bytes(firmware.encode_frame(kind, 0, payload)))
                assert not isinstance(message, FrameError)
                out.append((t, message))
            t += 1
    return out


def test_firmware_constants_match(firmware: ModuleType) -> None:
    assert firmware.T_HOLD == TYPE_HOLD
    assert firmware.HOLD_MS == HOLD_MS


def test_a_short_press_is_one_press_sent_on_release(firmware: ModuleType) -> None:
    debounce = firmware.DEBOUNCE_MS
    sent = _run(firmware, [(1, 10), (0, 200)])
    # Sent once the release is debounced: the press's added latency is the press itself + 30 ms.
    assert sent == [(10 + 200 + debounce, Press(3))]


def test_a_long_press_is_one_hold_and_its_release_sends_nothing(firmware: ModuleType) -> None:
    sent = _run(firmware, [(1, 10), (0, 4000)])
    assert sent == [(10 + HOLD_MS, Hold(3, HOLD_MS))]


def test_a_bouncy_press_is_one_press(firmware: ModuleType) -> None:
    bounce = [(0, 2), (1, 3), (0, 1), (1, 2)]
    sent = _run(firmware, [(1, 5), *bounce, (0, 150), *bounce[::-1]])
    assert [message for _, message in sent] == [Press(3)]


def test_a_glitch_shorter_than_the_debounce_sends_nothing(firmware: ModuleType) -> None:
    assert _run(firmware, [(1, 5), (0, firmware.DEBOUNCE_MS - 1), (1, 50)]) == []


def test_the_hold_threshold(firmware: ModuleType) -> None:
    assert [m for _, m in _run(firmware, [(0, HOLD_MS)])] == [Press(3)]
    assert [m for _, m in _run(firmware, [(0, HOLD_MS + 1)])] == [Hold(3, HOLD_MS)]


def test_timing_survives_the_tick_counter_wrapping(firmware: ModuleType) -> None:
    near_wrap = (1 << 30) - 700  # the counter wraps 700 ms into the press
    assert _run(firmware, [(0, 300)], start=near_wrap) == [(330, Press(3))]
    assert _run(firmware, [(0, 2000)], start=near_wrap) == [(HOLD_MS, Hold(3, HOLD_MS))]


@PROPERTY
@given(
    st.lists(
        st.tuples(
            # down, then up, each longer than the debounce (30 ms); the threshold is tested above
            st.integers(31, 3000).filter(lambda d: abs(d - HOLD_MS) > 1),
            st.integers(31, 500),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_every_press_is_a_press_or_a_hold_never_both(
    firmware: ModuleType, presses: list[tuple[int, int]]
) -> None:
    pattern = [step for down, up in presses for step in ((0, down), (1, up))]
    sent = [message for _, message in _run(firmware, pattern)]
    assert sent == [Press(3) if down < HOLD_MS else Hold(3, HOLD_MS) for down, _ in presses]


def test_two_buttons_are_timed_apart(firmware: ModuleType) -> None:
    buttons = firmware.Buttons(5, _pico_ticks_diff)
    kinds: list[tuple[int, int, bytes]] = []
    for t in range(2500):
        levels = [1] * 5
        levels[0] = 0 if t < 2000 else 1  # button 1 held
        levels[4] = 0 if 500 <= t < 700 else 1  # button 5 pressed meanwhile
        kinds += [(t, kind, bytes(payload)) for kind, payload in buttons.poll(t, levels)]
    assert kinds == [
        (730, firmware.T_PRESS, bytes([5])),
        (HOLD_MS, firmware.T_HOLD, bytes([1, HOLD_MS >> 8, HOLD_MS & 0xFF])),
    ]


# --- the simulator over a real pty ----------------------------------------------------------------


@pytest.fixture
def sim() -> Iterator[DeviceSimulator]:
    with DeviceSimulator(heartbeat_seconds=None, announce=False) as device:
        yield device


@pytest.mark.parametrize(
    ("play", "expected"),
    [
        (lambda sim: sim.hold(2), [Hold(2, HOLD_MS)]),
        (lambda sim: sim.hold(5, 2300), [Hold(5, 2300)]),
        (lambda sim: sim.push(4, 200), [Press(4)]),
        (lambda sim: sim.push(4, HOLD_MS - 1), [Press(4)]),
        (lambda sim: sim.push(1, HOLD_MS), [Hold(1, HOLD_MS)]),
        (lambda sim: sim.push(1, 60_000), [Hold(1, HOLD_MS)]),
    ],
    ids=["hold", "hold-held-ms", "short", "just-short", "threshold", "a-minute"],
)
def test_the_simulator_plays_presses_and_holds(
    sim: DeviceSimulator,
    play: Callable[[DeviceSimulator], None],
    expected: list[Message],
) -> None:
    with serial.Serial(sim.port, baudrate=115200, timeout=0.05) as host:
        play(sim)
        assert read_messages(host, Decoder(), len(expected)) == expected
