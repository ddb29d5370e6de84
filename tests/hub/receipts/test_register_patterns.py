"""Registering another system's receipt in one of the unit's own dossier code patterns, into a
real SQLite register, and what the hub's ingest then makes of ratings of such codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import ReceiptRef
from hailong.contract.receipt import KeyRing, SignedReceipt, check, parse_scan
from hailong.settings import Unit
from hailong.settings.unit import ReceiptCodes
from hub.domain.ingest import Attribution
from hub.domain.register import RECEIPT_MALFORMED, RECEIPT_NOT_ISSUED_YET, Refusal, judge
from hub.online import open_receipt
from hub.receipts.desk import dossier_code_of
from hub.receipts.issuing import (
    IssuedReceipt,
    ReceiptIssueError,
    issue_receipt,
    load_issued,
    register_receipt,
)
from hub.store.ratings import register_view
from tests.hailong.contract.test_messages import make_rating
from tests.hub.receipts.conftest import BASE_URL

IGATE = "G09.20-{yyyymmdd}-{seq:7}"
CODE = "G09.20-20260609-0092637"
NOW = datetime(2026, 6, 9, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội


@pytest.fixture
def igate_unit(unit: Unit) -> Unit:
    return unit.model_copy(update={"receipt_codes": ReceiptCodes(external_patterns=(IGATE,))})


def register(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing, code: str, now: datetime = NOW
) -> IssuedReceipt:
    return register_receipt(
        sessions,
        unit,
        keyring,
        BASE_URL,
        code=code,
        counter="Q2",
        officer="CB003",
        procedure="1.000894",
        now=now,
    )


def test_a_variant_code_is_registered_signed_and_read_back(
    sessions: sessionmaker[Session], igate_unit: Unit, keyring: KeyRing
) -> None:
    book = igate_unit.code_book()
    registered = register(sessions, igate_unit, keyring, dossier_code_of(CODE.lower(), book))
    assert (str(registered.code), registered.origin) == (CODE, "registered")
    assert registered.url.startswith(f"{BASE_URL}/r/{CODE}?")
    # A kiosk that has the unit's patterns verifies the slip's QR offline.
    scanned = parse_scan(registered.url, book)
    assert isinstance(scanned, SignedReceipt)
    assert check(scanned, keyring, igate_unit.unit.code, now=NOW) == registered.claims
    assert load_issued(sessions, CODE, book) == registered
    # The citizen's phone opens the same QR on the hub's online rating page.
    assert open_receipt(sessions, igate_unit, keyring, registered.url).claims == registered.claims
    assert dossier_code_of(registered.url, book) == CODE
    # Another system's numbering leaves the hub's own alone: its first code today is still 1.
    issued = issue_receipt(
        sessions,
        igate_unit,
        keyring,
        BASE_URL,
        counter="Q1",
        officer="CB001",
        procedure="1.001193",
        now=NOW,
    )
    assert str(issued.code) == "000.00.20.H41-260609-0001"
    with pytest.raises(ReceiptIssueError, match="already in the register"):
        register(sessions, igate_unit, keyring, CODE)


def test_a_code_in_no_pattern_of_the_unit_is_refused_in_vietnamese_and_english(
    sessions: sessionmaker[Session], unit: Unit, igate_unit: Unit, keyring: KeyRing
) -> None:
    with pytest.raises(ReceiptIssueError) as refused:
        register(sessions, unit, keyring, CODE)  # the unit accepts the national spelling only
    message = str(refused.value)
    assert message.startswith(f"Mã hồ sơ '{CODE}' không đúng mẫu mã hồ sơ đơn vị chấp nhận")
    assert "is not a dossier code in a pattern this unit accepts ({unit}-{yymmdd}-{seq:4-6})" in (
        message
    )
    with pytest.raises(ReceiptIssueError, match=r"\{unit\}-\{yymmdd\}-\{seq:4-6\}, " + IGATE):
        register(sessions, igate_unit, keyring, "G09.20-20260609-092637")


def test_a_code_dated_after_today_on_the_units_clock_is_refused(
    sessions: sessionmaker[Session], igate_unit: Unit, keyring: KeyRing
) -> None:
    # 17:30 UTC on 8 June is already 9 June in Hà Nội: the code is today's there.
    evening = datetime(2026, 6, 8, 17, 30, tzinfo=UTC)
    assert str(register(sessions, igate_unit, keyring, CODE, evening).code) == CODE
    with pytest.raises(ReceiptIssueError, match="sau hôm nay") as refused:
        register(sessions, igate_unit, keyring, "G09.20-20260610-0000001", evening)
    assert "is dated 10/06/2026, after today (09/06/2026)" in str(refused.value)
    with pytest.raises(ReceiptIssueError, match="after today"):
        register(sessions, igate_unit, keyring, "000.00.20.H41-260610-0001", evening)


def test_ingest_finds_a_registered_variant_and_judges_an_unknown_one_by_its_date(
    sessions: sessionmaker[Session], igate_unit: Unit, keyring: KeyRing
) -> None:
    register(sessions, igate_unit, keyring, CODE)
    unknown = "G09.20-20260608-9999999"  # another system's, not registered: only its date counts
    future = "G09.20-20260610-0000001"
    codes = {CODE, unknown, future}
    with sessions() as session:
        view = register_view(session, codes, NOW + timedelta(hours=1), book=igate_unit.code_book())
    assert view.today == date(2026, 6, 9)

    def judged(code: str) -> Attribution | Refusal:
        rating = make_rating(receipt=ReceiptRef(code=code, verified=False), officer=None)
        return judge(rating, view, igate_unit)

    known = judged(CODE)
    assert isinstance(known, Attribution)
    assert (known.receipt_known, known.counter, known.officer) == (True, "Q2", "CB003")
    kept = judged(unknown)
    assert isinstance(kept, Attribution)
    assert (kept.receipt_known, kept.counted) == (False, False)
    refused = judged(future)
    assert isinstance(refused, Refusal)
    assert refused.code == RECEIPT_NOT_ISSUED_YET
    # Without the unit's pattern the same code cannot be read at all.
    with sessions() as session:
        national_only = register_view(session, codes, NOW)
    plain = judge(
        make_rating(receipt=ReceiptRef(code=CODE, verified=False)),
        national_only,
        unit_of(igate_unit),
    )
    assert isinstance(plain, Refusal)
    assert plain.code == RECEIPT_MALFORMED


def unit_of(unit: Unit) -> Unit:
    """The same unit with the national spelling only."""
    return unit.model_copy(update={"receipt_codes": ReceiptCodes()})
