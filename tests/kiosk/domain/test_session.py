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
from kiosk.domain.session import (
    ALREADY_RATED,
    BAD_PHONE,
    NO_CONSENT,
    WALK_IN_REFUSED,
    WALK_IN_TOO_SOON,
    RatingSession,
    Screen,
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
    assert drawn.choose_score(Score.SATISFIED, T0) is Screen.SURVEY
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
        session.answer_factor(Score.NEUTRAL, T0)
    assert session.screen is stop_at
    assert session.tick(_at(30)) is Tick.SAVE_AND_RESET
    rating = session.rating_builder(_at(30))(1)
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
