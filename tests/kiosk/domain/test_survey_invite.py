"""The survey's invitation and its "không áp dụng" answer (issue 18), driven with an explicit
clock: one tap skips every question and still stores the rating; "does not apply" is kept apart
from a skip and from the faces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hailong.contract.messages import KioskPolicy
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Factor, Score
from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.domain.screen import Screen
from kiosk.domain.session import (
    NOT_APPLICABLE_ANSWER,
    RatingSession,
    SaveAbandoned,
    SaveRating,
    StaleAction,
    Tick,
)
from kiosk.domain.wording import NOT_APPLICABLE, QUESTIONS, SURVEY_INVITE, question
from tests.kiosk.conftest import kiosk_settings, signed_url

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def session(
    tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings, keyring: KeyRing
) -> RatingSession:
    """A citizen the survey share picked, who has just tapped "Hài lòng"."""
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt, idle_reset_seconds=30)
    made = RatingSession(
        settings.kiosk,
        receipt_keys.keyring(),
        lambda _code, _stage: False,
        policy=KioskPolicy(survey_share=0.2),
        draw=lambda: 0.1,
    )
    made.submit_code(signed_url(keyring), T0)
    assert made.choose_score(Score.SATISFIED, _at(1)) is Screen.SURVEY_INVITE
    (tap,) = made.take_effects()
    assert not tap.close  # the face is on disk, open, while the invitation shows
    return made


def test_one_tap_skips_every_question_and_stores_the_rating(session: RatingSession) -> None:
    assert session.skip_survey(_at(2)) is Screen.SAVING
    (closed,) = session.take_effects()
    assert isinstance(closed, SaveRating)
    assert closed.close
    rating = closed.build(1)
    assert (rating.score, rating.factors, rating.not_applicable) == (Score.SATISFIED, {}, None)
    assert session.stored(_at(2)) is Screen.THANKS
    assert session.take_effects() == []  # nothing abandoned: the face was tapped


def test_starting_shows_the_first_question(session: RatingSession) -> None:
    assert session.start_survey(_at(2)) is Screen.SURVEY
    assert (session.survey_index, session.survey_factor) == (0, Factor.ACCESS)
    assert session.take_effects() == []
    with pytest.raises(StaleAction):  # a late second tap on the invitation
        session.skip_survey(_at(3))


def test_the_invitation_left_idle_closes_the_rating_not_abandons_it(
    session: RatingSession,
) -> None:
    assert session.tick(_at(21)) is Tick.WARN
    assert session.tick(_at(31)) is Tick.SAVE_AND_RESET
    session.end(_at(31), "timeout")
    effects = session.take_effects()
    assert [type(e) for e in effects] == [SaveRating]
    assert not any(isinstance(e, SaveAbandoned) for e in effects)


def test_not_applicable_is_kept_apart_from_faces_and_skips(session: RatingSession) -> None:
    session.start_survey(_at(2))
    session.answer_factor(Score.SATISFIED, _at(3))  # access
    session.answer_factor(None, _at(4))  # procedure skipped: nothing written
    assert session.take_effects()[0].build(1).factors == {Factor.ACCESS: Score.SATISFIED}
    with pytest.raises(StaleAction):  # officer: asked of everyone, no such button
        session.factor_not_applicable(_at(5))
    assert session.survey_factor is Factor.OFFICER
    session.answer_factor(Score.NEUTRAL, _at(5))
    session.take_effects()
    assert session.factor_not_applicable(_at(6)) is Screen.SURVEY  # result
    (written,) = session.take_effects()  # a "does not apply" is an answer: written at once
    assert written.build(1).not_applicable == (Factor.RESULT,)
    assert session.answer_factor(NOT_APPLICABLE_ANSWER, _at(7)) is Screen.SAVING  # feedback
    (closed,) = session.take_effects()
    rating = closed.build(1)
    assert closed.close
    assert rating.factors == {Factor.ACCESS: Score.SATISFIED, Factor.OFFICER: Score.NEUTRAL}
    assert rating.not_applicable == (Factor.RESULT, Factor.FEEDBACK)


def test_the_plain_words_cover_every_factor() -> None:
    assert list(QUESTIONS) == list(Factor)
    for factor in Factor:
        asked = question(factor)
        assert asked.factor is factor
        assert asked.vi.endswith("?")
        assert asked.en.endswith("?")
        assert factor.label_vi.lower() not in asked.vi.lower()  # not the SIPAS factor's name
    assert {f for f in Factor if question(f).may_not_apply} == {Factor.RESULT, Factor.FEEDBACK}
    assert NOT_APPLICABLE[0] == "Không áp dụng"
    assert SURVEY_INVITE[0].startswith(f"{len(QUESTIONS)} câu")
