"""Receipt keys: ``keys.toml`` as ``ReceiptKeys`` (the hub) and ``ReceiptPublicKeys`` (a kiosk)
read it, the upgrade from HMAC, ``rotate_receipt_key`` and ``revoke_receipt_key``."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hailong.cli import cli
from hailong.contract.receipt import (
    DossierCode,
    LegacyReceipt,
    ReceiptClaims,
    ReceiptRefused,
    SignedReceipt,
    check,
    parse_scan,
    sign,
    sign_legacy_hmac,
    verify,
)
from hailong.provision import (
    LEGACY_GRACE_DAYS,
    SecretsLayout,
    init_secrets,
    revoke_receipt_key,
    rotate_receipt_key,
)
from hailong.settings import (
    KEY_MANIFEST,
    ConfigError,
    ReceiptKeys,
    ReceiptPublicKeys,
    Unit,
    load_kiosk,
    read_key_manifest,
)

NOW = datetime(2026, 11, 25, 9, 30, 15, tzinfo=UTC)
TODAY = date(2026, 11, 25)  # NOW on the unit's clock (16:30, UTC+7)
UNIT = "000.00.20.H41"
CLAIMS = ReceiptClaims(DossierCode(UNIT, TODAY, 7), "1.001193", "Q1", "CB001")
TICK = timedelta(microseconds=1)


@pytest.fixture
def layout(tmp_path: Path, unit: Unit) -> SecretsLayout:
    layout = SecretsLayout(tmp_path / "secrets")
    init_secrets(unit, layout, now=NOW - timedelta(days=30))
    return layout


def hub_keys(layout: SecretsLayout, **config: object) -> ReceiptKeys:
    return ReceiptKeys(key_dir=layout.receipt_keys, **config)


def kiosk_keys(layout: SecretsLayout, **config: object) -> ReceiptPublicKeys:
    return ReceiptPublicKeys(key_dir=layout.receipt_public_keys, **config)


def write_manifest(layout: SecretsLayout, text: str) -> Path:
    path = layout.receipt_keys / KEY_MANIFEST
    path.write_text(text)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def outcome(
    receipt: SignedReceipt, ring_keys: ReceiptKeys | ReceiptPublicKeys, at: datetime
) -> str:
    """What a hub or kiosk with these keys does with the receipt at ``at``."""
    try:
        result = check(receipt, ring_keys.keyring(), UNIT, now=at)
    except ReceiptRefused as refused:
        return refused.reason
    return "legacy" if isinstance(result, LegacyReceipt) else "valid"


# -- a new folder, and where each half goes --------------------------------------------------------


def test_init_makes_an_ed25519_key_whose_public_half_alone_goes_to_kiosks(
    layout: SecretsLayout,
) -> None:
    assert names(layout.receipt_keys) == ["k1.key", "k1.pub", KEY_MANIFEST]
    assert names(layout.receipt_public_keys) == ["k1.pub", KEY_MANIFEST]
    assert mode(layout.receipt_keys / "k1.key") == 0o600
    assert mode(layout.receipt_keys / KEY_MANIFEST) == 0o600
    assert (layout.receipt_keys / "k1.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    for path in layout.receipt_public_keys.iterdir():
        assert "PRIVATE" not in path.read_text()
    hub, kiosk = hub_keys(layout).keyring(), kiosk_keys(layout).keyring()
    assert (hub.active, hub.can_sign, sorted(hub.keys)) == ("k1", True, ["k1"])
    assert (kiosk.active, kiosk.can_sign, kiosk.keys) == (None, False, hub.keys)
    assert hub_keys(layout).public() == kiosk_keys(layout)
    receipt = sign(CLAIMS, hub)
    assert verify(receipt, kiosk, UNIT, now=NOW) == CLAIMS
    with pytest.raises(ValueError, match="only the hub signs"):
        sign(CLAIMS, kiosk)


def test_a_kiosk_pointed_at_the_hubs_private_keys_refuses_to_start(layout: SecretsLayout) -> None:
    with pytest.raises(ConfigError, match=r"holds k1\.key: a kiosk must hold public keys only"):
        ReceiptPublicKeys(key_dir=layout.receipt_keys).keyring()


def test_a_kiosk_config_still_naming_a_signing_key_says_what_to_change(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[kiosk]\nid = "kiosk-q1"\nunit = "000.00.20.H41"\noutbox_path = "o.db"\n'
        '[mqtt]\nusername = "kiosk-q1"\npassword_file = "p"\n'
        '[receipts]\nkey_dir = "keys"\nactive_key = "k1"\n'
    )
    with pytest.raises(ConfigError, match=r"`active_key` is gone from kiosks.*receipt-keys-public"):
        load_kiosk(config)


def test_the_example_kiosk_config_points_at_public_keys() -> None:
    settings = load_kiosk(Path(__file__).resolve().parents[2] / "config" / "kiosk.toml")
    assert settings.receipts.key_dir.name == "receipt-keys-public"


# -- reading the manifest ---------------------------------------------------------------------------


def test_the_manifest_names_the_active_key_and_ends_retired_ones(layout: SecretsLayout) -> None:
    rotate_receipt_key(layout, 0, now=NOW - timedelta(days=1))
    text = (layout.receipt_keys / KEY_MANIFEST).read_text()
    # A manifest written before instants says a day: valid through that local day.
    write_manifest(
        layout, text.replace("valid_until = 2026-11-24T09:30:15Z", "valid_until = 2027-02-23")
    )
    ring = hub_keys(layout, active_key="k1", max_age_days=400).keyring()

    assert (ring.active, sorted(ring.keys)) == ("k2", ["k1", "k2"])
    midnight = datetime(2027, 2, 23, 17, tzinfo=UTC)  # 00:00 on the 24th in Hà Nội
    assert ring.retired == {"k1": midnight}
    assert ring.max_age_days == 400


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
            'active = "k1"\n[keys.k1]\ncreated = 2026-01-10\nrevoked = 2027-01-01T00:00:00Z\n',
            r"the active key 'k1' is revoked",
        ),
        (
            'active = "k1"\n[keys.k1]\ncreated = "2026-01-10"\n',
            r"key `keys\.k1\.created`: Input should be a valid date",
        ),
        (
            'active = "k1"\n[keys.k0]\ncreated = 2026-01-10\nvalid_until = 2026-03-01T08:00:00\n'
            '[keys.k1]\ncreated = 2026-01-10\nalgorithm = "ed25519"\n',
            r"key `keys\.k0\.valid_until\.datetime`: Input should have timezone info",
        ),
        (
            'active = "k1"\n[keys.k1]\ncreated = 2026-01-10\nalgorithm = "rsa"\n',
            r"key `keys\.k1\.algorithm`: Input should be 'ed25519' or 'hmac-sha256'",
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
        hub_keys(layout).keyring()
    assert str(layout.receipt_keys / KEY_MANIFEST) in str(error.value)


def test_a_key_file_the_manifest_does_not_list_is_an_error(layout: SecretsLayout) -> None:
    stray = layout.receipt_keys / "k7.pub"
    stray.write_text((layout.receipt_keys / "k1.pub").read_text())
    with pytest.raises(ConfigError, match=rf"{stray}: key 'k7' is not listed in .*keys\.toml"):
        hub_keys(layout).keyring()


def test_without_a_manifest_the_folder_is_refused(layout: SecretsLayout) -> None:
    (layout.receipt_keys / KEY_MANIFEST).unlink()
    with pytest.raises(ConfigError, match=r"no .*keys\.toml \(run `hailong init`\)"):
        hub_keys(layout).keyring()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("k1.key", "not a key", r"k1\.key: not an unencrypted PEM private key"),
        ("k1.pub", "not a key", r"k1\.pub: not a PEM public key"),
    ],
)
def test_a_bad_key_file_is_a_config_error(
    layout: SecretsLayout, name: str, content: str, message: str
) -> None:
    (layout.receipt_keys / name).write_text(content)
    with pytest.raises(ConfigError, match=message):
        hub_keys(layout).keyring()


def test_the_active_key_needs_its_private_key(layout: SecretsLayout) -> None:
    (layout.receipt_keys / "k1.key").unlink()
    with pytest.raises(ConfigError, match=r"the active key 'k1' has no k1\.key"):
        hub_keys(layout).keyring()


# -- upgrading from HMAC -------------------------------------------------------------------------------


def legacy_folder(tmp_path: Path, manifest: str | None = None) -> SecretsLayout:
    """A secrets folder as the HMAC versions left it: k1.key holds hex."""
    layout = SecretsLayout(tmp_path / "old-secrets")
    layout.receipt_keys.mkdir(parents=True)
    (layout.receipt_keys / "k1.key").write_text((b"h" * 32).hex() + "\n")
    if manifest is not None:
        write_manifest(layout, manifest)
    return layout


@pytest.mark.parametrize(
    "manifest",
    [None, 'active = "k1"\n\n[keys."k1"]\ncreated = 2026-01-10\n'],  # before and after keys.toml
)
def test_init_upgrades_an_hmac_folder_and_old_receipts_live_through_the_grace_period(
    tmp_path: Path, unit: Unit, manifest: str | None
) -> None:
    layout = legacy_folder(tmp_path, manifest)
    old = sign_legacy_hmac(CLAIMS, "k1", b"h" * 32)
    with pytest.raises(ConfigError, match=r"(legacy HMAC key|keys\.toml).*`hailong init`"):
        hub_keys(layout).keyring()

    init_secrets(unit, layout, now=NOW)

    end = NOW + timedelta(days=LEGACY_GRACE_DAYS)
    manifest_read = read_key_manifest(layout.receipt_keys)
    assert manifest_read is not None
    assert manifest_read.active == "k2"
    assert manifest_read.keys["k1"].algorithm == "hmac-sha256"
    assert manifest_read.keys["k1"].valid_until == end
    assert names(layout.receipt_keys) == ["k1.key", "k2.key", "k2.pub", KEY_MANIFEST]
    assert names(layout.receipt_public_keys) == ["k2.pub", KEY_MANIFEST]  # never the HMAC key
    hub, kiosk = hub_keys(layout), kiosk_keys(layout)
    assert kiosk.keyring().legacy == {"k1": None}
    assert sign(CLAIMS, hub.keyring()).key_id == "k2"
    # The hub checks the HMAC through the grace period; a kiosk takes the code only, unverified.
    assert [outcome(old, hub, end - TICK), outcome(old, kiosk, end - TICK)] == ["valid", "legacy"]
    forged = sign_legacy_hmac(CLAIMS, "k1", b"x" * 32)  # what a stolen kiosk could still make
    assert [outcome(forged, hub, NOW), outcome(forged, kiosk, NOW)] == ["bad_signature", "legacy"]
    for at in (end, end + timedelta(days=1)):
        assert [outcome(old, hub, at), outcome(old, kiosk, at)] == ["expired_key"] * 2

    again = init_secrets(unit, layout, now=NOW + timedelta(days=1))  # idempotent from now on
    assert not [p for p in again if p.parent == layout.receipt_keys]


# -- rotating ---------------------------------------------------------------------------------------


def test_rotation_makes_a_new_key_active_and_destroys_the_old_private_key(
    layout: SecretsLayout,
) -> None:
    old_receipt = sign(CLAIMS, hub_keys(layout).keyring())

    rotation = rotate_receipt_key(layout, 90, now=NOW)

    key_dir = layout.receipt_keys
    end = NOW + timedelta(days=90)
    assert (rotation.active, rotation.retired, rotation.valid_until) == ("k2", "k1", end)
    assert rotation.rotated
    assert rotation.key_file == key_dir / "k2.key"
    assert rotation.manifest == key_dir / KEY_MANIFEST
    # k1 can never sign again: only its public half is left.
    assert names(key_dir) == ["k1.pub", "k2.key", "k2.pub", KEY_MANIFEST]
    assert names(layout.receipt_public_keys) == ["k1.pub", "k2.pub", KEY_MANIFEST]
    assert mode(key_dir / "k2.key") == 0o600
    text = (key_dir / KEY_MANIFEST).read_text()
    assert 'active = "k2"' in text
    assert "valid_until = 2027-02-23T09:30:15Z" in text
    assert (layout.receipt_public_keys / KEY_MANIFEST).read_text() == text

    # The configuration still says k1 (what `hailong init` wrote): the manifest wins.
    ring = hub_keys(layout, active_key="k1").keyring()
    assert sign(CLAIMS, ring).key_id == "k2"
    for keys in (hub_keys(layout), kiosk_keys(layout)):
        assert outcome(old_receipt, keys, end - TICK) == "valid"
        assert outcome(old_receipt, keys, end) == "expired_key"


@pytest.mark.parametrize(
    ("grace_days", "accepted_until"),
    [(0, NOW), (1, NOW + timedelta(days=1)), (2, NOW + timedelta(days=2))],
)
def test_the_grace_period_ends_at_its_instant_not_at_midnight(
    layout: SecretsLayout, grace_days: int, accepted_until: datetime
) -> None:
    """--grace-days 0 used to give the old key the rest of the day (through midnight)."""
    old_receipt = sign(CLAIMS, hub_keys(layout).keyring())

    rotate_receipt_key(layout, grace_days, now=NOW)

    for keys in (hub_keys(layout), kiosk_keys(layout)):
        if grace_days:
            assert outcome(old_receipt, keys, accepted_until - TICK) == "valid"
        assert outcome(old_receipt, keys, accepted_until) == "expired_key"
        assert outcome(old_receipt, keys, accepted_until + timedelta(minutes=1)) == "expired_key"
        # Before midnight of the last day, where the old date-based rule still accepted it.
        assert outcome(old_receipt, keys, accepted_until + timedelta(hours=14)) == "expired_key"


def test_rotating_twice_the_same_day_changes_nothing(layout: SecretsLayout) -> None:
    first = rotate_receipt_key(layout, 90, now=NOW)
    files = {p.name: p.read_bytes() for p in layout.receipt_keys.iterdir()}

    again = rotate_receipt_key(layout, 30, now=NOW + timedelta(hours=1))

    assert (again.active, again.rotated, again.retired, again.valid_until) == (
        "k2",
        False,
        None,
        None,
    )
    assert again.key_file == first.key_file
    assert {p.name: p.read_bytes() for p in layout.receipt_keys.iterdir()} == files


def test_the_next_rotation_retires_only_the_active_key(layout: SecretsLayout) -> None:
    rotate_receipt_key(layout, 90, now=NOW)
    later = NOW + timedelta(days=30)

    rotation = rotate_receipt_key(layout, 10, now=later)

    assert (rotation.active, rotation.retired) == ("k3", "k2")
    ring = hub_keys(layout).keyring()
    assert ring.active == "k3"
    assert ring.retired == {
        "k1": NOW + timedelta(days=90),  # unchanged: its window was promised
        "k2": later + timedelta(days=10),
    }


def test_rotation_never_overwrites_a_key_file(layout: SecretsLayout) -> None:
    write_manifest(
        layout,
        (layout.receipt_keys / KEY_MANIFEST).read_text()
        + '\n[keys."k2"]\ncreated = 2026-10-01\nalgorithm = "ed25519"\nrevoked = 2026-10-02T00:00:00Z\n',
    )
    existing = layout.receipt_keys / "k2.key"
    existing.write_text("kept")

    rotation = rotate_receipt_key(layout, 0, now=NOW)

    assert rotation.active == "k3"
    assert existing.read_text() == "kept"


def test_rotation_refuses_an_inconsistent_folder(layout: SecretsLayout, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="grace_days"):
        rotate_receipt_key(layout, -1, now=NOW)
    with pytest.raises(ConfigError, match="hailong init"):
        rotate_receipt_key(SecretsLayout(tmp_path / "none"), 90, now=NOW)
    rotate_receipt_key(layout, 90, now=NOW)
    (layout.receipt_keys / "k5.key").write_text("stray")
    before = (layout.receipt_keys / KEY_MANIFEST).read_text()
    with pytest.raises(ConfigError, match="'k5' is not listed"):
        rotate_receipt_key(layout, 90, now=NOW + timedelta(days=1))
    assert (layout.receipt_keys / KEY_MANIFEST).read_text() == before
    assert not (layout.receipt_keys / "k3.key").exists()


# -- revoking -----------------------------------------------------------------------------------------


def test_revoking_a_retired_key_refuses_its_receipts_at_once_everywhere(
    layout: SecretsLayout, unit: Unit
) -> None:
    old_receipt = sign(CLAIMS, hub_keys(layout).keyring())
    rotate_receipt_key(layout, 90, now=NOW)
    assert outcome(old_receipt, kiosk_keys(layout), NOW) == "valid"

    revocation = revoke_receipt_key(layout, "k1", now=NOW + timedelta(minutes=5))

    assert (revocation.key_id, revocation.already, revocation.rotation) == ("k1", False, None)
    for keys in (hub_keys(layout), kiosk_keys(layout)):
        assert outcome(old_receipt, keys, NOW + timedelta(minutes=5)) == "revoked_key"
    assert "k1.pub" not in names(layout.receipt_public_keys)
    assert (
        "revoked = 2026-11-25T09:35:15Z" in (layout.receipt_public_keys / KEY_MANIFEST).read_text()
    )
    # What the hub publishes, retained, for kiosks that have not had the new folder copied.
    assert unit.to_message(hub_keys(layout).revoked_key_ids()).revoked_keys == ("k1",)
    # A kiosk still holding the old folder learns it from that message.
    stale = ReceiptPublicKeys(key_dir=layout.receipt_public_keys).keyring()
    assert stale.with_revoked(["k1"]).revoked == {"k1"}

    again = revoke_receipt_key(layout, "k1", now=NOW + timedelta(days=1))
    assert (again.already, again.revoked_at) == (True, NOW + timedelta(minutes=5))


def test_revoking_the_active_key_makes_a_new_one_first(layout: SecretsLayout) -> None:
    receipt = sign(CLAIMS, hub_keys(layout).keyring())

    revocation = revoke_receipt_key(layout, "k1", now=NOW)

    assert revocation.rotation is not None
    assert revocation.rotation.active == "k2"
    assert "k1.key" not in names(layout.receipt_keys)
    ring = hub_keys(layout).keyring()
    assert (ring.active, ring.revoked) == ("k2", frozenset({"k1"}))
    assert outcome(receipt, kiosk_keys(layout), NOW - timedelta(days=1)) == "revoked_key"
    assert verify(sign(CLAIMS, ring), kiosk_keys(layout).keyring(), UNIT, now=NOW) == CLAIMS


def test_revoking_the_legacy_hmac_key_ends_its_grace_at_once(tmp_path: Path, unit: Unit) -> None:
    layout = legacy_folder(tmp_path)
    init_secrets(unit, layout, now=NOW)
    old = sign_legacy_hmac(CLAIMS, "k1", b"h" * 32)

    revoke_receipt_key(layout, "k1", now=NOW)

    assert "k1.key" not in names(layout.receipt_keys)  # the hub's copy of the HMAC key is gone
    for keys in (hub_keys(layout), kiosk_keys(layout)):
        assert outcome(old, keys, NOW) == "revoked_key"


def test_revoking_an_unknown_key_names_the_known_ones(layout: SecretsLayout) -> None:
    with pytest.raises(ConfigError, match=r"no receipt key 'k9'.*keys: k1"):
        revoke_receipt_key(layout, "k9", now=NOW)


# -- the commands -----------------------------------------------------------------------------------


def test_the_keys_commands_rotate_with_no_grace_and_revoke(tmp_path: Path) -> None:
    import shutil

    config_dir = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[2] / "config", config_dir)
    config = str(config_dir / "hub.toml")

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    assert run("init", "--config", config)[0] == 0
    code, out = run("receipt", "issue", "--config", config,
                    "--counter", "Q1", "--officer", "CB001", "--procedure", "1.001193")  # fmt: skip
    assert code == 0, out
    old_url = out.split("QR: ")[1].split()[0]
    assert isinstance(parse_scan(old_url), SignedReceipt)

    code, out = run("keys", "rotate", "--config", config, "--grace-days", "0")
    assert code == 0, out
    assert "Key k2 signs from now on; key k1 verifies until" in out
    assert "receipt-keys-public" in out
    code, out = run("receipt", "verify", "--config", config, old_url)
    assert code == 1
    assert "[expired_key]" in out

    code, out = run("keys", "revoke", "--config", config, "k2")
    assert code == 0, out
    assert "New key k3 signs from now on" in out
    assert "Key k2 revoked at" in out
    code, out = run("keys", "revoke", "--config", config, "k9")
    assert code == 1
    assert "no receipt key 'k9'" in out
