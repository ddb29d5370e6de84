"""What keeps the kiosk's cold start cheap on a Pi (docs/kiosk.md "Start-up"): a kiosk's public
key read without cryptography's PEM loader when it is in the form ``hailong init`` writes, and the
settings and contract models built on first use, not at import. Each shortcut must give exactly
what the long way gives, and anything else must still go the long way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hailong.settings import ConfigError, read_public_key
from hailong.settings.keys import _ed25519_spki


def _pem(seed: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _loaded(pem: bytes) -> bytes:
    key = serialization.load_pem_public_key(pem)
    assert hasattr(key, "public_bytes_raw")
    raw: bytes = key.public_bytes_raw()
    return raw


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_the_short_way_reads_what_cryptography_reads(seed: bytes) -> None:
    pem = _pem(seed)
    assert _ed25519_spki(pem) == _loaded(pem)


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda pem: pem.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda pem: b"\n\n" + pem + b"\n\n", id="blank-lines-around"),
    ],
)
def test_another_spelling_of_the_same_key_reads_the_same(tmp_path: Path, spelling: object) -> None:
    pem = _pem(bytes(range(32)))
    path = tmp_path / "k1.pub"
    path.write_bytes(spelling(pem))  # type: ignore[operator]
    assert read_public_key(path) == _loaded(pem)


@given(st.binary(max_size=200))
def test_bytes_that_are_no_key_never_pass_the_short_way(data: bytes) -> None:
    if data.startswith(b"-----BEGIN PUBLIC KEY-----"):
        return
    assert _ed25519_spki(data) is None


def test_a_key_of_another_kind_is_still_refused(tmp_path: Path) -> None:
    other = X25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    path = tmp_path / "k1.pub"
    path.write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert _ed25519_spki(path.read_bytes()) is None
    with pytest.raises(ConfigError, match=r"k1\.pub: not an Ed25519 public key"):
        read_public_key(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
        (b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n", "not a PEM"),
        (b"", "not a PEM public key"),
    ],
    ids=["bad-base64", "cut-short", "empty"],
)
def test_a_broken_key_file_is_the_same_config_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "k1.pub"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=rf"k1\.pub: {message}"):
        read_public_key(path)


def test_an_unreadable_key_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"k1\.pub: cannot read it"):
        read_public_key(tmp_path / "k1.pub")


def test_importing_the_settings_builds_no_validator_and_loads_no_extra_module() -> None:
    """One fresh interpreter: a default instance in a class body, or pydantic's network types,
    would quietly put tens of milliseconds of a Pi's CPU back into every start."""
    probe = (
        "import sys\n"
        "import hailong.settings as s\n"
        "from hailong.contract import messages as m\n"
        "built = [c.__name__ for c in (s.KioskSettings, s.HubSettings, s.Unit,"
        " m.UnitConfigMessage, m.RatingMessage) if c.__pydantic_complete__]\n"
        "loaded = [n for n in ('pydantic.networks', 'importlib.metadata',"
        " 'cryptography.hazmat.primitives.serialization') if n in sys.modules]\n"
        "print(built, loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[] []"
