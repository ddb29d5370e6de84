"""One citizen's session, driven with an explicit clock: every branch and every idle reset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hailong.contract.messages import KioskPolicy
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Factor, Score, Stage
from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.domain.screen import Screen
from kiosk.domain.session import (
    ALREADY_RATED,
    BAD_PHONE,
    NO_CONSENT,
    WALK_IN_REFUSED,
    WALK_IN_TOO_SOON,
    RatingSession,
    SaveRating,
    StaleAction,
    Tick,
)
from tests.kiosk.conftest import kiosk_settings, signed_url

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _session(
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    mqtt: MqttSettings,
    rated: set[tuple[str, Stage]] | None = None,
    policy: KioskPolicy | None = None,
    draw: float = 1.0,
    **kiosk: Any,
) -> RatingSession:
    settings = kiosk_settings(tmp_path, receipt_keys, mqtt, **kiosk)
    seen = rated if rated is not None else set()
    return RatingSession(
        settings.kiosk,
        receipt_keys.keyring(),
        lambda c, s: (c, s) in seen,
        policy=policy or KioskPolicy(),
        draw=lambda: draw,
    )


MakeSession = Callable[..., RatingSession]


@pytest.fixture
def make(tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings) -> MakeSession:
    def build(**options: Any) -> RatingSession:
        return _session(tmp_path, receipt_keys, offline_mqtt, **options)

    return build


def test_signed_receipt_leads_to_rating_with_attribution(
    make: MakeSession, keyring: KeyRing
) -> None:
    session = make()
    assert session.submit_code(signed_url(keyring), T0) is Screen.RATING
    subject = session.subject
    assert subject is not None
    assert (subject.verified, subject.procedure, subject.officer) == (True, "1.001193", "CB001")
    assert session.choose_score(Score.SATISFIED, _at(12)) is Screen.SAVING
    rating = session.rating_builder(_at(12))(5)
    assert rating.seq == 5
    assert rating.receipt is not None
    assert rating.receipt.verified
    assert rating.duration_ms == 12_000
    assert (rating.reasons, rating.factors, rating.comment) == ((), {}, None)
    assert session.stored(_at(12)) is Screen.THANKS


def test_forged_signature_is_refused_with_a_clear_message(
    make: MakeSession, keyring: KeyRing
) -> None:
    session = make()
    forged = signed_url(keyring).replace("p=1.001193", "p=1.000894")
    assert session.submit_code(forged, T0) is Screen.ATTRACT
    assert session.notice is not None
    assert "chữ ký không đúng" in session.notice.vi


def test_typed_code_is_unverified_and_uses_the_kiosk_counter(make: MakeSession) -> None:
    session = make()
    assert session.submit_code(" 000.00.20.h41-261125-0042 ", T0) is Screen.RATING
    subject = session.subject
    assert subject is not None
    assert (subject.dossier_code, subject.verified, subject.counter) == (
        "000.00.20.H41-261125-0042",
        False,
        "Q1",
    )


def test_other_units_code_and_junk_are_refused(make: MakeSession) -> None:
    session = make()
    assert session.submit_code("000.00.99.H99-261125-0042", T0) is Screen.ATTRACT
    assert session.notice is not None
    assert "đơn vị khác" in session.notice.vi
    for junk in ("hello", "\x00\x1b[2J", "x" * 4096):
        assert session.submit_code(junk, T0) is Screen.ATTRACT
        assert session.notice is not None


def test_already_rated_receipt_shows_a_friendly_message(
    make: MakeSession, keyring: KeyRing
) -> None:
    session = make(rated={("000.00.20.H41-261125-0007", Stage.RECEPTION)})
    assert session.submit_code(signed_url(keyring), T0) is Screen.MESSAGE
    assert session.notice == ALREADY_RATED


def test_walk_in_follows_policy_and_is_rate_limited(make: MakeSession) -> None:
    refused = make()
    assert refused.walk_in(T0) is Screen.ATTRACT
    assert refused.notice == WALK_IN_REFUSED
    allowed = make(policy=KioskPolicy(allow_walk_in=True, unverified_min_interval_s=60))
    assert allowed.walk_in(T0) is Screen.RATING
    allowed.choose_score(Score.NEUTRAL, T0)
    rating = allowed.rating_builder(T0)(1)
    assert rating.receipt is None
    assert rating.counter == "Q1"
    allowed.stored(T0)
    allowed.reset()
    # A burst of walk-ins inside the interval is refused; after it, one more is allowed.
    assert allowed.walk_in(_at(30)) is Screen.ATTRACT
    assert allowed.notice == WALK_IN_TOO_SOON
    assert allowed.walk_in(_at(61)) is Screen.RATING


def test_low_score_asks_reasons_then_comment(make: MakeSession, keyring: KeyRing) -> None:
    session = make()
    session.submit_code(signed_url(keyring), T0)
    assert session.choose_score(Score.DISSATISFIED, _at(1)) is Screen.REASONS
    session.toggle_reason("attitude", _at(2))
    session.toggle_reason("late", _at(3))
    session.toggle_reason("attitude", _at(4))  # un-ticked again
    assert session.reasons_done(_at(5)) is Screen.COMMENT
    assert session.comment_done("  Chờ quá lâu  ", "", False, _at(6)) is Screen.SAVING
    rating = session.rating_builder(_at(6))(1)
    assert rating.reasons == ("late",)
    assert rating.comment == "Chờ quá lâu"
    assert rating.callback_phone is None


def test_phone_is_kept_only_with_consent_and_must_be_valid(
    make: MakeSession, keyring: KeyRing
) -> None:
    session = make()
    session.submit_code(signed_url(keyring), T0)
    session.choose_score(Score.VERY_DISSATISFIED, T0)
    session.reasons_done(T0)
    assert session.comment_done("", "0912 345 678", False, T0) is Screen.COMMENT
    assert session.notice == NO_CONSENT
    assert session.comment_done("", "12", True, T0) is Screen.COMMENT
    assert session.notice == BAD_PHONE
    assert session.comment_done("", "0912 345 678", True, T0) is Screen.SAVING
    assert session.rating_builder(T0)(1).callback_phone == "0912345678"


def test_survey_is_offered_to_the_drawn_share_and_may_be_skipped(
    make: MakeSession, keyring: KeyRing
) -> None:
    policy = KioskPolicy(survey_share=0.3)
    not_drawn = make(policy=policy, draw=0.5)
    not_drawn.submit_code(signed_url(keyring), T0)
    assert not_drawn.choose_score(Score.SATISFIED, T0) is Screen.SAVING
    drawn = make(policy=policy, draw=0.1)
    drawn.submit_code(signed_url(keyring), T0)
    assert drawn.choose_score(Score.SATISFIED, T0) is Screen.SURVEY_INVITE
    assert drawn.start_survey(T0) is Screen.SURVEY
    answers = [Score.SATISFIED, None, Score.NEUTRAL, Score.VERY_SATISFIED, Score.DISSATISFIED]
    for index, answer in enumerate(answers):
        assert drawn.survey_factor is list(Factor)[index]
        screen = drawn.answer_factor(answer, T0)
    assert screen is Screen.SAVING
    factors = drawn.rating_builder(T0)(1).factors
    assert factors == {
        Factor.ACCESS: Score.SATISFIED,
        Factor.OFFICER: Score.NEUTRAL,
        Factor.RESULT: Score.VERY_SATISFIED,
        Factor.FEEDBACK: Score.DISSATISFIED,
    }


def test_idle_before_a_face_resets_and_stores_nothing(make: MakeSession, keyring: KeyRing) -> None:
    session = make(idle_reset_seconds=30)
    session.submit_code(signed_url(keyring), T0)
    assert session.tick(_at(19)) is Tick.NOTHING
    assert session.tick(_at(20)) is Tick.WARN
    session.touch(_at(29))
    assert session.tick(_at(58)) is Tick.WARN
    assert session.tick(_at(60)) is Tick.RESET
    session.reset()
    assert session.screen is Screen.ATTRACT
    assert session.subject is None
    with pytest.raises(StaleAction):  # a late tap on a face that is no longer shown
        session.choose_score(Score.SATISFIED, T0)
    # A refusal message on the start screen is cleared after the idle time too.
    session.submit_code("junk", T0)
    assert session.tick(_at(31)) is Tick.RESET


@pytest.mark.parametrize("stop_at", [Screen.REASONS, Screen.COMMENT, Screen.SURVEY])
def test_idle_after_a_face_saves_what_was_answered(
    make: MakeSession, keyring: KeyRing, stop_at: Screen
) -> None:
    session = make(idle_reset_seconds=30, policy=KioskPolicy(survey_share=1.0), draw=0.0)
    session.submit_code(signed_url(keyring), T0)
    session.choose_score(Score.DISSATISFIED, T0)
    session.toggle_reason("late", T0)
    if stop_at is not Screen.REASONS:
        session.reasons_done(T0)
    if stop_at is Screen.SURVEY:
        session.comment_done("rất chậm", "", False, T0)
        session.start_survey(T0)
        session.answer_factor(Score.NEUTRAL, T0)
    assert session.screen is stop_at
    assert session.tick(_at(30)) is Tick.SAVE_AND_RESET
    session.take_effects()
    session.end(_at(30))
    (closed,) = session.take_effects()
    assert closed.close
    rating = closed.build(1)
    assert rating.score is Score.DISSATISFIED
    assert rating.reasons == ("late",)
    # An unsent comment is never kept; one sent before the survey is.
    assert rating.comment == ("rất chậm" if stop_at is Screen.SURVEY else None)


def test_thanks_returns_to_start_and_forgets_the_language(
    make: MakeSession, keyring: KeyRing
) -> None:
    session = make(thanks_seconds=5)
    session.lang = "en"
    session.submit_code(signed_url(keyring), T0)
    assert session.lang == "en"
    session.choose_score(Score.VERY_SATISFIED, T0)
    session.stored(T0)
    assert session.tick(_at(4)) is Tick.NOTHING
    assert session.tick(_at(5)) is Tick.RESET
    session.reset()
    assert (session.screen, session.lang) == (Screen.ATTRACT, "vi")


def test_saving_is_never_interrupted_by_the_clock(make: MakeSession, keyring: KeyRing) -> None:
    session = make(idle_reset_seconds=30)
    session.submit_code(signed_url(keyring), T0)
    session.choose_score(Score.SATISFIED, T0)
    assert session.screen is Screen.SAVING
    assert session.tick(_at(3600)) is Tick.NOTHING


def test_typed_codes_are_rate_limited_like_walk_ins(make: MakeSession, keyring: KeyRing) -> None:
    session = make(policy=KioskPolicy(unverified_min_interval_s=60))
    assert session.submit_code("000.00.20.H41-261125-0042", T0) is Screen.RATING
    session.choose_score(Score.VERY_SATISFIED, T0)
    session.stored(T0)
    session.reset()
    # Typing made-up codes one after another is refused for a minute...
    assert session.submit_code("000.00.20.H41-261125-0043", _at(10)) is Screen.ATTRACT
    assert session.notice == WALK_IN_TOO_SOON
    # ...but a signed receipt is never held back (it can only be rated once anyway).
    assert session.submit_code(signed_url(keyring), _at(11)) is Screen.RATING
    session.reset()
    assert session.submit_code("000.00.20.H41-261125-0043", _at(61)) is Screen.RATING


# -- the rating from the tap on: written open, completed in place, closed once -----------------

LATER_SCREENS = ["reasons", "comment", "survey-1", "survey-3", "survey-5", "survey-high"]


def _to(session: RatingSession, keyring: KeyRing, where: str) -> tuple[Any, ...]:
    """Scan, tap a face and answer up to ``where`` (a later screen, survey question n of 5);
    returns what the closed rating must then hold: (score, reasons, comment, phone, factors)."""
    session.submit_code(signed_url(keyring, sequence=1), T0)
    if where == "survey-high":
        session.choose_score(Score.SATISFIED, _at(1))
        session.start_survey(_at(1))
        session.answer_factor(Score.NEUTRAL, _at(2))
        assert (session.screen, session.survey_index) == (Screen.SURVEY, 1)
        return (Score.SATISFIED, (), None, None, {Factor.ACCESS: Score.NEUTRAL})
    session.choose_score(Score.DISSATISFIED, _at(1))
    session.toggle_reason("late", _at(2))
    if where == "reasons":
        return (Score.DISSATISFIED, ("late",), None, None, {})
    session.reasons_done(_at(3))
    if where == "comment":
        return (Score.DISSATISFIED, ("late",), None, None, {})
    session.comment_done("chậm", "0912345678", True, _at(4))
    session.start_survey(_at(4))
    factors: dict[Factor, Score] = {}
    for index in range(int(where.split("-")[1]) - 1):
        answer = Score.NEUTRAL if index % 2 == 0 else None  # answered, skipped, answered...
        session.answer_factor(answer, _at(5 + index))
        if answer is not None:
            factors[list(Factor)[index]] = answer
    assert session.screen is Screen.SURVEY
    return (Score.DISSATISFIED, ("late",), "chậm", "0912345678", factors)


def _content(effect: SaveRating, seq: int = 1) -> tuple[Any, ...]:
    rating = effect.build(seq)
    assert rating.id == effect.rating_id
    return (rating.score, rating.reasons, rating.comment, rating.callback_phone, rating.factors)


def test_the_face_is_written_open_at_the_tap_and_completed_in_place(
    make: MakeSession, keyring: KeyRing
) -> None:
    session = make(policy=KioskPolicy(survey_share=1.0), draw=0.0)
    session.submit_code(signed_url(keyring), T0)
    assert session.take_effects() == []  # no face, no rating
    session.choose_score(Score.DISSATISFIED, _at(1))
    (tap,) = session.take_effects()
    assert not tap.close
    assert _content(tap) == (Score.DISSATISFIED, (), None, None, {})
    session.toggle_reason("late", _at(2))
    (ticked,) = session.take_effects()
    assert (ticked.rating_id, ticked.close) == (tap.rating_id, False)
    assert _content(ticked)[1] == ("late",)
    session.reasons_done(_at(3))
    assert session.take_effects() == []  # nothing new was said
    session.comment_done("chậm", "0912345678", True, _at(4))
    (commented,) = session.take_effects()
    assert _content(commented)[2:4] == ("chậm", "0912345678")
    session.start_survey(_at(4))
    assert session.take_effects() == []  # starting the questions says nothing new
    session.answer_factor(None, _at(5))
    assert session.take_effects() == []  # a skipped question changes nothing
    for index in range(1, 4):
        session.answer_factor(Score.SATISFIED, _at(5 + index))
        (answered,) = session.take_effects()
        assert (answered.rating_id, answered.close) == (tap.rating_id, False)
    assert session.rating_open
    assert session.answer_factor(Score.NEUTRAL, _at(9)) is Screen.SAVING
    (closed,) = session.take_effects()
    assert (closed.rating_id, closed.close) == (tap.rating_id, True)
    assert len(_content(closed)[4]) == 4
    assert not session.rating_open
    assert closed.build(1).duration_ms == 9_000


def test_a_face_with_nothing_after_it_is_written_closed_at_once(
    make: MakeSession, keyring: KeyRing
) -> None:
    session = make()
    session.submit_code(signed_url(keyring), T0)
    assert session.choose_score(Score.VERY_SATISFIED, _at(1)) is Screen.SAVING
    (only,) = session.take_effects()
    assert only.close
    assert session.take_effects() == []  # each effect is handed out once


@pytest.mark.parametrize("where", LATER_SCREENS)
def test_a_scan_on_a_later_screen_closes_that_citizens_rating_first(
    make: MakeSession, keyring: KeyRing, where: str
) -> None:
    session = make(policy=KioskPolicy(survey_share=1.0), draw=0.0)
    session.lang = "en"
    expected = _to(session, keyring, where)
    first_id = session.take_effects()[0].rating_id
    assert session.submit_code(signed_url(keyring, sequence=2), _at(30)) is Screen.RATING
    (closed,) = session.take_effects()
    assert (closed.rating_id, closed.close) == (first_id, True)
    assert _content(closed) == expected
    assert closed.build(1).lang == "en"  # the first citizen's language, in their rating
    # The next citizen starts clean: their own subject, no answers, the default language.
    assert session.subject is not None
    assert session.subject.dossier_code == "000.00.20.H41-261125-0002"
    assert (session.answers.score, session.answers.reasons, session.lang) == (None, [], "vi")
    assert not session.rating_open
    session.choose_score(Score.VERY_SATISFIED, _at(31))
    (second,) = session.take_effects()
    assert second.rating_id != first_id


@pytest.mark.parametrize("scan", ["junk", "forged", "same receipt"])
def test_a_refused_scan_on_a_later_screen_still_closes_the_rating(
    make: MakeSession, keyring: KeyRing, scan: str
) -> None:
    rated: set[tuple[str, Stage]] = set()
    session = make(rated=rated)
    session.submit_code(signed_url(keyring, sequence=1), T0)
    session.choose_score(Score.VERY_DISSATISFIED, _at(1))
    rated.add(("000.00.20.H41-261125-0001", Stage.RECEPTION))  # what the outbox now says
    session.take_effects()
    text = {
        "junk": "hello",
        "forged": signed_url(keyring, sequence=1)[:-3] + "AAA",
        "same receipt": signed_url(keyring, sequence=1),
    }[scan]
    assert session.submit_code(text, _at(2)) in (Screen.ATTRACT, Screen.MESSAGE)
    (closed,) = session.take_effects()
    assert closed.close
    assert _content(closed)[0] is Score.VERY_DISSATISFIED
    assert session.tick(_at(3600)) is not Tick.SAVE_AND_RESET  # nothing left to close


@pytest.mark.parametrize("where", LATER_SCREENS)
def test_end_closes_an_open_rating_with_its_answers(
    make: MakeSession, keyring: KeyRing, where: str
) -> None:
    session = make(idle_reset_seconds=30, policy=KioskPolicy(survey_share=1.0), draw=0.0)
    expected = _to(session, keyring, where)
    session.take_effects()
    assert session.tick(_at(600)) is Tick.SAVE_AND_RESET
    session.end(_at(600))
    (closed,) = session.take_effects()
    assert closed.close
    assert _content(closed) == expected
    session.reset()
    session.end(_at(601))
    assert session.take_effects() == []  # closed once, never twice


def test_end_before_a_face_or_after_the_close_writes_nothing(
    make: MakeSession, keyring: KeyRing
) -> None:
    session = make()
    session.end(T0)
    session.submit_code(signed_url(keyring), T0)
    session.end(T0)
    assert session.take_effects() == []
    session.choose_score(Score.SATISFIED, T0)
    session.take_effects()
    session.stored(T0)
    session.end(T0)
    assert session.take_effects() == []
    # And a scan on the thank-you screen starts the next citizen without another write.
    assert session.submit_code(signed_url(keyring, sequence=9), T0) is Screen.RATING
    assert session.take_effects() == []


def test_a_builder_keeps_the_answers_it_was_made_with(make: MakeSession, keyring: KeyRing) -> None:
    session = make()
    session.submit_code(signed_url(keyring), T0)
    session.choose_score(Score.DISSATISFIED, T0)
    (tap,) = session.take_effects()
    session.toggle_reason("late", T0)
    assert tap.build(1).reasons == ()  # taken before the tick: it wrote the tap alone


def test_walk_in_interval_runs_from_a_rating_closed_by_the_clock(make: MakeSession) -> None:
    session = make(
        idle_reset_seconds=30,
        policy=KioskPolicy(allow_walk_in=True, unverified_min_interval_s=60),
    )
    session.walk_in(T0)
    session.choose_score(Score.VERY_DISSATISFIED, T0)
    session.end(_at(30))
    session.reset()
    assert session.walk_in(_at(31)) is Screen.ATTRACT
    assert session.notice == WALK_IN_TOO_SOON
