"""Pictures before words (issue 18), with the real widgets off-screen: a pictogram on every
reason, the survey's invitation skipped with one tap, "Không áp dụng" sent to the hub, and a
survey screen that does not look like the rating screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from hailong.contract.messages import RatingMessage, ReasonInfo, decode_rating
from hailong.contract.pictograms import DEFAULT_ICONS, NEUTRAL
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Factor, Score
from hailong.settings import MqttSettings, ReceiptKeys, Unit
from kiosk.app import Kiosk, build_kiosk
from kiosk.domain import wording
from kiosk.domain.screen import Screen
from kiosk.domain.wording import NOT_APPLICABLE, question
from kiosk.i18n import languages
from kiosk.ui.followup_parts import SURVEY_PAGE
from tests.kiosk.conftest import kiosk_settings, signed_url


@pytest.fixture
def kiosk(
    qtbot: QtBot,
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    unit: Unit,
) -> Iterator[Kiosk]:
    """A kiosk at 800x480 whose every citizen is offered the survey."""
    built = build_kiosk(kiosk_settings(tmp_path, receipt_keys, offline_mqtt), start_uplink=False)
    config = unit.to_message()
    built.controller.use_config(
        config.model_copy(update={"policy": config.policy.model_copy(update={"survey_share": 1.0})})
    )
    built.controller.session.draw = lambda: 0.0
    qtbot.addWidget(built.window)
    built.window.resize(800, 480)
    built.window.show()
    qtbot.waitExposed(built.window)
    yield built
    built.close()


def _click(qtbot: QtBot, widget: QWidget) -> None:
    assert widget.isVisible(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _stored(kiosk: Kiosk) -> RatingMessage:
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    return decode_rating(pending[1])


def test_every_reason_carries_its_pictogram(qtbot: QtBot, kiosk: Kiosk, unit: Unit) -> None:
    reasons = kiosk.window.reasons
    assert {code: b.icon_name for code, b in reasons.buttons.items()} == {
        r.code: DEFAULT_ICONS[r.code] for r in unit.reasons
    }
    own = ReasonInfo(
        code="gui-xe", name="Không có chỗ gửi xe", name_en="No parking", factor="access"
    )
    named = own.model_copy(update={"icon": "queue"})
    newer = own.model_copy(update={"code": "moi", "icon": "a-pictogram-from-later"})
    reasons.set_reasons((own, named.model_copy(update={"code": "xe-2"}), newer))
    assert [b.icon_name for b in reasons.buttons.values()] == [NEUTRAL, "queue", NEUTRAL]
    assert reasons.buttons["gui-xe"].pair == ("Không có chỗ gửi xe", "No parking")


def test_a_ticked_reason_is_shown_and_sent(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing) -> None:
    window = kiosk.window
    kiosk.controller.submit_code(signed_url(keyring))
    _click(qtbot, window.rating.faces[Score.DISSATISFIED])
    assert window.current is Screen.REASONS
    _click(qtbot, window.reasons.buttons["tre-hen"])
    assert window.reasons.buttons["tre-hen"].isChecked()
    assert not window.reasons.buttons["thai-do"].isChecked()
    _click(qtbot, window.reasons.next_button)
    _click(qtbot, window.comment.skip_button)
    _click(qtbot, window.invite.skip_button)
    assert _stored(kiosk).reasons == ("tre-hen",)


def test_one_tap_on_the_invitation_skips_the_survey_and_stores_the_rating(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    window = kiosk.window
    kiosk.controller.submit_code(signed_url(keyring))
    _click(qtbot, window.rating.faces[Score.VERY_SATISFIED])
    assert window.current is Screen.SURVEY_INVITE
    assert window.invite.title.primary.text() == "5 câu ngắn nữa — bỏ qua được"
    _click(qtbot, window.invite.skip_button)
    assert window.current is Screen.THANKS
    rating = _stored(kiosk)
    assert (rating.score, rating.factors, rating.not_applicable) == (5, {}, None)
    assert kiosk.outbox.open_count() == 0


def test_not_applicable_reaches_the_outbox_apart_from_the_faces(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    window = kiosk.window
    survey = window.survey
    kiosk.controller.submit_code(signed_url(keyring))
    _click(qtbot, window.rating.faces[Score.SATISFIED])
    _click(qtbot, window.invite.start_button)
    shown = []
    for factor in Factor:
        assert window.current is Screen.SURVEY
        shown.append((survey.question.primary.text(), survey.not_applicable_button.isVisible()))
        if factor is Factor.PROCEDURE:
            _click(qtbot, survey.skip_button)
        elif question(factor).may_not_apply:
            assert survey.not_applicable_button.text().startswith(NOT_APPLICABLE[0])
            _click(qtbot, survey.not_applicable_button)
        else:
            _click(qtbot, survey.faces[Score.SATISFIED])
    assert shown == [(question(f).vi, question(f).may_not_apply) for f in Factor]
    assert window.current is Screen.THANKS
    rating = _stored(kiosk)
    assert rating.factors == {Factor.ACCESS: Score.SATISFIED, Factor.OFFICER: Score.SATISFIED}
    assert rating.not_applicable == (Factor.RESULT, Factor.FEEDBACK)


def test_the_survey_does_not_look_like_the_rating_screen(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    window = kiosk.window
    kiosk.controller.submit_code(signed_url(keyring))
    rating_page = window.grab().toImage()
    rating_face = window.rating.faces[Score.SATISFIED].height()
    _click(qtbot, window.rating.faces[Score.SATISFIED])
    _click(qtbot, window.invite.start_button)
    survey_page = window.grab().toImage()
    corner = window.survey.mapTo(window, window.survey.rect().topLeft())
    point = (corner.x() + 3, corner.y() + 3)
    assert survey_page.pixelColor(*point) == SURVEY_PAGE
    assert rating_page.pixelColor(*point) != SURVEY_PAGE
    assert window.survey.faces[Score.SATISFIED].height() < rating_face * 0.8
    skip, not_applicable = window.survey.skip_button, window.survey.not_applicable_button
    assert skip.look != not_applicable.look


def test_every_survey_sentence_has_its_chinese(qtbot: QtBot) -> None:
    sentences = [
        *(q.en for q in wording.QUESTIONS.values()),
        *(
            pair[1]
            for pair in (
                wording.NOT_APPLICABLE,
                wording.SURVEY_INVITE,
                wording.SURVEY_WHY,
                wording.SURVEY_START,
                wording.SURVEY_SKIP_ALL,
                wording.SKIP_QUESTION,
            )
        ),
        *(wording.step(i, len(wording.QUESTIONS))[1] for i in range(len(wording.QUESTIONS))),
    ]
    missing = [s for s in sentences if languages().translate(s, "zh") == s]
    assert missing == []
