"""The dossiers the official indices read, from real SQLite and PostgreSQL databases: the register
joined to the counted ratings in one query, days on the unit's calendar, and the desk's figures
computed from them by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Score, Stage
from hub.domain.indices import DossierFacts, RatingFacts, parse_period
from hub.domain.ingest import Attribution
from hub.indices import IndicesDesk, load_criteria
from hub.store.db import make_engine, session_factory
from hub.store.indices import dossier_facts
from hub.store.models import ReceiptRow
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

UNIT = "000.00.20.H41"
OTHER = "000.00.21.H41"
CRITERIA = Path(__file__).resolve().parents[3] / "config" / "criteria"
Q3 = parse_period("2026Q3")


def add_receipt(
    session: Session,
    code: str,
    issued_at: datetime,
    promised_on: date | None,
    *,
    unit: str = UNIT,
    returned_at: datetime | None = None,
    returned_by: str | None = None,
) -> None:
    session.add(
        ReceiptRow(
            dossier_code=code,
            unit=unit,
            procedure="1.001193",
            counter="Q1",
            officer="CB001",
            key_id="k1",
            url=f"https://hub.example/r/{code}",
            issued_at=issued_at,
            promised_on=promised_on,
            printed=True,
            origin="issued",
            citizen_name="Nguyễn Văn A",  # personal data the indices must never read
            returned_at=returned_at,
            returned_by=returned_by,
        )
    )


def rate(
    seq: int,
    code: str,
    score: Score,
    *,
    officer: str = "CB001",
    stage: Stage = Stage.RECEPTION,
    counted: bool = True,
    **extra: Any,
) -> tuple[Any, Attribution]:
    rating = make_rating(
        seq=seq,
        receipt=ReceiptRef(code=code, verified=True),
        officer=officer,
        score=score,
        stage=stage,
        rated_at=datetime(2026, 7, 1, 3, seq, tzinfo=UTC),
        **extra,
    )
    return rating, Attribution(
        "Q1", officer, "1.001193", "ho-tich", True, stage=stage, counted=counted
    )


def fill(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        # Received 1 July 09:00 local, promised 10 July, returned 8 July: early.
        add_receipt(
            session,
            f"{UNIT}-260701-0001",
            datetime(2026, 7, 1, 2, 0, tzinfo=UTC),
            date(2026, 7, 10),
            returned_at=datetime(2026, 7, 8, 3, 0, tzinfo=UTC),
            returned_by="CB002",
        )
        # 23:59 local on 30 September (16:59 UTC): still the third quarter; not returned.
        add_receipt(
            session,
            f"{UNIT}-260930-0001",
            datetime(2026, 9, 30, 16, 59, tzinfo=UTC),
            date(2026, 10, 5),
        )
        # 00:00 local on 1 October (17:00 UTC on 30 September): the fourth quarter.
        add_receipt(session, f"{UNIT}-261001-0001", datetime(2026, 9, 30, 17, 0, tzinfo=UTC), None)
        add_receipt(
            session,
            f"{OTHER}-260801-0001",
            datetime(2026, 8, 1, 2, 0, tzinfo=UTC),
            None,
            unit=OTHER,
        )
    with sessions.begin() as session:
        store_batch(
            session,
            [
                rate(1, f"{UNIT}-260701-0001", Score.VERY_SATISFIED),
                # The return, rated 2, but not counted (say, suspect): left out.
                rate(
                    2,
                    f"{UNIT}-260701-0001",
                    Score.DISSATISFIED,
                    officer="CB002",
                    stage=Stage.RETURN,
                    counted=False,
                ),
                # Face 4, but the officer factor answered 5.
                rate(3, f"{UNIT}-260930-0001", Score.SATISFIED, factors={"officer": 5}),
                rate(4, f"{UNIT}-261001-0001", Score.VERY_DISSATISFIED),
            ],
            datetime(2026, 10, 1, 3, 0, tzinfo=UTC),
        )


def test_dossier_facts_in_one_query(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    fill(sessions)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    start, end = Q3.bounds()
    with sessions() as session:
        facts = dossier_facts(session, [UNIT, OTHER, "000.00.99.H41"], start, end)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, selects
    assert "citizen_name" not in selects[0]
    assert "comment" not in selects[0]
    assert facts[UNIT] == [
        DossierFacts(
            code=f"{UNIT}-260701-0001",
            unit=UNIT,
            officer="CB001",
            received_on=date(2026, 7, 1),
            promised_on=date(2026, 7, 10),
            returned_on=date(2026, 7, 8),
            returned_by="CB002",
            ratings=(RatingFacts("CB001", 5, {}),),
        ),
        DossierFacts(
            code=f"{UNIT}-260930-0001",
            unit=UNIT,
            officer="CB001",
            received_on=date(2026, 9, 30),
            promised_on=date(2026, 10, 5),
            ratings=(RatingFacts("CB001", 4, {"officer": 5}),),
        ),
    ]
    assert [d.code for d in facts[OTHER]] == [f"{OTHER}-260801-0001"]
    assert facts[OTHER][0].ratings == ()
    assert facts["000.00.99.H41"] == []


def test_the_desk_computes_the_quarter(database_url: str) -> None:
    sessions = session_factory(make_engine(database_url))
    fill(sessions)
    desk = IndicesDesk(sessions, load_criteria(CRITERIA))
    report = desk.report([UNIT], Q3, datetime(2026, 10, 10, 5, 0, tzinfo=UTC))
    assert (report.label_vi, report.as_of) == ("Quý 3/2026", date(2026, 10, 10))
    (unit,) = report.units
    # Indicator 1: the first early (2), the second unreturned past 5 October (0): 1.0.
    # Indicator 7: 5 -> 2; the officer factor 5 -> 2: 2.0. Index 3.0 of 4;
    # scaled 3.0 × 18 / 4 = 13.5: Tốt.
    assert (unit.index.index, unit.index.scaled) == (Decimal("3.0"), Decimal("13.5"))
    assert unit.index.band is not None
    assert unit.index.band.label_vi == "Tốt"
    # 766: 2 dossiers, none rated dissatisfied (the 2 was not counted), 1 late: 50.0 %.
    ratio = unit.ratio_766
    assert (ratio.dossiers, ratio.dissatisfied, ratio.late, ratio.percent) == (
        2,
        0,
        1,
        Decimal("50.0"),
    )
    # CB002 returned the first dossier: its processing time (2) is theirs too; their rating
    # was not counted, so indicator 7 has no data: index 2.0 of 2; scaled 2 × 10 / 2 = 10.0.
    cb001, cb002 = unit.officers
    assert (cb001.subject, cb001.index, cb001.dossiers) == ("CB001", Decimal("3.0"), 2)
    assert (cb002.subject, cb002.index, cb002.max_available) == ("CB002", Decimal("2.0"), 2)
    assert cb002.scaled == Decimal("10.0")
