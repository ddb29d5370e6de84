"""Vietnamese through the printers' code pages: every letter with every tone, both page kinds,
decoded back with independent decoders (Python's cp1258 codec, python-escpos's TCVN-3 tables)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.receipts.codepage import (
    PLAIN_STAND_INS,
    Cp1258Page,
    Unencodable,
    VietnameseEncoder,
    split_tone,
    vietnamese_pages,
)
from tests.hub.receipts.escpos_text import Decoder, cp1258, table_decoder

VOWELS = "aăâeêioôơuưy"
CONSONANTS = "bcdđghklmnpqrstvx"
TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]  # ngang huyền sắc ngã hỏi nặng


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


ALPHABET = sorted(
    {
        nfc(letter + tone).upper() if upper else nfc(letter + tone)
        for letter in VOWELS
        for tone in TONES
        for upper in (False, True)
    }
    | set(CONSONANTS)
    | set(CONSONANTS.upper())
)

# (profile, decoders by page number): CP1258 alone, and the TCVN-3 pair.
PAGE_SETS: dict[str, tuple[str, dict[int, Decoder]]] = {
    "CP1258": ("TM-T88V", {52: cp1258}),
    "TCVN-3": ("CT-S651", {30: table_decoder("TCVN-3-1"), 31: table_decoder("TCVN-3-2")}),
}


def decode(data: bytes, decoders: dict[int, Decoder]) -> str:
    """Follow ``ESC t n`` through the bytes and decode each run in its page."""
    out, page, i = [], None, 0
    run = bytearray()
    while i < len(data):
        if data[i] == 0x1B:
            assert data[i + 1] == ord("t"), f"unexpected command at {i}"
            if run:
                assert page is not None
                out.append(decoders[page](bytes(run)))
                run.clear()
            page = data[i + 2]
            i += 3
        else:
            run.append(data[i])
            i += 1
    if run:
        assert page is not None
        out.append(decoders[page](bytes(run)))
    return nfc("".join(out))


def encoder(kind: str) -> VietnameseEncoder:
    pages = vietnamese_pages(PAGE_SETS[kind][0])
    assert pages is not None
    return VietnameseEncoder(pages)


def test_the_alphabet_has_134_letters_and_all_are_single_nfc_characters() -> None:
    # 12 vowels x 6 tones x 2 cases, 17 consonants x 2 cases
    assert len(ALPHABET) == 12 * 6 * 2 + 17 * 2
    assert all(len(letter) == 1 for letter in ALPHABET)


@pytest.mark.parametrize("kind", sorted(PAGE_SETS))
def test_every_letter_with_every_tone_comes_back(kind: str) -> None:
    decoders = PAGE_SETS[kind][1]
    for letter in ALPHABET:
        data = encoder(kind).encode(letter)
        assert decode(data, decoders) == letter, f"{letter!r} -> {data!r}"
        assert b"?" not in data


def test_cp1258_uses_a_precomposed_letter_when_there_is_one() -> None:
    page = Cp1258Page(52)
    assert page.encode_char("á") == b"\xe1"  # precomposed in CP1258
    assert page.encode_char("ấ") == b"\xe2\xec"  # â + combining acute
    assert page.encode_char("Ặ") == b"\xc3\xf2"  # Ă + combining dot below
    assert page.encode_char("ợ") == b"\xf5\xf2"  # ơ + combining dot below
    assert split_tone("ệ") == ("ê", "\u0323")


def test_pages_are_switched_only_when_the_case_needs_it() -> None:
    data = encoder("TCVN-3").encode("Nguyễn VĂN Ánh")
    # page 30 (lower case) from the start, page 31 from "Ă" on: ASCII prints in either
    assert data.count(b"\x1bt") == 2
    assert decode(data, PAGE_SETS["TCVN-3"][1]) == "Nguyễn VĂN Ánh"


def test_a_profile_without_vietnamese_has_no_pages() -> None:
    assert vietnamese_pages("simple") is None
    assert vietnamese_pages("NT-5890K") == (Cp1258Page(27),)  # lowest of its two CP1258 numbers


@pytest.mark.parametrize("text", ["Ngô 李", "emoji 🙂", "tab\there", "esc\x1b@", "Ω", "Ð"])
def test_what_no_page_holds_is_refused_not_replaced(text: str) -> None:
    for kind in PAGE_SETS:
        with pytest.raises(Unencodable):
            encoder(kind).encode(text)


def test_typographic_marks_get_plain_stand_ins_where_the_page_lacks_them() -> None:
    assert decode(encoder("CP1258").encode("Quầy 1 – Hộ tịch"), {52: cp1258}) == "Quầy 1 – Hộ tịch"
    tcvn = decode(encoder("TCVN-3").encode("Quầy 1 – “Hộ tịch”"), PAGE_SETS["TCVN-3"][1])
    assert tcvn == 'Quầy 1 - "Hộ tịch"'


vietnamese_text = st.text(alphabet=st.sampled_from([*ALPHABET, " ", ",", ".", "0", "9"]))


@pytest.mark.parametrize("kind", sorted(PAGE_SETS))
@given(text=vietnamese_text)
def test_any_vietnamese_text_round_trips(kind: str, text: str) -> None:
    data = encoder(kind).encode(text)
    assert decode(data, PAGE_SETS[kind][1]) == text


@pytest.mark.parametrize("kind", sorted(PAGE_SETS))
@given(text=st.text())
def test_any_text_round_trips_or_is_refused_never_a_question_mark(kind: str, text: str) -> None:
    refused: Unencodable | None = None
    try:
        data = encoder(kind).encode(text)
    except Unencodable as exc:
        refused = exc
    if refused is not None:
        assert refused.char in nfc(text)
        return
    back = decode(data, PAGE_SETS[kind][1])
    assert _same_or_stood_in(back, nfc(text))
    assert back.count("?") == nfc(text).count("?")


def _same_or_stood_in(back: str, text: str) -> bool:
    """Stand-ins are per character: some typographic marks may fit the page and others not."""
    expanded = [PLAIN_STAND_INS.get(c, c) for c in text]
    i = 0
    for original, plain in zip(text, expanded, strict=True):
        if back.startswith(original, i):
            i += len(original)
        elif back.startswith(plain, i):
            i += len(plain)
        else:
            return False
    return i == len(back)
