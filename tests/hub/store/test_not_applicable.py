"""Survey answers "không áp dụng" and reason pictograms in real SQLite and PostgreSQL (issue 18):
stored apart from the answers, so a factor's MĐHL counts neither them nor their citizens."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from hailong.contract.messages import ReceiptRef
from hailong.contract.scale import Factor, Score
from hailong.settings import RegisterPolicy, Unit
from hub.domain.ingest import attribute
from hub.report import Scope, factor_table
from hub.store.catalogue import import_unit, load_unit
from hub.store.db import make_engine, session_factory
from hub.store.models import RatingRow
from hub.store.ratings import store_batch
from tests.hailong.contract.test_messages import make_rating

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def test_not_applicable_is_stored_and_counted_in_no_factor(database_url: str, unit: Unit) -> None:
    unit = unit.model_copy(update={"register_policy": RegisterPolicy(count_unverified=True)})
    sessions = session_factory(make_engine(database_url))
    answers = [
        ({Factor.OFFICER: Score.VERY_SATISFIED, Factor.FEEDBACK: Score.DISSATISFIED}, None),
        ({Factor.OFFICER: Score.SATISFIED}, (Factor.FEEDBACK, Factor.RESULT)),
        ({Factor.FEEDBACK: Score.VERY_SATISFIED}, None),
        ({}, (Factor.RESULT,)),  # every other question skipped
    ]
    ratings = [
        make_rating(
            seq=i + 1,
            receipt=ReceiptRef(code=f"000.00.20.H41-261125-{i + 1:04d}", verified=True),
            factors=factors,
            not_applicable=skipped,
        )
        for i, (factors, skipped) in enumerate(answers)
    ]
    with sessions.begin() as session:
        outcomes = store_batch(session, [(r, attribute(r, None, unit)) for r in ratings], NOW)
    assert [o.outcome for o in outcomes] == ["stored"] * 4
    with sessions() as session:
        stored = dict(session.execute(select(RatingRow.seq, RatingRow.not_applicable)).all())
        table = {line.key: line for line in factor_table(session, Scope(unit))}
    assert stored == {1: None, 2: ["feedback", "result"], 3: None, 4: ["result"]}
    # Feedback: two faces (one satisfied), the "does not apply" in neither n nor satisfied.
    assert (table["feedback"].n, table["feedback"].satisfied) == (2, 1)
    assert table["feedback"].rate == 50.0
    assert (table["result"].n, table["result"].rate) == (0, None)
    assert (table["officer"].n, table["officer"].satisfied) == (2, 2)
    assert table["overall"].n == 4  # every rating's face still counts for the service overall


def test_a_reason_pictogram_survives_the_catalogue_tables(database_url: str, unit: Unit) -> None:
    rest = unit.reasons[1:]
    raw = unit.model_dump(mode="json")
    raw["reasons"][0]["icon"] = "queue"
    named = Unit.model_validate(raw)
    sessions = session_factory(make_engine(database_url))
    with sessions.begin() as session:
        import_unit(session, named)
    with sessions() as session:
        loaded = load_unit(session, unit.unit.code)
    assert loaded == named
    assert [r.icon for r in loaded.reasons] == ["queue"] + [None] * len(rest)
    assert loaded.to_message().reasons[0].icon == "queue"
