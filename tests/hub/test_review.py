"""The administrators' review desk on a real database (SQLite and PostgreSQL): dead letters a
page at a time, cut to a preview, in local time; flagged ratings of the last 30 days with the
period's totals and nothing a citizen wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hailong.contract.messages import ReceiptRef
from hailong.settings import Unit
from hub.domain.ingest import Attribution
from hub.report import Uncounted
from hub.review import DEAD_LETTER_PAGE, PREVIEW_CHARS, ReviewDesk
from hub.store.db import make_engine, session_factory
from hub.store.ratings import LOCAL_ZONE, store_batch, store_dead_letter
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
UNIT = "000.00.20.H41"


@pytest.fixture
def desk(database_url: str, unit: Unit) -> ReviewDesk:
    return ReviewDesk(unit, session_factory(make_engine(database_url)), lambda: NOW)


def test_dead_letters_come_newest_first_a_page_at_a_time(desk: ReviewDesk) -> None:
    with desk.sessions.begin() as session:
        for n in range(DEAD_LETTER_PAGE + 2):
            payload = f"{n:04d}".encode() + b"\xff" + b"x" * 500
            store_dead_letter(session, f"hailong/v1/{UNIT}/kiosk-q1/ratings", payload, "bad", NOW)
        store_dead_letter(session, "not/a/kiosk/topic", b"{}", "bad topic", NOW)
    first = desk.dead_letters()
    assert (first.total, len(first.rows)) == (DEAD_LETTER_PAGE + 3, DEAD_LETTER_PAGE)
    newest = first.rows[0]
    assert (newest.kiosk, newest.reason, newest.preview) == ("not/a/kiosk/topic", "bad topic", "{}")
    letter = first.rows[1]
    assert letter.kiosk == "kiosk-q1"
    assert letter.preview.startswith(f"{DEAD_LETTER_PAGE + 1:04d}\ufffd")  # not UTF-8: replaced
    assert (len(letter.preview), letter.size) == (PREVIEW_CHARS, 505)
    assert letter.received_at == NOW.astimezone(LOCAL_ZONE)
    assert first.older == first.rows[-1].id
    rest = desk.dead_letters(first.older)
    assert [row.preview[:4] for row in rest.rows] == ["0002", "0001", "0000"]
    assert rest.older is None


def test_flagged_ratings_of_the_last_30_days_without_what_citizens_wrote(
    desk: ReviewDesk,
) -> None:
    mismatch = Attribution(
        "Q2", "CB003", "2.000815", "chung-thuc", True, claim_mismatch=("counter",)
    )
    unverified = Attribution("Q1", None, None, None, False, counted=False, suspect=True)
    fine = Attribution("Q1", "CB001", "1.001193", "ho-tich", True)
    items = [
        (make_rating(seq=1, receipt=ReceiptRef(code=f"{UNIT}-261125-0001", verified=True),
                     rated_at=NOW - timedelta(hours=1)), mismatch),
        (make_rating(seq=2, receipt=ReceiptRef(code=f"{UNIT}-261124-0042", verified=False),
                     rated_at=NOW - timedelta(hours=2), comment="bí mật"), unverified),
        (make_rating(seq=3, receipt=ReceiptRef(code=f"{UNIT}-261125-0003", verified=True),
                     rated_at=NOW - timedelta(hours=3)), fine),
        (make_rating(seq=4, receipt=ReceiptRef(code=f"{UNIT}-261001-0001", verified=True),
                     rated_at=NOW - timedelta(days=31)), unverified),
    ]  # fmt: skip
    with desk.sessions.begin() as session:
        store_batch(session, items, NOW)
    found = desk.flagged()
    assert [(r.dossier_code, r.counter, r.counted) for r in found.rows] == [
        (f"{UNIT}-261125-0001", "Q2", True),
        (f"{UNIT}-261124-0042", "Q1", False),
    ]
    assert found.rows[0].flags == ("máy khai khác sổ / claim mismatch: counter",)
    assert found.rows[1].flags == ("chưa xác minh / unverified", "nghi vấn / suspect")
    assert found.rows[0].rated_at == (NOW - timedelta(hours=1)).astimezone(LOCAL_ZONE)
    assert found.totals == Uncounted(unverified=1, suspect=1, mismatched=1)
    assert not any(hasattr(row, "comment") for row in found.rows)
