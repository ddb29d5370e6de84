"""Coverage counted by the database equals the rule of :mod:`hub.domain.coverage` counted in
Python, over a register with every kind of receipt (rated, rated at the return only, kept apart,
abandoned, abandoned then rated, never scanned), walk-ins and unknown codes, two units, and
receipts issued exactly at a local month's start. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.orm import Session

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Stage
from hailong.settings import Unit
from hub.domain.coverage import AbandonedFact, RatingFact, Receipt, Tally, tally
from hub.domain.ingest import Attribution
from hub.store.coverage import coverage_by_unit, coverage_of_spans, coverage_tallies
from hub.store.db import make_engine, session_factory
from hub.store.models import AbandonedSessionRow, ReceiptRow
from hub.store.ratings import store_batch
from hub.store.rollups import Scope
from tests.hailong.contract.test_messages import make_rating

HANOI = timezone(timedelta(hours=7))
HOME = "000.00.20.H41"
OTHER = "000.00.21.H41"
NOV = datetime(2026, 11, 1, tzinfo=HANOI)
DEC = datetime(2026, 12, 1, tzinfo=HANOI)
NOW = datetime(2026, 12, 5, tzinfo=UTC)
OUTCOMES = ("rated", "return", "apart", "abandoned", "both", "none", "left_at_return")


def _abandon(session: Session, unit: str, code: str, stage: str, seq: int) -> None:
    at = datetime(2026, 11, 20, 9, tzinfo=HANOI)
    session.add(
        AbandonedSessionRow(
            id=str(uuid.uuid4()),
            unit=unit,
            kiosk="kiosk-q1",
            seq=seq,
            dossier_code=code,
            receipt_verified=True,
            receipt_known=True,
            counter="Q1",
            officer=None,
            procedure=None,
            field=None,
            stage=stage,
            reason="timeout",
            scanned_at=at,
            ended_at=at + timedelta(seconds=30),
            received_at=at + timedelta(seconds=31),
        )
    )


def _build(session: Session) -> tuple[list[Receipt], list[RatingFact], list[AbandonedFact]]:
    """A seeded register of 160 receipts from 20 October to 15 November (four issued exactly at
    1 November 00:00 in Hà Nội, one a microsecond before), and what became of each."""
    chance = random.Random(17)
    receipts, ratings, abandoned = [], [], []
    items = []
    moments = [NOV - timedelta(days=12) + timedelta(minutes=233 * i) for i in range(155)]
    moments += [NOV] * 4 + [NOV - timedelta(microseconds=1)]
    for i, at in enumerate(moments):
        unit = OTHER if i % 5 == 0 else HOME
        code = f"{unit}-{at.astimezone(HANOI):%y%m%d}-{i + 1:04d}"
        officer = chance.choice(("CB001", "CB002", "CB003"))
        counter = chance.choice(("Q1", "Q2"))
        procedure = chance.choice(("1.001193", "2.000815", "1.001612"))
        session.add(
            ReceiptRow(
                dossier_code=code,
                unit=unit,
                procedure=procedure,
                counter=counter,
                officer=officer,
                key_id="k1",
                url=f"https://hub/r/{code}",
                issued_at=at.astimezone(UTC),
                origin="registered" if i % 7 == 0 else "issued",
            )
        )
        receipts.append(Receipt(code, unit, counter, officer, procedure, at))
        what = OUTCOMES[i % len(OUTCOMES)]
        rated_at = at + timedelta(minutes=3)
        stage = {"return": Stage.RETURN}.get(what, Stage.RECEPTION)
        if what in ("rated", "return", "apart", "both"):
            counted = what != "apart"
            rating = make_rating(
                id=uuid.uuid4(),
                unit=unit,
                seq=i + 1,
                receipt=ReceiptRef(code=code, verified=True),
                stage=stage,
                rated_at=rated_at,
            )
            known = Attribution(counter, officer, procedure, None, True, stage, counted=counted)
            items.append((rating, known))
            ratings.append(RatingFact(unit, code, stage.value, counted))
        if what in ("abandoned", "both", "left_at_return"):
            left = "return" if what == "left_at_return" else "reception"
            _abandon(session, unit, code, left, i + 1)
            abandoned.append(AbandonedFact(unit, code, left))
    # Ratings with no receipt to be a share of: walk-ins and a code the register does not know.
    walk_in = make_rating(seq=900, receipt=None, rated_at=NOV + timedelta(days=3))
    items.append((walk_in, Attribution("Q1", None, None, None, False)))
    stray = f"{HOME}-261103-0999"
    unknown = make_rating(seq=901, receipt=ReceiptRef(code=stray, verified=False))
    items.append((unknown, Attribution("Q1", "CB001", "1.001193", None, False)))
    _abandon(session, HOME, stray, "reception", 902)
    session.flush()
    store_batch(session, items, NOW)
    return receipts, ratings, abandoned


SCOPES = [
    (NOV, DEC, None),
    (NOV - timedelta(days=31), NOV, None),
    (None, None, None),
    (NOV, None, "CB002"),
    (NOV, NOV, None),  # an empty period
]


def test_coverage_counts_what_the_rule_counts(database_url: str, unit: Unit) -> None:
    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        receipts, ratings, abandoned = _build(session)
    for since, until, officer in SCOPES:
        expected = tally(receipts, ratings, abandoned, since, until)
        with sessions() as session:
            found = coverage_tallies(session, Scope(unit, since, until, officer))
            per_unit = coverage_by_unit(session, [HOME, OTHER, "000.00.99.H41"], since, until)
        mine = {
            key: t
            for key, t in expected.items()
            if key[0] == HOME and (officer is None or key[2] == officer)
        }
        assert found == mine, (since, until, officer)
        for code in (HOME, OTHER):
            assert per_unit.get(code, Tally()) == sum(
                (t for key, t in expected.items() if key[0] == code), Tally()
            )
        assert "000.00.99.H41" not in per_unit  # no receipts: absent
    # The headlines' periods in one pass: overlapping, nested, empty, cut at any hour.
    spans = [
        (NOV, DEC),
        (NOV - timedelta(days=31), DEC),
        (NOV, NOV),
        (NOV - timedelta(hours=5), NOV),
    ]
    with sessions() as session:
        found_spans = coverage_of_spans(session, HOME, spans)
    assert found_spans == [
        sum(
            (t for key, t in tally(receipts, ratings, abandoned, *span).items() if key[0] == HOME),
            Tally(),
        )
        for span in spans
    ]
    november = sum(tally(receipts, ratings, abandoned, NOV, DEC).values(), Tally())
    # The example holds every outcome in November.
    assert november.rated > 0
    assert november.abandoned > 0
    assert november.not_reached > 0
