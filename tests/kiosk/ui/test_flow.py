"""The real kiosk widgets off-screen: scan or type, tap a face, thanks, back to the start."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from hailong.contract.messages import (
    AbandonedMessage,
    RatedReceipt,
    RatingMessage,
    decode_kiosk_record,
    decode_rating,
)
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Factor, Score, Stage
from hailong.settings import MqttSettings, ReceiptKeys, Unit
from kiosk.app import SCREEN_SIZES, Kiosk, build_kiosk, render_screenshots
from kiosk.domain.screen import Screen
from kiosk.i18n import languages
from kiosk.outbox import OutboxError
from kiosk.ui.keyboard import SPACE, OnScreenKeyboard
from tests.kiosk.conftest import kiosk_settings, signed_url


@pytest.fixture
def kiosk(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> Iterator[Kiosk]:
    settings = kiosk_settings(
        tmp_path, receipt_keys, offline_mqtt, idle_reset_seconds=1.5, thanks_seconds=0.5
    )
    built = build_kiosk(settings, start_uplink=False)
    qtbot.addWidget(built.window)
    built.window.resize(1280, 800)
    built.window.show()
    qtbot.waitExposed(built.window)
    yield built
    built.close()


def _scan(qtbot: QtBot, kiosk: Kiosk, text: str) -> None:
    """A keyboard-wedge scanner: the whole text at machine speed, then Enter, to the focus."""
    target = QApplication.focusWidget() or kiosk.window
    for char in text:
        if char.isprintable():
            qtbot.keyClicks(target, char)
        else:  # control characters arrive as key events carrying that text
            event = QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, char)
            QApplication.sendEvent(target, event)
    qtbot.keyClick(target, Qt.Key.Key_Return)


def test_scan_rate_thanks_and_reset(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing) -> None:
    _scan(qtbot, kiosk, signed_url(keyring))
    assert kiosk.window.current is Screen.RATING
    assert "1.001193" in kiosk.window.rating.procedure.text()
    assert (
        "Mã\u00a0hồ\u00a0sơ:\u00a0000.00.20.H41-261125-0007" in kiosk.window.rating.details.text()
    )
    qtbot.mouseClick(kiosk.window.rating.faces[Score.VERY_SATISFIED], Qt.MouseButton.LeftButton)
    assert kiosk.window.current is Screen.THANKS
    assert "Cảm ơn" in kiosk.window.message.headline.text()
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    rating = decode_rating(pending[1])
    assert (rating.score, rating.receipt and rating.receipt.verified) == (5, True)
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=3000)
    assert kiosk.window.attract.code_input.text() == ""


def test_scan_works_on_the_rating_screen_too(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing) -> None:
    _scan(qtbot, kiosk, signed_url(keyring, sequence=1))
    assert kiosk.window.current is Screen.RATING
    _scan(qtbot, kiosk, signed_url(keyring, sequence=2))
    assert kiosk.controller.session.subject is not None
    assert kiosk.controller.session.subject.dossier_code == "000.00.20.H41-261125-0002"


def test_typed_code_then_continue_button(qtbot: QtBot, kiosk: Kiosk) -> None:
    kiosk.window.attract.code_input.setText("000.00.20.H41-261125-0042")
    qtbot.mouseClick(kiosk.window.attract.continue_button, Qt.MouseButton.LeftButton)
    assert kiosk.window.current is Screen.RATING
    assert "000.00.20.H41-261125-0042" in kiosk.window.rating.procedure.text()


def test_forged_receipt_is_refused_on_screen(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing) -> None:
    forged = signed_url(keyring)[:-3] + "AAA"
    _scan(qtbot, kiosk, forged)
    assert kiosk.window.current is Screen.ATTRACT
    assert "Giấy hẹn không hợp lệ" in kiosk.window.attract.error.text()
    assert kiosk.outbox.depth() == 0


@pytest.mark.parametrize("junk", ["hello world!", "x" * 4096, "\x07\x1b[2J 000 \x00"])
def test_scanner_junk_gets_a_message_and_the_kiosk_stays_usable(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, junk: str
) -> None:
    _scan(qtbot, kiosk, junk)
    assert kiosk.window.current is Screen.ATTRACT
    assert kiosk.window.attract.error.text() != ""
    _scan(qtbot, kiosk, signed_url(keyring))
    assert kiosk.window.current is Screen.RATING


def test_second_scan_of_a_rated_receipt_says_already_rated(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    _scan(qtbot, kiosk, signed_url(keyring))
    qtbot.mouseClick(kiosk.window.rating.faces[Score.SATISFIED], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=3000)
    _scan(qtbot, kiosk, signed_url(keyring))
    assert kiosk.window.current is Screen.MESSAGE
    assert "đã được đánh giá" in kiosk.window.message.headline.text()
    assert kiosk.outbox.depth() == 1


def test_idle_rating_screen_returns_to_start_without_storing(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    """No rating is stored; the scan left without a face is recorded as abandoned (issue 17)."""
    _scan(qtbot, kiosk, signed_url(keyring))
    assert kiosk.window.current is Screen.RATING
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=10_000)
    (record,) = [
        decode_kiosk_record(d.payload) for d in kiosk.outbox.due_batch(datetime.now(UTC), 0)
    ]
    assert isinstance(record, AbandonedMessage)
    assert record.reason == "timeout"


def test_a_full_disk_shows_a_message_and_keeps_the_kiosk_usable(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OutboxError("outbox save: [Errno 28] No space left on device")

    _scan(qtbot, kiosk, signed_url(keyring))
    monkeypatch.setattr(kiosk.outbox, "save", disk_full)
    qtbot.mouseClick(kiosk.window.rating.faces[Score.SATISFIED], Qt.MouseButton.LeftButton)
    assert kiosk.window.current is Screen.MESSAGE
    assert "chưa lưu được" in kiosk.window.message.headline.text()
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=3000)


@pytest.mark.timeout(300)  # every scene x language x size: ~70 s alone, more on a loaded machine
def test_screenshots_of_every_screen(
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    unit: Unit,
) -> None:
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt)
    paths = render_screenshots(settings, tmp_path / "shots", unit.to_message())
    scenes = {p.name.split("-vi-")[0] for p in paths if "-vi-" in p.name}
    assert len(scenes) >= 11
    assert len(paths) == len(scenes) * len(languages().codes) * len(SCREEN_SIZES)
    for path in paths:  # every screen fits its screen: nothing pushed the window larger
        width, height = (int(n) for n in path.stem.rsplit("-", 1)[1].split("x"))
        assert QImage(str(path)).size().toTuple() == (width, height), path.name
    assert all(p.stat().st_size > 5000 for p in paths)


def _click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _type(qtbot: QtBot, keyboard: OnScreenKeyboard, keys: list[str]) -> None:
    for key in keys:
        _click(qtbot, keyboard.keys[key])


def _with_unit_config(kiosk: Kiosk, unit: Unit, **policy: object) -> None:
    config = unit.to_message()
    config = config.model_copy(update={"policy": config.policy.model_copy(update=policy)})
    kiosk.controller.use_config(config)


def test_low_score_reasons_comment_and_consented_phone(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit
) -> None:
    _with_unit_config(kiosk, unit, survey_share=0.0)
    window = kiosk.window
    _scan(qtbot, kiosk, signed_url(keyring))
    _click(qtbot, window.rating.faces[Score.DISSATISFIED])
    assert window.current is Screen.REASONS
    _click(qtbot, window.reasons.buttons["tre-hen"])
    _click(qtbot, window.reasons.buttons["thai-do"])
    _click(qtbot, window.reasons.buttons["thai-do"])  # changed their mind
    assert window.reasons.buttons["tre-hen"].isChecked()
    assert not window.reasons.buttons["thai-do"].isChecked()
    _click(qtbot, window.reasons.next_button)
    assert window.current is Screen.COMMENT
    # Vietnamese on the on-screen keyboard: "cham" + nặng tone -> "chậm".
    _type(qtbot, window.comment.text_keys, ["q", "u", "a", SPACE, "c", "h", "â", "m", "nặng"])
    assert window.comment.comment.text() == "qua chậm"
    window.comment.phone.setFocus()
    _type(qtbot, window.comment.phone_keys, list("0912345678"))
    _click(qtbot, window.comment.send_button)
    assert window.current is Screen.COMMENT  # no consent yet: the number is not taken
    assert "đồng ý" in window.comment.error.text()
    _click(qtbot, window.comment.consent)
    _click(qtbot, window.comment.send_button)
    assert window.current is Screen.THANKS
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    rating = decode_rating(pending[1])
    assert (rating.score, rating.reasons, rating.callback_phone) == (2, ("tre-hen",), "0912345678")
    assert rating.comment == "qua chậm"


def test_survey_answers_every_factor_or_skips(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit
) -> None:
    _with_unit_config(kiosk, unit, survey_share=1.0)
    kiosk.controller.session.draw = lambda: 0.0
    window = kiosk.window
    _scan(qtbot, kiosk, signed_url(keyring))
    _click(qtbot, window.rating.faces[Score.VERY_SATISFIED])
    assert window.current is Screen.SURVEY_INVITE
    _click(qtbot, window.invite.start_button)
    for answer in (Score.SATISFIED, None, Score.NEUTRAL, Score.SATISFIED, Score.VERY_SATISFIED):
        assert window.current is Screen.SURVEY
        _click(qtbot, window.survey.skip_button if answer is None else window.survey.faces[answer])
    assert window.current is Screen.THANKS
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    factors = decode_rating(pending[1]).factors
    assert len(factors) == 4
    assert "procedure" not in factors


def test_three_faces_map_onto_the_five_level_scale(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit
) -> None:
    _with_unit_config(kiosk, unit, faces=3, survey_share=0.0)
    assert list(kiosk.window.rating.faces) == [
        Score.VERY_SATISFIED,
        Score.NEUTRAL,
        Score.VERY_DISSATISFIED,
    ]
    _scan(qtbot, kiosk, signed_url(keyring))
    _click(qtbot, kiosk.window.rating.faces[Score.NEUTRAL])
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    assert decode_rating(pending[1]).score == 3


@pytest.mark.parametrize("screen", [Screen.REASONS, Screen.COMMENT, Screen.SURVEY])
def test_idle_after_a_face_keeps_the_answers_given(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit, screen: Screen
) -> None:
    _with_unit_config(kiosk, unit, survey_share=1.0)
    kiosk.controller.session.draw = lambda: 0.0
    window = kiosk.window
    _scan(qtbot, kiosk, signed_url(keyring))
    _click(qtbot, window.rating.faces[Score.VERY_DISSATISFIED])
    if screen is not Screen.REASONS:
        _click(qtbot, window.reasons.next_button)
    if screen is Screen.SURVEY:
        _click(qtbot, window.comment.skip_button)
        _click(qtbot, window.invite.start_button)
    assert window.current is screen
    qtbot.waitUntil(lambda: window.current is Screen.ATTRACT, timeout=4000)
    assert kiosk.outbox.depth() == 1
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    assert decode_rating(pending[1]).score == 1


def test_idle_already_rated_message_returns_to_start(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    kiosk.outbox.mark_rated([RatedReceipt(code="000.00.20.H41-261125-0007", stage=Stage.RECEPTION)])
    _scan(qtbot, kiosk, signed_url(keyring))
    assert kiosk.window.current is Screen.MESSAGE
    qtbot.waitUntil(lambda: kiosk.window.current is Screen.ATTRACT, timeout=3000)


def test_walk_in_button_follows_the_policy_and_bursts_are_refused(
    qtbot: QtBot, kiosk: Kiosk, unit: Unit
) -> None:
    window = kiosk.window
    assert not window.attract.walk_in_button.isVisibleTo(window)
    _with_unit_config(kiosk, unit, allow_walk_in=True, survey_share=0.0)
    assert window.attract.walk_in_button.isVisibleTo(window)
    _click(qtbot, window.attract.walk_in_button)
    _click(qtbot, window.rating.faces[Score.SATISFIED])
    qtbot.waitUntil(lambda: window.current is Screen.ATTRACT, timeout=3000)
    for _ in range(5):  # somebody tries to stuff the box
        _click(qtbot, window.attract.walk_in_button)
        assert window.current is Screen.ATTRACT
    assert "chờ một chút" in window.attract.error.text()
    assert kiosk.outbox.depth() == 1


def test_maintenance_behind_the_staff_pin(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> None:
    pin_file = tmp_path / "kiosk.pin"
    pin_file.write_text("482913\n")
    pin_file.chmod(0o600)
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt, staff_pin_file=pin_file)
    built = build_kiosk(settings, start_uplink=False)
    try:
        qtbot.addWidget(built.window)
        built.window.resize(800, 480)
        built.window.show()
        window, screen = built.window, built.window.maintenance
        _click(qtbot, window.staff_button)
        assert window.in_maintenance
        assert not screen.unlocked
        _type(qtbot, screen.pin_keys, list("111111"))
        _click(qtbot, screen.open_button)
        assert not screen.unlocked
        assert "không đúng" in screen.pin_error.text()
        _type(qtbot, screen.pin_keys, list("482913"))
        _click(qtbot, screen.open_button)
        assert screen.unlocked
        assert "kiosk-q1" in screen.fields["kiosk"].text()
        assert screen.fields["depth"].text() == "0"
        assert "offline" in screen.fields["link"].text()
        # Scanner test: a scan on this screen is shown, not rated.
        _scan(qtbot, built, "TEST-123")
        assert screen.fields["scanner"].text() == "TEST-123"
        assert built.outbox.depth() == 0
        _click(qtbot, screen.close_button)
        assert window.current is Screen.ATTRACT
        assert not window.in_maintenance
    finally:
        built.close()


def test_restart_with_a_non_empty_outbox_keeps_and_refuses(
    qtbot: QtBot,
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    keyring: KeyRing,
) -> None:
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt)
    first = build_kiosk(settings, start_uplink=False)
    first.controller.submit_code(signed_url(keyring))
    first.controller.rate(Score.SATISFIED)
    first.close()
    again = build_kiosk(settings, start_uplink=False)
    try:
        assert again.outbox.depth() == 1
        again.controller.submit_code(signed_url(keyring))
        assert again.window.current is Screen.MESSAGE
    finally:
        again.close()


def test_language_and_accessibility_last_for_one_citizen(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    window = kiosk.window
    _click(qtbot, window.attract.language_button)
    _click(qtbot, window.attract.large_button)
    _click(qtbot, window.attract.contrast_button)
    assert window.attract.title.primary.text().startswith("Please rate")
    assert (window.large_text, window.high_contrast) == (True, True)
    _scan(qtbot, kiosk, signed_url(keyring))
    assert window.rating.faces[Score.SATISFIED].words()[0] == "Satisfied"
    qtbot.waitUntil(lambda: window.current is Screen.ATTRACT, timeout=4000)
    assert window.attract.title.primary.text().startswith("Xin mời")
    assert (window.large_text, window.high_contrast) == (False, False)


# Spoken guidance (the speak button, always-speak, a blind citizen's path): test_voice.py.


def test_the_language_button_cycles_through_every_catalogue(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing
) -> None:
    window = kiosk.window
    assert window.attract.language_button.text() == "English"
    _click(qtbot, window.attract.language_button)
    assert window.attract.language_button.text() == "中文"
    _click(qtbot, window.attract.language_button)
    assert window.attract.title.primary.text() == "请评价您刚才接受的服务"
    assert window.attract.title.secondary.text().startswith("Xin mời")
    _scan(qtbot, kiosk, signed_url(keyring))
    assert window.rating.faces[Score.SATISFIED].words() == ("满意", "Hài lòng")
    _click(qtbot, window.rating.faces[Score.SATISFIED])
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    assert decode_rating(pending[1]).lang == "zh"


def test_a_late_second_tap_is_ignored(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing) -> None:
    _scan(qtbot, kiosk, signed_url(keyring))
    kiosk.controller.rate(Score.SATISFIED)
    kiosk.controller.rate(Score.VERY_DISSATISFIED)  # a double tap lands on the thank-you screen
    kiosk.controller.finish_reasons()
    kiosk.controller.answer_survey(Score.NEUTRAL)
    assert kiosk.window.current is Screen.THANKS
    (pending,) = kiosk.outbox.due(kiosk.controller.clock(), 0)
    assert decode_rating(pending[1]).score == 4


def test_a_locked_kiosk_cannot_be_closed_by_a_citizen(qtbot: QtBot, kiosk: Kiosk) -> None:
    kiosk.window.locked = True
    kiosk.window.close()  # what Alt+F4 or a window manager's close button asks
    assert kiosk.window.isVisible()
    kiosk.window.locked = False


# -- finding 6 of issue 15: no answer is dropped after the face --------------------------------

# Every screen after the face, as a citizen reaches it: the reasons (a reason ticked), the comment
# (after the reasons), each of the five survey questions after a low score (comment and phone
# sent, every other question answered), the survey after a high score, and the thank-you screen.
LATER_SCREENS = [
    "reasons",
    "comment",
    "survey-1",
    "survey-2",
    "survey-3",
    "survey-4",
    "survey-5",
    "survey-high",
    "thanks",
]
Expected = tuple[Score, tuple[str, ...], str | None, str | None, dict[str, int]]


def _answer_up_to(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, where: str) -> Expected:
    """Through the real window: scan receipt 1, tap a face, answer up to ``where``. Returns what
    the first citizen's rating must hold: score, reasons, comment, phone, factors."""
    window = kiosk.window
    _scan(qtbot, kiosk, signed_url(keyring, sequence=1))
    if where in ("survey-high", "thanks"):
        _click(qtbot, window.rating.faces[Score.SATISFIED])
        if where == "thanks":
            _click(qtbot, window.invite.skip_button)  # one tap skips every question
            assert window.current is Screen.THANKS
            return (Score.SATISFIED, (), None, None, {})
        _click(qtbot, window.invite.start_button)
        assert window.current is Screen.SURVEY
        return (Score.SATISFIED, (), None, None, {})
    _click(qtbot, window.rating.faces[Score.DISSATISFIED])
    assert window.current is Screen.REASONS
    _click(qtbot, window.reasons.buttons["tre-hen"])
    if where == "reasons":
        return (Score.DISSATISFIED, ("tre-hen",), None, None, {})
    _click(qtbot, window.reasons.next_button)
    assert window.current is Screen.COMMENT
    if where == "comment":
        return (Score.DISSATISFIED, ("tre-hen",), None, None, {})
    window.comment.comment.setText("chờ lâu")
    window.comment.phone.setText("0912345678")
    _click(qtbot, window.comment.consent)
    _click(qtbot, window.comment.send_button)
    _click(qtbot, window.invite.start_button)
    factors: dict[str, int] = {}
    for index in range(int(where.split("-")[1]) - 1):
        assert window.current is Screen.SURVEY
        if index % 2 == 0:
            _click(qtbot, window.survey.faces[Score.NEUTRAL])
            factors[str(list(Factor)[index])] = 3
        else:
            _click(qtbot, window.survey.skip_button)
    assert window.current is Screen.SURVEY
    return (Score.DISSATISFIED, ("tre-hen",), "chờ lâu", "0912345678", factors)


def _content(rating: RatingMessage) -> Expected:
    factors = {str(f): int(s) for f, s in rating.factors.items()}
    return (rating.score, rating.reasons, rating.comment, rating.callback_phone, factors)


def _published(kiosk: Kiosk) -> list[RatingMessage]:
    """What the uplink would publish now, in seq order."""
    return [decode_rating(r.payload) for r in kiosk.outbox.due_batch(kiosk.controller.clock(), 0)]


def _rows(path: Path) -> list[tuple[int, str, bytes]]:
    """The outbox as another reader of the file sees it (a second connection, as after a crash)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return list(conn.execute("SELECT seq, state, payload FROM outbox ORDER BY seq"))


def _surveyed(kiosk: Kiosk, unit: Unit) -> None:
    _with_unit_config(kiosk, unit, survey_share=1.0)
    kiosk.controller.session.draw = lambda: 0.0


@pytest.mark.parametrize("where", LATER_SCREENS)
def test_a_scan_on_a_later_screen_keeps_the_first_citizens_rating_once(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit, where: str
) -> None:
    """Fails on the code before issue 15: the scan dropped the rating of a citizen on the
    reasons, comment or survey screen (and only low scores reach the first two)."""
    _surveyed(kiosk, unit)
    expected = _answer_up_to(qtbot, kiosk, keyring, where)
    window = kiosk.window
    if where == "comment":  # typed, never sent: not kept, and not shown to the next citizen
        window.comment.comment.setFocus()
        _type(qtbot, window.comment.text_keys, ["x", "y"])
    _scan(qtbot, kiosk, signed_url(keyring, sequence=2))
    assert window.current is Screen.RATING
    assert "000.00.20.H41-261125-0002" in window.rating.details.text()
    assert (window.comment.comment.text(), window.comment.phone.text()) == ("", "")
    (first,) = _published(kiosk)
    assert (first.seq, first.receipt and first.receipt.code) == (1, "000.00.20.H41-261125-0001")
    assert _content(first) == expected
    assert (kiosk.outbox.depth(), kiosk.outbox.open_count()) == (1, 0)
    # The next citizen rates as usual: one more rating, the next seq; the first is unchanged.
    _click(qtbot, window.rating.faces[Score.VERY_SATISFIED])
    rows = _rows(kiosk.controller.settings.kiosk.outbox_path)
    assert [(seq, state) for seq, state, _ in rows] == [(1, "pending"), (2, "open")]
    assert decode_rating(rows[0][2]) == first
    second = decode_rating(rows[1][2])
    assert second.id != first.id
    assert second.receipt is not None
    assert second.receipt.code == "000.00.20.H41-261125-0002"


def test_a_rescan_of_the_same_receipt_on_the_reasons_screen_keeps_one_rating(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit
) -> None:
    _surveyed(kiosk, unit)
    expected = _answer_up_to(qtbot, kiosk, keyring, "reasons")
    _scan(qtbot, kiosk, signed_url(keyring, sequence=1))
    assert kiosk.window.current is Screen.MESSAGE
    assert "đã được đánh giá" in kiosk.window.message.headline.text()
    assert [_content(r) for r in _published(kiosk)] == [expected]


@pytest.mark.parametrize("where", LATER_SCREENS[:-1])
def test_an_idle_reset_on_a_later_screen_closes_the_rating_with_its_answers(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit, where: str
) -> None:
    _surveyed(kiosk, unit)
    expected = _answer_up_to(qtbot, kiosk, keyring, where)
    assert kiosk.outbox.open_count() == 1
    later = kiosk.controller.clock() + timedelta(seconds=60)
    kiosk.controller.clock = lambda: later
    kiosk.controller.tick()
    assert kiosk.window.current is Screen.ATTRACT
    assert [_content(r) for r in _published(kiosk)] == [expected]
    assert kiosk.outbox.open_count() == 0


def test_closing_the_staff_screen_mid_flow_closes_the_rating(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit
) -> None:
    _surveyed(kiosk, unit)
    expected = _answer_up_to(qtbot, kiosk, keyring, "survey-2")
    _click(qtbot, kiosk.window.staff_button)
    kiosk.controller.tick()  # the clock does not run while staff are there
    assert kiosk.outbox.open_count() == 1
    kiosk.window.maintenance.back.emit()
    assert kiosk.window.current is Screen.ATTRACT
    assert [_content(r) for r in _published(kiosk)] == [expected]


def test_each_screen_shows_only_after_its_write_is_on_disk(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The face is on disk (open) before the reasons screen shows, and closed before "Cảm ơn"."""
    _surveyed(kiosk, unit)
    path = kiosk.controller.settings.kiosk.outbox_path
    seen: dict[Screen, list[str]] = {}
    show = kiosk.window.show_screen

    def recording(screen: Screen) -> None:
        seen.setdefault(screen, [state for _, state, _ in _rows(path)])
        show(screen)

    monkeypatch.setattr(kiosk.window, "show_screen", recording)
    _answer_up_to(qtbot, kiosk, keyring, "survey-5")
    _click(qtbot, kiosk.window.survey.faces[Score.SATISFIED])
    assert kiosk.window.current is Screen.THANKS
    assert seen[Screen.RATING] == []
    assert seen[Screen.REASONS] == seen[Screen.COMMENT] == seen[Screen.SURVEY] == ["open"]
    assert seen[Screen.SURVEY_INVITE] == ["open"]
    assert seen[Screen.THANKS] == ["pending"]


def test_a_close_that_fails_says_so_and_the_face_is_still_counted(
    qtbot: QtBot,
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    keyring: KeyRing,
    unit: Unit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt)
    first = build_kiosk(settings, start_uplink=False)
    _with_unit_config(first, unit, survey_share=0.0)
    save = first.outbox.save

    def full_at_the_close(*args: Any, close: bool) -> RatingMessage:
        if close:
            raise OutboxError("outbox save: [Errno 28] No space left on device")
        return save(*args, close=close)

    monkeypatch.setattr(first.outbox, "save", full_at_the_close)
    first.controller.submit_code(signed_url(keyring))
    first.controller.rate(Score.VERY_DISSATISFIED)
    first.controller.toggle_reason("tre-hen")
    first.controller.finish_reasons()
    first.controller.comment_done("", "", False)
    assert first.window.current is Screen.MESSAGE  # no thanks without the durable close
    assert "chưa lưu được" in first.window.message.headline.text()
    first.outbox._engine.dispose()  # the kiosk dies with the disk still full: no clean stop
    again = build_kiosk(settings, start_uplink=False)
    try:
        ((_, payload),) = again.outbox.due(again.controller.clock(), 0)
        assert decode_rating(payload).reasons == ("tre-hen",)
    finally:
        again.close()
        monkeypatch.undo()
        first.close()


def test_a_hold_that_fails_is_made_good_by_the_next_write(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, unit: Unit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write at the tap that fails (the disk was busy, say) costs nothing once a later write of
    the same rating succeeds: each carries every answer, and the first one to land inserts it."""
    _surveyed(kiosk, unit)
    save = kiosk.outbox.save
    calls: list[bool] = []

    def first_fails(*args: Any, close: bool) -> RatingMessage:
        calls.append(close)
        if len(calls) == 1:
            raise OutboxError("outbox save: [Errno 5] Input/output error")
        return save(*args, close=close)

    monkeypatch.setattr(kiosk.outbox, "save", first_fails)
    expected = _answer_up_to(qtbot, kiosk, keyring, "survey-2")
    assert calls[:2] == [False, False]  # the tap (failed), then the reason ticked
    assert kiosk.window.current is Screen.SURVEY  # the citizen was not stopped
    _scan(qtbot, kiosk, signed_url(keyring, sequence=2))
    assert [(r.seq, _content(r)) for r in _published(kiosk)] == [(1, expected)]
