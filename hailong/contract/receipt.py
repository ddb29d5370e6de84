"""Dossier codes and the signed receipt URL printed as a QR on the "Giấy tiếp nhận hồ sơ".

The QR holds ``<base>/r/<dossier-code>?p=<procedure>&c=<counter>&o=<officer>&k=<key-id>&s=<sig>``.
A USB scanner at a kiosk types that text; a phone opens it as the online rating page.

The signature is Ed25519 (64 bytes, 86 base64url characters) over the code and the attribution
fields. Only the hub holds the private key; kiosks and button boxes hold public keys, so they trust
the procedure, counter and officer offline and refuse a forged or edited slip, yet a stolen kiosk
cannot make a slip any kiosk or the hub accepts. Everything after ``<base>`` is read strictly in
the one spelling :meth:`SignedReceipt.url` writes, so any edit of it is refused; ``<base>`` only
tells a phone where the hub is and is not signed.

Receipts printed before Ed25519 carry an HMAC-SHA256 truncated to 128 bits (22 characters) made
with a key every kiosk held. The hub keeps that key for a grace period and still verifies them; a
kiosk no longer has it and reads such a slip as a :class:`LegacyReceipt`: its dossier code only,
unverified, exactly like a code typed by hand (the hub attributes it from its register).

The key ring knows each retired key's end (``retired``: the instant its receipts stop verifying,
exclusive, so a key retired with no grace stops at once) and the revoked key ids (refused whatever
the date); optionally a receipt whose dossier date is older than ``max_age_days`` is ``expired``.

A dossier code typed by hand carries no signature: it is accepted as *unverified* and the hub
attributes it from its receipt register.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import ClassVar, Literal, get_args

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hailong.contract.clock import unit_day, unit_time
from hailong.contract.dossier_codes import CodeBook, compile_pattern

MAX_SCAN_LENGTH = 512
SIGNATURE_CHARS = 86  # an Ed25519 signature: 64 bytes in unpadded base64url
LEGACY_SIGNATURE_CHARS = 22  # the HMAC of receipts printed before Ed25519: 16 bytes
PUBLIC_KEY_BYTES = 32
_DOMAIN_TAG = "hailong-receipt-v2"
_LEGACY_DOMAIN_TAG = "hailong-receipt-v1"

Scheme = Literal["ed25519", "hmac-sha256"]

# National-portal style: <unit electronic code>-<yymmdd>-<sequence>, e.g. 000.00.20.H41-261125-0007
# ASCII digits only and \Z, not $ (which also matches before a trailing newline): one spelling per
# code and per field, so a text that verifies is exactly the text that was signed.
_CODE = re.compile(
    r"^(?P<unit>[0-9A-Z][0-9A-Z.]{2,19})-(?P<ymd>[0-9]{6})-(?P<seq>[0-9]{4,6})\Z", re.ASCII
)
_FIELD_CHARS = r"[A-Za-z0-9._-]{1,40}"
_FIELD = re.compile(rf"^{_FIELD_CHARS}\Z", re.ASCII)
_UNIT = re.compile(r"^[0-9A-Z][0-9A-Z.]{2,19}\Z", re.ASCII)
# The signed part of a receipt URL, in the one order and spelling SignedReceipt.url writes. No
# other parameter, no repeated or empty one, no fragment: what verifies is what was signed.
_SIGNED_PART = re.compile(
    rf"/r/(?P<code>[^/?#]*)\?p=(?P<p>[^&#]*)&c=(?P<c>[^&#]*)&o=(?P<o>[^&#]*)"
    rf"&k=(?P<k>[^&#]*)&s=(?P<s>[A-Za-z0-9_-]{{{SIGNATURE_CHARS}}}|"
    rf"[A-Za-z0-9_-]{{{LEGACY_SIGNATURE_CHARS}}})\Z",
    re.ASCII,
)

RefusalReason = Literal[
    "empty",  # nothing but blanks was scanned or typed
    "too_long",  # longer than MAX_SCAN_LENGTH: not a receipt (or a scanner gone mad)
    "malformed",  # not a receipt URL or dossier code, or cut short (truncated signature or fields)
    "bad_signature",  # the signature does not match: forged or edited
    "unknown_key",  # signed with a key id this key ring does not hold
    "revoked_key",  # signed with a key the hub revoked (e.g. after a theft): refused at once
    "expired_key",  # signed with a retired key, scanned after its grace period ended
    "expired",  # genuine, but the dossier date is older than the key ring's max_age_days
    "wrong_unit",  # a receipt (or typed code) of another unit
    "unverifiable",  # an old HMAC receipt where no HMAC key is held: only its code may be used
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
        "revoked_key": (
            "Giấy hẹn được ký bằng khóa đã bị thu hồi. Vui lòng liên hệ cán bộ.",
            "The receipt was signed with a revoked key. Please ask an officer.",
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
        "unverifiable": (
            "Giấy hẹn mẫu cũ, không kiểm tra được chữ ký tại đây. Vui lòng nhập mã hồ sơ.",
            "An old-style receipt whose signature cannot be checked here. "
            "Please type the dossier code.",
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
    """Mã hồ sơ: unique per unit, built from the unit code, the reception date and a sequence.

    ``form`` is ``""`` for the national spelling (the one the hub issues), else the template of
    the unit's own pattern the code is printed in (:mod:`hailong.contract.dossier_codes`): a
    registered receipt of another system keeps its spelling, and its sequence is that system's
    numbering, not the hub's. ``unit`` is always the owning unit's electronic code.
    """

    unit: str
    received_on: date
    sequence: int
    form: str = ""

    def __post_init__(self) -> None:
        # Only what the printed form can carry: a code that could not be read back is a bug.
        if not _UNIT.match(self.unit):
            raise ValueError(f"unit code {self.unit!r} is not a unit's electronic code")
        if not date(2000, 1, 1) <= self.received_on <= date(2099, 12, 31):
            raise ValueError(f"{self.received_on} cannot be written as yymmdd")
        if self.form:
            compile_pattern(self.form).write(self.unit, self.received_on, self.sequence)
        elif not 0 <= self.sequence <= 999_999:
            raise ValueError(f"sequence {self.sequence} is not 0..999999")

    @property
    def national(self) -> bool:
        """Written in the national spelling, numbered by the hub's own daily sequence."""
        return not self.form

    def __str__(self) -> str:
        if self.form:
            return compile_pattern(self.form).write(self.unit, self.received_on, self.sequence)
        return f"{self.unit}-{self.received_on:%y%m%d}-{self.sequence:04d}"

    @classmethod
    def parse(cls, text: str, book: CodeBook | None = None) -> DossierCode:
        """Read a code in the national spelling or, with the unit's ``book``, one of its own.

        The national spelling comes first, unless it reads as another unit's code and one of the
        book's patterns reads it as this unit's (``G09.20-{yymmdd}-{seq:4}`` looks national).
        A text in no accepted spelling is ``malformed``; whose code it is, callers check."""
        try:
            national = cls._parse_national(text)
        except ReceiptRefused:
            own = cls._read_own(text, book, None) if book is not None else None
            if own is None:
                raise
            return own
        if book is None or national.unit == book.unit:
            return national
        return cls._read_own(text, book, national) or national

    @classmethod
    def _read_own(
        cls, text: str, book: CodeBook, national: DossierCode | None
    ) -> DossierCode | None:
        """``text`` read with the unit's own patterns: as this unit's code, or (when it does not
        read as national) as any code one of them names; else ``None``."""
        found = book.read(text)
        if found is None:
            return None
        pattern, parts = found
        unit = parts.unit if parts.unit is not None else book.unit
        if national is not None and unit != book.unit:
            return None
        return cls(unit, parts.received_on, parts.sequence, pattern.template)

    @classmethod
    def _parse_national(cls, text: str) -> DossierCode:
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


def public_key_of(private_key: bytes) -> bytes:
    """The 32-byte Ed25519 public key of a 32-byte private key (its seed)."""
    return Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()


@dataclass(frozen=True)
class KeyRing:
    """The unit's receipt keys by id, with their lifetimes.

    ``keys`` are Ed25519 *public* keys (32 bytes): every ring has them. Only the hub's ring has
    ``private_key``, the seed of the ``active`` key that signs new receipts. ``legacy`` names the
    HMAC-SHA256 keys that signed receipts before Ed25519: the hub's ring maps each id to its key
    (while it keeps it, for the grace period); a kiosk's ring maps it to ``None`` (it knows the id
    and its lifetime, never the key).

    ``retired`` maps a key id to the instant (timezone-aware) its receipts stop verifying: they
    verify strictly before it and are ``expired_key`` from it on. ``revoked`` ids are refused at
    once, whether or not this ring holds them (a kiosk learns revocations from the hub). With
    ``max_age_days``, a receipt whose dossier date is more than that many days before the day of
    the scan is ``expired``; ``None`` checks no age.
    """

    keys: Mapping[str, bytes]
    active: str | None = None
    retired: Mapping[str, datetime] = field(default_factory=dict)
    max_age_days: int | None = None
    private_key: bytes | None = field(default=None, repr=False)
    legacy: Mapping[str, bytes | None] = field(default_factory=dict, repr=False)
    revoked: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for kid, key in self.keys.items():
            if not _FIELD.match(kid):
                raise ValueError(f"key id {kid!r} is not a plain code")
            if len(key) != PUBLIC_KEY_BYTES:
                raise ValueError(f"public key {kid!r} is not {PUBLIC_KEY_BYTES} bytes")
        for kid, secret in self.legacy.items():
            if not _FIELD.match(kid):
                raise ValueError(f"key id {kid!r} is not a plain code")
            if kid in self.keys:
                raise ValueError(f"key {kid!r} cannot be both Ed25519 and HMAC")
            if secret is not None and len(secret) < 16:
                raise ValueError(f"key {kid!r} is shorter than 16 bytes")
        for kid in self.revoked:
            if not _FIELD.match(kid):
                raise ValueError(f"revoked key id {kid!r} is not a plain code")
        for kid, end in self.retired.items():
            if kid not in self.keys and kid not in self.legacy:
                raise ValueError(f"retired key {kid!r} is not in the key ring")
            if not isinstance(end, datetime) or end.tzinfo is None:
                raise ValueError(f"retired key {kid!r}: its end {end} is not an aware instant")
        if self.active is not None:
            if self.active not in self.keys:
                raise ValueError(f"active key {self.active!r} is not in the key ring")
            if self.active in self.retired:
                raise ValueError(f"the active key {self.active!r} cannot be retired")
            if self.active in self.revoked:
                raise ValueError(f"the active key {self.active!r} is revoked")
        if self.private_key is not None:
            if self.active is None:
                raise ValueError("a private key needs the id of the active key")
            try:
                public = public_key_of(self.private_key)
            except ValueError as exc:
                raise ValueError(f"the private key of {self.active!r} is not Ed25519") from exc
            if public != self.keys[self.active]:
                raise ValueError(f"the private key does not match public key {self.active!r}")
        if self.max_age_days is not None and self.max_age_days < 0:
            raise ValueError(f"max_age_days {self.max_age_days} is negative")

    @property
    def can_sign(self) -> bool:
        return self.private_key is not None

    def valid_until(self, key_id: str) -> datetime | None:
        """The instant receipts of ``key_id`` stop verifying, or ``None`` if it is not retired."""
        return self.retired.get(key_id)

    def with_revoked(self, key_ids: Iterable[str]) -> KeyRing:
        """This ring with ``key_ids`` revoked too (ids it does not hold included). Revoking the
        active key leaves a ring that verifies but cannot sign."""
        revoked = self.revoked | frozenset(key_ids)
        if revoked == self.revoked:
            return self
        if self.active is not None and self.active in revoked:
            return dataclasses.replace(self, active=None, private_key=None, revoked=revoked)
        return dataclasses.replace(self, revoked=revoked)


@dataclass(frozen=True)
class SignedReceipt:
    claims: ReceiptClaims
    key_id: str
    signature: str

    @property
    def scheme(self) -> Scheme:
        return "hmac-sha256" if len(self.signature) == LEGACY_SIGNATURE_CHARS else "ed25519"

    @property
    def legacy(self) -> bool:
        return self.scheme == "hmac-sha256"

    def url(self, base_url: str) -> str:
        c = self.claims
        query = f"p={c.procedure}&c={c.counter}&o={c.officer}&k={self.key_id}&s={self.signature}"
        return f"{base_url.rstrip('/')}/r/{c.code}?{query}"


@dataclass(frozen=True)
class TypedCode:
    """A dossier code entered by hand: no signature, so nothing beyond the code is known."""

    code: DossierCode


@dataclass(frozen=True)
class LegacyReceipt:
    """An HMAC receipt from before Ed25519, inside its grace period, read where no HMAC key is
    held (a kiosk). Its signature is not checked, so only the dossier code is used, unverified,
    as if typed: a slip made with a stolen HMAC key gains nothing over typing a code."""

    code: DossierCode
    key_id: str


def _message(claims: ReceiptClaims, key_id: str, tag: str) -> bytes:
    fields = [tag, str(claims.code), claims.procedure, claims.counter, claims.officer, key_id]
    return "\n".join(fields).encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes | None:
    """Decode unpadded base64url; ``None`` unless ``text`` is the one canonical spelling (the
    unused low bits of the last character set would decode to the same bytes)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if _b64(raw) == text else None


def _mac(claims: ReceiptClaims, key_id: str, key: bytes) -> str:
    digest = hmac.new(key, _message(claims, key_id, _LEGACY_DOMAIN_TAG), hashlib.sha256).digest()
    return _b64(digest[: (LEGACY_SIGNATURE_CHARS * 6) // 8])


def sign(claims: ReceiptClaims, keyring: KeyRing) -> SignedReceipt:
    """Sign with the active key (Ed25519). Only a ring with the private key can: the hub's."""
    if keyring.private_key is None or keyring.active is None:
        raise ValueError("this key ring holds no private key: only the hub signs receipts")
    key_id = keyring.active
    private = Ed25519PrivateKey.from_private_bytes(keyring.private_key)
    signature = private.sign(_message(claims, key_id, _DOMAIN_TAG))
    return SignedReceipt(claims, key_id, _b64(signature))


def sign_legacy_hmac(claims: ReceiptClaims, key_id: str, key: bytes) -> SignedReceipt:
    """A receipt as printed before Ed25519 (HMAC-SHA256): for tests and tools that need one.
    Nothing issues these any more."""
    return SignedReceipt(claims, key_id, _mac(claims, key_id, key))


def parse_scan(text: str, book: CodeBook | None = None) -> SignedReceipt | TypedCode:
    """Read what a scanner or a person entered. Does not check the signature: see :func:`verify`.

    Dossier codes are read in the national spelling, and with the unit's ``book`` in its own
    (a registered receipt of another system keeps its code, in the slip's QR too)."""
    if len(text) > MAX_SCAN_LENGTH:
        raise ReceiptRefused("too_long", f"{len(text)} characters")
    cleaned = "".join(ch for ch in text if ch.isprintable()).strip()
    if not cleaned:
        raise ReceiptRefused("empty")
    if "/r/" not in cleaned:
        return TypedCode(DossierCode.parse(cleaned.upper(), book))
    signed_part = cleaned[cleaned.rindex("/r/") :]
    match = _SIGNED_PART.match(signed_part)
    if match is None:
        raise ReceiptRefused("malformed", "not a receipt URL, or cut short")
    code = DossierCode.parse(match["code"], book)
    claims = ReceiptClaims(code, match["p"], match["c"], match["o"])
    key_id = match["k"]
    if not _FIELD.match(key_id):
        raise ReceiptRefused("malformed", "the key id is not a plain code")
    return SignedReceipt(claims, key_id, match["s"])


def check(
    receipt: SignedReceipt,
    keyring: KeyRing,
    unit: str,
    *,
    now: datetime | None = None,
    today: date | None = None,
) -> ReceiptClaims | LegacyReceipt:
    """The claims if the signature is the unit's and still valid; for an old HMAC receipt read
    with a ring that holds no HMAC key (a kiosk's), a :class:`LegacyReceipt`; otherwise refuse.

    ``now`` is the instant of the scan (default: the clock), compared with each retired key's
    end; ``today`` is the day the age limit counts from (default: ``now``'s local date, which is
    also the date the hub writes into dossier codes). The checks run in this order, so each
    reason means one thing:

    * ``wrong_unit`` before any key is looked at: another unit's key is not ours (and often has
      the same id, ``k1``), so checking the signature first would tell the citizen their genuine
      slip is forged instead of that it belongs elsewhere;
    * ``revoked_key``: a revoked key's receipts are refused whatever they say;
    * ``unknown_key``, then ``bad_signature``: nothing in the receipt is trusted before its
      signature is checked (a signature of the wrong scheme for its key id is ``bad_signature``);
    * ``expired_key`` (a retired key at or after its end), then ``expired`` (older than
      ``max_age_days``): both read signed content, so a forged slip never gets that far.

    A dossier date after ``today`` is not refused: a kiosk whose clock is behind must still take
    today's slips (the signature already vouches for the date).
    """
    claims = receipt.claims
    if claims.code.unit != unit:
        raise ReceiptRefused("wrong_unit", claims.code.unit)
    kid = receipt.key_id
    if kid in keyring.revoked:
        raise ReceiptRefused("revoked_key", kid)
    if kid not in keyring.keys and kid not in keyring.legacy:
        raise ReceiptRefused("unknown_key", kid)
    checked = _signature_checked(receipt, keyring)
    instant = datetime.now(UTC) if now is None else now
    end = keyring.valid_until(kid)
    if end is not None and instant >= end:
        until = f"{unit_time(end):%H:%M:%S %d/%m/%Y}"
        raise ReceiptRefused("expired_key", f"key {kid} retired, valid until {until}")
    if keyring.max_age_days is not None:
        day = unit_day(instant) if today is None else today
        age = (day - claims.code.received_on).days
        if age > keyring.max_age_days:
            raise ReceiptRefused(
                "expired", f"dossier dated {claims.code.received_on:%d/%m/%Y}, {age} days old"
            )
    return claims if checked else LegacyReceipt(claims.code, kid)


def _signature_checked(receipt: SignedReceipt, keyring: KeyRing) -> bool:
    """Check the signature; False only for an HMAC receipt whose key this ring does not hold."""
    kid = receipt.key_id
    if receipt.scheme == "ed25519":
        public = keyring.keys.get(kid)
        raw = _unb64(receipt.signature)
        if public is None or raw is None:
            raise ReceiptRefused("bad_signature")
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(
                raw, _message(receipt.claims, kid, _DOMAIN_TAG)
            )
        except (InvalidSignature, ValueError) as exc:
            raise ReceiptRefused("bad_signature") from exc
        return True
    if kid not in keyring.legacy:
        raise ReceiptRefused("bad_signature", f"key {kid} is not an HMAC key")
    secret = keyring.legacy[kid]
    if secret is None:
        return False
    if not hmac.compare_digest(_mac(receipt.claims, kid, secret), receipt.signature):
        raise ReceiptRefused("bad_signature")
    return True


def verify(
    receipt: SignedReceipt,
    keyring: KeyRing,
    unit: str,
    *,
    now: datetime | None = None,
    today: date | None = None,
) -> ReceiptClaims:
    """Like :func:`check`, but a receipt whose signature could not be checked is refused
    (``unverifiable``): for callers that need the attribution, never just the code."""
    result = check(receipt, keyring, unit, now=now, today=today)
    if isinstance(result, LegacyReceipt):
        raise ReceiptRefused("unverifiable", f"HMAC key {result.key_id} is held by the hub only")
    return result
