"""Issuing receipts into a real SQLite register."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.receipt import (
    DossierCode,
    KeyRing,
    ReceiptClaims,
    ReceiptRefused,
    parse_scan,
    sign_legacy_hmac,
    verify,
)
from hailong.settings import Unit
from hub.online import open_receipt
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


@pytest.fixture(params=["UTC", "America/Los_Angeles", "Asia/Ho_Chi_Minh"])
def machine_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The zone the hub's machine is set to, which must not matter (a hub left on UTC)."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("machine_zone")
@pytest.mark.parametrize(
    ("now", "day", "clock"),
    [
        (datetime(2026, 11, 24, 16, 59, 59, tzinfo=UTC), date(2026, 11, 24), (23, 59)),
        (datetime(2026, 11, 24, 17, 0, tzinfo=UTC), date(2026, 11, 25), (0, 0)),  # the bound
        (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), date(2026, 11, 25), (6, 30)),
        (datetime(2026, 12, 31, 17, 30, tzinfo=UTC), date(2027, 1, 1), (0, 30)),  # a new year
    ],
)
def test_the_reception_day_is_the_units_day_whatever_the_machines_zone(
    sessions: sessionmaker[Session],
    unit: Unit,
    keyring: KeyRing,
    now: datetime,
    day: date,
    clock: tuple[int, int],
) -> None:
    """Before, a hub on UTC dated a code issued after 17:00 UTC (midnight in Hà Nội) yesterday."""
    issued = issue(sessions, unit, keyring, now=now)

    assert issued.code.received_on == day
    assert f"-{day:%y%m%d}-0001" in str(issued.code)
    assert (issued.issued_at.hour, issued.issued_at.minute) == clock
    assert issued.issued_at.utcoffset() == timedelta(hours=7)
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


# -- old HMAC receipts on the online page: only what the register holds ---------------------------

HMAC_KEY = b"h" * 32


def legacy_hub_ring(keyring: KeyRing) -> KeyRing:
    """The hub after the upgrade: Ed25519 signs, HMAC key k0 kept for the grace period."""
    end = datetime.now(UTC) + timedelta(days=90)
    return replace(keyring, legacy={"k0": HMAC_KEY}, retired={"k0": end})


def test_an_hmac_receipt_opens_online_only_as_the_register_holds_it(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    """Every kiosk held the HMAC key: a slip a thief signs with it passes the MAC, so the hub
    takes an HMAC receipt only if it issued that very receipt."""
    ring = legacy_hub_ring(keyring)
    code = DossierCode(unit.unit.code, date(2026, 11, 24), 5)
    issued = ReceiptClaims(code, "1.001193", "Q1", "CB001")
    url = sign_legacy_hmac(issued, "k0", HMAC_KEY).url(BASE_URL)
    minted = sign_legacy_hmac(replace(issued, officer="CB002"), "k0", HMAC_KEY).url(BASE_URL)
    unknown = sign_legacy_hmac(replace(issued, code=replace(code, sequence=6)), "k0", HMAC_KEY)
    with sessions.begin() as session:
        session.add(
            ReceiptRow(
                dossier_code=str(code), unit=code.unit, procedure="1.001193", counter="Q1",
                officer="CB001", key_id="k0", url=url, issued_at=NOW, printed=True,
                origin="issued",
            )
        )  # fmt: skip

    assert open_receipt(sessions, unit, ring, url).claims == issued
    for text in (minted, unknown.url(BASE_URL)):
        with pytest.raises(ReceiptRefused) as refused:
            open_receipt(sessions, unit, ring, text)
        assert refused.value.reason == "bad_signature"
        assert "not in the register" in refused.value.detail
    with pytest.raises(ReceiptRefused) as refused:  # a revoked HMAC key: at once
        open_receipt(sessions, unit, ring.with_revoked(["k0"]), url)
    assert refused.value.reason == "revoked_key"


def test_an_ed25519_receipt_needs_no_register_check_to_open(
    sessions: sessionmaker[Session], unit: Unit, keyring: KeyRing
) -> None:
    issued = issue(sessions, unit, keyring)
    assert open_receipt(sessions, unit, keyring, issued.url).claims == issued.claims
