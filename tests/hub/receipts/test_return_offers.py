"""Recording a return offers the rating to the counter's kiosks (the desk, on real SQLite and
PostgreSQL): which kiosks, when not, and what the service will publish."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.return_offer import DEFAULT_OFFER_SECONDS
from hailong.contract.scale import Stage
from hailong.settings import HubSection, HubSettings, MqttSettings, ReceiptKeys, Unit
from hub.receipts.desk import IssueRequest, ReceiptDesk
from hub.receipts.issuing import ReceiptIssueError
from hub.store.db import make_engine, session_factory
from hub.store.models import RatingRow, ReceiptRow, ReturnOfferRow
from hub.store.return_offers import mark_published, pending_offers
from tests.conftest import REPO, UNIT_CODE

NOW = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)
LIFE = timedelta(seconds=DEFAULT_OFFER_SECONDS)


@pytest.fixture
def desk(tmp_path: Path, database_url: str, unit: Unit, receipt_keys: ReceiptKeys) -> ReceiptDesk:
    password = tmp_path / "hub.password"
    password.write_text("unused\n")
    settings = HubSettings(
        hub=HubSection(
            unit_file=REPO / "config" / "unit.toml",
            database_url=database_url,
            public_base_url="https://hailong.example.gov.vn",
        ),
        mqtt=MqttSettings(host="127.0.0.1", port=1, username="hub", password_file=password),
        receipts=receipt_keys,
    )
    sessions = session_factory(make_engine(database_url))
    return ReceiptDesk(settings, unit, sessions, clock=lambda: NOW)


def _issue(desk: ReceiptDesk, counter: str = "Q1", officer: str = "CB001") -> str:
    printed = desk.issue(IssueRequest(counter, officer, "1.001193"), print_slip=False)
    return str(printed.receipt.code)


def _offers(sessions: sessionmaker[Session]) -> list[ReturnOfferRow]:
    with sessions() as session:
        return list(session.scalars(select(ReturnOfferRow).order_by(ReturnOfferRow.offered_at)))


def test_a_return_is_offered_to_the_kiosk_of_the_officers_counter(desk: ReceiptDesk) -> None:
    code = _issue(desk)
    record = desk.record_return(code, "CB002")  # CB002 sits at Q1, where kiosk-q1 stands
    assert record.offered_to == ("kiosk-q1",)
    (row,) = _offers(desk.sessions)
    assert (row.dossier_code, row.counter, row.officer, row.unit) == (
        code,
        "Q1",
        "CB002",
        UNIT_CODE,
    )
    assert (row.offered_at, row.expires_at, row.published_at) == (NOW, NOW + LIFE, None)
    with desk.sessions() as session:
        (pending,) = pending_offers(session, UNIT_CODE, NOW)
        url = session.scalar(select(ReceiptRow.url).where(ReceiptRow.dossier_code == code))
    # The kiosk gets the very signed URL the slip's QR holds, to check like a scan.
    assert (pending.code, pending.receipt_url, pending.counter) == (code, url, "Q1")


def test_the_counter_named_wins_over_the_officers(desk: ReceiptDesk) -> None:
    code = _issue(desk)
    assert desk.record_return(code, "CB001", counter="Q3").offered_to == ("kiosk-q3",)


def test_an_unknown_counter_is_refused_before_the_return_is_recorded(desk: ReceiptDesk) -> None:
    code = _issue(desk)
    with pytest.raises(ReceiptIssueError, match="unknown counter"):
        desk.record_return(code, "CB001", counter="Q9")
    assert desk.view(code).returned_at is None
    assert _offers(desk.sessions) == []


def test_a_second_record_offers_again_and_a_rated_return_is_not_offered(
    desk: ReceiptDesk,
) -> None:
    code = _issue(desk)
    desk.record_return(code, "CB001")
    again = desk.record_return(code, "CB001")
    assert (again.already, again.offered_to) == (True, ("kiosk-q1",))
    with desk.sessions.begin() as session:
        session.add(
            RatingRow(
                id=str(uuid.uuid4()),
                unit=UNIT_CODE,
                kiosk="kiosk-q1",
                seq=1,
                dossier_code=code,
                stage=Stage.RETURN.value,
                score=5,
                lang="vi",
                channel="kiosk",
                rated_at=NOW,
                received_at=NOW,
            )
        )
    assert desk.record_return(code, "CB001").offered_to == ()
    assert len(_offers(desk.sessions)) == 2


def test_pending_offers_leave_out_the_published_and_the_expired(desk: ReceiptDesk) -> None:
    first, second = _issue(desk), _issue(desk)
    desk.record_return(first, "CB001")
    desk.record_return(second, "CB001")
    with desk.sessions.begin() as session:
        (one, two) = pending_offers(session, UNIT_CODE, NOW)
        mark_published(session, [(one.id, ["kiosk-q1"])], NOW)
    with desk.sessions() as session:
        assert [o.code for o in pending_offers(session, UNIT_CODE, NOW)] == [two.code]
        last = NOW + LIFE - timedelta(microseconds=1)
        assert [o.code for o in pending_offers(session, UNIT_CODE, last)] == [two.code]
        assert pending_offers(session, UNIT_CODE, NOW + LIFE) == []
        assert pending_offers(session, "000.00.20.H42", NOW) == []
    published = next(row for row in _offers(desk.sessions) if row.id == one.id)
    assert (published.published_at, published.kiosks) == (NOW, "kiosk-q1")
