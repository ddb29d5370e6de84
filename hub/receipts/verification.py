"""A human-readable verdict on a scanned or typed receipt, for ``hailong receipt verify``.

It answers the question an administrator asks when a citizen says "the kiosk refused my slip":
is this text a receipt of this unit, with a good signature, and if not, why not. The verdict is
two lines, Vietnamese first, then English; a refusal names its machine reason code (one of
``REFUSAL_REASONS``), the same code a kiosk counts refusals by.
"""

from __future__ import annotations

from datetime import date, datetime

from hailong.contract.clock import unit_time
from hailong.contract.dossier_codes import CodeBook
from hailong.contract.receipt import (
    KeyRing,
    LegacyReceipt,
    ReceiptClaims,
    ReceiptRefused,
    SignedReceipt,
    TypedCode,
    check,
    parse_scan,
)


def describe_scan(
    text: str,
    keyring: KeyRing,
    unit_code: str,
    *,
    today: date | None = None,
    now: datetime | None = None,
    book: CodeBook | None = None,
) -> tuple[bool, str]:
    """Return (accepted, message): a Vietnamese line first, then an English line.

    Accepted means a kiosk would take it at ``now`` (default: the clock; ``today`` is the day the
    age limit counts from, default ``now``'s local date): a signed receipt that verifies, an old
    HMAC receipt inside its grace period where this ring holds no HMAC key (its code only,
    unverified), or a well-formed dossier code of this unit typed by hand (accepted as
    *unverified*; the hub attributes it from its register). Anything else is refused with the
    reason. With the unit's ``book``, its own dossier code patterns are read too.
    """
    scanned: SignedReceipt | TypedCode | None = None
    try:
        scanned = parse_scan(text, book)
        if isinstance(scanned, TypedCode):
            return True, _typed_message(scanned, unit_code)
        result = check(scanned, keyring, unit_code, now=now, today=today)
    except ReceiptRefused as refused:
        return False, _refused_message(refused, scanned, keyring)
    if isinstance(result, LegacyReceipt):
        return True, _legacy_message(result)
    return True, _valid_message(result, scanned, keyring.valid_until(scanned.key_id))


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


def _legacy_message(legacy: LegacyReceipt) -> str:
    return (
        f"Giấy hẹn mẫu cũ (HMAC, khóa {legacy.key_id}), mã hồ sơ {legacy.code}: không kiểm tra "
        "được chữ ký tại đây, chấp nhận mã hồ sơ ở mức chưa xác thực.\n"
        f"Old-style receipt (HMAC, key {legacy.key_id}), dossier {legacy.code}: its signature "
        "cannot be checked here; its dossier code is accepted as unverified."
    )


def _when(instant: datetime) -> str:
    return f"{unit_time(instant):%H:%M:%S %d/%m/%Y}"


def _refused_message(
    refused: ReceiptRefused, scanned: SignedReceipt | TypedCode | None, keyring: KeyRing
) -> str:
    detail_vi = ""
    if isinstance(scanned, SignedReceipt):
        code, key_id = scanned.claims.code, scanned.key_id
        valid_until = keyring.valid_until(key_id)
        if refused.reason == "expired_key" and valid_until is not None:
            detail_vi = f" (khóa {key_id} đã thay, chỉ hiệu lực đến {_when(valid_until)})"
        elif refused.reason == "revoked_key":
            detail_vi = f" (khóa {key_id} đã bị thu hồi)"
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


def _valid_message(
    claims: ReceiptClaims, scanned: SignedReceipt, valid_until: datetime | None
) -> str:
    key_id = scanned.key_id
    vi_key, en_key = "", ""
    if scanned.legacy:
        vi_key, en_key = ", mẫu cũ HMAC", ", old-style HMAC"
    if valid_until is not None:
        vi_key += f"; khóa đã thay, còn hiệu lực đến {_when(valid_until)}"
        en_key += f"; key retired, valid until {_when(valid_until)}"
    return (
        f"Giấy hẹn hợp lệ: mã hồ sơ {claims.code}, thủ tục {claims.procedure}, "
        f"quầy {claims.counter}, cán bộ {claims.officer} (khóa {key_id}{vi_key}).\n"
        f"Valid receipt: dossier {claims.code}, procedure {claims.procedure}, "
        f"counter {claims.counter}, officer {claims.officer} (key {key_id}{en_key})."
    )
