"""What each screen says, in the order a sighted citizen reads it."""

from __future__ import annotations

import pytest

from hailong.contract.scale import FACE_SETS, Factor, Score
from kiosk.domain.session import ALREADY_RATED, NOT_SAVED, WALK_IN_TOO_SOON, Notice
from kiosk.domain.speech import OnScreen, lines, speaks
from kiosk.domain.wording import QUESTIONS
from kiosk.prompts import PROMPTS, is_known

REFUSED = Notice("Giấy hẹn không hợp lệ.", "The receipt is not valid.")


@pytest.mark.parametrize("count", sorted(FACE_SETS))
@pytest.mark.parametrize(("portrait", "intro"), [(False, "faces_row"), (True, "faces_column")])
def test_the_faces_are_named_as_laid_out(count: int, portrait: bool, intro: str) -> None:
    faces = FACE_SETS[count]
    said = lines(OnScreen("rating", faces=faces, portrait=portrait))
    assert said == ("rating", intro, *(f"face-{int(score)}" for score in faces))


def test_a_layout_in_another_order_is_read_in_that_order() -> None:
    faces = (Score.VERY_DISSATISFIED, Score.NEUTRAL, Score.VERY_SATISFIED)
    assert lines(OnScreen("rating", faces=faces)) == (
        "rating",
        "faces_row",
        "face-1",
        "face-3",
        "face-5",
    )


def test_the_first_survey_question_says_how_to_answer() -> None:
    said = lines(OnScreen("survey", faces=FACE_SETS[3], factor=Factor.ACCESS, first_question=True))
    assert said == ("survey", "faces_row", "face-5", "face-3", "face-1", "question-access")


@pytest.mark.parametrize("factor", list(Factor))
def test_each_later_question_is_read_with_not_applicable_where_it_may(factor: Factor) -> None:
    said = lines(OnScreen("survey", faces=FACE_SETS[5], factor=factor))
    extra = ("not_applicable",) if QUESTIONS[factor].may_not_apply else ()
    assert said == (f"question-{factor.value}", *extra)


def test_every_voiced_reason_in_screen_order() -> None:
    view = OnScreen("reasons", reasons=("R3", "R1", "R2"), voiced={"R1", "R2", "R3"})
    assert lines(view) == ("reasons", "reasons_row", "reason-R3", "reason-R1", "reason-R2")
    column = OnScreen("reasons", reasons=("R1",), voiced={"R1"}, portrait=True)
    assert lines(column) == ("reasons", "reasons_column", "reason-R1")


def test_reasons_without_recordings_say_so() -> None:
    some = OnScreen("reasons", reasons=("R1", "R2"), voiced={"R2"})
    assert lines(some) == ("reasons", "reasons_row", "reason-R2", "reasons_unvoiced")
    none = OnScreen("reasons", reasons=("R1", "R2"))
    assert lines(none) == ("reasons", "reasons_unvoiced")
    assert lines(OnScreen("reasons")) == ("reasons",)  # a unit with no reasons configured


@pytest.mark.parametrize(
    ("view", "said"),
    [
        (OnScreen("attract"), ("attract",)),
        (OnScreen("attract", notice=REFUSED), ("refused",)),
        (OnScreen("comment"), ("comment",)),
        (OnScreen("survey_invite"), ("survey_invite", "survey_invite_how")),
        (OnScreen("thanks"), ("thanks",)),
        (OnScreen("message", notice=ALREADY_RATED), ("already_rated",)),
        (OnScreen("message", notice=NOT_SAVED), ("not_saved",)),
        (OnScreen("message", notice=WALK_IN_TOO_SOON), ()),
        (OnScreen("saving"), ()),
        (OnScreen("survey"), ("survey",)),  # no question known: how to answer only
        (OnScreen("maintenance"), ()),
    ],
    ids=lambda value: value.screen if isinstance(value, OnScreen) else None,
)
def test_each_screen(view: OnScreen, said: tuple[str, ...]) -> None:
    assert lines(view) == said


@pytest.mark.parametrize(
    "position", ["bottom", "bottom-left", "bottom-right", "left", "right", "top"]
)
def test_the_start_screen_says_where_the_scanner_is(position: str) -> None:
    said = lines(OnScreen("attract", scanner=position))
    assert said == ("attract", f"scanner_{position.replace('-', '_')}")
    assert is_known(said[1])


def test_a_kiosk_without_a_scanner_says_nothing_of_one() -> None:
    assert lines(OnScreen("attract", scanner="none")) == ("attract",)
    assert lines(OnScreen("attract")) == ("attract",)


def test_every_line_said_is_a_known_prompt() -> None:
    views = [
        OnScreen(screen, faces=FACE_SETS[5], factor=factor, first_question=True, reasons=("R",))
        for screen in ("attract", "rating", "reasons", "comment", "survey", "thanks", "message")
        for factor in Factor
    ]
    for view in views:
        for key in lines(view):
            assert is_known(key), key
            assert key in PROMPTS or key.startswith("reason-")


def test_when_a_screen_speaks() -> None:
    assert not speaks(always=False, asked=False)
    assert speaks(always=True, asked=False)
    assert speaks(always=False, asked=True)
