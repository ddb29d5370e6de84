"""Dossier codes and the signed receipt URL printed as a QR on the "Giấy tiếp nhận hồ sơ".

The QR holds ``<base>/r/<dossier-code>?p=<procedure>&c=<counter>&o=<officer>&k=<key-id>&s=<sig>``.
A USB scanner at a kiosk types that text; a phone opens it as the online rating page. The signature
is an HMAC-SHA256 (truncated to 128 bits) over the code and the attribution fields with the unit's
key, so a kiosk can trust the procedure, counter and officer offline, and a forged or edited slip is
refused. The key id lets keys rotate while older receipts stay verifiable.

A dossier code typed by hand carries no signature: it is accepted as *unverified* and the hub
attributes it from its receipt register.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from urllib.parse import parse_qs, quote, urlsplit

MAX_SCAN_LENGTH = 512
SIGNATURE_BYTES = 16
_DOMAIN_TAG = "hailong-receipt-v1"

# National-portal style: <unit electronic code>-<yymmdd>-<sequence>, e.g. 000.00.20.H41-261125-0007
# ASCII digits only and \Z, not $ (which also matches before a trailing newline): one spelling per
# code and per field, so a text that verifies is exactly the text that was signed.
_CODE = re.compile(
    r"^(?P<unit>[0-9A-Z][0-9A-Z.]{2,19})-(?P<ymd>[0-9]{6})-(?P<seq>[0-9]{4,6})\Z", re.ASCII
)
_FIELD = re.compile(r"^[A-Za-z0-9._-]{1,40}\Z")
_SIG = re.compile(r"^[A-Za-z0-9_-]{22}\Z")


class ReceiptRefused(ValueError):
    """A scanned or typed receipt that cannot be accepted, with a reason people can read."""

    MESSAGES: ClassVar[dict[str, tuple[str, str]]] = {
        "empty": ("Chưa có mã hồ sơ.", "No dossier code was given."),
        "too_long": ("Mã quét được quá dài, không phải giấy hẹn.", "The scanned text is too long."),
        "malformed": (
            "Mã không đúng định dạng giấy hẹn. Vui lòng kiểm tra lại.",
            "This is not a receipt code. Please check it.",
        ),
        "bad_signature": (
            "Giấy hẹn không hợp lệ (chữ ký không đúng). Vui lòng liên hệ cán bộ.",
            "Invalid receipt (signature mismatch). Please ask an officer.",
        ),
        "unknown_key": (
            "Giấy hẹn được ký bằng khóa không còn hiệu lực. Vui lòng liên hệ cán bộ.",
            "The receipt was signed with an unknown key. Please ask an officer.",
        ),
        "wrong_unit": (
            "Giấy hẹn này thuộc đơn vị khác.",
            "This receipt belongs to another unit.",
        ),
    }

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        vi, en = self.MESSAGES[reason]
        self.message_vi = vi
        self.message_en = en
        super().__init__(f"{reason}: {en}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True, order=True)
class DossierCode:
    """Mã hồ sơ: unique per unit, built from the unit code, the reception date and a sequence."""

    unit: str
    received_on: date
    sequence: int

    def __str__(self) -> str:
        return f"{self.unit}-{self.received_on:%y%m%d}-{self.sequence:04d}"

    @classmethod
    def parse(cls, text: str) -> DossierCode:
        match = _CODE.match(text)
        if not match:
            raise ReceiptRefused("malformed", f"not a dossier code: {text[:60]!r}")
        ymd = match["ymd"]
        try:
            received_on = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
        except ValueError as exc:
            raise ReceiptRefused("malformed", f"bad date in {text!r}") from exc
        code = cls(unit=match["unit"], received_on=received_on, sequence=int(match["seq"]))
        if str(code) != text:  # e.g. a 5-digit sequence with a leading zero
            raise ReceiptRefused("malformed", f"not the canonical spelling {str(code)!r}")
        return code


@dataclass(frozen=True)
class ReceiptClaims:
    """What a signed receipt vouches for: which dossier, and who served it where."""

    code: DossierCode
    procedure: str
    counter: str
    officer: str

    def __post_init__(self) -> None:
        for name in ("procedure", "counter", "officer"):
            value = getattr(self, name)
            if not _FIELD.match(value):
                raise ReceiptRefused("malformed", f"{name} {value!r} is not a plain code")


@dataclass(frozen=True)
class KeyRing:
    """The unit's receipt keys by id; ``active`` signs new receipts, all of them verify."""

    keys: dict[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise ValueError(f"active key {self.active!r} is not in the key ring")
        for kid, key in self.keys.items():
            if not _FIELD.match(kid):
                raise ValueError(f"key id {kid!r} is not a plain code")
            if len(key) < 16:
                raise ValueError(f"key {kid!r} is shorter than 16 bytes")


@dataclass(frozen=True)
class SignedReceipt:
    claims: ReceiptClaims
    key_id: str
    signature: str

    def url(self, base_url: str) -> str:
        c = self.claims
        query = f"p={c.procedure}&c={c.counter}&o={c.officer}&k={self.key_id}&s={self.signature}"
        return f"{base_url.rstrip('/')}/r/{quote(str(c.code))}?{query}"


@dataclass(frozen=True)
class TypedCode:
    """A dossier code entered by hand: no signature, so nothing beyond the code is known."""

    code: DossierCode


def _mac(claims: ReceiptClaims, key_id: str, key: bytes) -> str:
    message = "\n".join(
        [_DOMAIN_TAG, str(claims.code), claims.procedure, claims.counter, claims.officer, key_id]
    ).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(claims: ReceiptClaims, keyring: KeyRing) -> SignedReceipt:
    key_id = keyring.active
    return SignedReceipt(claims, key_id, _mac(claims, key_id, keyring.keys[key_id]))


def parse_scan(text: str) -> SignedReceipt | TypedCode:
    """Read what a scanner or a person entered. Does not check the signature: see :func:`verify`."""
    if len(text) > MAX_SCAN_LENGTH:
        raise ReceiptRefused("too_long", f"{len(text)} characters")
    cleaned = "".join(ch for ch in text if ch.isprintable()).strip()
    if not cleaned:
        raise ReceiptRefused("empty")
    if "/r/" not in cleaned:
        return TypedCode(DossierCode.parse(cleaned.upper()))
    try:
        parts = urlsplit(cleaned)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for an unbalanced "["
        raise ReceiptRefused("malformed", str(exc)) from exc
    code_text = parts.path.rsplit("/r/", 1)[-1]
    query = parse_qs(parts.query, keep_blank_values=True)

    def one(name: str) -> str:
        values = query.get(name, [])
        if len(values) != 1:
            raise ReceiptRefused("malformed", f"parameter {name!r} missing or repeated")
        return values[0]

    claims = ReceiptClaims(DossierCode.parse(code_text), one("p"), one("c"), one("o"))
    key_id, signature = one("k"), one("s")
    if not _FIELD.match(key_id) or not _SIG.match(signature):
        raise ReceiptRefused("malformed", "key id or signature is not well formed")
    return SignedReceipt(claims, key_id, signature)


def verify(receipt: SignedReceipt, keyring: KeyRing, unit: str) -> ReceiptClaims:
    """Return the claims if the signature is the unit's; otherwise refuse with the reason.

    Another unit's receipt is refused as ``wrong_unit`` before any key is looked at: its key is
    not ours (and often has the same id, ``k1``), so checking the signature first would tell the
    citizen their genuine slip is forged instead of that it belongs elsewhere.
    """
    if receipt.claims.code.unit != unit:
        raise ReceiptRefused("wrong_unit", receipt.claims.code.unit)
    key = keyring.keys.get(receipt.key_id)
    if key is None:
        raise ReceiptRefused("unknown_key", receipt.key_id)
    expected = _mac(receipt.claims, receipt.key_id, key)
    if not hmac.compare_digest(expected, receipt.signature):
        raise ReceiptRefused("bad_signature")
    return receipt.claims
