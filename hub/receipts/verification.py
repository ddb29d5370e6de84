"""A human-readable verdict on a scanned or typed receipt, for ``hailong receipt verify``.

It answers the question an administrator asks when a citizen says "the kiosk refused my slip":
is this text a receipt of this unit, with a good signature, and if not, why not.
"""

from __future__ import annotations

from hailong.contract.receipt import (
    KeyRing,
    ReceiptClaims,
    ReceiptRefused,
    TypedCode,
    parse_scan,
    verify,
)


def describe_scan(text: str, keyring: KeyRing, unit_code: str) -> tuple[bool, str]:
    """Return (accepted, message): a Vietnamese line first, then an English line.

    Accepted means a kiosk would take it: a signed receipt that verifies, or a well-formed dossier
    code of this unit typed by hand (accepted as *unverified*; the hub attributes it from its
    register). Anything else is refused with the reason.
    """
    try:
        scanned = parse_scan(text)
        if isinstance(scanned, TypedCode):
            return True, _typed_message(scanned, unit_code)
        claims = verify(scanned, keyring, unit_code)
    except ReceiptRefused as refused:
        return False, _refused_message(refused)
    return True, _valid_message(claims, scanned.key_id)


def _typed_message(typed: TypedCode, unit_code: str) -> str:
    code = typed.code
    if code.unit != unit_code:
        raise ReceiptRefused("wrong_unit", code.unit)
    return (
        f"Mã hồ sơ {code} đúng định dạng nhưng được nhập tay, không có chữ ký: "
        "chấp nhận ở mức chưa xác thực.\n"
        f"Dossier code {code} is well formed but typed by hand, without a signature: "
        "accepted as unverified."
    )


def _refused_message(refused: ReceiptRefused) -> str:
    detail = f" ({refused.detail})" if refused.detail else ""
    return (
        f"Không chấp nhận: {refused.message_vi}\n"
        f"Refused [{refused.reason}]: {refused.message_en}{detail}"
    )


def _valid_message(claims: ReceiptClaims, key_id: str) -> str:
    return (
        f"Giấy hẹn hợp lệ: mã hồ sơ {claims.code}, thủ tục {claims.procedure}, "
        f"quầy {claims.counter}, cán bộ {claims.officer} (khóa {key_id}).\n"
        f"Valid receipt: dossier {claims.code}, procedure {claims.procedure}, "
        f"counter {claims.counter}, officer {claims.officer} (key {key_id})."
    )
