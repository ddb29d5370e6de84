"""Properties of the receipt codec: codes round-trip, Ed25519 signatures hold with public keys
only, tampering is refused, old HMAC receipts are read as their code only, key lifetimes end at
their instant and revocations at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hailong.contract.clock import UNIT_ZONE
from hailong.contract.receipt import (
    LEGACY_SIGNATURE_CHARS,
    MAX_SCAN_LENGTH,
    REFUSAL_REASONS,
    SIGNATURE_CHARS,
    DossierCode,
    KeyRing,
    LegacyReceipt,
    ReceiptClaims,
    ReceiptRefused,
    SignedReceipt,
    TypedCode,
    check,
    parse_scan,
    public_key_of,
    sign,
    sign_legacy_hmac,
    verify,
)

unit_codes = st.from_regex(r"\A[0-9A-Z][0-9A-Z.]{2,19}\Z")
plain_codes = st.from_regex(r"\A[A-Za-z0-9._-]{1,40}\Z")
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
sequences = st.integers(min_value=0, max_value=999_999)
dossier_codes = st.builds(DossierCode, unit_codes, days, sequences)
claims_st = st.builds(ReceiptClaims, dossier_codes, plain_codes, plain_codes, plain_codes)
seeds = st.binary(min_size=32, max_size=32)  # Ed25519 private keys
hmac_keys = st.binary(min_size=32, max_size=32)  # HMAC pads shorter keys with zeros
base_urls = st.from_regex(
    r"\Ahttps?://[a-z0-9-]{1,20}(\.[a-z0-9-]{1,10}){0,3}(:[0-9]{2,5})?(/[a-z0-9_-]{1,10}){0,2}\Z"
)
instants = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31), timezones=st.just(UTC)
)


def hub_ring(seeds_by_id: dict[str, bytes], active: str, **options: object) -> KeyRing:
    """What the hub holds: every public key and the active key's private key."""
    public = {kid: public_key_of(seed) for kid, seed in seeds_by_id.items()}
    return KeyRing(public, active, private_key=seeds_by_id[active], **options)  # type: ignore[arg-type]


def kiosk_ring(ring: KeyRing) -> KeyRing:
    """What a kiosk holds: the same public keys and lifetimes, no private or HMAC key."""
    legacy: dict[str, bytes | None] = dict.fromkeys(ring.legacy)
    return KeyRing(ring.keys, None, ring.retired, ring.max_age_days, None, legacy, ring.revoked)


@st.composite
def keyrings(draw: st.DrawFn) -> KeyRing:
    ids = draw(st.lists(plain_codes, min_size=1, max_size=3, unique=True))
    return hub_ring({kid: draw(seeds) for kid in ids}, draw(st.sampled_from(ids)))


# Characters a substitution may bring in: ASCII, look-alike digits and letters, controls, marks.
substitutes = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=127),
    st.sampled_from("١٢٣٠۱۲０１２３ＡＨ²₁\u200b\u00a0\u0301ếĐ\n\t\r%+#?&=/;"),
    st.characters(),
)
# What a scanner could really add: a character the scan's cleaning (controls, surrounding blanks)
# does not remove.
visible = substitutes.filter(lambda ch: ch.isprintable() and not ch.isspace())


@given(dossier_codes)
def test_every_dossier_code_round_trips(code: DossierCode) -> None:
    assert DossierCode.parse(str(code)) == code


@given(dossier_codes)
def test_a_typed_code_is_read_without_a_signature(code: DossierCode) -> None:
    assert parse_scan(f"  {str(code).lower()}\r\n") == TypedCode(code)


@given(claims_st, keyrings(), base_urls)
def test_every_signed_url_round_trips_and_verifies_with_public_keys_only(
    claims: ReceiptClaims, keyring: KeyRing, base: str
) -> None:
    signed = sign(claims, keyring)
    assert len(signed.signature) == SIGNATURE_CHARS
    scanned = parse_scan(signed.url(base))
    assert scanned == signed
    assert isinstance(scanned, SignedReceipt)
    assert verify(scanned, kiosk_ring(keyring), claims.code.unit) == claims


@given(claims_st, keyrings())
def test_a_ring_without_the_private_key_cannot_sign(claims: ReceiptClaims, ring: KeyRing) -> None:
    with pytest.raises(ValueError, match="only the hub signs"):
        sign(claims, kiosk_ring(ring))
    with pytest.raises(ValueError, match="only the hub signs"):
        sign(claims, replace(ring, private_key=None))


SAMPLE_SEED = bytes(range(32))
SAMPLE_RING = hub_ring({"k1": SAMPLE_SEED}, "k1")
SAMPLE_KIOSK = kiosk_ring(SAMPLE_RING)
SAMPLE_CLAIMS = ReceiptClaims(
    DossierCode("000.00.20.H41", date(2026, 11, 25), 7), "1.001193", "Q1", "CB001"
)
SAMPLE_URL = sign(SAMPLE_CLAIMS, SAMPLE_RING).url("https://h.vn")


@st.composite
def signed_part_edits(draw: st.DrawFn) -> tuple[str, KeyRing, ReceiptClaims]:
    """A signed URL with one visible character replaced, deleted or inserted after the base
    (``/r/`` and what follows; a "/" inserted before the "r" only lengthens the base)."""
    claims = draw(claims_st)
    ring = draw(keyrings())
    url = sign(claims, ring).url(draw(base_urls))
    start = url.rindex("/r/")  # "/r/", the code, the fields, the key id, the signature
    kind = draw(st.sampled_from(["replace", "delete", "insert"]))
    if kind == "insert":  # up to just before the "r", the character goes into the base
        at = draw(st.integers(start + 2, len(url)))
        return url[:at] + draw(visible) + url[at:], ring, claims
    at = draw(st.integers(start, len(url) - 1))
    new = "" if kind == "delete" else draw(visible.filter(lambda ch: ch != url[at]))
    return url[:at] + new + url[at + 1 :], ring, claims


@settings(max_examples=400)
@given(signed_part_edits())
# An Arabic-Indic digit in the date used to parse to the very same code, so the slip verified.
@example((SAMPLE_URL.replace("261125", "26112\u0665"), SAMPLE_RING, SAMPLE_CLAIMS))
# An empty or unknown parameter, a fragment, a repeated separator: parse_qs used to skip them.
@example((SAMPLE_URL.replace("&c=", "&&c="), SAMPLE_RING, SAMPLE_CLAIMS))
@example((SAMPLE_URL + "#", SAMPLE_RING, SAMPLE_CLAIMS))
@example((SAMPLE_URL + "&", SAMPLE_RING, SAMPLE_CLAIMS))
@example((SAMPLE_URL.replace("?p", "?;p"), SAMPLE_RING, SAMPLE_CLAIMS))
# The last signature character carries 4 unused bits: another spelling of the same bytes.
@example((SAMPLE_URL[:-1] + chr(ord(SAMPLE_URL[-1]) ^ 1), SAMPLE_RING, SAMPLE_CLAIMS))
def test_any_single_edit_of_the_signed_part_is_refused(
    case: tuple[str, KeyRing, ReceiptClaims],
) -> None:
    edited, ring, claims = case
    for ring_used in (ring, kiosk_ring(ring)):
        with pytest.raises(ReceiptRefused):
            _check_scan(edited, ring_used, claims.code.unit)


def _check_scan(text: str, ring: KeyRing, unit: str) -> None:
    scanned = parse_scan(text)
    assert isinstance(scanned, SignedReceipt), f"{text!r} read as a typed code"
    check(scanned, ring, unit)


@given(claims_st, keyrings(), seeds)
def test_another_key_under_the_same_id_is_a_bad_signature(
    claims: ReceiptClaims, keyring: KeyRing, other: bytes
) -> None:
    assert keyring.active is not None
    assume(public_key_of(other) != keyring.keys[keyring.active])
    signed = sign(claims, keyring)
    forged_ring = KeyRing({**keyring.keys, keyring.active: public_key_of(other)})
    with pytest.raises(ReceiptRefused) as refused:
        verify(signed, forged_ring, claims.code.unit)
    assert refused.value.reason == "bad_signature"


@given(claims_st, keyrings(), keyrings())
def test_an_unknown_key_id_is_refused(
    claims: ReceiptClaims, signer: KeyRing, other: KeyRing
) -> None:
    assume(signer.active not in other.keys)
    with pytest.raises(ReceiptRefused) as refused:
        verify(sign(claims, signer), kiosk_ring(other), claims.code.unit)
    assert refused.value.reason == "unknown_key"


@given(claims_st, keyrings(), keyrings(), unit_codes)
def test_a_receipt_of_another_unit_says_so(
    claims: ReceiptClaims, signer: KeyRing, ours: KeyRing, our_unit: str
) -> None:
    """Whatever key the other unit uses, the citizen is told the slip belongs elsewhere."""
    assume(our_unit != claims.code.unit)
    with pytest.raises(ReceiptRefused) as refused:
        verify(sign(claims, signer), ours, our_unit)
    assert refused.value.reason == "wrong_unit"


@given(st.text(min_size=MAX_SCAN_LENGTH + 1, max_size=MAX_SCAN_LENGTH + 200))
def test_overlong_text_is_too_long(text: str) -> None:
    with pytest.raises(ReceiptRefused) as refused:
        parse_scan(text)
    assert refused.value.reason == "too_long"


url_like = st.builds(
    "".join,
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "https://",
                    "http://[",
                    "]",
                    "/r/",
                    "?",
                    "&",
                    "=",
                    "p=",
                    "c=",
                    "o=",
                    "k=",
                    "k=k1",
                    "k=k0",
                    "s=",
                    "%0A",
                    "%",
                    "#",
                    "000.00.20.H41-261125-0007",
                    "1.001193",
                    "A" * LEGACY_SIGNATURE_CHARS,
                    "A" * SIGNATURE_CHARS,
                    "_" * SIGNATURE_CHARS,
                    "\n",
                    " ",
                    "\ufeff",
                ]
            ),
            st.text(max_size=8),
        ),
        max_size=14,
    ),
)


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=MAX_SCAN_LENGTH + 10), url_like))
@example("http://[/r/000.00.20.H41-261125-0007?p=1&c=2&o=3&k=4&s=AAAAAAAAAAAAAAAAAAAAAA")
@example(
    "https://h.vn/r/000.00.20.H41-261125-0007?p=1.001193%0A&c=Q1&o=CB001&k=k1&s=AAAAAAAAAAAAAAAAAAAAAA"
)
@example(f"https://h.vn/r/000.00.20.H41-261125-0007?p=1&c=Q1&o=CB001&k=k1&s={'_' * 86}")
@example(f"https://h.vn/r/000.00.20.H41-261125-0007?p=1&c=Q1&o=CB001&k=k0&s={'A' * 22}")
def test_arbitrary_text_only_ever_raises_receipt_refused(text: str) -> None:
    for ring in (GARBAGE_HUB, kiosk_ring(GARBAGE_HUB)):
        assert refusal_reason(text, ring) in {None, *ReceiptRefused.MESSAGES}


GARBAGE_HUB = replace(SAMPLE_RING, legacy={"k0": b"h" * 32})


def refusal_reason(text: str, ring: KeyRing) -> str | None:
    """Parse and check like a kiosk; any exception but ReceiptRefused escapes and fails."""
    try:
        scanned = parse_scan(text)
        if isinstance(scanned, SignedReceipt):
            check(scanned, ring, "000.00.20.H41")
    except ReceiptRefused as refused:
        return refused.reason
    return None


@given(plain_codes.map(lambda s: s + "\n"))
def test_a_field_with_a_trailing_newline_is_not_a_plain_code(value: str) -> None:
    code = DossierCode("000.00.20.H41", date(2026, 11, 25), 7)
    with pytest.raises(ReceiptRefused):
        ReceiptClaims(code, value, "Q1", "CB001")


@pytest.mark.parametrize(
    "text",
    [
        "000.00.20.H41-261125-00007",  # leading zero beyond the four digits
        "000.00.20.H41-261125-0007\n",
        "000.00.20.H41-26112٥-0007",  # Arabic-Indic digit
        "000.00.20.H41-261131-0007",  # 31 November
    ],
)
def test_non_canonical_codes_are_malformed(text: str) -> None:
    with pytest.raises(ReceiptRefused) as refused:
        DossierCode.parse(text)
    assert refused.value.reason == "malformed"


# -- refusal reasons, key lifetimes, revocation, expiry ------------------------------------------

UNIT = "000.00.20.H41"
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def test_every_refusal_reason_has_its_own_messages() -> None:
    assert len(set(REFUSAL_REASONS)) == len(REFUSAL_REASONS)
    assert set(REFUSAL_REASONS) == set(ReceiptRefused.MESSAGES)
    vi = [pair[0] for pair in ReceiptRefused.MESSAGES.values()]
    en = [pair[1] for pair in ReceiptRefused.MESSAGES.values()]
    assert len(set(vi)) == len(vi)
    assert len(set(en)) == len(en)
    for reason in REFUSAL_REASONS:
        refused = ReceiptRefused(reason, "detail")
        assert (refused.reason, refused.detail) == (reason, "detail")
        assert refused.message_vi
        assert refused.message_en


@example(DossierCode("000", date(2000, 1, 1), 0))
@example(DossierCode("9" * 20, date(2099, 12, 31), 999_999))
@given(dossier_codes)
def test_every_dossier_code_round_trips_through_text_and_scan(code: DossierCode) -> None:
    text = str(code)
    assert DossierCode.parse(text) == code
    assert parse_scan(text) == TypedCode(code)


@pytest.mark.parametrize(
    ("unit", "day", "sequence"),
    [
        ("000.00.20.h41", date(2026, 11, 25), 1),  # lower case: not how the form prints it
        ("00", date(2026, 11, 25), 1),
        (UNIT, date(1999, 12, 31), 1),  # yymmdd would read it back as 2099
        (UNIT, date(2100, 1, 1), 1),
        (UNIT, date(2026, 11, 25), -1),
        (UNIT, date(2026, 11, 25), 1_000_000),
    ],
)
def test_a_code_the_form_cannot_carry_cannot_be_made(unit: str, day: date, sequence: int) -> None:
    with pytest.raises(ValueError, match=r"unit code|yymmdd|sequence"):
        DossierCode(unit, day, sequence)


@st.composite
def rotated_rings(draw: st.DrawFn) -> tuple[KeyRing, datetime]:
    """A ring with an active key and 0-3 retired ones, and an instant at which every key
    verifies (each retired key's end is after it)."""
    ids = draw(st.lists(plain_codes, min_size=1, max_size=4, unique=True))
    now = draw(instants)
    ends = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3650))
    retired = {kid: now + draw(ends) for kid in ids[1:]}
    return hub_ring({kid: draw(seeds) for kid in ids}, ids[0], retired=retired), now


@given(claims_st, rotated_rings(), base_urls)
def test_every_receipt_round_trips_and_is_signed_with_the_active_key(
    claims: ReceiptClaims, ring_now: tuple[KeyRing, datetime], base: str
) -> None:
    ring, now = ring_now
    signed = sign(claims, ring)
    assert signed.key_id == ring.active
    scanned = parse_scan(signed.url(base))
    assert scanned == signed
    assert isinstance(scanned, SignedReceipt)
    assert verify(scanned, kiosk_ring(ring), claims.code.unit, now=now) == claims


def _outcome(text: str, ring: KeyRing) -> str | tuple[ReceiptClaims, str]:
    """A refusal's reason, or what verified; any other exception escapes and fails the test."""
    try:
        scanned = parse_scan(text)
        if isinstance(scanned, TypedCode):
            return "typed"
        return verify(scanned, ring, UNIT, now=NOW), scanned.key_id
    except ReceiptRefused as refused:
        reason: str = refused.reason
    assert reason in REFUSAL_REASONS
    return reason


@st.composite
def signed_urls(draw: st.DrawFn) -> tuple[str, KeyRing, ReceiptClaims]:
    code = DossierCode(UNIT, draw(days.filter(lambda d: d <= TODAY)), draw(sequences))
    claims = ReceiptClaims(code, draw(plain_codes), draw(plain_codes), draw(plain_codes))
    ring = draw(keyrings())
    return sign(claims, ring).url(draw(base_urls)), ring, claims


@st.composite
def one_character_edits(draw: st.DrawFn) -> tuple[str, str, KeyRing, ReceiptClaims]:
    """A signed URL and the same URL with any one character replaced, deleted or inserted
    anywhere, control characters and blanks included."""
    url, ring, claims = draw(signed_urls())
    signed_from = url.index("/r/")  # half the edits land in the signed part, after the base
    kind = draw(st.sampled_from(["replace", "delete", "insert"]))
    if kind == "insert":
        at = draw(st.integers(draw(st.sampled_from([0, signed_from])), len(url)))
        return url, url[:at] + draw(substitutes) + url[at:], ring, claims
    at = draw(st.integers(draw(st.sampled_from([0, signed_from])), len(url) - 1))
    new = "" if kind == "delete" else draw(substitutes.filter(lambda ch: ch != url[at]))
    return url, url[:at] + new + url[at + 1 :], ring, claims


@settings(max_examples=300)
@given(one_character_edits())
@example(  # the host's case is not signed: still the same receipt
    (SAMPLE_URL, SAMPLE_URL.replace("h.vn", "H.vn"), SAMPLE_RING, SAMPLE_CLAIMS)
)
@example((SAMPLE_URL, SAMPLE_URL.replace("k=k1", "k=k2"), SAMPLE_RING, SAMPLE_CLAIMS))
@example((SAMPLE_URL, SAMPLE_URL.replace("H41", "H42"), SAMPLE_RING, SAMPLE_CLAIMS))
@example((SAMPLE_URL, SAMPLE_URL.replace("h.vn", "h[vn"), SAMPLE_RING, SAMPLE_CLAIMS))
@example((SAMPLE_URL, SAMPLE_URL.replace("&s=", "&s=A"), SAMPLE_RING, SAMPLE_CLAIMS))
def test_a_one_character_edit_anywhere_is_refused_or_changes_nothing_signed(
    case: tuple[str, str, KeyRing, ReceiptClaims],
) -> None:
    url, edited, ring, claims = case
    kiosk = kiosk_ring(ring)
    assert _outcome(url, kiosk) == (claims, ring.active)
    outcome = _outcome(edited, kiosk)
    assert outcome != "typed"
    if not isinstance(outcome, str):
        assert outcome == (claims, ring.active), f"{edited!r} verified with other claims"


@settings(max_examples=100)
@given(signed_urls())
@example((SAMPLE_URL, SAMPLE_RING, SAMPLE_CLAIMS))
def test_a_cut_short_url_is_malformed_or_a_bad_signature(
    case: tuple[str, KeyRing, ReceiptClaims],
) -> None:
    url, ring, _ = case
    for end in range(1, len(url)):
        assert _outcome(url[:end], kiosk_ring(ring)) in {"malformed", "bad_signature"}, url[:end]


@given(claims_st, keyrings(), seeds, instants, st.integers(min_value=0, max_value=3650))
def test_a_retired_key_verifies_until_the_end_instant_and_not_from_it(
    claims: ReceiptClaims, old: KeyRing, new_seed: bytes, end: datetime, late: int
) -> None:
    assert old.active is not None
    assume(old.active != "next")
    signed = sign(claims, old)
    rotated = KeyRing(
        {**old.keys, "next": public_key_of(new_seed)},
        "next",
        retired={old.active: end},
        private_key=new_seed,
    )
    unit = claims.code.unit
    before = end - timedelta(microseconds=1)
    assert verify(signed, rotated, unit, now=before - timedelta(days=late)) == claims
    assert verify(signed, kiosk_ring(rotated), unit, now=before) == claims
    for at in (end, end + timedelta(microseconds=1), end + timedelta(days=late)):
        with pytest.raises(ReceiptRefused) as refused:
            verify(signed, kiosk_ring(rotated), unit, now=at)
        assert refused.value.reason == "expired_key"
    assert f"{end.astimezone(UNIT_ZONE):%H:%M:%S %d/%m/%Y}" in refused.value.detail
    assert sign(claims, rotated).key_id == "next"


@given(claims_st, keyrings(), instants)
def test_a_revoked_key_is_refused_at_once_whatever_its_lifetime(
    claims: ReceiptClaims, ring: KeyRing, now: datetime
) -> None:
    assert ring.active is not None
    signed = sign(claims, ring)
    revoked = kiosk_ring(ring).with_revoked([ring.active])
    with pytest.raises(ReceiptRefused) as refused:
        verify(signed, revoked, claims.code.unit, now=now)
    assert refused.value.reason == "revoked_key"
    hub = ring.with_revoked([ring.active])  # the hub's ring: verifies, can no longer sign
    assert not hub.can_sign
    with pytest.raises(ValueError, match="only the hub signs"):
        sign(claims, hub)


@given(claims_st, rotated_rings(), keyrings())
def test_a_key_the_ring_does_not_hold_is_unknown(
    claims: ReceiptClaims, ours: tuple[KeyRing, datetime], signer: KeyRing
) -> None:
    ring, now = ours
    assume(signer.active not in ring.keys)
    with pytest.raises(ReceiptRefused) as refused:
        verify(sign(claims, signer), ring, claims.code.unit, now=now)
    assert refused.value.reason == "unknown_key"


def test_a_forged_slip_is_a_bad_signature_even_with_an_expired_key() -> None:
    k2 = bytes(32)
    ring = KeyRing(
        {"k1": SAMPLE_RING.keys["k1"], "k2": public_key_of(k2)},
        retired={"k1": NOW - timedelta(days=1)},
    )
    old = sign(SAMPLE_CLAIMS, SAMPLE_RING)
    forged = SignedReceipt(replace(SAMPLE_CLAIMS, officer="CB002"), "k1", old.signature)
    reasons = []
    for receipt in (forged, old):
        with pytest.raises(ReceiptRefused) as refused:
            verify(receipt, ring, UNIT, now=NOW)
        reasons.append(refused.value.reason)
    assert reasons == ["bad_signature", "expired_key"]


@given(claims_st, keyrings(), st.integers(min_value=0, max_value=800), st.integers(-30, 1000))
def test_a_receipt_older_than_max_age_is_expired(
    claims: ReceiptClaims, ring: KeyRing, max_age: int, age: int
) -> None:
    aged = replace(ring, max_age_days=max_age)
    signed = sign(claims, aged)
    today = claims.code.received_on + timedelta(days=age)
    if age <= max_age:  # a date in the future (a kiosk clock behind) is not refused
        assert verify(signed, aged, claims.code.unit, today=today) == claims
    else:
        with pytest.raises(ReceiptRefused) as refused:
            verify(signed, aged, claims.code.unit, today=today)
        assert refused.value.reason == "expired"
    assert verify(signed, ring, claims.code.unit, today=today) == claims  # no limit: never


# -- receipts printed before Ed25519 (HMAC-SHA256) ------------------------------------------------


@st.composite
def legacy_cases(draw: st.DrawFn) -> tuple[SignedReceipt, KeyRing, datetime]:
    """An HMAC receipt, the hub's ring after the upgrade (holding the HMAC key through its grace
    period) and an instant inside that grace period."""
    claims = draw(claims_st)
    kid, key = draw(plain_codes), draw(hmac_keys)
    now = draw(instants)
    end = now + draw(st.timedeltas(timedelta(microseconds=1), timedelta(days=365)))
    new_id = draw(plain_codes.filter(lambda k: k != kid))
    seed = draw(seeds)
    ring = hub_ring({new_id: seed}, new_id, legacy={kid: key}, retired={kid: end})
    return sign_legacy_hmac(claims, kid, key), ring, now


@given(legacy_cases(), base_urls)
def test_an_hmac_receipt_verifies_where_its_key_is_held_and_is_only_a_code_elsewhere(
    case: tuple[SignedReceipt, KeyRing, datetime], base: str
) -> None:
    signed, hub, now = case
    unit = signed.claims.code.unit
    scanned = parse_scan(signed.url(base))
    assert scanned == signed
    assert isinstance(scanned, SignedReceipt)
    assert scanned.legacy
    assert verify(scanned, hub, unit, now=now) == signed.claims
    kiosk = kiosk_ring(hub)
    assert check(scanned, kiosk, unit, now=now) == LegacyReceipt(signed.claims.code, signed.key_id)
    with pytest.raises(ReceiptRefused) as refused:  # the attribution cannot be trusted there
        verify(scanned, kiosk, unit, now=now)
    assert refused.value.reason == "unverifiable"


@given(legacy_cases())
def test_an_hmac_receipt_ends_with_its_grace_period_and_at_once_when_revoked(
    case: tuple[SignedReceipt, KeyRing, datetime],
) -> None:
    signed, hub, now = case
    unit = signed.claims.code.unit
    end = hub.retired[signed.key_id]
    for ring in (hub, kiosk_ring(hub)):
        assert check(signed, ring, unit, now=now) in (
            signed.claims,
            LegacyReceipt(signed.claims.code, signed.key_id),
        )
        for at in (end, end + timedelta(microseconds=1)):
            with pytest.raises(ReceiptRefused) as refused:
                check(signed, ring, unit, now=at)
            assert refused.value.reason == "expired_key"
        with pytest.raises(ReceiptRefused) as refused:
            check(signed, ring.with_revoked([signed.key_id]), unit, now=now)
        assert refused.value.reason == "revoked_key"


@given(legacy_cases(), hmac_keys)
def test_an_hmac_receipt_made_with_another_key_is_refused_by_the_hub(
    case: tuple[SignedReceipt, KeyRing, datetime], other: bytes
) -> None:
    signed, hub, now = case
    assume(other != hub.legacy[signed.key_id])
    forged = sign_legacy_hmac(signed.claims, signed.key_id, other)
    with pytest.raises(ReceiptRefused) as refused:
        verify(forged, hub, signed.claims.code.unit, now=now)
    assert refused.value.reason == "bad_signature"


def test_a_signature_of_the_wrong_scheme_for_its_key_is_a_bad_signature() -> None:
    hub = replace(SAMPLE_RING, legacy={"k0": b"h" * 32})
    ed = sign(SAMPLE_CLAIMS, hub)
    hmac_as_k1 = sign_legacy_hmac(SAMPLE_CLAIMS, "k1", b"h" * 32)
    ed_as_k0 = SignedReceipt(SAMPLE_CLAIMS, "k0", ed.signature)
    for receipt in (hmac_as_k1, ed_as_k0):
        with pytest.raises(ReceiptRefused) as refused:
            check(receipt, hub, UNIT, now=NOW)
        assert refused.value.reason == "bad_signature"


# -- the key ring itself ---------------------------------------------------------------------------

PUB = public_key_of(SAMPLE_SEED)
LATER = NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("ring", "problem"),
    [
        (lambda: KeyRing({"k1": PUB}, "k1", retired={"k1": LATER}), "cannot be retired"),
        (lambda: KeyRing({"k1": PUB}, "k1", retired={"k0": LATER}), "not in the key ring"),
        (lambda: KeyRing({"k1": PUB}, retired={"k1": datetime(2027, 1, 1)}), "aware instant"),
        (lambda: KeyRing({"k1": PUB}, retired={"k1": TODAY}), "aware instant"),  # type: ignore[dict-item]
        (lambda: KeyRing({"k1": PUB}, "k1", max_age_days=-1), "negative"),
        (lambda: KeyRing({"k1": PUB}, "k2"), "not in the key ring"),
        (lambda: KeyRing({"k1": PUB}, "k1", revoked=frozenset({"k1"})), "is revoked"),
        (lambda: KeyRing({"k 1": PUB}, "k 1"), "not a plain code"),
        (lambda: KeyRing({"k1": PUB[:31]}), "not 32 bytes"),
        (lambda: KeyRing({"k1": PUB}, legacy={"k1": b"h" * 16}), "both Ed25519 and HMAC"),
        (lambda: KeyRing({"k1": PUB}, legacy={"k0": b"h" * 15}), "shorter than 16 bytes"),
        (lambda: KeyRing({"k1": PUB}, private_key=SAMPLE_SEED), "needs the id"),
        (lambda: KeyRing({"k1": PUB}, "k1", private_key=bytes(32)), "does not match"),
        (lambda: KeyRing({"k1": PUB}, "k1", private_key=b"short"), "not Ed25519"),
    ],
)
def test_an_inconsistent_key_ring_cannot_be_made(ring: Callable[[], KeyRing], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ring()
