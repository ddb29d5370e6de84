"""Hài Lòng button box: reference MicroPython firmware for a Raspberry Pi Pico (RP2040).

Copy this file to the Pico as ``main.py`` (``mpremote cp main.py :main.py``). It speaks the serial
protocol of docs/serial-protocol.md over the USB CDC port (``sys.stdin``/``sys.stdout``):

* device → host: Press (buttons GP2–GP6 = levels 1–5, sent on release), Hold (a button kept
  down for HOLD_MS: "read this to me", never a rating), Scan (a UART scanner on UART1),
  Heartbeat (every 5 s), DeviceInfo (on boot and on InfoRequest);
* host → device: InfoRequest, Light (a WS2812 on GP16, or three LEDs), Buzz (a buzzer on GP18).

Wiring: README.md next to this file. The codec below (CRC-16/CCITT-FALSE, COBS, frame layout) is
the same logic as ``firmware_bridge/protocol.py``, kept self-contained because MicroPython has no
dataclasses; ``tests/firmware_bridge/test_protocol.py`` runs it under CPython against that module.
Nothing here touches the hardware until :func:`main` runs.
"""

import sys

PROTOCOL_VERSION = 1
MAX_FRAME = 256
MODEL = "hailong-pico"
FIRMWARE = "1.1.0"
BUTTONS = 5

T_PRESS = 0x01
T_SCAN = 0x02
T_HEARTBEAT = 0x03
T_DEVICE_INFO = 0x04
T_HOLD = 0x05
T_INFO_REQUEST = 0x81
T_LIGHT = 0x82
T_BUZZ = 0x83
LIGHT_STATES = ("idle", "accepted", "buffered", "fault")

# --- codec: keep in step with firmware_bridge/protocol.py ---------------------------------------


def crc16(data):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF); crc16(b"123456789") == 0x29B1."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def cobs_encode(data):
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out.extend(block)
            block = bytearray()
        else:
            block.append(byte)
            if len(block) == 254:
                out.append(255)
                out.extend(block)
                block = bytearray()
    out.append(len(block) + 1)
    out.extend(block)
    return bytes(out)


def cobs_decode(data):
    """The decoded bytes, or None if ``data`` is not valid COBS."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            return None
        for j in range(i + 1, i + code):
            if data[j] == 0:
                return None
            out.append(data[j])
        i += code
        if code < 255 and i < n:
            out.append(0)
    return bytes(out)


def encode_frame(kind, seq, payload):
    """One frame: COBS([version][type][seq][payload][crc16 BE]) + 0x00."""
    body = bytes([PROTOCOL_VERSION, kind, seq & 0xFF]) + bytes(payload)
    crc = crc16(body)
    return cobs_encode(body + bytes([crc >> 8, crc & 0xFF])) + b"\x00"


def press_payload(level):
    return bytes([level])


def hold_payload(level, held_ms):
    held = min(max(held_ms, 0), 0xFFFF)
    return bytes([level, held >> 8, held & 0xFF])


def scan_payload(text):
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return raw[:200]


def heartbeat_payload(uptime_ms):
    u = uptime_ms & 0xFFFFFFFF
    return bytes([(u >> 24) & 0xFF, (u >> 16) & 0xFF, (u >> 8) & 0xFF, u & 0xFF])


def device_info_payload(model, firmware, buttons):
    m = model.encode("utf-8")[:100]
    f = firmware.encode("utf-8")[:100]
    return bytes([buttons, len(m)]) + m + bytes([len(f)]) + f


def max_encoded_len(max_frame=MAX_FRAME):
    return max_frame + max_frame // 254 + 1


class FrameReader:
    """Streaming decoder of host commands; ``errors`` counts bad frames per reason."""

    def __init__(self, max_frame=MAX_FRAME):
        self.max_frame = max_frame
        self.limit = max_encoded_len(max_frame)
        self.buf = bytearray()
        self.discarding = False
        self.errors = {}
        self.frames = 0

    def _error(self, reason):
        self.errors[reason] = self.errors.get(reason, 0) + 1

    def feed(self, data):
        """A list of ``(type, seq, payload)`` for the good frames ``data`` completed."""
        out = []
        for byte in data:
            if byte != 0:
                if self.discarding:
                    continue
                if len(self.buf) >= self.limit:
                    self.buf = bytearray()
                    self.discarding = True
                    self._error("oversized")
                    continue
                self.buf.append(byte)
                continue
            if self.discarding:
                self.discarding = False
                continue
            frame = bytes(self.buf)
            self.buf = bytearray()
            if frame:
                decoded = self._decode(frame)
                if decoded is not None:
                    out.append(decoded)
        return out

    def _decode(self, frame):
        body = cobs_decode(frame)
        if body is None:
            self._error("bad cobs")
            return None
        if len(body) > self.max_frame:
            self._error("oversized")
            return None
        if len(body) < 5:
            self._error("truncated")
            return None
        if crc16(body[:-2]) != (body[-2] << 8) | body[-1]:
            self._error("bad crc")
            return None
        if body[0] != PROTOCOL_VERSION:
            self._error(f"bad version {body[0]}")
            return None
        self.frames += 1
        return body[1], body[2], body[3:-2]


def parse_command(kind, payload):
    """``("info",)``, ``("light", state)``, ``("buzz", ms)`` or None for a bad command."""
    if kind == T_INFO_REQUEST and len(payload) == 0:
        return ("info",)
    if kind == T_LIGHT and len(payload) == 1 and payload[0] < len(LIGHT_STATES):
        return ("light", LIGHT_STATES[payload[0]])
    if kind == T_BUZZ and len(payload) == 2:
        ms = (payload[0] << 8) | payload[1]
        if ms <= 2000:
            return ("buzz", ms)
    return None


# --- buttons: debounce, press or hold (no hardware; tested under CPython) -----------------------

DEBOUNCE_MS = 30
HOLD_MS = 1500  # firmware_bridge.protocol.HOLD_MS


class Buttons:
    """Turns raw button levels into Press and Hold, so that a hold never rates.

    A level must stay changed for DEBOUNCE_MS before it counts (as before). A press is known to
    be short only when the button comes back up, so Press is sent on the debounced release if
    the button was down less than HOLD_MS; once it has been down HOLD_MS, Hold is sent at once
    (the citizen hears the kiosk answer while still holding) and its release sends nothing.
    ``poll`` returns the frames to send as ``(type, payload)``; ``ticks_diff`` is MicroPython's
    wrap-safe ``time.ticks_diff`` on the Pico, a plain subtraction in tests.
    """

    def __init__(self, count, ticks_diff, debounce_ms=DEBOUNCE_MS, hold_ms=HOLD_MS):
        self.ticks_diff = ticks_diff
        self.debounce_ms = debounce_ms
        self.hold_ms = hold_ms
        self.stable = [1] * count  # active low: 1 up, 0 down
        self.changed_at = [None] * count  # when the raw level first differed from ``stable``
        self.down_at = [None] * count  # when a debounced press began; None while up
        self.held = [False] * count  # Hold already sent for this press

    def poll(self, now, levels):
        out = []
        for i, level in enumerate(levels):
            if level != self.stable[i]:
                if self.changed_at[i] is None:
                    self.changed_at[i] = now
                elif self.ticks_diff(now, self.changed_at[i]) >= self.debounce_ms:
                    began = self.changed_at[i]
                    self.stable[i] = level
                    self.changed_at[i] = None
                    if level == 0:  # pressed: wait to know whether it is short or held
                        self.down_at[i] = began
                        self.held[i] = False
                    else:  # released
                        if self.down_at[i] is not None and not self.held[i]:
                            out.append((T_PRESS, press_payload(i + 1)))
                        self.down_at[i] = None
            else:
                self.changed_at[i] = None
            down = self.down_at[i]
            if down is not None and level == 0 and not self.held[i]:  # not while letting go
                held_ms = self.ticks_diff(now, down)
                if held_ms >= self.hold_ms:
                    self.held[i] = True
                    out.append((T_HOLD, hold_payload(i + 1, held_ms)))
        return out


# --- hardware (runs only on the Pico) ----------------------------------------------------------

BUTTON_PINS = (2, 3, 4, 5, 6)  # GP2..GP6 = levels 1..5, to GND, internal pull-ups
SCANNER_UART = 1
SCANNER_TX, SCANNER_RX = 8, 9  # GP8 = UART1 TX (to the scanner's RX), GP9 = UART1 RX
SCANNER_BAUD = 9600
WS2812_PIN = 16
LED_PINS = (13, 14, 15)  # green, amber, red: used when USE_WS2812 is False
USE_WS2812 = True
BUZZER_PIN = 18
BUZZER_HZ = 2700
HEARTBEAT_MS = 5000
# (green, amber, red) for the three LEDs; the WS2812 shows the matching colour.
LIGHT_LEDS = {
    "idle": (0, 0, 0),
    "accepted": (1, 0, 0),
    "buffered": (0, 1, 0),
    "fault": (0, 0, 1),
}
LIGHT_RGB = {
    "idle": (0, 0, 8),
    "accepted": (0, 64, 0),
    "buffered": (64, 32, 0),
    "fault": (64, 0, 0),
}


class Device:  # pragma: no cover - needs the Pico
    def __init__(self):
        import time

        import machine

        self.time = time
        self.pins = [machine.Pin(p, machine.Pin.IN, machine.Pin.PULL_UP) for p in BUTTON_PINS]
        self.buttons = Buttons(len(self.pins), time.ticks_diff)
        self.uart = machine.UART(
            SCANNER_UART,
            baudrate=SCANNER_BAUD,
            tx=machine.Pin(SCANNER_TX),
            rx=machine.Pin(SCANNER_RX),
        )
        self.scan_buf = bytearray()
        if USE_WS2812:
            import neopixel

            self.pixel = neopixel.NeoPixel(machine.Pin(WS2812_PIN), 1)
            self.leds = None
        else:
            self.pixel = None
            self.leds = [machine.Pin(p, machine.Pin.OUT) for p in LED_PINS]
        self.buzzer = machine.PWM(machine.Pin(BUZZER_PIN))
        self.buzzer.duty_u16(0)
        self.buzz_until = None
        self.seq = 0
        self.reader = FrameReader()
        self.out = sys.stdout.buffer
        self.inp = sys.stdin.buffer

    def send(self, kind, payload):
        self.out.write(encode_frame(kind, self.seq, payload))
        self.seq = (self.seq + 1) & 0xFF

    def send_info(self):
        self.send(T_DEVICE_INFO, device_info_payload(MODEL, FIRMWARE, BUTTONS))

    def light(self, state):
        if self.pixel is not None:
            self.pixel[0] = LIGHT_RGB[state]
            self.pixel.write()
        else:
            for i, pin in enumerate(self.leds):  # MicroPython's zip() has no strict=
                pin.value(LIGHT_LEDS[state][i])

    def buzz(self, ms):
        if ms == 0:
            self.buzzer.duty_u16(0)
            self.buzz_until = None
            return
        self.buzzer.freq(BUZZER_HZ)
        self.buzzer.duty_u16(32768)
        self.buzz_until = self.time.ticks_add(self.time.ticks_ms(), ms)

    def poll_buttons(self, now):
        for kind, payload in self.buttons.poll(now, [pin.value() for pin in self.pins]):
            self.send(kind, payload)

    def poll_scanner(self):
        while self.uart.any():
            chunk = self.uart.read(self.uart.any()) or b""
            for byte in chunk:
                if byte in (10, 13):  # CR or LF ends a code
                    if self.scan_buf:
                        self.send(T_SCAN, scan_payload(bytes(self.scan_buf)))
                        self.scan_buf = bytearray()
                elif len(self.scan_buf) < 200:
                    self.scan_buf.append(byte)

    def handle(self, kind, payload):
        command = parse_command(kind, payload)
        if command is None:
            return
        if command[0] == "info":
            self.send_info()
        elif command[0] == "light":
            self.light(command[1])
        elif command[0] == "buzz":
            self.buzz(command[1])

    def run(self):
        import select

        import micropython

        micropython.kbd_intr(-1)  # 0x03 in a frame must not raise KeyboardInterrupt
        poller = select.poll()
        poller.register(sys.stdin, select.POLLIN)
        self.light("idle")
        self.send_info()
        booted = self.time.ticks_ms()
        next_beat = self.time.ticks_add(booted, HEARTBEAT_MS)
        while True:
            now = self.time.ticks_ms()
            while poller.poll(0):
                for command in self.reader.feed(self.inp.read(1)):
                    self.handle(command[0], command[2])
            self.poll_buttons(now)
            self.poll_scanner()
            if self.buzz_until is not None and self.time.ticks_diff(now, self.buzz_until) >= 0:
                self.buzz(0)
            if self.time.ticks_diff(now, next_beat) >= 0:
                next_beat = self.time.ticks_add(now, HEARTBEAT_MS)
                self.send(T_HEARTBEAT, heartbeat_payload(self.time.ticks_diff(now, booted)))
            self.time.sleep_ms(2)


def main():  # pragma: no cover - needs the Pico
    Device().run()


if __name__ == "__main__":
    main()
