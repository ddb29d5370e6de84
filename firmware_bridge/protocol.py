"""The serial protocol between a button box and the host (docs/serial-protocol.md). Pure: no I/O.

A frame on the wire is ``COBS([version][type][seq][payload…][crc16 BE]) + b"\\x00"``; the CRC is
CRC-16/CCITT-FALSE over version..payload. :func:`encode` builds one frame, :class:`Decoder` takes
bytes in any chunking and returns the messages (and the errors) of the frames they complete. Bad
input (random bytes, truncated frames, bad checksums, oversized frames) becomes a counted
:class:`FrameError`, never an exception and never an invented message.

``firmware_bridge/firmware/main.py`` carries the same logic for MicroPython: keep both in step.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Final, TypeAlias

PROTOCOL_VERSION: Final = 1
MAX_FRAME: Final = 256  # bytes of a decoded frame (version..crc), at most

HEADER_LEN: Final = 3  # version, type, seq
CRC_LEN: Final = 2
MIN_FRAME: Final = HEADER_LEN + CRC_LEN

MAX_SCAN_BYTES: Final = 200
MAX_INFO_TEXT_BYTES: Final = 100  # model and firmware, each
MAX_BUZZ_MS: Final = 2000
MAX_HELD_MS: Final = 0xFFFF  # Hold's held_ms is a u16
# How long the reference firmware waits before a button counts as held (Hold, not Press). The
# host does not depend on it: a Hold is a hold whatever its held_ms; the simulator plays it.
HOLD_MS: Final = 1500
LEVELS: Final = range(1, 6)  # SIPAS: 1 very dissatisfied … 5 very satisfied

# Message types: device → host below 0x80, host → device from 0x80.
TYPE_PRESS: Final = 0x01
TYPE_SCAN: Final = 0x02
TYPE_HEARTBEAT: Final = 0x03
TYPE_DEVICE_INFO: Final = 0x04
TYPE_HOLD: Final = 0x05
TYPE_INFO_REQUEST: Final = 0x81
TYPE_LIGHT: Final = 0x82
TYPE_BUZZ: Final = 0x83

LIGHT_STATES: Final = ("idle", "accepted", "buffered", "fault")  # wire code = index


class FrameError(Exception):
    """A frame that could not be decoded; ``reason`` is short and used as a counter key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrameError) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(("FrameError", self.reason))

    def __repr__(self) -> str:
        return f"FrameError({self.reason!r})"


def _utf8_len(text: str, limit: int, what: str) -> bytes:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise ValueError(f"{what}: not encodable as UTF-8") from exc
    if len(raw) > limit:
        raise ValueError(f"{what}: {len(raw)} bytes of UTF-8, at most {limit}")
    return raw


@dataclass(frozen=True)
class Press:
    """Device → host: a rating button was pressed (1 very dissatisfied … 5 very satisfied)."""

    level: int

    def __post_init__(self) -> None:
        if isinstance(self.level, bool) or self.level not in LEVELS:
            raise ValueError(f"level must be 1..5, not {self.level!r}")


@dataclass(frozen=True)
class Scan:
    """Device → host: a scanned code (UTF-8, at most 200 bytes)."""

    text: str

    def __post_init__(self) -> None:
        _utf8_len(self.text, MAX_SCAN_BYTES, "scan")


@dataclass(frozen=True)
class Heartbeat:
    """Device → host: still alive; milliseconds since boot (u32, wraps)."""

    uptime_ms: int

    def __post_init__(self) -> None:
        if isinstance(self.uptime_ms, bool) or not 0 <= self.uptime_ms <= 0xFFFFFFFF:
            raise ValueError(f"uptime_ms must be 0..2**32-1, not {self.uptime_ms!r}")


@dataclass(frozen=True)
class DeviceInfo:
    """Device → host, on boot and on request: what the device is."""

    model: str
    firmware: str
    buttons: int

    def __post_init__(self) -> None:
        _utf8_len(self.model, MAX_INFO_TEXT_BYTES, "model")
        _utf8_len(self.firmware, MAX_INFO_TEXT_BYTES, "firmware")
        if isinstance(self.buttons, bool) or not 0 <= self.buttons <= 255:
            raise ValueError(f"buttons must be 0..255, not {self.buttons!r}")


@dataclass(frozen=True)
class Hold:
    """Device → host: a rating button held down (``held_ms`` when it was sent); it never rates.

    A citizen's "read this to me" on a box without a ♪: the firmware sends it instead of Press
    when a button stays down for HOLD_MS, and nothing when that button is released.
    """

    level: int
    held_ms: int

    def __post_init__(self) -> None:
        if isinstance(self.level, bool) or self.level not in LEVELS:
            raise ValueError(f"level must be 1..5, not {self.level!r}")
        if isinstance(self.held_ms, bool) or not 0 <= self.held_ms <= MAX_HELD_MS:
            raise ValueError(f"held_ms must be 0..{MAX_HELD_MS}, not {self.held_ms!r}")


@dataclass(frozen=True)
class InfoRequest:
    """Host → device: please send DeviceInfo."""


@dataclass(frozen=True)
class Light:
    """Host → device: show a state ("idle", "accepted", "buffered" or "fault")."""

    state: str

    def __post_init__(self) -> None:
        if self.state not in LIGHT_STATES:
            raise ValueError(f"light state must be one of {LIGHT_STATES}, not {self.state!r}")


@dataclass(frozen=True)
class Buzz:
    """Host → device: sound the buzzer for ``ms`` milliseconds (0..2000)."""

    ms: int

    def __post_init__(self) -> None:
        if isinstance(self.ms, bool) or not 0 <= self.ms <= MAX_BUZZ_MS:
            raise ValueError(f"buzz ms must be 0..{MAX_BUZZ_MS}, not {self.ms!r}")


Message: TypeAlias = Press | Scan | Heartbeat | DeviceInfo | Hold | InfoRequest | Light | Buzz


# --- CRC-16/CCITT-FALSE and COBS ---------------------------------------------------------------


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, no final xor (check 0x29B1)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result holds no 0x00 (the delimiter is not added)."""
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Undo :func:`cobs_encode`; raises ``FrameError("bad cobs")`` on malformed input."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            raise FrameError("bad cobs")
        block = data[i + 1 : i + code]
        if 0 in block:
            raise FrameError("bad cobs")
        out += block
        i += code
        if code < 255 and i < n:
            out.append(0)
    return bytes(out)


# --- encoding ------------------------------------------------------------------------------------


def _payload(message: Message) -> tuple[int, bytes]:
    if isinstance(message, Press):
        return TYPE_PRESS, bytes([message.level])
    if isinstance(message, Scan):
        return TYPE_SCAN, message.text.encode("utf-8")
    if isinstance(message, Heartbeat):
        return TYPE_HEARTBEAT, message.uptime_ms.to_bytes(4, "big")
    if isinstance(message, DeviceInfo):
        model = message.model.encode("utf-8")
        firmware = message.firmware.encode("utf-8")
        return TYPE_DEVICE_INFO, (
            bytes([message.buttons, len(model)]) + model + bytes([len(firmware)]) + firmware
        )
    if isinstance(message, Hold):
        return TYPE_HOLD, bytes([message.level]) + message.held_ms.to_bytes(2, "big")
    if isinstance(message, InfoRequest):
        return TYPE_INFO_REQUEST, b""
    if isinstance(message, Light):
        return TYPE_LIGHT, bytes([LIGHT_STATES.index(message.state)])
    if isinstance(message, Buzz):
        return TYPE_BUZZ, message.ms.to_bytes(2, "big")
    raise TypeError(f"not a protocol message: {message!r}")


def encode(message: Message, seq: int = 0) -> bytes:
    """One complete frame for ``message``, including the trailing 0x00 delimiter."""
    if isinstance(seq, bool) or not 0 <= seq <= 255:
        raise ValueError(f"seq must be 0..255, not {seq!r}")
    kind, payload = _payload(message)
    body = bytes([PROTOCOL_VERSION, kind, seq]) + payload
    return cobs_encode(body + crc16(body).to_bytes(2, "big")) + b"\x00"


# --- decoding ------------------------------------------------------------------------------------


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("bad payload") from None


def _message(kind: int, payload: bytes) -> Message:
    """The message of a frame whose CRC and version are good; FrameError if the payload is not."""
    n = len(payload)
    try:
        if kind == TYPE_PRESS and n == 1:
            return Press(payload[0])
        if kind == TYPE_SCAN:
            return Scan(_text(payload))
        if kind == TYPE_HEARTBEAT and n == 4:
            return Heartbeat(int.from_bytes(payload, "big"))
        if kind == TYPE_DEVICE_INFO and n >= 3:
            model_len = payload[1]
            model_end = 2 + model_len
            if model_end < n:
                firmware_len = payload[model_end]
                if model_end + 1 + firmware_len == n:
                    return DeviceInfo(
                        model=_text(payload[2:model_end]),
                        firmware=_text(payload[model_end + 1 :]),
                        buttons=payload[0],
                    )
        if kind == TYPE_HOLD and n == 3:
            return Hold(payload[0], int.from_bytes(payload[1:], "big"))
        if kind == TYPE_INFO_REQUEST and n == 0:
            return InfoRequest()
        if kind == TYPE_LIGHT and n == 1 and payload[0] < len(LIGHT_STATES):
            return Light(LIGHT_STATES[payload[0]])
        if kind == TYPE_BUZZ and n == 2:
            return Buzz(int.from_bytes(payload, "big"))
    except ValueError:  # out of range (a level of 9, a scan over 200 bytes, …)
        raise FrameError("bad payload") from None
    if kind not in _KNOWN_TYPES:
        raise FrameError(f"unknown type 0x{kind:02x}")
    raise FrameError("bad payload")


_KNOWN_TYPES: Final = frozenset(
    {
        TYPE_PRESS,
        TYPE_SCAN,
        TYPE_HEARTBEAT,
        TYPE_DEVICE_INFO,
        TYPE_HOLD,
        TYPE_INFO_REQUEST,
        TYPE_LIGHT,
        TYPE_BUZZ,
    }
)


def decode_frame(encoded: bytes, max_frame: int = MAX_FRAME) -> tuple[int, Message]:
    """``(seq, message)`` of one COBS-encoded frame (without its delimiter); raises FrameError."""
    body = cobs_decode(encoded)
    if len(body) > max_frame:
        raise FrameError("oversized")
    if len(body) < MIN_FRAME:
        raise FrameError("truncated")
    if crc16(body[:-CRC_LEN]) != int.from_bytes(body[-CRC_LEN:], "big"):
        raise FrameError("bad crc")
    version, kind, seq = body[0], body[1], body[2]
    if version != PROTOCOL_VERSION:
        raise FrameError(f"bad version {version}")
    return seq, _message(kind, body[HEADER_LEN:-CRC_LEN])


def max_encoded_len(max_frame: int = MAX_FRAME) -> int:
    """The longest COBS encoding of a decoded frame of ``max_frame`` bytes (delimiter excluded)."""
    return max_frame + max_frame // 254 + 1


class Decoder:
    """Streaming decoder: feed bytes in any chunking, get back what the bytes completed.

    Empty frames (0x00 0x00) are skipped silently: a sender may start with 0x00 to resynchronise.
    Input longer than a frame can be without a delimiter is dropped up to the next 0x00 and
    counted once as "oversized", so memory stays bounded whatever arrives.
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        if max_frame < MIN_FRAME:
            raise ValueError(f"max_frame must be at least {MIN_FRAME}")
        self.max_frame = max_frame
        self._limit = max_encoded_len(max_frame)
        self._buffer = bytearray()
        self._discarding = False
        self.errors: collections.Counter[str] = collections.Counter()
        self.frames = 0
        self.last_seq: int | None = None  # seq of the last good frame

    def feed(self, data: bytes) -> list[Message | FrameError]:
        out: list[Message | FrameError] = []
        view = bytes(data)
        start = 0
        while True:
            end = view.find(0, start)
            chunk = view[start:] if end < 0 else view[start:end]
            if not self._discarding:
                if len(self._buffer) + len(chunk) > self._limit:
                    self._buffer.clear()
                    self._discarding = True
                    out.append(self._error(FrameError("oversized")))
                else:
                    self._buffer += chunk
            if end < 0:
                return out
            start = end + 1
            if self._discarding:
                self._discarding = False
                continue
            frame = bytes(self._buffer)
            self._buffer.clear()
            if frame:
                out.append(self._decode(frame))

    def _decode(self, frame: bytes) -> Message | FrameError:
        try:
            seq, message = decode_frame(frame, self.max_frame)
        except FrameError as exc:
            return self._error(exc)
        self.frames += 1
        self.last_seq = seq
        return message

    def _error(self, error: FrameError) -> FrameError:
        self.errors[error.reason] += 1
        return error

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame held (at most the longest encoded frame)."""
        return len(self._buffer)
