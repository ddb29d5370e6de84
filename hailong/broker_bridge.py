"""Past one machine: a unit's site broker bridged to a central (province) broker.

Each unit keeps its own Mosquitto (``hailong broker``, :mod:`hailong.broker`) in the building, so
kiosks publish to a broker on their own LAN and keep working while the WAN is down. That site broker
carries only its unit's topics to and from a central broker, where the hub workers run on one
PostgreSQL (docs/scaling.md):

* out (site -> central, QoS 1): ``hailong/v1/<unit>/+/ratings`` and ``.../+/status``;
* in (central -> site, QoS 1): ``hailong/v1/<unit>/+/acks``, ``.../config``, ``.../rated``,
  ``.../returned``.

Why the bridge is configured as it is (:func:`bridge_conf_text`):

* ``cleansession false`` with a fixed ``remote_clientid`` and ``local_clientid``: both ends keep the
  bridge's session, so ratings queued at the site during a WAN outage, and acks queued at the
  centre while the site was cut off, are delivered when the link returns. With ``persistence`` on
  (:mod:`hailong.broker` sets it) the site's queue also survives a restart of the site broker.
  Delivery is still guaranteed by the hub's ack, not by the bridge: a copy the bridge drops is
  resent by the kiosk (docs/protocol.md).
* ``try_private true``: the central broker knows it talks to a bridge, so it does not echo the
  bridge's own messages back and keeps the retain flag of what it forwards; the unit's retained
  ``config`` therefore stays retained at the site, for a kiosk that starts while the WAN is down.
* ``bridge_attempt_unsubscribe false``: the bridge would otherwise send UNSUBSCRIBE for every "out"
  pattern on each connection; the directions here are fixed by the contract, and the central ACL
  gives the bridge nothing to unsubscribe from.
* ``max_queued_bytes`` (site-wide): a kiosk resends every unacknowledged rating every
  ``resend_after_seconds`` while it is connected to its site broker, so during a long outage the
  bridge's queue fills with copies. The cap bounds the site broker's memory; what is dropped is
  only ever a copy the kiosk still holds (docs/scaling.md has the arithmetic).
* ``autosave_on_changes`` (site-wide, overriding the 30 s of :mod:`hailong.broker`, since an
  included file is read after the main one): Mosquitto rewrites its whole database at every save,
  and during an outage that database holds the bridge's queue (about 0.5 kB a message), which on
  a Raspberry Pi's SD card means gigabytes of writes an hour. Nothing in it is the only copy.
* TLS to the central broker whenever it is not on this machine, with the bridge's own user
  ``bridge-<unit>``: the central ACL (:func:`central_acl_text`) confines that user to its unit, so a
  stolen site box cannot publish as another unit. Within its unit the site broker's ACL still
  confines each kiosk to its own topics.

The password is the one secret here: it is read from a file under ``var/secrets/`` and written only
into the generated include file (mode 0600) beside the site broker's other generated files, never
into the repository. Mosquitto takes bridge credentials only as literal text in its configuration.

Run a bridged site broker with ``python -m hailong.broker_bridge site --config config/hub.toml
--bridge config/bridge.toml``; the central broker with ``python -m hailong.broker_bridge central
--config config/central.toml`` (examples in ``deploy/broker/``).
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import secrets
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hailong.broker import BrokerFiles, MosquittoProcess, password_hash, run_supervised, tls_lines
from hailong.contract import topics
from hailong.provision import HUB_USER, SecretsLayout
from hailong.settings import BrokerSettings, ConfigError, ConfigPath, load, read_secret

# Every check below is a full match: Python's ``$`` would also accept a trailing newline, which is
# exactly what must never reach a line of Mosquitto configuration.
# A unit's electronic code, as in unit.toml (``000.00.20.H41``): no MQTT wildcard, no separator,
# no whitespace, so it is safe inside topic patterns, user names and client ids.
_UNIT = re.compile(r"[0-9A-Z][0-9A-Z.]{2,19}")
UnitCode = Annotated[str, Field(pattern=rf"^{_UNIT.pattern}$")]
# A host name or an IPv4 address (Mosquitto's ``address`` splits on ':', so no IPv6 literals).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_LOOPBACK = re.compile(r"localhost|127(?:\.[0-9]{1,3}){3}")
# Mosquitto reads a string option as the rest of its line: a password must be one printable token
# (no whitespace, no control character), or it could end early or inject further options.
_PASSWORD = re.compile(r"[\x21-\x7e]{16,256}")
_MIB = 1024 * 1024

BRIDGE_USER_PREFIX = "bridge-"
BRIDGE_INCLUDE_DIR = "bridge.d"
BRIDGE_INCLUDE_FILE = "hailong-bridge.conf"
# Payload bytes one client (above all the bridge) may have queued at the site broker.
DEFAULT_SITE_MAX_QUEUED_BYTES = 64 * _MIB
# Changes (messages queued, retained, subscriptions) between two saves of the site database.
DEFAULT_SITE_AUTOSAVE_CHANGES = 1000
# The largest MQTT packet the brokers accept and a bridge sends (a rating is at most 16 KiB).
_MAX_PACKET_BYTES = 65536


class BridgeError(ValueError):
    """A bridge or central broker parameter that would produce a wrong or unsafe configuration."""


def bridge_user(unit: str) -> str:
    """The central broker's user for a unit's bridge; the central ACL is written for this name."""
    return BRIDGE_USER_PREFIX + _unit(unit)


def bridge_client_id(unit: str) -> str:
    """The bridge's client id at the central broker: fixed, so its persistent session is found
    again after every reconnection (and unique per unit, so two sites never take over each
    other's session)."""
    return f"hailong-bridge-{_unit(unit)}"


def notification_topic(unit: str) -> str:
    """Retained ``1``/``0`` at both ends while the unit's bridge is up/down (its last will).

    Outside ``hailong/v1/``: it is the brokers' state, not part of the wire contract, and no hub
    subscription matches it."""
    return f"hailong/bridge/{_unit(unit)}/state"


def bridged_topics(unit: str) -> tuple[tuple[str, str], ...]:
    """(pattern, direction) of every topic the unit's bridge carries, all at QoS 1."""
    prefix = f"{topics.PREFIX}/{_unit(unit)}"
    return (
        (f"{prefix}/+/ratings", "out"),
        (f"{prefix}/+/status", "out"),
        (f"{prefix}/+/acks", "in"),
        (f"{prefix}/+/offers", "in"),
        (topics.unit_config(unit), "in"),
        (topics.rated(unit), "in"),
        (topics.returned(unit), "in"),
    )


def _unit(unit: str) -> str:
    if not _UNIT.fullmatch(unit):
        raise BridgeError(f"unit code {unit!r} must look like 000.00.20.H41 (A-Z 0-9 and dots)")
    return unit


def _config_path(value: Path | None, what: str) -> Path | None:
    """A path Mosquitto will read from its configuration: absolute, one token on its line."""
    if value is None:
        return None
    text = str(value)
    if not value.is_absolute():
        raise ValueError(f"{what} must be an absolute path (got {text!r})")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError(f"{what} must not contain whitespace or control characters ({text!r})")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BridgeSettings(_Model):
    """``[bridge]`` in ``config/bridge.toml``: how a unit's site broker reaches the central one.

    Relative ``*_file`` paths are resolved against the TOML file's folder (as every config here).
    ``ca_file`` is required unless the central broker is on this machine (TLS off loopback, as for
    ``[broker]``); ``cert_file``/``key_file`` add a client certificate when the centre asks for one.
    """

    unit: UnitCode
    central_host: Annotated[str, Field(min_length=1, max_length=253)]
    central_port: Annotated[int, Field(ge=1, le=65535)] = 8883
    password_file: ConfigPath
    ca_file: ConfigPath | None = None
    cert_file: ConfigPath | None = None
    key_file: ConfigPath | None = None
    keepalive: Annotated[int, Field(ge=5, le=3600)] = 60
    # Reconnection back-off: from restart_base seconds, with jitter, up to restart_cap.
    restart_base: Annotated[int, Field(ge=1, le=3600)] = 5
    restart_cap: Annotated[int, Field(ge=1, le=3600)] = 60
    # 0 means no limit (not advised on a small site box: see the module docstring).
    site_max_queued_bytes: Annotated[int, Field(ge=0, le=16 * 1024 * _MIB)] = (
        DEFAULT_SITE_MAX_QUEUED_BYTES
    )
    # Save the site broker's database after this many changes instead of every 30 s; 0 keeps the
    # 30 s of hailong.broker (see the module docstring).
    site_autosave_changes: Annotated[int, Field(ge=0, le=10_000_000)] = (
        DEFAULT_SITE_AUTOSAVE_CHANGES
    )

    @model_validator(mode="after")
    def _consistent(self) -> BridgeSettings:
        if len(self.central_host) > 253 or not _HOST.fullmatch(self.central_host):
            raise ValueError(
                f"central_host {self.central_host!r} must be a host name or an IPv4 address"
            )
        if self.ca_file is None and not _LOOPBACK.fullmatch(self.central_host):
            raise ValueError(
                f"central_host {self.central_host!r} is off this machine: set ca_file (the CA "
                "that signed the central broker's certificate) so the bridge uses TLS"
            )
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        if self.cert_file is not None and self.ca_file is None:
            raise ValueError("a client certificate (cert_file) needs TLS: set ca_file")
        if self.restart_cap < self.restart_base:
            raise ValueError(
                f"restart_cap ({self.restart_cap}) must not be below restart_base "
                f"({self.restart_base})"
            )
        for what in ("ca_file", "cert_file", "key_file"):
            _config_path(getattr(self, what), what)
        return self

    @property
    def username(self) -> str:
        return bridge_user(self.unit)

    @property
    def client_id(self) -> str:
        return bridge_client_id(self.unit)


class BridgeFile(_Model):
    """The whole ``config/bridge.toml``."""

    bridge: BridgeSettings


def check_password(password: str) -> str:
    if not _PASSWORD.fullmatch(password):
        raise BridgeError(
            "the bridge password must be 16-256 printable ASCII characters without spaces "
            "(Mosquitto reads it as the rest of its configuration line)"
        )
    return password


def bridge_conf_text(settings: BridgeSettings, password: str) -> str:
    """The Mosquitto configuration of the unit's bridge, for the site broker's ``include_dir``.

    Every line's reason is in the module docstring; the comments in the text are for whoever
    reads the generated file on a site box."""
    check_password(password)
    unit = settings.unit
    lines = [
        f"# Hài Lòng: bridge of unit {unit} to the central broker (docs/scaling.md).",
        "# Generated by hailong.broker_bridge from config/bridge.toml; edits are overwritten.",
        "# Site-wide: bounds the bridge's queue (copies a kiosk still holds) during an outage.",
        f"max_queued_bytes {settings.site_max_queued_bytes}",
    ]
    if settings.site_autosave_changes:
        lines += [
            "# Site-wide: save after N changes, not every 30 s (a long outage's queue would be",
            "# rewritten to the SD card twice a minute); the kiosks hold a copy of all of it.",
            "autosave_on_changes true",
            f"autosave_interval {settings.site_autosave_changes}",
        ]
    lines += [
        "",
        f"connection {settings.client_id}",
        f"address {settings.central_host}:{settings.central_port}",
        "bridge_protocol_version mqttv311",
        "# A fixed id and a persistent session at both ends: queues survive a WAN outage.",
        f"remote_clientid {settings.client_id}",
        f"local_clientid {settings.client_id}.local",
        "cleansession false",
        "local_cleansession false",
        "try_private true",
        "bridge_attempt_unsubscribe false",
        "bridge_outgoing_retain true",
        "start_type automatic",
        f"restart_timeout {settings.restart_base} {settings.restart_cap}",
        f"keepalive_interval {settings.keepalive}",
        f"bridge_max_packet_size {_MAX_PACKET_BYTES}",
        "notifications true",
        f"notification_topic {notification_topic(unit)}",
        f"remote_username {settings.username}",
        f"remote_password {password}",
    ]
    if settings.ca_file is not None:
        lines += [
            f"bridge_cafile {settings.ca_file}",
            "bridge_tls_version tlsv1.2",
            "bridge_insecure false",
        ]
    if settings.cert_file is not None and settings.key_file is not None:
        lines += [f"bridge_certfile {settings.cert_file}", f"bridge_keyfile {settings.key_file}"]
    lines += [f"topic {pattern} {direction} 1" for pattern, direction in bridged_topics(unit)]
    return "\n".join(lines) + "\n"


def attach_bridge(files: BrokerFiles, settings: BridgeSettings, password: str) -> Path:
    """Write the bridge beside a site broker's generated files and include it from its config.

    Call it after :func:`hailong.broker.write_broker_files` (which rewrites ``mosquitto.conf``
    from scratch each time). The include file holds the bridge's password, so it is written with
    mode 0600 before any byte of it is."""
    include_dir = files.conf.parent / BRIDGE_INCLUDE_DIR
    include_dir.mkdir(mode=0o700, exist_ok=True)
    path = include_dir / BRIDGE_INCLUDE_FILE
    text = bridge_conf_text(settings, password)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)
    conf = files.conf.read_text(encoding="utf-8")
    include = f"include_dir {include_dir}"
    if include not in conf.splitlines():
        files.conf.write_text(conf.rstrip("\n") + f"\n{include}\n", encoding="utf-8")
    return path


# -- the central broker --------------------------------------------------------------------------


def _check_units(units: Iterable[str]) -> list[str]:
    codes = [_unit(u) for u in units]
    if not codes:
        raise BridgeError("the central broker needs at least one unit")
    duplicates = sorted({u for u in codes if codes.count(u) > 1})
    if duplicates:
        raise BridgeError(f"units listed twice: {', '.join(duplicates)}")
    return codes


def central_acl_text(units: Sequence[str], hub_user: str = HUB_USER) -> str:
    """Mosquitto ACL of the central broker: the hub workers read and write every unit's topics;
    each unit's bridge user writes only its unit's ratings and status (and its own bridge state)
    and reads only its unit's acks, config and notices."""
    lines = [
        f"user {hub_user}",
        f"topic readwrite {topics.PREFIX}/#",
        "topic read hailong/bridge/#",
        "",
    ]
    for unit in _check_units(units):
        lines.append(f"user {bridge_user(unit)}")
        for pattern, direction in bridged_topics(unit):
            lines.append(f"topic {'write' if direction == 'out' else 'read'} {pattern}")
        lines += [f"topic write {notification_topic(unit)}", ""]
    return "\n".join(lines)


def emqx_acl_text(units: Sequence[str], hub_user: str = HUB_USER) -> str:
    """The same rules as :func:`central_acl_text` in EMQX's ``acl.conf`` (Erlang terms), ending
    in ``{deny, all}``. EMQX authorises ``$share/<group>/t`` as ``t``, so the hub's rule also
    covers shared subscriptions."""

    def quoted(items: Iterable[str]) -> str:
        return ", ".join(f'"{item}"' for item in items)

    lines = [
        "%% Hài Lòng: generated by hailong.broker_bridge.emqx_acl_text; edits are overwritten.",
        f'{{allow, {{username, "{hub_user}"}}, all, ["{topics.PREFIX}/#"]}}.',
        f'{{allow, {{username, "{hub_user}"}}, subscribe, ["hailong/bridge/#"]}}.',
    ]
    for unit in _check_units(units):
        user = bridge_user(unit)
        out = [p for p, d in bridged_topics(unit) if d == "out"] + [notification_topic(unit)]
        into = [p for p, d in bridged_topics(unit) if d == "in"]
        lines.append(f'{{allow, {{username, "{user}"}}, publish, [{quoted(out)}]}}.')
        lines.append(f'{{allow, {{username, "{user}"}}, subscribe, [{quoted(into)}]}}.')
    lines.append("{deny, all}.")
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> bool:
    """Create ``path`` (mode 0600) unless it exists; never overwrite a secret."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    return True


def ensure_central_secrets(layout: SecretsLayout, units: Sequence[str]) -> list[Path]:
    """Create the hub's and each unit bridge's MQTT password at the centre, if missing.

    Each ``bridge-<unit>.password`` must then be copied to that unit's site box (its
    ``var/secrets/mqtt/``), over a channel you trust; it never travels in a config file."""
    created = []
    for user in [HUB_USER, *(bridge_user(u) for u in _check_units(units))]:
        path = layout.mqtt_password_file(user)
        if _write_private(path, secrets.token_urlsafe(24)):
            created.append(path)
    return created


def write_central_broker_files(
    units: Sequence[str],
    layout: SecretsLayout,
    out_dir: Path,
    port: int,
    listen: BrokerSettings | None = None,
) -> BrokerFiles:
    """The central broker's password, ACL and configuration files (users: the hub and one bridge
    user per unit); the same promises as a site broker (:func:`hailong.broker.write_broker_files`)
    plus ``persistent_client_expiration``, so the session of a site that was retired does not
    hold its queue for ever."""
    codes = _check_units(units)
    listen = listen or BrokerSettings()
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / "data"
    data.mkdir(exist_ok=True)
    passwd, acl = out_dir / "passwd", out_dir / "acl"
    entries = []
    for user in [HUB_USER, *(bridge_user(u) for u in codes)]:
        secret = read_secret(layout.mqtt_password_file(user), f"mqtt password of {user}")
        entries.append(f"{user}:{password_hash(secret)}")
    passwd.write_text("\n".join(entries) + "\n")
    passwd.chmod(0o600)
    acl.write_text(central_acl_text(codes))
    acl.chmod(0o600)
    log = out_dir / "mosquitto.log"
    conf = out_dir / "mosquitto.conf"
    conf.write_text(
        "\n".join(
            [
                f"listener {port} {listen.bind}",
                *tls_lines(listen),
                f"user {getpass.getuser()}",
                "allow_anonymous false",
                f"password_file {passwd}",
                f"acl_file {acl}",
                "persistence true",
                f"persistence_location {data}/",
                "autosave_interval 30",
                "persistent_client_expiration 60d",
                "max_queued_messages 1000000",
                "max_inflight_messages 100",
                f"max_packet_size {_MAX_PACKET_BYTES}",
                f"log_dest file {log}",
                "log_type error",
                "log_type warning",
                "log_type notice",
                "",
            ]
        )
    )
    return BrokerFiles(conf=conf, log=log)


class CentralSettings(_Model):
    """``[central]`` in ``config/central.toml``: the province's broker for every bridged unit."""

    units: tuple[UnitCode, ...]
    secrets_dir: ConfigPath
    out_dir: ConfigPath
    port: Annotated[int, Field(ge=1, le=65535)] = 8883
    bind: str = "127.0.0.1"
    cert_file: ConfigPath | None = None
    key_file: ConfigPath | None = None

    @model_validator(mode="after")
    def _valid(self) -> CentralSettings:
        try:
            _check_units(self.units)
        except BridgeError as exc:
            raise ValueError(str(exc)) from exc
        try:
            self.listen()  # TLS off loopback, as for a site broker
        except ValidationError as exc:
            raise ValueError("; ".join(str(e["msg"]) for e in exc.errors())) from exc
        return self

    def listen(self) -> BrokerSettings:
        return BrokerSettings(bind=self.bind, certfile=self.cert_file, keyfile=self.key_file)


class CentralFile(_Model):
    central: CentralSettings


# -- command line ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hailong.broker_bridge site|central ...`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m hailong.broker_bridge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    site = commands.add_parser("site", help="a unit's broker, bridged to the central broker")
    site.add_argument("--config", type=Path, default=Path("config/hub.toml"))
    site.add_argument("--bridge", type=Path, default=Path("config/bridge.toml"))
    central = commands.add_parser("central", help="the central broker the site bridges reach")
    central.add_argument("--config", type=Path, default=Path("config/central.toml"))
    for sub in (site, central):
        sub.add_argument("--write-only", action="store_true", help="write the files, do not run")
    args = parser.parse_args(argv)

    def prepare() -> MosquittoProcess:
        if args.command == "site":
            return _prepare_site(args.config, args.bridge)
        return _prepare_central(args.config)

    try:
        process = prepare()
    except (ConfigError, BridgeError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"mosquitto config {process.files.conf}")
    if args.write_only:
        return 0
    # Until Ctrl-C or SIGTERM (then 0, Mosquitto saving its queues), or Mosquitto dying (then 1,
    # so systemd's Restart=on-failure starts it again). SIGHUP writes the files again (a unit
    # added to central.toml, a new password) and Mosquitto rereads its users and ACLs.
    return run_supervised(process, process.files.bindings, rewrite=prepare)


def _prepare_site(hub_config: Path, bridge_config: Path) -> MosquittoProcess:
    from hailong.broker import prepare_broker
    from hailong.settings import load_hub, load_unit

    settings = load_hub(hub_config)
    bridge = load(bridge_config, BridgeFile).bridge
    unit = load_unit(settings.hub.unit_file)
    if bridge.unit != unit.unit.code:
        raise ConfigError(
            f"{bridge_config}: key `bridge.unit`: {bridge.unit!r} is not this site's unit "
            f"{unit.unit.code!r} ({settings.hub.unit_file})"
        )
    process = prepare_broker(settings, unit)
    password = read_secret(bridge.password_file, "bridge.password_file")
    attach_bridge(process.files, bridge, password)
    return process


def _prepare_central(config: Path) -> MosquittoProcess:
    central = load(config, CentralFile).central
    layout = SecretsLayout(central.secrets_dir)
    for path in ensure_central_secrets(layout, central.units):
        print(f"created {path}")
    files = write_central_broker_files(
        central.units, layout, central.out_dir, central.port, central.listen()
    )
    return MosquittoProcess(files, central.port)


if __name__ == "__main__":
    raise SystemExit(main())
