"""A human-readable verdict on a scanned or typed receipt, for ``hailong receipt verify``.

It answers the question an administrator asks when a citizen says "the kiosk refused my slip":
is this text a receipt of this unit, with a good signature, and if not, why not. The verdict is
two lines, Vietnamese first, then English; a refusal names its machine reason code (one of
``REFUSAL_REASONS``), the same code a kiosk counts refusals by.
"""

from __future__ import annotations

from datetime import date

from hailong.contract.receipt import (
    KeyRing,
    ReceiptClaims,
    ReceiptRefused,
    SignedReceipt,
    TypedCode,
    parse_scan,
    verify,
)


def describe_scan(
    text: str, keyring: KeyRing, unit_code: str, *, today: date | None = None
) -> tuple[bool, str]:
    """Return (accepted, message): a Vietnamese line first, then an English line.

    Accepted means a kiosk would take it on ``today`` (default: the local date): a signed receipt
    that verifies, or a well-formed dossier code of this unit typed by hand (accepted as
    *unverified*; the hub attributes it from its register). Anything else is refused with the
    reason.
    """
    day = date.today() if today is None else today
    scanned: SignedReceipt | TypedCode | None = None
    try:
        scanned = parse_scan(text)
        if isinstance(scanned, TypedCode):
            return True, _typed_message(scanned, unit_code)
        claims = verify(scanned, keyring, unit_code, today=day)
    except ReceiptRefused as refused:
        return False, _refused_message(refused, scanned, keyring)
    return True, _valid_message(claims, scanned.key_id, keyring.valid_until(scanned.key_id))


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


def _refused_message(
    refused: ReceiptRefused, scanned: SignedReceipt | TypedCode | None, keyring: KeyRing
) -> str:
    detail_vi = ""
    if isinstance(scanned, SignedReceipt):
        code, key_id = scanned.claims.code, scanned.key_id
        valid_until = keyring.valid_until(key_id)
        if refused.reason == "expired_key" and valid_until is not None:
            detail_vi = (
                f" (khóa {key_id} đã thay, chỉ hiệu lực đến hết ngày {valid_until:%d/%m/%Y})"
            )
        elif refused.reason == "expired":
            detail_vi = (
                f" (hồ sơ tiếp nhận ngày {code.received_on:%d/%m/%Y}, "
                f"quá {keyring.max_age_days} ngày)"
            )
    detail = f" ({refused.detail})" if refused.detail else ""
    return (
        f"Không chấp nhận: {refused.message_vi}{detail_vi} (mã lý do: {refused.reason})\n"
        f"Refused [{refused.reason}]: {refused.message_en}{detail}"
    )


def _valid_message(claims: ReceiptClaims, key_id: str, valid_until: date | None) -> str:
    vi_key, en_key = "", ""
    if valid_until is not None:
        vi_key = f"; khóa đã thay, còn hiệu lực đến hết ngày {valid_until:%d/%m/%Y}"
        en_key = f"; key retired, valid until {valid_until:%d/%m/%Y}"
    return (
        f"Giấy hẹn hợp lệ: mã hồ sơ {claims.code}, thủ tục {claims.procedure}, "
        f"quầy {claims.counter}, cán bộ {claims.officer} (khóa {key_id}{vi_key}).\n"
        f"Valid receipt: dossier {claims.code}, procedure {claims.procedure}, "
        f"counter {claims.counter}, officer {claims.officer} (key {key_id}{en_key})."
    )
