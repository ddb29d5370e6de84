"""Mosquitto configuration for a unit, and a supervised broker process for the demo and tests.

The generated configuration keeps the promises the rest of the system relies on: no anonymous
access, one user per kiosk with an ACL that confines it to its own topics, and queues large enough
that a burst of buffered ratings is not dropped (Mosquitto's default ``max_queued_messages`` of 1000
drops most of a large burst; see docs/protocol.md).
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from hailong.contract import topics
from hailong.provision import HUB_USER, SecretsLayout, mqtt_users
from hailong.settings import BrokerSettings, Unit, read_secret

_PBKDF2_ITERATIONS = 101


def password_hash(password: str, salt: bytes | None = None) -> str:
    """A Mosquitto 2 ``password_file`` entry hash (PBKDF2-SHA512, the ``$7$`` format)."""
    salt = salt or os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    b64 = base64.b64encode
    return f"$7${_PBKDF2_ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def acl_text(unit: Unit) -> str:
    """Per-user ACLs: a kiosk writes only its own ratings/status, reads its acks and unit config."""
    code = unit.unit.code
    lines = [f"user {HUB_USER}", f"topic readwrite {topics.PREFIX}/#", ""]
    for kiosk in unit.kiosks:
        lines += [
            f"user {kiosk.id}",
            f"topic write {topics.ratings(code, kiosk.id)}",
            f"topic write {topics.status(code, kiosk.id)}",
            f"topic read {topics.acks(code, kiosk.id)}",
            f"topic read {topics.unit_config(code)}",
            f"topic read {topics.rated(code)}",
            f"topic read {topics.returned(code)}",
            "",
        ]
    return "\n".join(lines)


@dataclass(frozen=True)
class BrokerFiles:
    conf: Path
    log: Path


def write_broker_files(
    unit: Unit,
    layout: SecretsLayout,
    out_dir: Path,
    port: int,
    listen: BrokerSettings | None = None,
) -> BrokerFiles:
    """The broker's password, ACL and configuration files; TLS on the listener when the
    settings carry a certificate (required for any address off this machine)."""
    listen = listen or BrokerSettings()
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
                f"password_file {passwd}",
                f"acl_file {acl}",
                "persistence true",
                f"persistence_location {data}/",
                "autosave_interval 30",
                "max_queued_messages 1000000",
                "max_inflight_messages 100",
                "max_packet_size 65536",
                f"log_dest file {log}",
                "log_type error",
                "log_type warning",
                "log_type notice",
                "",
            ]
        )
    )
    return BrokerFiles(conf=conf, log=log)


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


class MosquittoProcess:
    """A broker child process; ``with MosquittoProcess(conf, port):`` starts and stops it."""

    def __init__(self, files: BrokerFiles, port: int) -> None:
        self.files = files
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise FileNotFoundError("mosquitto is not installed (apt-get install mosquitto)")
        self._proc = subprocess.Popen([binary, "-c", str(self.files.conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log = self.files.log.read_text() if self.files.log.exists() else ""
                raise RuntimeError(f"mosquitto exited with {self._proc.returncode}: {log[-500:]}")
            try:
                wait_for_port(self.port, timeout=0.2)
                return
            except TimeoutError:
                continue
        self.stop()
        raise TimeoutError(f"mosquitto did not listen on port {self.port}")

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
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
