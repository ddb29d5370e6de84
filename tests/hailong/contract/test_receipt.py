"""Properties of the receipt codec: codes round-trip, signatures hold, tampering is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hailong.contract.receipt import (
    MAX_SCAN_LENGTH,
    REFUSAL_REASONS,
    DossierCode,
    KeyRing,
    ReceiptClaims,
    ReceiptRefused,
    SignedReceipt,
    TypedCode,
    parse_scan,
    sign,
    verify,
)

unit_codes = st.from_regex(r"\A[0-9A-Z][0-9A-Z.]{2,19}\Z")
plain_codes = st.from_regex(r"\A[A-Za-z0-9._-]{1,40}\Z")
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
sequences = st.integers(min_value=0, max_value=999_999)
dossier_codes = st.builds(DossierCode, unit_codes, days, sequences)
claims_st = st.builds(ReceiptClaims, dossier_codes, plain_codes, plain_codes, plain_codes)
keys = st.binary(min_size=16, max_size=64)
base_urls = st.from_regex(
    r"\Ahttps?://[a-z0-9-]{1,20}(\.[a-z0-9-]{1,10}){0,3}(:[0-9]{2,5})?(/[a-z0-9_-]{1,10}){0,2}\Z"
)


@st.composite
def keyrings(draw: st.DrawFn) -> KeyRing:
    ids = draw(st.lists(plain_codes, min_size=1, max_size=3, unique=True))
    return KeyRing({kid: draw(keys) for kid in ids}, active=draw(st.sampled_from(ids)))


# Characters a substitution may bring in: ASCII, look-alike digits and letters, controls, marks.
substitutes = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=127),
    st.sampled_from("١٢٣٠۱۲０１２３ＡＨ²₁\u200b\u00a0\u0301ếĐ\n\t\r%+#?&=/"),
    st.characters(),
)


@given(dossier_codes)
def test_every_dossier_code_round_trips(code: DossierCode) -> None:
    assert DossierCode.parse(str(code)) == code


@given(dossier_codes)
def test_a_typed_code_is_read_without_a_signature(code: DossierCode) -> None:
    assert parse_scan(f"  {str(code).lower()}\r\n") == TypedCode(code)


@given(claims_st, keyrings(), base_urls)
def test_every_signed_url_round_trips_and_verifies(
    claims: ReceiptClaims, keyring: KeyRing, base: str
) -> None:
    signed = sign(claims, keyring)
    scanned = parse_scan(signed.url(base))
    assert scanned == signed
    assert isinstance(scanned, SignedReceipt)
    assert verify(scanned, keyring, claims.code.unit) == claims


@st.composite
def mutated_urls(draw: st.DrawFn) -> tuple[str, str, KeyRing, ReceiptClaims]:
    claims = draw(claims_st)
    keyring = draw(keyrings())
    base = draw(base_urls)
    url = sign(claims, keyring).url(base)
    start = len(base.rstrip("/")) + len("/r/")  # the code, the fields, the key id, the signature
    position = draw(st.integers(min_value=start, max_value=len(url) - 1))
    replacement = draw(substitutes.filter(lambda ch: ch != url[position]))
    return url, url[:position] + replacement + url[position + 1 :], keyring, claims


SAMPLE_RING = KeyRing({"k1": b"k" * 16}, "k1")
SAMPLE_CLAIMS = ReceiptClaims(
    DossierCode("000.00.20.H41", date(2026, 11, 25), 7), "1.001193", "Q1", "CB001"
)
SAMPLE_URL = sign(SAMPLE_CLAIMS, SAMPLE_RING).url("https://h.vn")


@settings(max_examples=200)
@given(mutated_urls())
# An Arabic-Indic digit in the date used to parse to the very same code, so the slip verified.
@example((SAMPLE_URL, SAMPLE_URL.replace("261125", "26112\u0665"), SAMPLE_RING, SAMPLE_CLAIMS))
def test_any_substituted_character_is_refused(
    case: tuple[str, str, KeyRing, ReceiptClaims],
) -> None:
    _, mutated, keyring, claims = case
    try:
        scanned = parse_scan(mutated)
    except ReceiptRefused:
        return
    if isinstance(scanned, TypedCode):
        return  # a bare code is never trusted beyond the code itself
    with pytest.raises(ReceiptRefused):
        verify(scanned, keyring, claims.code.unit)


@given(claims_st, keyrings(), keys)
def test_a_wrong_key_is_a_bad_signature(
    claims: ReceiptClaims, keyring: KeyRing, other: bytes
) -> None:
    assume(other != keyring.keys[keyring.active])
    signed = sign(claims, keyring)
    forged_ring = KeyRing({**keyring.keys, keyring.active: other}, keyring.active)
    with pytest.raises(ReceiptRefused) as refused:
        verify(signed, forged_ring, claims.code.unit)
    assert refused.value.reason == "bad_signature"


@given(claims_st, keyrings(), keyrings())
def test_an_unknown_key_id_is_refused(
    claims: ReceiptClaims, signer: KeyRing, other: KeyRing
) -> None:
    assume(signer.active not in other.keys)
    with pytest.raises(ReceiptRefused) as refused:
        verify(sign(claims, signer), other, claims.code.unit)
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
                    "s=",
                    "%0A",
                    "%",
                    "#",
                    "000.00.20.H41-261125-0007",
                    "1.001193",
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
def test_arbitrary_text_only_ever_raises_receipt_refused(text: str) -> None:
    assert refusal_reason(text) in {None, *ReceiptRefused.MESSAGES}


def refusal_reason(text: str) -> str | None:
    """Parse and verify like a kiosk; any exception but ReceiptRefused escapes and fails."""
    try:
        scanned = parse_scan(text)
        if isinstance(scanned, SignedReceipt):
            verify(scanned, SAMPLE_RING, "000.00.20.H41")
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


# -- refusal reasons, key lifetimes, expiry -------------------------------------------------------

UNIT = "000.00.20.H41"
TODAY = date(2026, 11, 25)


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
def rotated_rings(draw: st.DrawFn) -> tuple[KeyRing, date]:
    """A ring with an active key and 0-3 retired ones, and a day on which every key verifies."""
    ids = draw(st.lists(plain_codes, min_size=1, max_size=4, unique=True))
    today = draw(days)
    retired = {
        kid: draw(st.dates(min_value=today, max_value=date(2099, 12, 31))) for kid in ids[1:]
    }
    ring = KeyRing({kid: draw(keys) for kid in ids}, active=ids[0], retired=retired)
    return ring, today


@given(claims_st, rotated_rings(), base_urls)
def test_every_receipt_round_trips_and_is_signed_with_the_active_key(
    claims: ReceiptClaims, ring_today: tuple[KeyRing, date], base: str
) -> None:
    ring, today = ring_today
    signed = sign(claims, ring)
    assert signed.key_id == ring.active
    scanned = parse_scan(signed.url(base))
    assert scanned == signed
    assert isinstance(scanned, SignedReceipt)
    assert verify(scanned, ring, claims.code.unit, today=today) == claims


def _outcome(text: str, ring: KeyRing, today: date) -> str | tuple[ReceiptClaims, str]:
    """A refusal's reason, or what verified; any other exception escapes and fails the test."""
    try:
        scanned = parse_scan(text)
        if isinstance(scanned, TypedCode):
            return "typed"
        return verify(scanned, ring, UNIT, today=today), scanned.key_id
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
    """A signed URL and the same URL with one character replaced, deleted or inserted anywhere."""
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
def test_a_one_character_edit_is_refused_or_changes_nothing_signed(
    case: tuple[str, str, KeyRing, ReceiptClaims],
) -> None:
    url, edited, ring, claims = case
    assert _outcome(url, ring, TODAY) == (claims, ring.active)
    outcome = _outcome(edited, ring, TODAY)
    assert outcome != "typed"
    if not isinstance(outcome, str):
        assert outcome == (claims, ring.active), f"{edited!r} verified with other claims"


@settings(max_examples=200)
@given(signed_urls())
@example((SAMPLE_URL, SAMPLE_RING, SAMPLE_CLAIMS))
def test_a_cut_short_url_is_malformed_or_a_bad_signature(
    case: tuple[str, KeyRing, ReceiptClaims],
) -> None:
    url, ring, _ = case
    for end in range(1, len(url)):
        assert _outcome(url[:end], ring, TODAY) in {"malformed", "bad_signature"}, url[:end]


@given(claims_st, keyrings(), keys, days, st.integers(min_value=0, max_value=3650))
def test_a_retired_key_verifies_through_valid_until_and_not_after(
    claims: ReceiptClaims, old: KeyRing, new_key: bytes, valid_until: date, late: int
) -> None:
    signed = sign(claims, old)
    rotated = KeyRing(
        {**old.keys, "next": new_key}, active="next", retired={old.active: valid_until}
    )
    assume(old.active != "next")
    unit = claims.code.unit
    assert verify(signed, rotated, unit, today=valid_until) == claims
    assert verify(signed, rotated, unit, today=valid_until - timedelta(days=late)) == claims
    with pytest.raises(ReceiptRefused) as refused:
        verify(signed, rotated, unit, today=valid_until + timedelta(days=1 + late))
    assert refused.value.reason == "expired_key"
    assert f"{valid_until:%d/%m/%Y}" in refused.value.detail
    assert sign(claims, rotated).key_id == "next"


@given(claims_st, rotated_rings(), keyrings())
def test_a_key_the_ring_does_not_hold_is_unknown(
    claims: ReceiptClaims, ours: tuple[KeyRing, date], signer: KeyRing
) -> None:
    ring, today = ours
    assume(signer.active not in ring.keys)
    with pytest.raises(ReceiptRefused) as refused:
        verify(sign(claims, signer), ring, claims.code.unit, today=today)
    assert refused.value.reason == "unknown_key"


def test_a_forged_slip_is_a_bad_signature_even_with_an_expired_key() -> None:
    ring = KeyRing({"k1": b"1" * 16, "k2": b"2" * 16}, "k2", retired={"k1": date(2026, 1, 1)})
    old = sign(SAMPLE_CLAIMS, KeyRing({"k1": b"1" * 16}, "k1"))
    forged = SignedReceipt(replace(SAMPLE_CLAIMS, officer="CB002"), "k1", old.signature)
    reasons = []
    for receipt in (forged, old):
        with pytest.raises(ReceiptRefused) as refused:
            verify(receipt, ring, UNIT, today=TODAY)
        reasons.append(refused.value.reason)
    assert reasons == ["bad_signature", "expired_key"]


@given(claims_st, keyrings(), st.integers(min_value=0, max_value=800), st.integers(-30, 1000))
def test_a_receipt_older_than_max_age_is_expired(
    claims: ReceiptClaims, ring: KeyRing, max_age: int, age: int
) -> None:
    aged = KeyRing(ring.keys, ring.active, max_age_days=max_age)
    signed = sign(claims, aged)
    today = claims.code.received_on + timedelta(days=age)
    if age <= max_age:  # a date in the future (a kiosk clock behind) is not refused
        assert verify(signed, aged, claims.code.unit, today=today) == claims
    else:
        with pytest.raises(ReceiptRefused) as refused:
            verify(signed, aged, claims.code.unit, today=today)
        assert refused.value.reason == "expired"
    assert verify(signed, ring, claims.code.unit, today=today) == claims  # no limit: never


@pytest.mark.parametrize(
    ("ring", "problem"),
    [
        (lambda: KeyRing({"k1": b"k" * 16}, "k1", retired={"k1": TODAY}), "cannot be retired"),
        (lambda: KeyRing({"k1": b"k" * 16}, "k1", retired={"k0": TODAY}), "not in the key ring"),
        (lambda: KeyRing({"k1": b"k" * 16}, "k1", max_age_days=-1), "negative"),
        (lambda: KeyRing({"k1": b"k" * 16}, "k2"), "not in the key ring"),
        (lambda: KeyRing({"k 1": b"k" * 16}, "k 1"), "not a plain code"),
        (lambda: KeyRing({"k1": b"k" * 15}, "k1"), "shorter than 16 bytes"),
    ],
)
def test_an_inconsistent_key_ring_cannot_be_made(ring: Callable[[], KeyRing], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ring()
