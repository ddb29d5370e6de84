"""The rules staff are held to when they key a paper form or record an assisted rating: answers
on the scale, dates within the receipt's life, never an officer's own dossier."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract.clock import UNIT_ZONE
from hailong.contract.scale import Factor, Score, Stage
from hub.domain.ingest import Attribution, ReceiptFacts
from hub.domain.paper import (
    MAX_FORM_AGE,
    MAX_REASONS,
    FormRefused,
    Keyer,
    PaperForm,
    check_clerk,
    check_dates,
    check_form,
    check_keyer,
    form_instant,
    on_stage,
)

TODAY = date(2026, 11, 25)
CODE = "000.00.20.H41-261120-0007"
REASONS = ("thai-do", "tre-hen")
# Issued at 15:00 on 20/11 (Vietnam), returned by CB003 at 09:00 on 24/11.
ISSUED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
RETURNED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
FACTS = ReceiptFacts(CODE, "1.001193", "Q1", "CB001", issued_at=ISSUED, unit="000.00.20.H41")
RETURNED_FACTS = ReceiptFacts(
    CODE,
    "1.001193",
    "Q1",
    "CB001",
    returned_at=RETURNED,
    returned_by="CB003",
    issued_at=ISSUED,
    unit="000.00.20.H41",
)


def form(**changes: object) -> PaperForm:
    values: dict[str, object] = {"code": CODE, "filled_on": TODAY, "score": 4}
    values.update(changes)
    return PaperForm(**values)  # type: ignore[arg-type]


def refusal(paper: PaperForm) -> str:
    with pytest.raises(FormRefused) as caught:
        check_form(paper, today=TODAY, offered_reasons=REASONS)
    return caught.value.code


def test_a_complete_form_is_read_onto_the_scale() -> None:
    checked = check_form(
        form(score=1, factors={"officer": 1, "access": 5}, reasons=("thai-do", "thai-do")),
        today=TODAY,
        offered_reasons=REASONS,
    )
    assert checked.score is Score.VERY_DISSATISFIED
    assert checked.factors == {Factor.OFFICER: Score(1), Factor.ACCESS: Score(5)}
    assert checked.reasons == ("thai-do",)  # ticked twice, counted once
    assert checked.stage is Stage.RECEPTION


@pytest.mark.parametrize("score", [1, 5])
def test_scores_at_the_ends_of_the_scale_are_taken(score: int) -> None:
    assert check_form(form(score=score), today=TODAY, offered_reasons=()).score == score


@pytest.mark.parametrize("score", [0, 6, -1, True])
def test_scores_past_the_scale_are_refused(score: int) -> None:
    assert refusal(form(score=score)) == "score"


@pytest.mark.parametrize(
    "factors", [{"officer": 0}, {"officer": 6}, {"result": False}, {"politeness": 3}]
)
def test_factor_answers_past_the_scale_or_unknown_are_refused(factors: dict[str, int]) -> None:
    assert refusal(form(factors=factors)) == "factor"


def test_every_factor_at_both_ends_is_taken() -> None:
    for value in (1, 5):
        answers = {factor.value: value for factor in Factor}
        checked = check_form(form(factors=answers), today=TODAY, offered_reasons=())
        assert set(checked.factors) == set(Factor)


def test_reasons_must_be_the_units_and_not_too_many() -> None:
    assert refusal(form(reasons=("made-up",))) == "reason"
    many = tuple(f"r{i}" for i in range(MAX_REASONS + 1))
    assert len(check_form(form(reasons=many[:-1]), today=TODAY, offered_reasons=many).reasons) == 32
    with pytest.raises(FormRefused) as caught:
        check_form(form(reasons=many), today=TODAY, offered_reasons=many)
    assert caught.value.code == "reason"


def test_the_forms_date_is_not_in_the_future_nor_too_old() -> None:
    assert check_form(form(filled_on=TODAY), today=TODAY, offered_reasons=()).filled_on == TODAY
    assert refusal(form(filled_on=TODAY + timedelta(days=1))) == "date_future"
    oldest = TODAY - MAX_FORM_AGE
    assert check_form(form(filled_on=oldest), today=TODAY, offered_reasons=()).filled_on == oldest
    assert refusal(form(filled_on=oldest - timedelta(days=1))) == "date_stale"


@pytest.mark.parametrize(("length", "taken"), [(7, False), (8, True), (40, True), (41, False)])
def test_dossier_code_length_bounds(length: int, taken: bool) -> None:
    paper = form(code="A" * length)
    if taken:
        assert check_form(paper, today=TODAY, offered_reasons=()).code == "A" * length
    else:
        assert refusal(paper) == "code"


def test_an_unknown_stage_is_refused() -> None:
    assert refusal(form(stage="both")) == "stage"


def test_refusals_read_in_vietnamese_then_english() -> None:
    with pytest.raises(FormRefused) as caught:
        check_form(form(score=9), today=TODAY, offered_reasons=())
    assert str(caught.value) == (
        "Mức hài lòng chung: chọn một mức từ 1 đến 5. / The overall answer: choose a level from 1 to 5."
    )


def test_an_officer_the_receipt_names_may_not_key_its_rating() -> None:
    for officer in ("CB001", "CB003"):  # who received it, who handed back its result
        with pytest.raises(FormRefused) as caught:
            check_keyer(Keyer("someone", officer), RETURNED_FACTS)
        assert caught.value.code == "own_dossier"
        assert "hồ sơ của mình" in caught.value.message_vi
    check_keyer(Keyer("binh", "CB002"), RETURNED_FACTS)  # another officer
    check_keyer(Keyer("head", None), RETURNED_FACTS)  # a head or an administrator
    check_keyer(Keyer("lan", "CB001"), None)  # a code the register does not know names nobody


def _dates(filled_on: date, facts: ReceiptFacts | None, stage: Stage = Stage.RECEPTION) -> None:
    checked = check_form(
        form(filled_on=filled_on, stage=stage.value), today=TODAY, offered_reasons=()
    )
    check_dates(checked, facts, date(2026, 11, 20), UNIT_ZONE)


def test_a_form_is_not_dated_before_its_receipt_was_issued() -> None:
    _dates(date(2026, 11, 20), FACTS)  # the issue day itself
    with pytest.raises(FormRefused) as caught:
        _dates(date(2026, 11, 19), FACTS)
    assert caught.value.code == "date_before_issue"
    with pytest.raises(FormRefused):  # a code the register does not know: the day it carries
        _dates(date(2026, 11, 19), None)


def test_a_return_form_needs_the_registers_return_and_its_day() -> None:
    with pytest.raises(FormRefused) as caught:
        _dates(date(2026, 11, 24), FACTS, Stage.RETURN)
    assert caught.value.code == "not_returned"
    _dates(date(2026, 11, 24), RETURNED_FACTS, Stage.RETURN)  # the return day itself
    with pytest.raises(FormRefused) as caught:
        _dates(date(2026, 11, 23), RETURNED_FACTS, Stage.RETURN)
    assert caught.value.code == "date_before_return"


def test_a_form_is_dated_noon_within_the_receipts_life_and_never_ahead_of_now() -> None:
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam

    def instant(filled_on: date, facts: ReceiptFacts | None, stage: Stage) -> datetime:
        checked = check_form(
            form(filled_on=filled_on, stage=stage.value), today=TODAY, offered_reasons=()
        )
        return form_instant(checked, facts, now, UNIT_ZONE)

    noon_22 = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
    assert instant(date(2026, 11, 22), FACTS, Stage.RECEPTION) == noon_22
    assert instant(date(2026, 11, 20), FACTS, Stage.RECEPTION) == ISSUED  # issued at 15:00
    assert instant(date(2026, 11, 24), RETURNED_FACTS, Stage.RETURN) == datetime(
        2026, 11, 24, 5, 0, tzinfo=UTC
    )
    assert instant(TODAY, FACTS, Stage.RECEPTION) == now  # noon today is still to come
    assert instant(date(2026, 11, 22), None, Stage.RECEPTION) == noon_22


def test_the_stage_the_form_rates_is_attributed_from_the_register() -> None:
    judged = Attribution("Q1", "CB003", "1.001193", "ho-tich", True, stage=Stage.RETURN)
    keyer = Keyer("thu", "CB002")
    reception = on_stage(judged, RETURNED_FACTS, Stage.RECEPTION, keyer, assisted=True)
    assert (reception.stage, reception.officer) == (Stage.RECEPTION, "CB001")
    assert (reception.entered_by, reception.assisted) == ("thu", True)
    back = on_stage(judged, RETURNED_FACTS, Stage.RETURN, keyer, assisted=False)
    assert (back.stage, back.officer, back.assisted) == (Stage.RETURN, "CB003", False)


@given(
    score=st.integers(-10, 10) | st.booleans(),
    factors=st.dictionaries(
        st.text(max_size=12) | st.sampled_from(list(Factor)), st.integers(-3, 8)
    ),
    reasons=st.lists(st.text(max_size=8) | st.sampled_from(REASONS), max_size=5),
    offset=st.integers(-500, 3),
    code=st.text(max_size=45),
    stage=st.text(max_size=10) | st.sampled_from(list(Stage)),
)
def test_any_form_is_either_refused_cleanly_or_within_every_bound(
    score: int,
    factors: dict[str, int],
    reasons: list[str],
    offset: int,
    code: str,
    stage: str,
) -> None:
    paper = PaperForm(
        code=code,
        filled_on=TODAY + timedelta(days=offset),
        score=score,
        factors=factors,
        reasons=tuple(reasons),
        stage=stage,
    )
    try:
        checked = check_form(paper, today=TODAY, offered_reasons=REASONS)
    except FormRefused as exc:
        refused = exc
    else:
        assert 1 <= checked.score <= 5
        assert not isinstance(score, bool)
        assert all(1 <= value <= 5 for value in checked.factors.values())
        assert set(checked.reasons) <= set(REASONS)
        assert TODAY - MAX_FORM_AGE <= checked.filled_on <= TODAY
        assert 8 <= len(checked.code) <= 40
        return
    assert refused.message_vi
    assert refused.message_en


def test_an_officer_keys_only_when_designated_a_paper_clerk() -> None:
    """Issue 17: heads, administrators and people who are no officer (officer None) may; an
    officer only with the designation, refused before anything of the dossier is read."""
    check_clerk(Keyer("head", None))
    check_clerk(Keyer("thu", "CB002", clerk=True))
    with pytest.raises(FormRefused) as refused:
        check_clerk(Keyer("thu", "CB002"))
    assert refused.value.code == "not_clerk"
    assert "chưa được giao nhập phiếu" in refused.value.message_vi


def test_not_applicable_is_a_known_factor_never_also_answered() -> None:
    checked = check_form(
        form(factors={"officer": 4}, not_applicable=("result", "feedback", "result")),
        today=TODAY,
        offered_reasons=(),
    )
    assert checked.not_applicable == (Factor.RESULT, Factor.FEEDBACK)
    assert checked.factors == {Factor.OFFICER: Score(4)}
    assert refusal(form(factors={"officer": 4}, not_applicable=("officer",))) == "factor"
    assert refusal(form(not_applicable=("politeness",))) == "factor"
