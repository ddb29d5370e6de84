"""The serial codec: examples, round trips, corruption, garbage and a short fuzz run."""

from __future__ import annotations

import importlib.util
import itertools
import random
import time
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge.protocol import (
    LIGHT_STATES,
    MAX_FRAME,
    PROTOCOL_VERSION,
    Buzz,
    Decoder,
    DeviceInfo,
    FrameError,
    Heartbeat,
    Hold,
    InfoRequest,
    Light,
    Message,
    Press,
    Scan,
    cobs_decode,
    cobs_encode,
    crc16,
    encode,
    max_encoded_len,
)

# Derandomised: the corruption properties hold except with probability ~2**-16 per case (a
# CRC-16 cannot catch everything a moved COBS code byte does), so every run checks the same cases.
PROPERTY = settings(derandomize=True, max_examples=300, deadline=None)


def _utf8_text(max_bytes: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8"), max_size=max_bytes).filter(
        lambda t: len(t.encode("utf-8")) <= max_bytes
    )


messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(Press, st.integers(1, 5)),
    st.builds(Scan, _utf8_text(200)),
    st.builds(Heartbeat, st.integers(0, 2**32 - 1)),
    st.builds(DeviceInfo, _utf8_text(100), _utf8_text(100), st.integers(0, 255)),
    st.builds(Hold, st.integers(1, 5), st.integers(0, 0xFFFF)),
    st.just(InfoRequest()),
    st.builds(Light, st.sampled_from(LIGHT_STATES)),
    st.builds(Buzz, st.integers(0, 2000)),
)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _feed_all(decoder: Decoder, chunks: list[bytes]) -> list[Message | FrameError]:
    out: list[Message | FrameError] = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    return out


# --- examples ---------------------------------------------------------------------------------


def test_crc_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (b"", b"\x01"),
        (b"\x00", b"\x01\x01"),
        (b"\x00\x00", b"\x01\x01\x01"),
        (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
        (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
        (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255)) + b"\x01"),
        (bytes(range(0, 255)), b"\x01\xff" + bytes(range(1, 255)) + b"\x01"),
    ],
)
def test_cobs_examples(raw: bytes, encoded: bytes) -> None:
    # Wikipedia's examples (without the delimiter).
    assert cobs_encode(raw) == encoded
    assert cobs_decode(encoded) == raw


@pytest.mark.parametrize(
    ("message", "seq", "frame_hex"),
    [
        (Press(3), 7, "07 01 01 07 03 6c b0 00"),
        (Scan("HL-1"), 0, "03 01 02 07 48 4c 2d 31 17 b4 00"),
        (Heartbeat(123456), 7, "04 01 03 07 06 01 e2 40 e9 bf 00"),
        (Hold(3, 1500), 7, "09 01 05 07 03 05 dc 95 9e 00"),
        (InfoRequest(), 7, "06 01 81 07 a3 e2 00"),
        (Light("accepted"), 7, "07 01 82 07 01 2e f8 00"),
        (Buzz(150), 7, "04 01 83 07 04 96 9b 56 00"),
        (
            DeviceInfo("hl-pico", "1.0.0", 5),
            7,
            "15 01 04 07 05 07 68 6c 2d 70 69 63 6f 05 31 2e 30 2e 30 bc b2 00",
        ),
    ],
)
def test_documented_frames(message: Message, seq: int, frame_hex: str) -> None:
    """The hex examples in docs/serial-protocol.md."""
    frame = bytes.fromhex(frame_hex)
    assert encode(message, seq) == frame
    decoder = Decoder()
    assert decoder.feed(frame) == [message]
    assert decoder.frames == 1
    assert decoder.last_seq == seq
    assert not decoder.errors


def test_frame_layout() -> None:
    frame = encode(Scan("000.00.20.H41-261125-0007"), seq=200)
    assert frame.endswith(b"\x00")
    assert b"\x00" not in frame[:-1]
    body = cobs_decode(frame[:-1])
    assert body[0] == PROTOCOL_VERSION
    assert body[1] == 0x02
    assert body[2] == 200
    assert body[3:-2] == b"000.00.20.H41-261125-0007"
    assert int.from_bytes(body[-2:], "big") == crc16(body[:-2])


@pytest.mark.parametrize(
    "build",
    [
        lambda: Press(0),
        lambda: Press(6),
        lambda: Press(True),
        lambda: Scan("x" * 201),
        lambda: Scan("\ud800"),
        lambda: Heartbeat(-1),
        lambda: Heartbeat(2**32),
        lambda: DeviceInfo("m" * 101, "1", 5),
        lambda: DeviceInfo("m", "1", 256),
        lambda: Light("green"),
        lambda: Buzz(2001),
        lambda: Buzz(-1),
    ],
)
def test_invalid_messages_are_refused(build: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        build()  # type: ignore[operator]


@pytest.mark.parametrize("seq", [-1, 256])
def test_seq_range(seq: int) -> None:
    with pytest.raises(ValueError, match="seq"):
        encode(Press(1), seq)


def _frame(body: bytes) -> bytes:
    return cobs_encode(body + crc16(body).to_bytes(2, "big")) + b"\x00"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (_frame(bytes([2, 0x01, 0, 3])), "bad version 2"),
        (_frame(bytes([1, 0x7F, 0, 3])), "unknown type 0x7f"),
        (_frame(bytes([1, 0x01, 0, 9])), "bad payload"),
        (_frame(bytes([1, 0x01, 0, 3, 3])), "bad payload"),
        (_frame(bytes([1, 0x02, 0]) + b"\xff\xfe"), "bad payload"),
        (_frame(bytes([1, 0x02, 0]) + b"x" * 201), "bad payload"),
        (_frame(bytes([1, 0x04, 0, 5, 3]) + b"ab"), "bad payload"),
        (_frame(bytes([1, 0x82, 0, 4])), "bad payload"),
        (_frame(bytes([1, 0x83, 0, 0x07, 0xD1])), "bad payload"),
        (_frame(bytes([1, 0x81, 0, 0])), "bad payload"),
        (b"\x05\x01\x01\x03\x00", "bad cobs"),
        (b"\x09\x01\x01\x00", "bad cobs"),
        (b"\x03\x01\x01\x00", "truncated"),
        (b"\x05\x01\x01\x07\x03\x00", "truncated"),
        (encode(Press(3))[:-2] + b"\x01\x00", "bad crc"),
    ],
)
def test_bad_frames_are_counted(frame: bytes, reason: str) -> None:
    decoder = Decoder()
    assert decoder.feed(frame + encode(Press(4))) == [FrameError(reason), Press(4)]
    assert decoder.errors == {reason: 1}
    assert decoder.frames == 1


def test_empty_frames_are_skipped() -> None:
    decoder = Decoder()
    assert decoder.feed(b"\x00\x00" + encode(Press(1)) + b"\x00") == [Press(1)]
    assert not decoder.errors


def test_oversized_input_is_dropped_to_the_next_delimiter_and_counted_once() -> None:
    decoder = Decoder()
    out: list[Message | FrameError] = []
    for _ in range(100):  # 100 KB without a delimiter
        out += decoder.feed(b"\x01" * 1000)
        assert decoder.buffered <= max_encoded_len(MAX_FRAME)
    out += decoder.feed(b"\x01\x02\x00" + encode(Press(2)))
    assert out == [FrameError("oversized"), Press(2)]
    assert decoder.errors == {"oversized": 1}


def test_oversized_decoded_frame() -> None:
    decoder = Decoder(max_frame=16)
    assert decoder.feed(encode(Scan("x" * 12))) == [FrameError("oversized")]
    assert decoder.feed(encode(Scan("x" * 11))) == [Scan("x" * 11)]


def test_largest_messages_fit() -> None:
    for message in (Scan("ệ" * 66), DeviceInfo("m" * 100, "f" * 100, 255)):
        frame = encode(message)
        assert len(cobs_decode(frame[:-1])) <= MAX_FRAME
        assert Decoder().feed(frame) == [message]


def test_errors_accumulate() -> None:
    decoder = Decoder()
    for _ in range(3):
        decoder.feed(b"\x05\x01\x00")
    decoder.feed(encode(Press(1)) + encode(Press(2)))
    assert decoder.errors["bad cobs"] == 3
    assert decoder.frames == 2


# --- properties -------------------------------------------------------------------------------


@PROPERTY
@given(
    st.lists(st.tuples(messages, st.integers(0, 255)), min_size=1, max_size=8),
    st.lists(st.integers(0, 10_000), max_size=20),
)
def test_messages_round_trip_in_any_chunking(
    batch: list[tuple[Message, int]], cuts: list[int]
) -> None:
    stream = b"".join(encode(m, seq) for m, seq in batch)
    decoder = Decoder()
    assert _feed_all(decoder, _chunks(stream, cuts)) == [m for m, _ in batch]
    assert decoder.frames == len(batch)
    assert not decoder.errors
    assert decoder.last_seq == batch[-1][1]


@PROPERTY
@given(messages, st.integers(0, 255), st.data())
def test_every_single_byte_corruption_is_detected(
    message: Message, seq: int, data: st.DataObject
) -> None:
    frame = encode(message, seq)
    position = data.draw(st.integers(0, len(frame) - 2), label="position")  # not the delimiter
    value = data.draw(st.integers(0, 255).filter(lambda v: v != frame[position]), label="value")
    corrupted = frame[:position] + bytes([value]) + frame[position + 1 :]
    decoder = Decoder()
    out = decoder.feed(corrupted)
    assert out, "a corrupted frame must be reported"
    assert all(isinstance(item, FrameError) for item in out)
    assert decoder.frames == 0
    assert sum(decoder.errors.values()) == len(out)
    # The decoder is back in step: the next frame comes through.
    assert decoder.feed(encode(Press(5))) == [Press(5)]


@PROPERTY
@given(messages, st.integers(0, 255), st.data())
def test_every_truncation_is_detected(message: Message, seq: int, data: st.DataObject) -> None:
    frame = encode(message, seq)
    keep = data.draw(st.integers(1, len(frame) - 2), label="keep")  # some bytes, not all
    decoder = Decoder()
    assert decoder.feed(frame[:keep]) == []  # no delimiter yet: nothing completes
    out = decoder.feed(b"\x00")
    assert len(out) == 1
    assert isinstance(out[0], FrameError)
    assert decoder.frames == 0


@PROPERTY
@given(messages, st.integers(0, 255), st.integers(1, 50))
def test_a_frame_cut_short_by_the_next_one_is_detected(
    message: Message, seq: int, drop: int
) -> None:
    """A lost tail (the device reset mid-frame) swallows nothing after it but that frame."""
    frame = encode(message, seq)
    head = frame[: max(1, len(frame) - 1 - drop)]
    decoder = Decoder()
    out = decoder.feed(head + encode(Press(1)) + encode(Press(2)))
    assert out[-1] == Press(2)
    assert all(isinstance(item, FrameError) for item in out[:-1])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.lists(st.integers(0, 10_000), max_size=10))
def test_random_bytes_never_raise_nor_invent_messages(data: bytes, cuts: list[int]) -> None:
    decoder = Decoder()
    out = _feed_all(decoder, _chunks(data, cuts))
    messages_out = [item for item in out if not isinstance(item, FrameError)]
    assert len(messages_out) <= data.count(0)
    assert len(out) <= data.count(0) + 1 + len(data) // max_encoded_len()
    assert decoder.frames == len(messages_out)
    assert sum(decoder.errors.values()) == len(out) - len(messages_out)
    assert decoder.buffered <= max_encoded_len()


def test_fuzz_run_of_the_decoder() -> None:
    """10,000 seeded inputs: garbage, mutated frames and frames amid garbage; under 10 s."""
    rng = random.Random(20261202)
    valid: list[Message] = [
        Press(1),
        Press(5),
        Scan("000.00.20.H41-261125-0007"),
        Heartbeat(4_000_000_000),
        DeviceInfo("hl-pico", "1.0.0", 5),
        InfoRequest(),
        Light("fault"),
        Buzz(2000),
    ]
    decoder = Decoder()
    started = time.monotonic()
    delimiters = 0
    good = 0
    for i in range(10_000):
        kind = i % 4
        if kind == 0:
            data = rng.randbytes(rng.randrange(0, 600))
        elif kind == 1:
            frame = bytearray(encode(rng.choice(valid), rng.randrange(256)))
            for _ in range(rng.randrange(1, 4)):
                frame[rng.randrange(len(frame))] = rng.randrange(256)
            data = bytes(frame)
        elif kind == 2:
            cut = encode(rng.choice(valid))
            data = cut[: rng.randrange(len(cut))] + rng.randbytes(rng.randrange(0, 40))
        else:
            message = rng.choice(valid)
            data = b"\x00" + encode(message)
            good += 1
        delimiters += data.count(0)
        pos = 0
        while pos < len(data):
            step = rng.randrange(1, 64)
            for item in decoder.feed(data[pos : pos + step]):
                assert isinstance(item, (FrameError, *valid_types))
            pos += step
        assert decoder.buffered <= max_encoded_len()
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"fuzz run took {elapsed:.1f} s"
    assert decoder.frames <= delimiters
    assert decoder.frames >= good // 2  # the clean frames mostly survive the garbage before them
    assert sum(decoder.errors.values()) > 0


valid_types = (Press, Scan, Heartbeat, DeviceInfo, Hold, InfoRequest, Light, Buzz)


# --- the reference firmware's codec is the same logic -------------------------------------------

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware_bridge" / "firmware" / "main.py"


@pytest.fixture(scope="module")
def firmware() -> ModuleType:
    """firmware/main.py under CPython: its codec touches no hardware (main() is not run)."""
    spec = importlib.util.spec_from_file_location("hailong_pico_firmware", FIRMWARE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _device_frame(firmware: ModuleType, message: Message, seq: int) -> bytes:
    fw = firmware
    if isinstance(message, Press):
        return bytes(fw.encode_frame(fw.T_PRESS, seq, fw.press_payload(message.level)))
    if isinstance(message, Scan):
        return bytes(fw.encode_frame(fw.T_SCAN, seq, fw.scan_payload(message.text)))
    if isinstance(message, Heartbeat):
        payload = fw.heartbeat_payload(message.uptime_ms)
        return bytes(fw.encode_frame(fw.T_HEARTBEAT, seq, payload))
    if isinstance(message, Hold):
        payload = fw.hold_payload(message.level, message.held_ms)
        return bytes(fw.encode_frame(fw.T_HOLD, seq, payload))
    assert isinstance(message, DeviceInfo)
    payload = fw.device_info_payload(message.model, message.firmware, message.buttons)
    return bytes(fw.encode_frame(fw.T_DEVICE_INFO, seq, payload))


def test_firmware_constants_match(firmware: ModuleType) -> None:
    assert firmware.crc16(b"123456789") == 0x29B1
    assert firmware.PROTOCOL_VERSION == PROTOCOL_VERSION
    assert firmware.MAX_FRAME == MAX_FRAME
    assert firmware.LIGHT_STATES == LIGHT_STATES
    assert firmware.max_encoded_len() == max_encoded_len()


device_messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(Press, st.integers(1, 5)),
    st.builds(Scan, _utf8_text(200)),
    st.builds(Heartbeat, st.integers(0, 2**32 - 1)),
    st.builds(DeviceInfo, _utf8_text(100), _utf8_text(100), st.integers(0, 255)),
    st.builds(Hold, st.integers(1, 5), st.integers(0, 0xFFFF)),
)


@PROPERTY
@given(device_messages, st.integers(0, 255))
def test_firmware_frames_equal_the_hosts(firmware: ModuleType, message: Message, seq: int) -> None:
    assert _device_frame(firmware, message, seq) == encode(message, seq)


def _firmware_command(message: Message) -> tuple[object, ...]:
    if isinstance(message, Light):
        return ("light", message.state)
    if isinstance(message, Buzz):
        return ("buzz", message.ms)
    assert isinstance(message, InfoRequest)
    return ("info",)


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.just(InfoRequest()),
                st.builds(Light, st.sampled_from(LIGHT_STATES)),
                st.builds(Buzz, st.integers(0, 2000)),
            ),
            st.integers(0, 255),
        ),
        max_size=6,
    )
)
def test_firmware_reads_host_commands(
    firmware: ModuleType, commands: list[tuple[Message, int]]
) -> None:
    reader = firmware.FrameReader()
    frames = reader.feed(b"".join(encode(m, seq) for m, seq in commands))
    expected = [_firmware_command(m) for m, _ in commands]
    assert [firmware.parse_command(kind, payload) for kind, _, payload in frames] == expected
    assert [seq for _, seq, _ in frames] == [seq for _, seq in commands]
    assert reader.errors == {}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=300), st.sampled_from([b"\x00"])), max_size=12))
def test_firmware_reader_counts_what_the_decoder_counts(
    firmware: ModuleType, pieces: list[bytes]
) -> None:
    data = b"".join(pieces)
    reader = firmware.FrameReader()
    decoder = Decoder()
    frames = reader.feed(data)
    decoder.feed(data)
    payload_level = {
        r: n
        for r, n in decoder.errors.items()
        if r == "bad payload" or r.startswith("unknown type")
    }
    framing = {r: n for r, n in decoder.errors.items() if r not in payload_level}
    assert reader.errors == framing
    assert len(frames) == reader.frames == decoder.frames + sum(payload_level.values())
