"""Mosquitto configuration for a unit, and a supervised broker process for the demo and tests.

The generated configuration keeps the promises the rest of the system relies on: no anonymous
access, one user per kiosk with an ACL that confines it to its own topics, each kiosk user bound to
its own client id (so no kiosk's password can take the hub's or another kiosk's session), and
queues large enough that a burst of buffered ratings is not dropped (Mosquitto's default
``max_queued_messages`` of 1000 drops most of a large burst; see docs/protocol.md).

Binding client ids: Mosquitto 2.0's ``password_file``/``acl_file`` never look at the client id, and
a CONNECT with an id already connected takes that session over. Its Dynamic Security plugin can
require a user's client id; it is loaded here with kiosk entries that carry only that binding (no
password, no role) and every default access "deny", so for every login and ACL check it either
refuses a wrong id or defers to ``password_file`` and ``acl_file`` exactly as before (see
:func:`client_id_bindings`). The hub's user stays unbound: its workers use several ids.

Supervision (``hailong broker``): :func:`run_supervised` runs Mosquitto with its log on a pipe at
debug level, re-logs refusals through Python logging (:mod:`hailong.broker_log`) and returns
non-zero the moment Mosquitto dies, so systemd restarts the service. SIGHUP (``systemctl
reload``) rewrites the files from the configuration and passes the signal on to Mosquitto, which
runs in a session of its own and would otherwise never see it.

Debug level costs Mosquitto a ``write`` per line, several per message: measured with the ingest
bench, about 30 % of the broker's throughput. So its stderr is block-buffered (``stdbuf``,
:data:`LOG_BUFFER` bytes, one ``write`` per ~50 lines: no measurable cost), and when its log has
been quiet for :data:`FLUSH_AFTER_S` seconds the supervisor publishes a few QoS 0 messages with a
long topic nobody subscribes to, whose debug lines push the buffer out: a refusal reaches the log
within a few seconds on an idle broker, and sooner on a busy one.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hailong.broker_log import BrokerLog, Notice, Refusal, RefusalLimiter
from hailong.contract import topics
from hailong.mqtt import log_in
from hailong.provision import (
    HUB_USER,
    SecretsLayout,
    Units,
    init_all,
    mqtt_users,
    units_of,
    var_dir,
)
from hailong.settings import (
    BrokerSettings,
    HubSettings,
    KioskEntry,
    MqttSettings,
    Unit,
    read_secret,
)

log = logging.getLogger("hailong.broker")
mosquitto_log = logging.getLogger("hailong.broker.mosquitto")

_PBKDF2_ITERATIONS = 101
# Mosquitto's stderr buffer when supervised, and how long its log may stay quiet before the
# supervisor pushes the buffer out (see the module doc).
LOG_BUFFER = 4096
FLUSH_AFTER_S = 2.0
# Mosquitto cuts a log line at 999 characters: a topic this long makes a line of ~960.
_FLUSH_TOPIC = f"{topics.PREFIX}/_flush/" + "x" * 900
DYNSEC_PLUGIN = "mosquitto_dynamic_security.so"
# Where Debian, Raspberry Pi OS and Ubuntu's mosquitto package put it (amd64, arm64, armhf).
_PLUGIN_DIRS = (
    Path("/usr/lib/x86_64-linux-gnu"),
    Path("/usr/lib/aarch64-linux-gnu"),
    Path("/usr/lib/arm-linux-gnueabihf"),
    Path("/usr/lib"),
    Path("/usr/local/lib"),
)


def password_hash(password: str, salt: bytes | None = None) -> str:
    """A Mosquitto 2 ``password_file`` entry hash (PBKDF2-SHA512, the ``$7$`` format)."""
    salt = salt or os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    b64 = base64.b64encode
    return f"$7${_PBKDF2_ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def acl_text(units: Units) -> str:
    """Per-user ACLs: a kiosk writes only its own ratings/status, reads its acks, its return
    offers and its own unit's config (with several units, each kiosk under its own unit's topics
    only)."""
    lines = [f"user {HUB_USER}", f"topic readwrite {topics.PREFIX}/#", ""]
    for unit, kiosk in _kiosks(units):
        code = unit.unit.code
        lines += [
            f"user {kiosk.id}",
            f"topic write {topics.ratings(code, kiosk.id)}",
            f"topic write {topics.status(code, kiosk.id)}",
            f"topic read {topics.acks(code, kiosk.id)}",
            f"topic read {topics.unit_config(code)}",
            f"topic read {topics.rated(code)}",
            f"topic read {topics.returned(code)}",
            # Its own return offers only, and no write on any: only the hub offers a rating.
            f"topic read {topics.offers(code, kiosk.id)}",
            "",
        ]
    return "\n".join(lines)


def kiosk_reads(units: Units) -> dict[str, frozenset[str]]:
    """The topics each kiosk's ACL lets it read (as in :func:`acl_text`), by kiosk id."""
    reads = {}
    for unit, kiosk in _kiosks(units):
        code = unit.unit.code
        shared = {topics.unit_config(code), topics.rated(code), topics.returned(code)}
        own = {topics.acks(code, kiosk.id), topics.offers(code, kiosk.id)}
        reads[kiosk.id] = frozenset({*own, *shared})
    return reads


def _kiosks(units: Units) -> list[tuple[Unit, KioskEntry]]:
    return [(unit, kiosk) for unit in units_of(units) for kiosk in unit.kiosks]


def client_id_bindings(bound: Mapping[str, str]) -> dict[str, object]:
    """A Dynamic Security configuration that binds each ``user: client id`` and does nothing else.

    Per the plugin's login check, a listed user connecting with another client id is refused;
    with its own id, the entry has no password, so the plugin defers to ``password_file``. Its
    ACL check finds no role for a listed user and, with every default access false, defers to
    ``acl_file``; unlisted users (the hub) are deferred at once. ``$CONTROL`` topics, through
    which the plugin could be reconfigured, are granted to nobody by ``acl_file``.
    """
    return {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": False,
        },
        "clients": [
            {"username": user, "clientid": client_id, "roles": [], "groups": []}
            for user, client_id in sorted(bound.items())
        ],
        "groups": [],
        "roles": [],
    }


def dynsec_plugin(search: Iterable[Path] = _PLUGIN_DIRS) -> Path:
    """Mosquitto's Dynamic Security plugin, shipped in Debian's ``mosquitto`` package since 2.0.
    Without it no client id can be bound, so the broker is not started at all."""
    for folder in search:
        candidate = folder / DYNSEC_PLUGIN
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"{DYNSEC_PLUGIN} not found in {', '.join(map(str, search))}: install Mosquitto 2.0 or "
        "later (apt-get install mosquitto); without it a kiosk could take the hub's session"
    )


@dataclass(frozen=True)
class BrokerFiles:
    conf: Path
    log: Path
    # Mosquitto logs to its stderr at debug level, for MosquittoProcess to read (hailong broker).
    supervised: bool = False
    # The Dynamic Security file binding each kiosk user to its client id.
    bindings: Path | None = None


def write_broker_files(
    unit: Units,
    layout: SecretsLayout,
    out_dir: Path,
    port: int,
    listen: BrokerSettings | None = None,
    *,
    supervised: bool | None = None,
) -> BrokerFiles:
    """The broker's password, ACL, client-id binding and configuration files; TLS on the listener
    when the settings carry a certificate (required for any address off this machine).

    ``supervised``: Mosquitto logs to its stderr, debug level included (the only level at which
    2.0 reports a refused publish), for :class:`MosquittoProcess` to filter; otherwise it logs
    notices and worse to ``mosquitto.log`` as before. None keeps what the ``mosquitto.conf``
    already in ``out_dir`` says, so the administration page, which rewrites these files when a
    kiosk is added, does not turn the supervised broker's refusal log off."""
    listen = listen or BrokerSettings()
    if supervised is None:
        existing = out_dir / "mosquitto.conf"
        supervised = existing.exists() and "log_dest stderr" in existing.read_text().splitlines()
    out_dir.mkdir(parents=True, exist_ok=True)
    passwd = out_dir / "passwd"
    acl = out_dir / "acl"
    data = out_dir / "data"
    data.mkdir(exist_ok=True)
    entries = []
    for user in mqtt_users(unit):
        secret = read_secret(layout.mqtt_password_file(user), f"mqtt password of {user}")
        entries.append(f"{user}:{password_hash(secret)}")
    passwd.write_text("\n".join(entries) + "\n")
    passwd.chmod(0o600)
    acl.write_text(acl_text(unit))
    acl.chmod(0o600)
    bindings = out_dir / "client-ids.json"
    kiosk_ids = {k.id: k.id for _, k in _kiosks(unit)}
    _write_owner_only(bindings, json.dumps(client_id_bindings(kiosk_ids)))
    log = out_dir / "mosquitto.log"
    conf = out_dir / "mosquitto.conf"
    conf.write_text(
        "\n".join(
            [
                f"listener {port} {listen.bind}",
                *tls_lines(listen),
                # Run as whoever started us: as root Mosquitto would otherwise switch to a
                # `mosquitto` user that cannot read the files written here.
                f"user {getpass.getuser()}",
                "allow_anonymous false",
                # Mosquitto asks plugins before its own password_file and acl_file checks.
                f"plugin {dynsec_plugin()}",
                f"plugin_opt_config_file {bindings}",
                f"password_file {passwd}",
                f"acl_file {acl}",
                "persistence true",
                f"persistence_location {data}/",
                "autosave_interval 30",
                "max_queued_messages 1000000",
                "max_inflight_messages 100",
                "max_packet_size 65536",
                *(_SUPERVISED_LOG if supervised else _file_log(log)),
                "",
            ]
        )
    )
    return BrokerFiles(conf=conf, log=log, supervised=supervised, bindings=bindings)


def _file_log(log: Path) -> list[str]:
    return [f"log_dest file {log}", "log_type error", "log_type warning", "log_type notice"]


# stderr, not stdout: C leaves stderr unbuffered, so a refusal reaches the supervisor at once
# rather than when a 4 KiB buffer fills. No timestamps: Python's logging adds its own.
_SUPERVISED_LOG = [
    "log_dest stderr",
    "log_timestamp false",
    *(f"log_type {kind}" for kind in ("error", "warning", "notice", "information", "debug")),
]


def _write_owner_only(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


def tls_lines(listen: BrokerSettings) -> list[str]:
    """The listener's TLS settings (none on loopback without a certificate)."""
    if listen.certfile is None or listen.keyfile is None:
        return []
    return [
        f"certfile {listen.certfile}",
        f"keyfile {listen.keyfile}",
        "tls_version tlsv1.2",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def prepare_broker(settings: HubSettings, unit: Units) -> MosquittoProcess:
    """The unit's broker, unsupervised, with its files in ``var/broker`` (the demo, a site)."""
    init_all(settings, unit)
    layout = SecretsLayout(settings.receipts.key_dir.parent)
    out = var_dir(settings) / "broker"
    files = write_broker_files(unit, layout, out, settings.mqtt.port, settings.broker)
    return MosquittoProcess(files, settings.mqtt.port)


class MosquittoProcess:
    """A broker child process; ``with MosquittoProcess(conf, port):`` starts and stops it.

    With supervised files (:func:`write_broker_files` ``supervised=True``) its log comes through a
    pipe: :class:`BrokerLog` drops the per-message chatter, refusals are logged as warnings
    (at most ``limiter.burst`` per client and kind a minute), everything else at info and in
    ``files.log``. ``log_reader`` decides which kiosk subscriptions to report."""

    def __init__(
        self,
        files: BrokerFiles,
        port: int,
        log_reader: BrokerLog | None = None,
        limiter: RefusalLimiter | None = None,
        flush_login: MqttSettings | None = None,
    ) -> None:
        self.files = files
        self.port = port
        self.log_reader = log_reader or BrokerLog()
        self.limiter = limiter or RefusalLimiter()
        # A login allowed to publish under hailong/v1/ (the hub's), for the idle flush; without
        # it a quiet broker's last refusals wait in the buffer until more is logged.
        self.flush_login = flush_login
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None
        self._flusher: threading.Thread | None = None
        self._flush_stop = threading.Event()
        self._last_line = time.monotonic()
        self._recent: deque[str] = deque(maxlen=20)
        self._running = threading.Event()  # Mosquitto logged "mosquitto version ... running"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise FileNotFoundError("mosquitto is not installed (apt-get install mosquitto)")
        self._running.clear()
        command = [binary, "-c", str(self.files.conf)]
        stdbuf = shutil.which("stdbuf")
        if self.files.supervised and stdbuf:
            command = [stdbuf, "-e", str(LOG_BUFFER), *command]  # execs mosquitto: same pid
        elif self.files.supervised:
            log.warning("stdbuf not found: mosquitto's debug log costs a write per line")
        # Supervised, Mosquitto gets a session of its own: a Ctrl-C on the terminal reaches only
        # the supervisor, which then stops it, instead of racing it to the exit.
        self._proc = subprocess.Popen(
            command,
            stderr=subprocess.PIPE if self.files.supervised else None,
            start_new_session=self.files.supervised,
        )
        if self._proc.stderr is not None:
            self._pump = threading.Thread(
                target=self._read_log, args=(self._proc.stderr,), name="mosquitto-log", daemon=True
            )
            self._pump.start()
        self._wait_until_listening(time.monotonic() + 10)

    def _wait_until_listening(self, deadline: float) -> None:
        """Until the port answers, or, supervised with a flush login, until Mosquitto's own
        "running" line (the port might be another process's); raise if it exits first."""
        assert self._proc is not None
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self._proc.returncode}: {self._tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"mosquitto did not listen on port {self.port}")
            if self._running.is_set():
                if self.files.supervised and self._flusher is None:
                    self._start_flusher()
                return
            if self._flusher is not None:
                self._running.wait(0.2)
                continue
            try:
                wait_for_port(self.port, timeout=0.2)
            except TimeoutError:
                continue
            if not self.files.supervised or not self._start_flusher():
                return
            # The "running" line sits in the buffer: the flusher's first lines push it out.

    def _tail(self) -> str:
        if self.files.supervised:
            if self._pump is not None:
                self._pump.join(timeout=2)  # the pipe ends with the process: read it all
            return "\n".join(self._recent)
        log_text = self.files.log.read_text() if self.files.log.exists() else ""
        return log_text[-500:]

    def _read_log(self, stream: IO[bytes]) -> None:
        """The pump thread: every line Mosquitto logs, until its stderr closes (it exited)."""
        reader, limiter = self.log_reader, self.limiter
        with self.files.log.open("a", encoding="utf-8") as kept:
            for raw in stream:
                self._last_line = time.monotonic()
                event = reader.feed(raw.rstrip(b"\r\n"))
                if event is None:
                    continue
                now = time.monotonic()
                if isinstance(event, Notice):
                    self._recent.append(event.text)
                    if event.text.startswith("mosquitto version") and event.text.endswith(
                        "running"
                    ):
                        self._running.set()
                    mosquitto_log.info("%s", event.text)
                    kept.write(event.text + "\n")
                    kept.flush()
                elif isinstance(event, Refusal) and limiter.admit(event, now):
                    mosquitto_log.warning("%s", event.message())
                for held in limiter.expire(now):
                    mosquitto_log.warning("%s", held.message())
            for held in limiter.expire(time.monotonic(), everything=True):
                mosquitto_log.warning("%s", held.message())

    def _start_flusher(self) -> bool:
        """Start the flusher thread (it flushes at once, then whenever the log is quiet)."""
        if self.flush_login is None or not shutil.which("stdbuf"):
            return False
        self._flush_stop.clear()
        self._last_line = 0.0
        self._flusher = threading.Thread(
            target=self._flush_idle_log,
            args=(self.flush_login,),
            name="mosquitto-flush",
            daemon=True,
        )
        self._flusher.start()
        return True

    def _flush_idle_log(self, login: MqttSettings) -> None:
        """The flusher thread: after :data:`FLUSH_AFTER_S` s without a log line, enough
        debug lines (QoS 0 publishes to a topic nobody subscribes to) to fill the buffer."""
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"hailong-broker-flush-{os.getpid()}"
        )
        log_in(client, login)
        client.connect_async(login.host, self.port, keepalive=60)
        client.loop_start()
        lines = LOG_BUFFER // 900 + 1
        try:
            while not self._flush_stop.wait(0.5):
                if client.is_connected() and time.monotonic() - self._last_line >= FLUSH_AFTER_S:
                    for _ in range(lines):
                        client.publish(_FLUSH_TOPIC, b"", qos=0)
                    self._last_line = time.monotonic()
        finally:
            client.disconnect()
            client.loop_stop()

    def wait(self, timeout: float | None = None) -> int:
        """Mosquitto's exit status once it has exited (negative: killed by that signal)."""
        if self._proc is None:
            raise RuntimeError("mosquitto was not started")
        code = self._proc.wait(timeout)
        if self._pump is not None:
            self._pump.join(timeout=5)  # its last lines say why it stopped
        return code

    def reload(self) -> None:
        """SIGHUP to Mosquitto: it rereads its password and ACL files (not its listeners, and not
        the Dynamic Security file: see :func:`run_supervised`), keeping every connection."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        self._flush_stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
            self._flusher = None
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._pump is not None:
            self._pump.join(timeout=5)
            self._pump = None
        if self._proc and self._proc.stderr:
            self._proc.stderr.close()
        self._proc = None

    def __enter__(self) -> MosquittoProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Stop(Exception):
    """SIGTERM or SIGINT reached ``hailong broker``: stop Mosquitto cleanly and exit 0."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def describe_exit(code: int) -> str:
    """How a child process ended, in words (``-9`` is "killed by SIGKILL")."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _reload(process: MosquittoProcess, rewrite: Callable[[], object] | None) -> None:
    if rewrite is not None:
        try:
            rewrite()
        except Exception as exc:  # a bad edit must not take the running broker down
            log.error("SIGHUP: configuration not reloaded, mosquitto left as it was: %s", exc)
            return
    process.reload()
    log.info("SIGHUP: mosquitto (pid %s) rereads its password and ACL files", process.pid)


def run_supervised(
    process: MosquittoProcess,
    bindings: Path | None = None,
    rewrite: Callable[[], object] | None = None,
) -> int:
    """Run Mosquitto until it dies or this process is told to stop; the exit status for systemd.

    SIGTERM or SIGINT: Mosquitto is stopped (it saves its persistent queues) and 0 is returned.
    Mosquitto ending any other way, even with status 0, is a failure: nothing listens any more,
    so this returns 1 at once and says why, and ``Restart=on-failure`` starts the broker again.

    ``bindings``, the client-id file (``client-ids.json``), is checked every second: Mosquitto
    reloads its password and ACL files on SIGHUP but its Dynamic Security plugin never rereads
    this one, so a kiosk added on the administration page would be able to log in unbound. When
    it changes, Mosquitto is restarted (persistence keeps every session's queue) and that is logged.

    SIGHUP (``ExecReload=``): ``rewrite`` writes the files again from the configuration (a new
    kiosk, a changed password), then Mosquitto gets the SIGHUP; a configuration that does not load
    is logged and the running broker is left as it was, as ``nginx -s reload`` does.
    """
    hangup = threading.Event()
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: hangup.set())
    try:
        try:
            started_with = _read_bytes(bindings) if bindings else b""
            process.start()
            log.info("mosquitto (pid %s) listening on port %d", process.pid, process.port)
            while True:
                try:
                    code = process.wait(timeout=1.0)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if hangup.is_set():
                    hangup.clear()
                    _reload(process, rewrite)
                if bindings is not None and _read_bytes(bindings) != started_with:
                    log.warning(
                        "%s changed (a kiosk added or removed): restarting mosquitto so every "
                        "kiosk is bound to its client id",
                        bindings,
                    )
                    process.stop()
                    started_with = _read_bytes(bindings)
                    process.start()
                    log.info("mosquitto (pid %s) listening on port %d", process.pid, process.port)
        except (RuntimeError, TimeoutError) as exc:
            log.error("mosquitto did not start: %s", exc)
            return 1
    except _Stop as stop:
        log.info("%s: stopping mosquitto", stop)
        process.stop()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.error(
        "mosquitto %s; nothing listens on port %d any more: exiting with status 1 so the "
        "supervisor restarts the broker",
        describe_exit(code),
        process.port,
    )
    process.stop()
    return 1
