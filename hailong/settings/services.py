"""The services' files: ``config/hub.toml`` (:class:`HubSettings`), ``config/kiosk.toml``
(:class:`KioskSettings`) and ``config/button-box.toml`` (:class:`FirmwareBridgeSettings`), with
the sections they share: the MQTT connection, the broker's listener, a serial button box."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer, PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from hailong.settings.keys import ReceiptKeys, ReceiptPublicKeys
from hailong.settings.loading import Code, ConfigPath, Section, load, read_secret
from hailong.settings.printers import PrinterSettings


def _network(value: object) -> IPv4Network | IPv6Network:
    """What pydantic's ``IPvAnyNetwork`` does (an IPv4, else an IPv6 network; an address is its
    /32 or /128), without importing ``pydantic.networks``: that module reads package metadata at
    import, ~15 ms of the kiosk's cold start for a setting only the hub reads."""
    try:
        return IPv4Network(value)
    except ValueError:
        pass
    try:
        return IPv6Network(value)
    except ValueError:
        raise PydanticCustomError(
            "ip_any_network", "value is not a valid IPv4 or IPv6 network"
        ) from None


AnyNetwork = Annotated[
    IPv4Network | IPv6Network,
    PlainValidator(_network),
    PlainSerializer(str, when_used="json-unless-none"),
    WithJsonSchema({"type": "string", "format": "ipvanynetwork"}),
]


class MqttSettings(Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    username: str
    password_file: ConfigPath
    keepalive: Annotated[int, Field(ge=5, le=600)] = 30
    # TLS to the broker: the CA that signed the broker's certificate. Required off the hub itself.
    ca_file: ConfigPath | None = None

    def password(self) -> str:
        return read_secret(self.password_file, "mqtt.password_file")


class BrokerSettings(Section):
    """How ``hailong broker`` (and the demo) listen. Plain MQTT only on loopback; any other address
    needs TLS (the certificate and key of the broker, signed by the CA kiosks trust)."""

    bind: str = "127.0.0.1"
    certfile: ConfigPath | None = None
    keyfile: ConfigPath | None = None

    @model_validator(mode="after")
    def _tls_off_loopback(self) -> BrokerSettings:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("certfile and keyfile go together")
        if self.bind not in ("127.0.0.1", "localhost", "::1") and self.certfile is None:
            raise ValueError(f"bind {self.bind!r} is off this machine: set certfile and keyfile")
        return self


class HubSection(Section):
    unit_file: ConfigPath
    database_url: str
    public_base_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/\S*)?$")]
    # Several hub workers share the ratings through MQTT shared subscriptions
    # ($share/<group>/hailong/v1/+/+/ratings); unset: one hub with a persistent session.
    workers_group: Code | None = None
    # Whose ratings and statuses this hub takes: every unit's on the broker ("all_units", a site
    # hub), or only its own unit's ("own_unit": a province runs one hub, or one group of
    # workers, per unit on one central broker and database; see docs/scaling.md).
    ratings_from: Literal["all_units", "own_unit"] = "all_units"
    # Where the catalogue lives: "file" (unit_file, the embedded single-unit default) or
    # "database" (the units tables, revision 0009, filled by `hailong catalogue import`: one hub
    # or worker group serves every unit in them; see docs/scaling.md). With "database",
    # ``unit`` names the home unit (the one the hub's own pages and kiosks default to); unset,
    # the tables must hold exactly one top unit.
    catalogue: Literal["file", "database"] = "file"
    unit: Annotated[str, Field(pattern=r"^[0-9A-Z][0-9A-Z.]{2,19}$")] | None = None
    # hailong.mqtt.Client (paho subclassed, reading ratings straight off its socket buffer)
    # instead of paho's own client: see docs/scaling.md for what it buys.
    mqtt_fast_path: bool = True
    # Kiosks' status history (the latest status per kiosk is always kept).
    status_history_days: Annotated[int, Field(ge=1, le=3650)] = 90
    # How far a rating's rated_at may lie from the hub's clock: a kiosk clock a few minutes
    # fast is tolerated, a rating from the future is not; an outage backlog may be old, not
    # years old. Outside the window the rating is refused to the dead letters ("future",
    # "stale"), never counted (docs/protocol.md).
    rated_at_max_future_minutes: Annotated[int, Field(ge=0, le=1440)] = 10
    rated_at_max_past_days: Annotated[int, Field(ge=1, le=3650)] = 400
    # Dead letters (docs/operations.md): the first bytes of a refused payload are kept (its size
    # and SHA-256 always), at most this many rows per kiosk (past it, new ones are counted, not
    # kept), for this many days.
    dead_letter_payload_bytes: Annotated[int, Field(ge=0, le=16384)] = 2048
    dead_letter_quota_per_kiosk: Annotated[int, Field(ge=1, le=10_000_000)] = 1000
    dead_letter_days: Annotated[int, Field(ge=1, le=3650)] = 180
    # Ratings offered at the return (docs/return-offers.md): published or expired offers are
    # kept this long, then deleted with the status history (one row per return recorded).
    return_offer_days: Annotated[int, Field(ge=1, le=3650, strict=True)] = 30


class WebSettings(Section):
    """The hub's staff page and HTTP API. Secrets are files created by ``hailong init``."""

    bind: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    # Staff accounts (argon2 hashes, roles); API tokens (SHA-256 of each token); cookie key.
    accounts_file: ConfigPath
    api_tokens_file: ConfigPath
    session_key_file: ConfigPath
    # The session cookie's ``Secure`` flag: true always, false never; unset, whenever the request
    # came over https (directly or through the reverse proxy's X-Forwarded-Proto).
    secure_cookies: bool | None = None
    # The unit's staff networks (CIDRs, e.g. "10.20.0.0/24"): an online rating sent from one is
    # kept but flagged suspect and left out of the figures (a staff device rating for a citizen).
    staff_networks: tuple[AnyNetwork, ...] = ()
    # The reverse proxy (addresses or CIDRs): only a request from one of these may say, in
    # X-Forwarded-For/-Proto, whom and over what it came for, so the login lockout and
    # staff_networks see the caller's address and nobody else can claim another one.
    trusted_proxies: tuple[AnyNetwork, ...] = (IPv4Network("127.0.0.1/32"),)


class ExportSettings(Section):
    """``hailong export dossiers``: the dossier feed to a one-stop system (docs/data-out.md)."""

    # One cursor file per destination (what it last took); unset: var/export beside var/secrets.
    cursor_dir: ConfigPath | None = None
    # Records per batch (one HTTP POST; one file for file: destinations, whose default is 5000).
    batch_size: Annotated[int, Field(ge=1, le=5000)] = 500
    # Only ratings stored at least this long ago: a batch still being committed is never passed.
    settle_seconds: Annotated[float, Field(ge=1, le=3600)] = 120.0
    # HTTP destinations: the bearer token (a secret file, never in this file) and, for a
    # provincial CA, its certificate.
    token_file: ConfigPath | None = None
    ca_file: ConfigPath | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 15.0
    attempts: Annotated[int, Field(ge=1, le=20)] = 5  # in all, for 5xx, timeouts, no connection
    backoff_seconds: Annotated[float, Field(ge=0, le=600)] = 2.0  # doubled after each attempt
    # The dossier feed version the destination takes: 2 carries "không áp dụng" answers; a
    # receiver still validating against version 1's schema needs 1 (docs/data-out.md).
    feed_version: Literal[1, 2] = 2

    def token(self) -> str | None:
        if self.token_file is None:
            return None
        return read_secret(self.token_file, "export.token_file")


class HubSettings(Section):
    hub: HubSection
    mqtt: MqttSettings
    receipts: ReceiptKeys
    printers: dict[str, PrinterSettings] = Field(default_factory=dict)
    web: WebSettings | None = None
    # Factories, not instances: an instance here would build those validators at import.
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)


# Where the kiosk's barcode scanner stands, seen by the citizen facing the screen: the start
# screen draws an arrow toward that edge ("none": a scanner out of sight, no arrow).
ScannerPosition = Literal["bottom", "bottom-left", "bottom-right", "left", "right", "top", "none"]


class KioskSection(Section):
    id: Code
    unit: Annotated[str, Field(pattern=r"^[0-9A-Z][0-9A-Z.]{2,19}$")]
    counter: Code | None = None
    outbox_path: ConfigPath
    # The staff PIN that opens the maintenance screen (a secret file, created by `hailong init`).
    staff_pin_file: ConfigPath | None = None
    idle_reset_seconds: Annotated[float, Field(gt=0, le=600)] = 45.0
    thanks_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    resend_after_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # Where the scanner is, for the start screen's "hold the QR code here" arrow. A button box
    # (``hailong bridge``) has no screen and ignores it.
    scanner_position: ScannerPosition = "bottom"
    # Every screen reads itself aloud as it appears, for every citizen (a unit serving many blind
    # or poorly-reading citizens); the unit's kiosk policy can switch it on too (docs/voice.md).
    always_speak: bool = False
    # A folder of WAV files that replace the shipped spoken prompts, per key and language
    # (``<key>-<lang>.wav``, e.g. a recorded human voice), and hold the unit's reasons
    # (``reason-<code>-<lang>.wav``). ``hailong kiosk --list-prompts`` lists the lines.
    prompts_dir: ConfigPath | None = None


class SerialDevice(Section):
    """A serial button box (docs/serial-protocol.md): five buttons, a scanner, a light, a buzzer.

    The device is found by ``port`` (a path; not resolved, so /dev/serial/by-id/ links stay
    stable) or, when ``port`` is unset, by ``vendor_id``/``product_id`` (hex integers, as
    ``lsusb`` shows them). Shared by the standalone box (``[bridge]``) and a box beside a kiosk
    (``[serial]`` in the kiosk's file), so both find and watch the device the same way.
    """

    port: str | None = None
    vendor_id: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    product_id: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    baudrate: Annotated[int, Field(gt=0)] = 115200
    # No frame (heartbeats come every second) for this long: the device is reported "silent".
    silent_after_seconds: Annotated[float, Field(gt=0, le=600)] = 5.0
    # An accepted/buffered/fault light returns to idle after this long.
    idle_after_seconds: Annotated[float, Field(gt=0, le=600)] = 4.0

    @model_validator(mode="after")
    def _device(self) -> SerialDevice:
        if self.port is not None and not self.port.strip():
            raise ValueError("`port` is empty: give a device path such as /dev/ttyACM0")
        if self.port is None and (self.vendor_id is None or self.product_id is None):
            raise ValueError(
                "the serial device needs `port` (e.g. /dev/hailong-buttons) or both `vendor_id` "
                "and `product_id` (hex integers, e.g. vendor_id = 0x2e8a, product_id = 0x000a)"
            )
        return self

    def describe(self) -> str:
        """Where the device is looked for, for logs."""
        if self.port is not None:
            return self.port
        return f"usb {self.vendor_id:04x}:{self.product_id:04x}"


class KioskSettings(Section):
    kiosk: KioskSection
    mqtt: MqttSettings
    receipts: ReceiptPublicKeys  # public keys only: a stolen kiosk cannot sign a receipt
    # A serial button box beside the screen: its presses and scans act as taps and USB scans.
    serial: SerialDevice | None = None


class SerialBridgeSection(SerialDevice):
    """A standalone serial button box (``hailong bridge``): the device, and when a press with no
    receipt scanned may rate the counter alone."""

    # A press with no receipt scanned rates the counter alone (a walk-in), at most one per interval.
    walk_in: bool = False
    walk_in_min_interval_seconds: Annotated[float, Field(ge=0)] = 60.0


class FirmwareBridgeSettings(Section):
    """``config/button-box.toml``: the button box and the kiosk identity it publishes its ratings as
    (its own outbox, MQTT user and receipt keys, exactly like a kiosk)."""

    bridge: SerialBridgeSection
    kiosk: KioskSection
    mqtt: MqttSettings
    receipts: ReceiptPublicKeys  # public keys only, like a kiosk's


def load_hub(path: Path | str) -> HubSettings:
    return load(path, HubSettings)


def load_kiosk(path: Path | str) -> KioskSettings:
    return load(path, KioskSettings)


def load_bridge(path: Path | str) -> FirmwareBridgeSettings:
    return load(path, FirmwareBridgeSettings)
