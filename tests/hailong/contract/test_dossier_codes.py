"""Properties of the dossier code pattern language: every code a template writes is read back to
the same parts, any text is read or refused without an exception, lengths stay inside the wire's
bounds, and the compiled patterns cannot backtrack without end."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract.dossier_codes import (
    MAX_CODE_LENGTH,
    MAX_PATTERNS,
    MAX_TEMPLATE_LENGTH,
    MIN_CODE_LENGTH,
    NATIONAL,
    NATIONAL_TEMPLATE,
    CodeBook,
    CodeParts,
    CodePattern,
    PatternError,
    check_templates,
    compile_pattern,
)
from hailong.contract.receipt import (
    DossierCode,
    ReceiptClaims,
    ReceiptRefused,
    SignedReceipt,
    TypedCode,
    parse_scan,
)

UNIT = "000.00.20.H41"
IGATE = "G09.20-{yyyymmdd}-{seq:7}"
BOOK = CodeBook.of(UNIT, [IGATE, "{unit}-{yymmdd}.{seq:3-5}"])

unit_codes = st.from_regex(r"\A[0-9A-Z][0-9A-Z.]{2,19}\Z")
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
literals = st.from_regex(r"\A[0-9A-Z.-]{1,6}\Z")
separators = st.sampled_from(["-", ".", "-X", ".Y-", "-00."])


@st.composite
def templates(draw: st.DrawFn) -> str:
    """Valid templates: a unit code or a literal prefix, the date, the sequence, in some order,
    each variable-width token followed by a separator it cannot contain."""
    low = draw(st.integers(1, 7))
    high = draw(st.integers(low, min(9, low + 3)))
    seq = f"{{seq:{low}}}" if low == high else f"{{seq:{low}-{high}}}"
    day = draw(st.sampled_from(["{yymmdd}", "{yyyymmdd}"]))
    head = draw(st.one_of(st.just("{unit}"), literals))
    order = draw(st.sampled_from([(head, day, seq), (head, seq, day), (day, seq, head)]))
    out = ""
    for i, piece in enumerate(order):
        out += piece
        if i < len(order) - 1:
            out += draw(separators)
    return out


def _compiles(template: str) -> CodePattern | None:
    try:
        return compile_pattern(template)
    except PatternError:
        return None


# -- the examples of the issue ----------------------------------------------------------------


def test_the_igate_variant_is_read_with_its_date_and_sequence() -> None:
    code = DossierCode.parse("G09.20-20260609-0092637", BOOK)
    assert (code.unit, code.received_on, code.sequence) == (UNIT, date(2026, 6, 9), 92637)
    assert (code.form, code.national, str(code)) == (IGATE, False, "G09.20-20260609-0092637")


def test_the_national_code_is_read_as_before_with_or_without_a_book() -> None:
    for book in (None, BOOK, CodeBook(UNIT)):
        code = DossierCode.parse("000.00.20.H41-261125-0007", book)
        assert code == DossierCode(UNIT, date(2026, 11, 25), 7)
        assert code.national
    assert NATIONAL.template == NATIONAL_TEMPLATE
    assert NATIONAL.read("000.00.20.H41-261125-0007") == CodeParts(UNIT, date(2026, 11, 25), 7)


def test_a_variant_is_refused_without_the_units_pattern() -> None:
    for book in (None, CodeBook(UNIT)):
        with pytest.raises(ReceiptRefused) as refused:
            DossierCode.parse("G09.20-20260609-0092637", book)
        assert refused.value.reason == "malformed"


@pytest.mark.parametrize(
    "text",
    [
        "G09.20-20260609-092637",  # six digits where the pattern has seven
        "G09.20-20260609-00926370",  # eight
        "G09.20-20260631-0092637",  # 31 June
        "G09.20-19990609-0092637",  # before 2000
        "G09.21-20260609-0092637",  # another literal prefix
        "G09.20-20260609-0092637 ",
        "G09.20-20260609-0092637\n",
        "G09.20-２0260609-0092637",  # a full-width digit
        "000.00.20.H41-261125.01",  # the {seq:3-5} form with too few digits
        "000.00.20.H41-261125.0123",  # ... and with a leading zero past its padding
    ],
)
def test_near_misses_are_malformed(text: str) -> None:
    with pytest.raises(ReceiptRefused) as refused:
        DossierCode.parse(text, BOOK)
    assert refused.value.reason == "malformed"


def test_a_unit_code_in_a_variant_is_read_back_so_another_units_code_can_be_told() -> None:
    code = DossierCode.parse("000.00.20.X99-261125.123", BOOK)
    assert code.unit == "000.00.20.X99"  # the caller refuses it as another unit's
    assert str(code) == "000.00.20.X99-261125.123"


def test_a_units_own_pattern_that_looks_national_is_read_as_the_units() -> None:
    text = "G09.20-260609-0001"  # reads as national too, as a code of unit "G09.20"
    assert DossierCode.parse(text).unit == "G09.20"
    own = DossierCode.parse(text, CodeBook.of(UNIT, ["G09.20-{yymmdd}-{seq:4}"]))
    assert (own.unit, own.form, own.national, str(own)) == (
        UNIT,
        "G09.20-{yymmdd}-{seq:4}",
        False,
        text,
    )
    # A pattern naming the unit code reads another unit's code as that unit's, as national does.
    other = DossierCode.parse(
        "000.00.20.X99-261125-0001", CodeBook.of(UNIT, ["{unit}-{yymmdd}-{seq:4}"])
    )
    assert (other.unit, other.national) == ("000.00.20.X99", True)


def test_typed_and_scanned_variants_go_through_parse_scan() -> None:
    typed = parse_scan("  g09.20-20260609-0092637 ", BOOK)
    assert isinstance(typed, TypedCode)
    assert str(typed.code) == "G09.20-20260609-0092637"
    claims = ReceiptClaims(typed.code, "1.001193", "Q1", "CB001")
    url = SignedReceipt(claims, "k1", "A" * 86).url("https://hub.example")
    scanned = parse_scan(url, BOOK)
    assert isinstance(scanned, SignedReceipt)
    assert scanned.claims == claims
    with pytest.raises(ReceiptRefused):
        parse_scan(url)  # a kiosk without the pattern cannot read the slip's code


# -- the template language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("", "empty"),
        ("{unit}-{seq:4}", "exactly one date"),
        ("{unit}-{yymmdd}-{yymmdd}-{seq:4}", "exactly one date"),
        ("{unit}-{yymmdd}", "exactly one {seq:N}"),
        ("{unit}-{unit}-{yymmdd}-{seq:4}", "at most one {unit}"),
        ("{unit}{yymmdd}-{seq:4}", "{unit} must be followed"),
        ("{unit}.{yymmdd}-{seq:4}", "{unit} must be followed"),
        ("X-{seq:2-4}{yymmdd}", "{seq:M-N} of varying width"),
        ("X-{seq:2-4}0-{yymmdd}", "{seq:M-N} of varying width"),
        ("X-{yymmdd}-{seq:4-2}", "fewest digits come first"),
        ("X-{yymmdd}-{seq:0}", "unknown token"),
        ("X-{yymmdd}-{seq:10}", "unknown token"),
        ("X-{ddmmyy}-{seq:4}", "unknown token"),
        ("X-{yymmdd}-{seq:4", "unknown token"),
        ("x-{yymmdd}-{seq:4}", "'x' at 1 is not allowed"),
        ("X_{yymmdd}-{seq:4}", "'_' at 2 is not allowed"),
        ("X/{yymmdd}-{seq:4}", "'/' at 2 is not allowed"),
        ("(a+)+-{yymmdd}-{seq:4}", "'(' at 1 is not allowed"),
        ("{yymmdd}{seq:1}", "fewer than 8"),
        ("{unit}-{yyyymmdd}-{seq:9}-ABCD", "more than 40"),
        ("A" * (MAX_TEMPLATE_LENGTH + 1), "longer than 80"),
    ],
)
def test_templates_outside_the_language_are_refused_with_the_reason(
    template: str, says: str
) -> None:
    with pytest.raises(PatternError, match=re.escape(says)):
        compile_pattern(template)


def test_lengths_at_the_bounds() -> None:
    # 20 + 1 + 8 + 1 + 9 + 1 = 40 characters at most: the longest a code can be.
    longest = compile_pattern("{unit}-{yyyymmdd}-{seq:9}A")
    assert longest.max_length == MAX_CODE_LENGTH
    code = longest.write("A" * 20, date(2026, 6, 9), 999_999_999)
    assert len(code) == MAX_CODE_LENGTH
    assert longest.read(code) is not None
    assert longest.read(code + "A") is None
    shortest = compile_pattern("{yymmdd}{seq:2}")
    assert shortest.min_length == MIN_CODE_LENGTH
    assert shortest.read("26060901") == CodeParts(None, date(2026, 6, 9), 1)
    assert shortest.read("2606090") is None
    at_limit = "X" * (MAX_TEMPLATE_LENGTH - len("{yymmdd}{seq:1}")) + "{yymmdd}{seq:1}"
    with pytest.raises(PatternError, match="more than 40"):  # 80 characters: long enough to read
        compile_pattern(at_limit)
    with pytest.raises(ValueError, match=re.escape("not 0..9999999")):
        compile_pattern(IGATE).write(None, date(2026, 6, 9), 10_000_000)
    with pytest.raises(ValueError, match="sequence 10000000"):
        DossierCode(UNIT, date(2026, 6, 9), 10_000_000, IGATE)


def test_a_book_holds_at_most_its_share_of_patterns_and_no_repeat() -> None:
    many = [f"P{i:02d}-{{yymmdd}}-{{seq:4}}" for i in range(MAX_PATTERNS + 1)]
    assert len(check_templates(many[:MAX_PATTERNS])) == MAX_PATTERNS
    with pytest.raises(PatternError, match=f"more than {MAX_PATTERNS}"):
        check_templates(many)
    with pytest.raises(PatternError, match="is already pattern 0"):
        check_templates([IGATE, IGATE])
    with pytest.raises(PatternError, match="pattern 1 'nope'"):
        CodeBook.of(UNIT, [IGATE, "nope"])


# -- properties --------------------------------------------------------------------------------


@given(templates(), unit_codes, days, st.integers(min_value=0))
def test_every_code_a_template_writes_is_read_back(
    template: str, unit: str, day: date, seq: int
) -> None:
    pattern = _compiles(template)
    if pattern is None:  # too long or too short for the wire: refused as such, never compiled
        return
    sequence = seq % (pattern.max_sequence + 1)
    text = pattern.write(unit, day, sequence)
    assert MIN_CODE_LENGTH <= pattern.min_length <= len(text) <= pattern.max_length
    assert len(text) <= MAX_CODE_LENGTH
    parts = pattern.read(text)
    assert parts == CodeParts(unit if pattern.has_unit else None, day, sequence)
    code = DossierCode.parse(text, CodeBook(UNIT, (pattern,)))
    assert str(code) == text
    assert code.received_on == day
    if not code.national:  # a national-looking spelling is read as national first
        assert (code.sequence, code.form) == (sequence, template)
        assert code.unit == (unit if pattern.has_unit else UNIT)


@given(st.text(max_size=100))
def test_any_template_text_compiles_or_is_refused(template: str) -> None:
    pattern = _compiles(template)
    if pattern is not None:
        assert MIN_CODE_LENGTH <= pattern.min_length <= pattern.max_length <= MAX_CODE_LENGTH


@given(st.one_of(st.text(max_size=60), st.from_regex(r"\A[0-9A-Z.-]{0,45}\Z")))
def test_any_text_is_a_code_or_not_never_an_exception(text: str) -> None:
    try:
        code = DossierCode.parse(text, BOOK)
    except ReceiptRefused as refused:
        reason = refused.reason
    else:
        assert str(code) == text  # one spelling per code
        reason = "malformed"
    assert reason == "malformed"


@given(st.from_regex(r"\A[0-9A-Z][0-9A-Z.]{2,19}-[0-9]{6}-[0-9]{4,6}\Z"))
def test_the_national_pattern_reads_as_the_receipt_codec_does(text: str) -> None:
    parts = NATIONAL.read(text)
    try:
        code = DossierCode.parse(text)
    except ReceiptRefused:
        assert parts is None
        return
    assert parts == CodeParts(code.unit, code.received_on, code.sequence)


@given(templates())
def test_compiled_patterns_repeat_nothing_without_bound(template: str) -> None:
    pattern = _compiles(template)
    if pattern is None:
        return
    source = pattern._regex.pattern
    # Only bounded repetitions ({m,n}); no *, + or open {m,} a long text could make explode.
    assert not re.search(r"(?<!\\)[*+]|\{\d+,\}", source), source


@pytest.mark.parametrize("length", [MAX_CODE_LENGTH, MAX_CODE_LENGTH + 1, 100_000])
def test_long_near_miss_inputs_end_at_once(length: int) -> None:
    # Texts shaped to make a backtracking matcher try every split: every digit, every unit
    # character, and ones that almost follow a template to its end.
    for pattern in (*BOOK.patterns, NATIONAL, compile_pattern("{unit}-{yymmdd}-{seq:1-9}")):
        for text in ("0" * length, "A." * (length // 2), "G09.20-" + "2" * length):
            assert pattern.read(text) is None or len(text) <= pattern.max_length
            # Even without the length guard the anchored, bounded regex gives up in one pass.
            assert pattern._regex.fullmatch(text) is None or len(text) <= MAX_CODE_LENGTH
    with pytest.raises(ReceiptRefused):
        DossierCode.parse("0" * length, BOOK)
