"""The verdict `hailong receipt verify` prints."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hailong.contract.receipt import (
    REFUSAL_REASONS,
    DossierCode,
    KeyRing,
    ReceiptClaims,
    public_key_of,
    sign_legacy_hmac,
)
from hub.receipts.issuing import IssuedReceipt
from hub.receipts.verification import describe_scan

UNIT = "000.00.20.H41"
BASE_URL = "https://hailong.example.gov.vn"
CLAIMS = ReceiptClaims(DossierCode(UNIT, date(2026, 11, 25), 3), "2.000575", "Q3", "CB005")


def test_a_genuine_receipt_is_valid(issued: IssuedReceipt, keyring: KeyRing) -> None:
    ok, message = describe_scan(issued.url, keyring, UNIT)

    assert ok
    vi, en = message.splitlines()
    assert vi == (
        f"Giấy hẹn hợp lệ: mã hồ sơ {issued.code}, thủ tục 2.000575, quầy Q3, cán bộ CB005 "
        "(khóa k1)."
    )
    assert en == (
        f"Valid receipt: dossier {issued.code}, procedure 2.000575, counter Q3, officer CB005 "
        "(key k1)."
    )


def test_a_typed_code_is_accepted_unverified(issued: IssuedReceipt, keyring: KeyRing) -> None:
    ok, message = describe_scan(f" {str(issued.code).lower()} ", keyring, UNIT)

    assert ok
    assert "chưa xác thực" in message
    assert "accepted as unverified" in message


@pytest.mark.parametrize(
    ("make_text", "vi", "reason"),
    [
        (lambda url: url.replace("c=Q3", "c=Q1"), "chữ ký không đúng", "bad_signature"),
        (lambda url: url.replace("k=k1", "k=k9"), "khóa không xác định", "unknown_key"),
        (lambda url: url.replace("H41", "H42"), "thuộc đơn vị khác", "wrong_unit"),
        (lambda url: "000.00.20.H42-261125-0001", "thuộc đơn vị khác", "wrong_unit"),
        (lambda url: "hello", "không đúng định dạng", "malformed"),
        (lambda url: " \r\n", "Chưa có mã hồ sơ", "empty"),
        (lambda url: url * 6, "quá dài", "too_long"),
        (lambda url: url[:-5], "không đúng định dạng", "malformed"),  # cut short
        (lambda url: url[: url.index("&k=")], "không đúng định dạng", "malformed"),
    ],
)
def test_a_refusal_says_why(
    issued: IssuedReceipt, keyring: KeyRing, make_text: object, vi: str, reason: str
) -> None:
    ok, message = describe_scan(make_text(issued.url), keyring, UNIT)  # type: ignore[operator]

    assert not ok
    vi_line, en_line = message.splitlines()
    assert vi_line.startswith("Không chấp nhận: ")
    assert vi in vi_line
    assert vi_line.endswith(f"(mã lý do: {reason})")
    assert en_line.startswith(f"Refused [{reason}]: ")


END = datetime(2027, 2, 23, 10, 15, 30, tzinfo=UTC)  # k1's grace ends at this instant


def rotated(keyring: KeyRing) -> KeyRing:
    """The fixture's ring after a rotation: k2 signs, k1 verifies strictly before END."""
    k2 = bytes(range(32))
    public = {**keyring.keys, "k2": public_key_of(k2)}
    return KeyRing(public, "k2", retired={"k1": END}, private_key=k2)


def test_a_receipt_of_a_retired_key_says_until_when(
    issued: IssuedReceipt, keyring: KeyRing
) -> None:
    ok, message = describe_scan(
        issued.url, rotated(keyring), UNIT, now=END - timedelta(microseconds=1)
    )

    assert ok
    vi, en = message.splitlines()
    until = "17:15:30 23/02/2027"  # END on the unit's clock (UTC+7), whatever the machine's
    assert vi.endswith(f"(khóa k1; khóa đã thay, còn hiệu lực đến {until}).")
    assert en.endswith(f"(key k1; key retired, valid until {until}).")


@pytest.mark.parametrize("after", [timedelta(0), timedelta(days=1)])
def test_a_receipt_of_a_retired_key_is_refused_from_the_end_of_its_window(
    issued: IssuedReceipt, keyring: KeyRing, after: timedelta
) -> None:
    ok, message = describe_scan(issued.url, rotated(keyring), UNIT, now=END + after)

    assert not ok
    vi, en = message.splitlines()
    until = "17:15:30 23/02/2027"  # END on the unit's clock (UTC+7), whatever the machine's
    assert vi == (
        "Không chấp nhận: Giấy hẹn đã hết hạn đánh giá (khóa ký đã thay). Vui lòng liên hệ cán bộ."
        f" (khóa k1 đã thay, chỉ hiệu lực đến {until}) (mã lý do: expired_key)"
    )
    assert en.startswith("Refused [expired_key]: This receipt can no longer be rated")
    assert en.endswith(f"(key k1 retired, valid until {until})")


def test_a_receipt_of_a_revoked_key_is_refused(issued: IssuedReceipt, keyring: KeyRing) -> None:
    ok, message = describe_scan(issued.url, rotated(keyring).with_revoked(["k1"]), UNIT)

    assert not ok
    vi, en = message.splitlines()
    assert vi.endswith("(khóa k1 đã bị thu hồi) (mã lý do: revoked_key)")
    assert en.startswith("Refused [revoked_key]: The receipt was signed with a revoked key.")


def test_an_old_hmac_receipt_is_valid_where_the_hmac_key_is_held(keyring: KeyRing) -> None:
    hub = KeyRing(keyring.keys, keyring.active, legacy={"k0": b"h" * 32})
    old = sign_legacy_hmac(CLAIMS, "k0", b"h" * 32).url(BASE_URL)

    ok, message = describe_scan(old, hub, UNIT)

    assert ok
    assert message.splitlines()[1].endswith("(key k0, old-style HMAC).")


def test_an_old_hmac_receipt_is_only_a_code_where_no_hmac_key_is_held(keyring: KeyRing) -> None:
    kiosk = KeyRing(keyring.keys, legacy={"k0": None})
    old = sign_legacy_hmac(CLAIMS, "k0", b"h" * 32).url(BASE_URL)

    ok, message = describe_scan(old, kiosk, UNIT)

    assert ok
    vi, en = message.splitlines()
    assert "chấp nhận mã hồ sơ ở mức chưa xác thực" in vi
    assert en == (
        f"Old-style receipt (HMAC, key k0), dossier {CLAIMS.code}: its signature cannot be "
        "checked here; its dossier code is accepted as unverified."
    )


def test_a_receipt_older_than_the_maximum_age_is_refused(
    issued: IssuedReceipt, keyring: KeyRing
) -> None:
    aged = KeyRing(keyring.keys, keyring.active, max_age_days=400)

    assert describe_scan(issued.url, aged, UNIT, today=date(2027, 12, 30))[0]
    ok, message = describe_scan(issued.url, aged, UNIT, today=date(2027, 12, 31))

    assert not ok
    vi, en = message.splitlines()
    assert "quá thời hạn đánh giá" in vi
    assert "(hồ sơ tiếp nhận ngày 25/11/2026, quá 400 ngày) (mã lý do: expired)" in vi
    assert en.startswith("Refused [expired]: This receipt is too old to be rated.")


@pytest.mark.parametrize("cut", range(1, 60))
def test_a_truncated_receipt_is_refused_never_a_crash(
    issued: IssuedReceipt, keyring: KeyRing, cut: int
) -> None:
    ok, message = describe_scan(issued.url[:-cut], keyring, UNIT)

    assert not ok
    reason = message.splitlines()[1].removeprefix("Refused [").split("]")[0]
    assert reason in REFUSAL_REASONS
    assert reason in {"malformed", "bad_signature"}
