"""Dossier codes and the signed receipt URL printed as a QR on the "Giấy tiếp nhận hồ sơ".

The QR holds ``<base>/r/<dossier-code>?p=<procedure>&c=<counter>&o=<officer>&k=<key-id>&s=<sig>``.
A USB scanner at a kiosk types that text; a phone opens it as the online rating page. The signature
is an HMAC-SHA256 (truncated to 128 bits) over the code and the attribution fields with the unit's
key, so a kiosk can trust the procedure, counter and officer offline, and a forged or edited slip is
refused. The key id lets keys rotate while older receipts stay verifiable: the key ring knows each
retired key's last valid day (``valid_until``), after which its receipts are refused as
``expired_key``; optionally a receipt whose dossier date is older than ``max_age_days`` is refused as
``expired``.

A dossier code typed by hand carries no signature: it is accepted as *unverified* and the hub
attributes it from its receipt register.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Literal, get_args
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
_UNIT = re.compile(r"^[0-9A-Z][0-9A-Z.]{2,19}\Z", re.ASCII)

RefusalReason = Literal[
    "empty",  # nothing but blanks was scanned or typed
    "too_long",  # longer than MAX_SCAN_LENGTH: not a receipt (or a scanner gone mad)
    "malformed",  # not a receipt URL or dossier code, or cut short (truncated MAC or fields)
    "bad_signature",  # the MAC does not match: forged or edited
    "unknown_key",  # signed with a key id this key ring does not hold
    "expired_key",  # signed with a retired key, scanned after its valid_until
    "expired",  # genuine, but the dossier date is older than the key ring's max_age_days
    "wrong_unit",  # a receipt (or typed code) of another unit
]
# Every machine reason a ReceiptRefused may carry, stable for counting refusals per reason.
REFUSAL_REASONS: tuple[RefusalReason, ...] = get_args(RefusalReason)


class ReceiptRefused(ValueError):
    """A scanned or typed receipt that cannot be accepted, with a reason people can read."""

    MESSAGES: ClassVar[dict[RefusalReason, tuple[str, str]]] = {
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
            "Giấy hẹn được ký bằng khóa không xác định. Vui lòng liên hệ cán bộ.",
            "The receipt was signed with an unknown key. Please ask an officer.",
        ),
        "expired_key": (
            "Giấy hẹn đã hết hạn đánh giá (khóa ký đã thay). Vui lòng liên hệ cán bộ.",
            "This receipt can no longer be rated (its signing key was replaced). "
            "Please ask an officer.",
        ),
        "expired": (
            "Giấy hẹn đã quá thời hạn đánh giá. Vui lòng liên hệ cán bộ.",
            "This receipt is too old to be rated. Please ask an officer.",
        ),
        "wrong_unit": (
            "Giấy hẹn này thuộc đơn vị khác.",
            "This receipt belongs to another unit.",
        ),
    }

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        self.reason: RefusalReason = reason
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

    def __post_init__(self) -> None:
        # Only what the printed form can carry: a code that could not be read back is a bug.
        if not _UNIT.match(self.unit):
            raise ValueError(f"unit code {self.unit!r} is not a unit's electronic code")
        if not date(2000, 1, 1) <= self.received_on <= date(2099, 12, 31):
            raise ValueError(f"{self.received_on} cannot be written as yymmdd")
        if not 0 <= self.sequence <= 999_999:
            raise ValueError(f"sequence {self.sequence} is not 0..999999")

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
    """The unit's receipt keys by id, with their lifetimes.

    ``active`` signs new receipts. Every key verifies, except that a key in ``retired`` verifies
    only through its ``valid_until`` day (inclusive): after it, its receipts are ``expired_key``.
    The active key is never retired. With ``max_age_days``, a receipt whose dossier date is more
    than that many days before the day of the scan is ``expired``; ``None`` checks no age.
    """

    keys: dict[str, bytes]
    active: str
    retired: dict[str, date] = field(default_factory=dict)
    max_age_days: int | None = None

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise ValueError(f"active key {self.active!r} is not in the key ring")
        for kid, key in self.keys.items():
            if not _FIELD.match(kid):
                raise ValueError(f"key id {kid!r} is not a plain code")
            if len(key) < 16:
                raise ValueError(f"key {kid!r} is shorter than 16 bytes")
        if self.active in self.retired:
            raise ValueError(f"the active key {self.active!r} cannot be retired")
        for kid in self.retired:
            if kid not in self.keys:
                raise ValueError(f"retired key {kid!r} is not in the key ring")
        if self.max_age_days is not None and self.max_age_days < 0:
            raise ValueError(f"max_age_days {self.max_age_days} is negative")

    def valid_until(self, key_id: str) -> date | None:
        """The last day receipts signed with ``key_id`` verify, or ``None`` if it is not retired."""
        return self.retired.get(key_id)


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
    """Sign with the active key: never a retired one (a key ring cannot retire its active key)."""
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


def verify(
    receipt: SignedReceipt, keyring: KeyRing, unit: str, *, today: date | None = None
) -> ReceiptClaims:
    """Return the claims if the signature is the unit's and still valid; otherwise refuse.

    ``today`` is the day of the scan (default: the local date, which is also the date the hub
    writes into dossier codes). The checks run in this order, so each reason means one thing:

    * ``wrong_unit`` before any key is looked at: another unit's key is not ours (and often has
      the same id, ``k1``), so checking the signature first would tell the citizen their genuine
      slip is forged instead of that it belongs elsewhere;
    * ``unknown_key``, then ``bad_signature``: nothing in the receipt is trusted before its MAC
      is checked;
    * ``expired_key`` (a retired key after its ``valid_until``), then ``expired`` (older than
      ``max_age_days``): both read signed content, so a forged slip never gets that far.

    A dossier date after ``today`` is not refused: a kiosk whose clock is behind must still take
    today's slips (the signature already vouches for the date).
    """
    claims = receipt.claims
    if claims.code.unit != unit:
        raise ReceiptRefused("wrong_unit", claims.code.unit)
    key = keyring.keys.get(receipt.key_id)
    if key is None:
        raise ReceiptRefused("unknown_key", receipt.key_id)
    expected = _mac(claims, receipt.key_id, key)
    if not hmac.compare_digest(expected, receipt.signature):
        raise ReceiptRefused("bad_signature")
    day = date.today() if today is None else today
    valid_until = keyring.valid_until(receipt.key_id)
    if valid_until is not None and day > valid_until:
        raise ReceiptRefused(
            "expired_key", f"key {receipt.key_id} retired, valid until {valid_until:%d/%m/%Y}"
        )
    if keyring.max_age_days is not None:
        age = (day - claims.code.received_on).days
        if age > keyring.max_age_days:
            raise ReceiptRefused(
                "expired", f"dossier dated {claims.code.received_on:%d/%m/%Y}, {age} days old"
            )
    return claims
