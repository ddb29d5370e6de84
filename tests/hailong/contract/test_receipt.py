"""Properties of the receipt codec: codes round-trip, signatures hold, tampering is refused."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hailong.contract.receipt import (
    MAX_SCAN_LENGTH,
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


@settings(max_examples=500)
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
