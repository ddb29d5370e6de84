"""Receipt key lifetimes: ``keys.toml`` as ``ReceiptKeys`` reads it, and ``rotate_receipt_key``."""

from __future__ import annotations

import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

from hailong.contract.receipt import (
    DossierCode,
    ReceiptClaims,
    ReceiptRefused,
    sign,
    verify,
)
from hailong.provision import SecretsLayout, init_secrets, rotate_receipt_key
from hailong.settings import KEY_MANIFEST, ConfigError, ReceiptKeys, Unit, read_key_manifest

TODAY = date(2026, 11, 25)
UNIT = "000.00.20.H41"
CLAIMS = ReceiptClaims(DossierCode(UNIT, TODAY, 7), "1.001193", "Q1", "CB001")


@pytest.fixture
def layout(tmp_path: Path, unit: Unit) -> SecretsLayout:
    layout = SecretsLayout(tmp_path / "secrets")
    init_secrets(unit, layout)
    return layout


def keys_of(layout: SecretsLayout, **config: object) -> ReceiptKeys:
    return ReceiptKeys(key_dir=layout.receipt_keys, **config)


def write_key(layout: SecretsLayout, kid: str, key: bytes = b"x" * 32) -> Path:
    path = layout.receipt_keys / f"{kid}.key"
    path.write_text(key.hex() + "\n")
    return path


def write_manifest(layout: SecretsLayout, text: str) -> Path:
    path = layout.receipt_keys / KEY_MANIFEST
    path.write_text(text)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- reading: no manifest is the old behaviour, a manifest wins ------------------------------------


def test_without_a_manifest_every_key_verifies_and_the_configured_one_signs(
    layout: SecretsLayout,
) -> None:
    write_key(layout, "k0")
    ring = keys_of(layout, active_key="k1").keyring()

    assert (ring.active, sorted(ring.keys), ring.retired) == ("k1", ["k0", "k1"], {})
    assert ring.max_age_days is None
    assert keys_of(layout).manifest() is None


def test_the_manifest_names_the_active_key_and_the_retired_ones(layout: SecretsLayout) -> None:
    write_key(layout, "k2")
    write_manifest(
        layout,
        'active = "k2"\n'
        "[keys.k1]\ncreated = 2026-01-10\nvalid_until = 2027-02-23\n"
        '[keys."k2"]\ncreated = 2026-11-25\n',
    )
    # active_key = "k1" in the config is what `hailong init` wrote; the manifest wins.
    ring = keys_of(layout, active_key="k1", max_age_days=400).keyring()

    assert (ring.active, sorted(ring.keys)) == ("k2", ["k1", "k2"])
    assert ring.retired == {"k1": date(2027, 2, 23)}
    assert ring.max_age_days == 400


def test_a_retired_key_whose_file_is_gone_is_simply_unknown(layout: SecretsLayout) -> None:
    write_key(layout, "k2")
    (layout.receipt_keys / "k1.key").unlink()
    write_manifest(
        layout,
        'active = "k2"\n[keys.k1]\ncreated = 2026-01-10\nvalid_until = 2026-04-10\n'
        "[keys.k2]\ncreated = 2026-01-10\n",
    )
    ring = keys_of(layout).keyring()

    assert (sorted(ring.keys), ring.retired) == (["k2"], {})


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ('active = "k1"\n[keys.k1\n', r"keys\.toml: not valid TOML"),
        ("[keys.k1]\ncreated = 2026-01-10\n", r"keys\.toml: key `active`: Field required"),
        ('active = "k1"\n', r"keys\.toml: key `keys`: Field required"),
        (
            'active = "k9"\n[keys.k1]\ncreated = 2026-01-10\n',
            r"active key 'k9' has no \[keys\.k9\]",
        ),
        (
            'active = "k1"\n[keys.k1]\ncreated = 2026-01-10\nvalid_until = 2027-01-01\n',
            r"the active key 'k1' has a valid_until: it is retired",
        ),
        (
            'active = "k1"\n[keys.k1]\ncreated = "2026-01-10"\n',
            r"key `keys\.k1\.created`: Input should be a valid date, written as a TOML date",
        ),
        (
            'active = "k1"\n[keys.k1]\ncreated = 2026-01-10T08:00:00\n',
            r"key `keys\.k1\.created`: Input should be a valid date",
        ),
        ('active = "k1"\n[keys.k1]\n', r"key `keys\.k1\.created`: Field required"),
        (
            'active = "k1"\n[keys.k0]\ncreated = 2026-01-10\nvalid_until = 2025-12-31\n'
            "[keys.k1]\ncreated = 2026-01-10\n",
            r"key `keys\.k0`: Value error, valid_until 2025-12-31 is before created 2026-01-10",
        ),
        (
            'active = "k1"\n[keys.k1]\ncreated = 2026-01-10\nvalid = 2027-01-01\n',
            r"key `keys\.k1\.valid`: Extra inputs are not permitted",
        ),
        ('active = "k1"\nsigner = "k1"\n[keys.k1]\ncreated = 2026-01-10\n', r"key `signer`"),
        ('active = "k 1"\n[keys."k 1"]\ncreated = 2026-01-10\n', r"key `active`: String should"),
    ],
)
def test_a_broken_manifest_names_the_file_and_the_key(
    layout: SecretsLayout, manifest: str, message: str
) -> None:
    write_manifest(layout, manifest)
    with pytest.raises(ConfigError, match=message) as error:
        keys_of(layout).keyring()
    assert str(layout.receipt_keys / KEY_MANIFEST) in str(error.value)


def test_a_key_file_the_manifest_does_not_list_is_an_error(layout: SecretsLayout) -> None:
    stray = write_key(layout, "k7")
    write_manifest(layout, 'active = "k1"\n[keys.k1]\ncreated = 2026-01-10\n')
    with pytest.raises(ConfigError, match=rf"{stray}: key 'k7' is not listed in .*keys\.toml"):
        keys_of(layout).keyring()


def test_a_listed_key_without_its_file_is_an_error(layout: SecretsLayout) -> None:
    write_manifest(
        layout,
        'active = "k2"\n[keys.k1]\ncreated = 2026-01-10\nvalid_until = 2027-01-01\n'
        "[keys.k2]\ncreated = 2026-11-25\n",
    )
    with pytest.raises(ConfigError, match=r"keys\.toml: key `keys\.k2`: no key file .*k2\.key"):
        keys_of(layout).keyring()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("k3.key", "not hex", r"k3\.key: expected the key as hex"),
        ("k3.key", "abcd", r"key 'k3' is shorter than 16 bytes"),
        ("k 3.key", "ab" * 32, r"key id 'k 3' is not a plain code"),
    ],
)
def test_a_bad_key_file_is_a_config_error(
    layout: SecretsLayout, name: str, content: str, message: str
) -> None:
    (layout.receipt_keys / name).write_text(content)
    with pytest.raises(ConfigError, match=message):
        keys_of(layout).keyring()


# -- rotating -----------------------------------------------------------------------------------


def test_rotation_makes_a_new_private_key_active_and_retires_the_old_one(
    layout: SecretsLayout,
) -> None:
    old_ring = keys_of(layout).keyring()
    old_receipt = sign(CLAIMS, old_ring)

    rotation = rotate_receipt_key(layout, 90, today=TODAY)

    key_dir = layout.receipt_keys
    until = TODAY + timedelta(days=90)
    assert (rotation.active, rotation.retired, rotation.valid_until) == ("k2", "k1", until)
    assert rotation.rotated
    assert rotation.key_file == key_dir / "k2.key"
    assert rotation.manifest == key_dir / KEY_MANIFEST
    assert sorted(p.name for p in key_dir.iterdir()) == ["k1.key", "k2.key", KEY_MANIFEST]
    assert mode(key_dir / "k2.key") == 0o600
    assert mode(key_dir / KEY_MANIFEST) == 0o600
    assert len(bytes.fromhex((key_dir / "k2.key").read_text())) == 32
    assert (key_dir / "k1.key").read_text().strip() == old_ring.keys["k1"].hex()

    manifest = read_key_manifest(key_dir)
    assert manifest is not None
    assert manifest.active == "k2"
    assert manifest.keys["k1"].valid_until == until
    assert manifest.keys["k1"].created <= TODAY
    assert (manifest.keys["k2"].created, manifest.keys["k2"].valid_until) == (TODAY, None)
    text = (key_dir / KEY_MANIFEST).read_text()
    assert 'active = "k2"' in text
    assert f"valid_until = {until.isoformat()}" in text

    # The configuration still says k1 (what `hailong init` wrote): the manifest wins.
    ring = keys_of(layout, active_key="k1").keyring()
    assert sign(CLAIMS, ring).key_id == "k2"
    assert verify(old_receipt, ring, UNIT, today=until) == CLAIMS
    with pytest.raises(ReceiptRefused) as refused:
        verify(old_receipt, ring, UNIT, today=until + timedelta(days=1))
    assert refused.value.reason == "expired_key"


def test_rotating_twice_the_same_day_changes_nothing(layout: SecretsLayout) -> None:
    first = rotate_receipt_key(layout, 90, today=TODAY)
    files = {p.name: p.read_bytes() for p in layout.receipt_keys.iterdir()}

    again = rotate_receipt_key(layout, 30, today=TODAY)

    assert (again.active, again.rotated, again.retired, again.valid_until) == (
        "k2",
        False,
        None,
        None,
    )
    assert again.key_file == first.key_file
    assert {p.name: p.read_bytes() for p in layout.receipt_keys.iterdir()} == files


def test_the_next_rotation_retires_only_the_active_key(layout: SecretsLayout) -> None:
    rotate_receipt_key(layout, 90, today=TODAY)
    later = TODAY + timedelta(days=30)

    rotation = rotate_receipt_key(layout, 10, today=later)

    assert (rotation.active, rotation.retired) == ("k3", "k2")
    ring = keys_of(layout).keyring()
    assert ring.active == "k3"
    assert ring.retired == {
        "k1": TODAY + timedelta(days=90),  # unchanged: its window was promised
        "k2": later + timedelta(days=10),
    }


def test_rotation_never_overwrites_a_key_file(layout: SecretsLayout) -> None:
    # Before any manifest, every key file is a valid key: k2 exists, so the new key is k3.
    existing = write_key(layout, "k2", b"2" * 32)

    rotation = rotate_receipt_key(layout, 0, today=TODAY)

    assert (rotation.active, rotation.retired, rotation.valid_until) == ("k3", "k1", TODAY)
    assert existing.read_text().strip() == (b"2" * 32).hex()
    ring = keys_of(layout).keyring()
    assert (ring.active, ring.retired) == ("k3", {"k1": TODAY})
    assert "k2" in ring.keys


def test_rotation_starts_from_the_configured_active_key(layout: SecretsLayout) -> None:
    write_key(layout, "main")

    rotation = rotate_receipt_key(layout, 7, active_key="main", today=TODAY)

    assert (rotation.active, rotation.retired) == ("k2", "main")
    assert keys_of(layout).keyring().retired == {"main": TODAY + timedelta(days=7)}


def test_rotation_refuses_an_inconsistent_folder(layout: SecretsLayout, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="grace_days"):
        rotate_receipt_key(layout, -1, today=TODAY)
    with pytest.raises(ConfigError, match="hailong init"):
        rotate_receipt_key(SecretsLayout(tmp_path / "none"), 90, today=TODAY)
    with pytest.raises(ConfigError, match=r"k9\.key"):
        rotate_receipt_key(layout, 90, active_key="k9", today=TODAY)
    rotate_receipt_key(layout, 90, today=TODAY)
    write_key(layout, "k5")
    before = (layout.receipt_keys / KEY_MANIFEST).read_text()
    with pytest.raises(ConfigError, match="'k5' is not listed"):
        rotate_receipt_key(layout, 90, today=TODAY + timedelta(days=1))
    assert (layout.receipt_keys / KEY_MANIFEST).read_text() == before
    assert not (layout.receipt_keys / "k3.key").exists()


def test_init_after_a_rotation_creates_no_receipt_key(layout: SecretsLayout, unit: Unit) -> None:
    rotate_receipt_key(layout, 0, today=TODAY - timedelta(days=400))
    (layout.receipt_keys / "k1.key").unlink()  # its window is long over

    created = init_secrets(unit, layout, "k1")

    assert created == []
    assert not (layout.receipt_keys / "k1.key").exists()
    assert keys_of(layout).keyring().active == "k2"
