"""Issuing receipts into a real SQLite register."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.receipt import DossierCode, KeyRing, parse_scan, verify
from hailong.settings import Unit
from hub.receipts.issuing import (
    IssuedReceipt,
    ReceiptIssueError,
    UnknownReceiptError,
    issue_receipt,
    load_issued,
    mark_printed,
)
from hub.store.db import make_engine, session_factory
from hub.store.models import DossierSequenceRow, ReceiptRow
from tests.hub.receipts.conftest import BASE_URL, NOW


def issue(
    sessions: sessionmaker[Session],
    unit: Unit,
    keyring: KeyRing,
    now: datetime = NOW,
    *,
    counter: str = "Q1",
    officer: str = "CB001",
    procedure: str = "1.001193",
) -> IssuedReceipt:
    return issue_receipt(
        sessions,
        unit,
        keyring,
        BASE_URL,
        counter=counter,
        officer=officer,
        procedure=procedure,
        now=now,
    )


def test_an_issued_receipt_is_signed_and_registered_unprinted(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    issued = issue(sessions, unit, keyring, counter="Q2", officer="CB003", procedure="2.000815")

    assert str(issued.code) == "000.00.20.H41-261125-0001"
    scanned = parse_scan(issued.url)
    assert verify(scanned, keyring, "000.00.20.H41") == issued.claims  # type: ignore[arg-type]
    assert issued.url.startswith(f"{BASE_URL}/r/000.00.20.H41-261125-0001?")
    with sessions() as session:
        row = session.get_one(ReceiptRow, str(issued.code))
    assert (row.counter, row.officer, row.procedure, row.key_id) == (
        "Q2",
        "CB003",
        "2.000815",
        "k1",
    )
    assert row.url == issued.url
    assert row.printed is False


def test_receipts_in_a_row_get_consecutive_codes(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    codes = [issue(sessions, unit, keyring).code for _ in range(25)]

    assert [c.sequence for c in codes] == list(range(1, 26))
    with sessions() as session:
        stored = session.scalars(select(ReceiptRow.dossier_code)).all()
    assert sorted(stored) == sorted(str(c) for c in codes)


def test_concurrent_officers_never_share_a_code(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    def serve(officer: str) -> list[int]:
        return [issue(sessions, unit, keyring, officer=officer).code.sequence for _ in range(8)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(serve, ["CB001", "CB002", "CB003", "CB004"]))

    sequences = [seq for result in results for seq in result]
    assert sorted(sequences) == list(range(1, 33))
    for result in results:
        assert result == sorted(result)  # each officer sees their own codes go up


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=20))
def test_each_day_counts_from_one_without_gaps(
    unit: Unit, keyring: KeyRing, day_offsets: list[int]
) -> None:
    sessions = session_factory(make_engine("sqlite://"))
    per_day: dict[date, list[int]] = defaultdict(list)
    for offset in day_offsets:
        code = issue(sessions, unit, keyring, now=NOW + timedelta(days=offset)).code
        per_day[code.received_on].append(code.sequence)

    for sequences in per_day.values():
        assert sequences == list(range(1, len(sequences) + 1))
    assert len(per_day) == len(set(day_offsets))


@pytest.fixture
def hanoi_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("hanoi_time")
def test_the_reception_day_is_the_local_day(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    # 23:30 UTC on the 24th is 06:30 on the 25th in Hà Nội.
    issued = issue(sessions, unit, keyring, now=datetime(2026, 11, 24, 23, 30, tzinfo=UTC))

    assert issued.code.received_on == date(2026, 11, 25)
    assert (issued.issued_at.hour, issued.issued_at.minute) == (6, 30)
    reloaded = load_issued(sessions, issued.code)
    assert reloaded is not None
    assert reloaded.issued_at == issued.issued_at


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"counter": "Q9"}, "unknown counter 'Q9' for this unit; valid counters: Q1, Q2, Q3"),
        ({"officer": "CB999"}, "unknown officer 'CB999'"),
        ({"procedure": "9.999999"}, "valid procedures: 1.001193, 1.000894"),
    ],
)
def test_unknown_codes_are_refused_with_the_valid_ones(
    sessions: sessionmaker[Session],
    unit: Unit,
    keyring: KeyRing,
    changes: dict[str, str],
    expected: str,
) -> None:
    with pytest.raises(ReceiptIssueError, match=expected):
        issue(
            sessions,
            unit,
            keyring,
            counter=changes.get("counter", "Q1"),
            officer=changes.get("officer", "CB001"),
            procedure=changes.get("procedure", "1.001193"),
        )
    with sessions() as session:
        assert session.scalars(select(DossierSequenceRow)).all() == []  # no code was used up


def test_a_promised_date_before_reception_is_refused(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    with pytest.raises(ReceiptIssueError, match="before the reception date"):
        issue_receipt(
            sessions,
            unit,
            keyring,
            BASE_URL,
            counter="Q1",
            officer="CB001",
            procedure="1.001193",
            now=NOW,
            promised_on=date(2026, 11, 24),
        )


def test_mark_printed_and_reload_for_a_reprint(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    issued = issue_receipt(
        sessions,
        unit,
        keyring,
        BASE_URL,
        counter="Q1",
        officer="CB002",
        procedure="1.000894",
        now=NOW,
        promised_on=date(2026, 11, 28),
    )
    assert load_issued(sessions, issued.code) == issued

    mark_printed(sessions, issued.code)

    with sessions() as session:
        assert session.get_one(ReceiptRow, str(issued.code)).printed is True
    with pytest.raises(UnknownReceiptError):
        mark_printed(sessions, DossierCode("000.00.20.H41", date(2026, 11, 25), 99))
    assert load_issued(sessions, "000.00.20.H41-261125-0099") is None
