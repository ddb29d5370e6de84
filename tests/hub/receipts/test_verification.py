"""The verdict `hailong receipt verify` prints."""

from __future__ import annotations

import pytest

from hailong.contract.receipt import KeyRing
from hub.receipts.issuing import IssuedReceipt
from hub.receipts.verification import describe_scan

UNIT = "000.00.20.H41"


def test_a_genuine_receipt_is_valid(issued: IssuedReceipt, keyring: KeyRing) -> None:
    ok, message = describe_scan(issued.url, keyring, UNIT)

    assert ok
    vi, en = message.splitlines()
    assert vi.startswith(f"Giấy hẹn hợp lệ: mã hồ sơ {issued.code}, thủ tục 2.000575, quầy Q3")
    assert en.startswith(f"Valid receipt: dossier {issued.code}")


def test_a_typed_code_is_accepted_unverified(issued: IssuedReceipt, keyring: KeyRing) -> None:
    ok, message = describe_scan(f" {str(issued.code).lower()} ", keyring, UNIT)

    assert ok
    assert "chưa xác thực" in message
    assert "accepted as unverified" in message


@pytest.mark.parametrize(
    ("make_text", "vi", "reason"),
    [
        (lambda url: url.replace("c=Q3", "c=Q1"), "chữ ký không đúng", "bad_signature"),
        (lambda url: url.replace("k=k1", "k=k9"), "khóa không còn hiệu lực", "unknown_key"),
        (lambda url: url.replace("H41", "H42"), "thuộc đơn vị khác", "wrong_unit"),
        (lambda url: "000.00.20.H42-261125-0001", "thuộc đơn vị khác", "wrong_unit"),
        (lambda url: "hello", "không đúng định dạng", "malformed"),
        (lambda url: " \r\n", "Chưa có mã hồ sơ", "empty"),
        (lambda url: url * 6, "quá dài", "too_long"),
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
    assert en_line.startswith(f"Refused [{reason}]: ")
