"""deploy/proxy/nginx/hailong.conf, checked by nginx itself (``nginx -t``) and then run in front of
a real ``hailong hub``: TLS with a throw-away certificate, the redirect from plain HTTP, HSTS once,
the stricter limit on staff logins (429), the body limit (413), and the hub's login lockout
counting each caller's own address, which it learns from the proxy's X-Forwarded-For."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from hailong.broker import free_port, wait_for_port
from hailong.cli import cli
from hailong.settings import WebSettings

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy" / "proxy" / "nginx" / "hailong.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(
    not Path(NGINX).exists() and not os.environ.get("CI"),
    reason="nginx missing (apt-get install nginx)",
)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own authority, so the client can verify it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hailong test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Proxy:
    conf: Path
    prefix: Path
    http: int
    https: int
    cert: Path


def render(tmp_path: Path, hub_port: int) -> Proxy:
    """The shipped file with this test's certificate, loopback ports and hub, included in a main
    nginx.conf whose every writable path is under ``tmp_path``."""
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    cert, key = self_signed(prefix)
    http, https = free_port(), free_port()
    text = SHIPPED.read_text(encoding="utf-8")
    for old, new in (
        ("/etc/hailong/tls/fullchain.pem", str(cert)),
        ("/etc/hailong/tls/privkey.pem", str(key)),
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{hub_port};"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    text = re.sub(r"(?m)^\s*listen \[::\]:\d+.*\n", "", text)  # the test host may lack IPv6
    (prefix / "hailong.conf").write_text(text, encoding="utf-8")
    temp = "\n".join(
        f"  {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # temp paths under a private tmp_path
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\nevents {{}}\n"
        f"http {{\n  access_log off;\n{temp}\n  include {prefix / 'hailong.conf'};\n}}\n",
        encoding="utf-8",
    )
    return Proxy(conf, prefix, http, https, cert)


def _nginx(proxy: Proxy, *args: str) -> list[str]:
    return [NGINX, "-p", str(proxy.prefix), "-e", str(proxy.prefix / "error.log"), "-c", str(proxy.conf), *args]  # fmt: skip


def test_nginx_accepts_the_configuration_without_a_warning(tmp_path: Path) -> None:
    proxy = render(tmp_path, hub_port=8080)
    result = subprocess.run(_nginx(proxy, "-t"), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    complaints = [line for line in result.stderr.splitlines() if re.search(r"\[(warn|emerg)\]", line)]  # fmt: skip
    assert complaints == []


def test_trusted_proxies_are_addresses_or_networks() -> None:
    secrets = {f: f"/x/{f}" for f in ("accounts_file", "api_tokens_file", "session_key_file")}
    assert [str(p) for p in WebSettings.model_validate(secrets).trusted_proxies] == ["127.0.0.1/32"]
    web = WebSettings.model_validate(secrets | {"trusted_proxies": ["10.0.0.5", "10.1.0.0/16"]})
    assert [str(p) for p in web.trusted_proxies] == ["10.0.0.5/32", "10.1.0.0/16"]
    with pytest.raises(ValidationError, match="trusted_proxies"):  # uvicorn would ignore a typo
        WebSettings.model_validate(secrets | {"trusted_proxies": ["proxy.lan"]})


# -- nginx in front of a running hub ---------------------------------------------------------

ADMIN, PASSWORD = "quantri", "mat-khau-dung-1"


@pytest.fixture
def hub_port(tmp_path: Path) -> Iterator[int]:
    """``hailong hub`` on a copy of config/, its web port free, with one admin login. No broker:
    the hub keeps trying to reach it in the background and serves its pages meanwhile."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    hub_toml = tmp_path / "config" / "hub.toml"
    port = free_port()
    text = re.sub(r"(?m)^port = 8080$", f"port = {port}", hub_toml.read_text())
    text = re.sub(r"(?m)^port = 18830.*$", f"port = {free_port()}", text)
    hub_toml.write_text(text)
    runner = CliRunner()
    for args in (
        ["init", "--config", str(hub_toml)],
        ["staff", "add", ADMIN, "--role", "admin", "--password", PASSWORD, "--config", str(hub_toml)],
    ):  # fmt: skip
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    log = (tmp_path / "hub.out").open("wb")
    hub = subprocess.Popen(
        [sys.executable, "-m", "hailong", "hub", "--config", str(hub_toml)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=60)
        yield port
    finally:
        hub.terminate()
        hub.wait(timeout=30)
        log.close()


@pytest.fixture
def proxy(tmp_path: Path, hub_port: int) -> Iterator[Proxy]:
    proxy = render(tmp_path, hub_port)
    nginx = subprocess.Popen(_nginx(proxy), stderr=subprocess.PIPE)
    try:
        wait_for_port(proxy.https)
        yield proxy
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        if nginx.stderr:
            nginx.stderr.close()


def client(proxy: Proxy, source: str, **headers: str) -> httpx.Client:
    """A browser at ``source`` (any 127.x.y.z address is this machine's loopback)."""
    trust = ssl.create_default_context(cafile=proxy.cert)
    transport = httpx.HTTPTransport(local_address=source, verify=trust)
    url = f"https://127.0.0.1:{proxy.https}"
    return httpx.Client(transport=transport, base_url=url, headers=headers, timeout=10)


def log_in(browser: httpx.Client, password: str) -> httpx.Response:
    form = browser.get("/staff/login")
    assert form.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None
    data = {"username": ADMIN, "password": password, "csrf": found.group(1)}
    return browser.post("/staff/login", data=data)


@pytest.mark.timeout(120)
def test_through_nginx_each_caller_is_locked_out_and_limited_on_its_own(proxy: Proxy) -> None:
    plain = httpx.get(f"http://127.0.0.1:{proxy.http}/staff/login?x=1")
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://127.0.0.1/staff/login?x=1"

    # The guesser claims the desk's address; the proxy replaces the claim with the real one.
    with client(proxy, "127.0.0.2", x_forwarded_for="127.0.0.4") as guesser:
        page = guesser.get("/staff/login")
        assert page.status_code == 200
        assert page.headers.get_list("strict-transport-security") == ["max-age=31536000"]
        answers = [log_in(guesser, f"sai-{n}-mat-khau").headers["location"] for n in range(5)]
        assert answers[:4] == ["/staff/login?error=wrong"] * 4
        assert answers[4].startswith("/staff/login?error=locked")
        # Locked: the right password from this address is refused too (6th login POST).
        assert log_in(guesser, PASSWORD).headers["location"].startswith("/staff/login?error=locked")
        # 10 a minute, a burst of 5: nginx answers the 7th itself, before the hub sees it.
        refused = log_in(guesser, PASSWORD)
        assert refused.status_code == 429
        assert refused.headers.get_list("strict-transport-security") == ["max-age=31536000"]
        too_big = guesser.post("/api/v1/receipts", content=b"x" * (3 * 1024 * 1024))
        assert too_big.status_code == 413

    # Another address (another desk) logs in: the hub counted the failures against 127.0.0.2,
    # which it read from the proxy's X-Forwarded-For.
    with client(proxy, "127.0.0.4") as desk:
        welcome = log_in(desk, PASSWORD)
        assert welcome.status_code == 303
        assert not welcome.headers["location"].startswith("/staff/login")  # signed in
