"""The kiosk's voice through the real window: ♪ on every screen, always-speak, the no-sound sign,
and a blind citizen's path (scan, then voice only) to a stored rating."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from hailong.contract.messages import decode_rating
from hailong.contract.receipt import KeyRing
from hailong.contract.scale import FACE_SETS, Factor, Score
from hailong.settings import MqttSettings, ReceiptKeys, Unit
from kiosk.app import Kiosk, build_kiosk
from kiosk.audio import PromptPlayer
from kiosk.domain.screen import Screen
from kiosk.domain.wording import QUESTIONS
from tests.kiosk.conftest import kiosk_settings, signed_url
from tests.kiosk.ui.test_flow import _scan

RECORDED_REASON = "tre-hen"


class RecordingPlayer(PromptPlayer):
    """The real player (the unit's folder, the shipped files, the queue) with a speaker that
    writes down each file it is given and finishes it at once."""

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__(folder=folder)
        self.played: list[Path] = []
        self.calls: list[tuple[tuple[str, ...], str]] = []

    def available(self) -> bool:
        return True

    def say(self, keys: Sequence[str], lang: str) -> list[Path]:
        self.calls.append((tuple(keys), lang))
        return super().say(keys, lang)

    def _start(self, path: Path) -> None:
        self.played.append(path)
        self._next()  # as if the file had played to its end

    def names(self) -> list[str]:
        """What was heard, as file names; the unit's recordings marked ``own:``."""
        folder = self._folder
        return [
            f"own:{path.name}" if folder and path.parent == folder else path.name
            for path in self.played
        ]


# The start screen: its prompt, then where the scanner is (the default: below the screen).
START = ["attract-vi.wav", "scanner_bottom-vi.wav"]


def _build(tmp_path: Path, receipt_keys: ReceiptKeys, mqtt: MqttSettings, **kiosk: object) -> Kiosk:
    settings = kiosk_settings(tmp_path, receipt_keys, mqtt, idle_reset_seconds=60, **kiosk)
    built = build_kiosk(settings, start_uplink=False)
    built.window.resize(1280, 800)
    built.window.show()
    return built


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The unit's prompts folder: one reason recorded (a copy of a shipped file stands in)."""
    own = tmp_path / "prompts"
    own.mkdir()
    shipped = Path(__file__).parents[3] / "kiosk" / "prompts" / "thanks-vi.wav"
    (own / f"reason-{RECORDED_REASON}-vi.wav").write_bytes(shipped.read_bytes())
    return own


@pytest.fixture
def kiosk(
    qtbot: QtBot,
    tmp_path: Path,
    receipt_keys: ReceiptKeys,
    offline_mqtt: MqttSettings,
    folder: Path,
) -> Iterator[Kiosk]:
    built = _build(tmp_path, receipt_keys, offline_mqtt, prompts_dir=folder)
    qtbot.addWidget(built.window)
    qtbot.waitExposed(built.window)
    yield built
    built.close()


@pytest.fixture
def recorder(kiosk: Kiosk, folder: Path) -> RecordingPlayer:
    player = RecordingPlayer(folder)
    kiosk.controller.use_voice(player)
    kiosk.player = player  # closed with the kiosk
    return player


def _policy(kiosk: Kiosk, unit: Unit, **policy: object) -> None:
    config = unit.to_message()
    config = config.model_copy(update={"policy": config.policy.model_copy(update=policy)})
    kiosk.controller.use_config(config)


def _click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _faces(count: int = 5) -> list[str]:
    return ["faces_row-vi.wav", *(f"face-{int(score)}-vi.wav" for score in FACE_SETS[count])]


def test_a_blind_citizen_scans_then_rates_by_voice_alone(
    qtbot: QtBot, kiosk: Kiosk, recorder: RecordingPlayer, keyring: KeyRing, unit: Unit
) -> None:
    """Always-speak on (the unit's policy); a press of a button-box button answers the faces;
    ♪ again where a screen must be heard twice. Every prompt is played, in order, and the rating
    with its answers reaches the outbox."""
    _policy(kiosk, unit, always_speak=True, survey_share=1.0, reasons_at_or_below=2)
    controller, window = kiosk.controller, kiosk.window
    controller.session.draw = lambda: 0.0  # this citizen is offered the survey
    reasons = [reason.code for reason in unit.to_message().reasons]
    assert RECORDED_REASON in reasons
    assert recorder.names() == START  # the start screen spoke as the policy came

    _scan(qtbot, kiosk, signed_url(keyring, sequence=21))
    assert window.current is Screen.RATING
    assert controller.press(Score.DISSATISFIED) is None  # the box's button 2
    assert window.current is Screen.REASONS
    _click(qtbot, window.voice_bar.button)  # ♪: once more, please
    _click(qtbot, window.reasons.buttons[RECORDED_REASON])
    _click(qtbot, window.reasons.next_button)
    assert window.current is Screen.COMMENT
    _click(qtbot, window.comment.skip_button)
    assert window.current is Screen.SURVEY_INVITE
    controller.start_survey()
    answers = {
        Factor.ACCESS: Score.SATISFIED,
        Factor.PROCEDURE: Score.NEUTRAL,
        Factor.OFFICER: Score.VERY_SATISFIED,
        Factor.RESULT: None,  # "Không áp dụng"
        Factor.FEEDBACK: None,
    }
    for factor, score in answers.items():
        assert controller.session.survey_factor is factor
        if score is None:
            controller.survey_not_applicable()
        else:
            _click(qtbot, window.survey.faces[score])
    assert window.current is Screen.THANKS

    reasons_said = [
        "reasons-vi.wav",
        "reasons_row-vi.wav",
        f"own:reason-{RECORDED_REASON}-vi.wav",
        "reasons_unvoiced-vi.wav",
    ]
    survey_said: list[str] = ["survey-vi.wav", *_faces()]
    for factor in Factor:
        survey_said.append(f"question-{factor.value}-vi.wav")
        if QUESTIONS[factor].may_not_apply:
            survey_said.append("not_applicable-vi.wav")
    assert recorder.names() == [
        *START,
        "rating-vi.wav",
        *_faces(),
        *reasons_said,
        *reasons_said,  # ♪
        "comment-vi.wav",
        "survey_invite-vi.wav",
        "survey_invite_how-vi.wav",
        *survey_said,
        "thanks-vi.wav",
    ]
    (pending,) = kiosk.outbox.due(controller.clock(), 0)
    rating = decode_rating(pending[1])
    assert (rating.score, rating.reasons) == (Score.DISSATISFIED, (RECORDED_REASON,))
    assert rating.receipt is not None
    assert rating.receipt.verified
    assert rating.factors[Factor.OFFICER] == Score.VERY_SATISFIED


def test_silent_until_asked_then_every_screen_for_that_citizen_only(
    qtbot: QtBot, kiosk: Kiosk, recorder: RecordingPlayer, keyring: KeyRing, unit: Unit
) -> None:
    _policy(kiosk, unit, survey_share=0.0, faces=3)
    window = kiosk.window
    _scan(qtbot, kiosk, signed_url(keyring, sequence=3))
    assert recorder.played == []
    _click(qtbot, window.voice_bar.button)  # ♪ on the rating screen
    _click(qtbot, window.rating.faces[Score.VERY_SATISFIED])
    assert recorder.names() == ["rating-vi.wav", *_faces(3), "thanks-vi.wav"]
    kiosk.controller.reset()
    _scan(qtbot, kiosk, signed_url(keyring, sequence=4))  # the next citizen
    _click(qtbot, window.rating.faces[Score.VERY_SATISFIED])
    assert recorder.names() == ["rating-vi.wav", *_faces(3), "thanks-vi.wav"]


def test_the_start_screens_speak_button_and_the_language(
    qtbot: QtBot, kiosk: Kiosk, recorder: RecordingPlayer, keyring: KeyRing
) -> None:
    window = kiosk.window
    _click(qtbot, window.attract.language_button)
    _click(qtbot, window.attract.speak_button)
    _scan(qtbot, kiosk, signed_url(keyring, sequence=5))
    assert recorder.calls[0] == (("attract", "scanner_bottom"), "en")
    assert recorder.names()[:4] == [
        "attract-en.wav",
        "scanner_bottom-en.wav",
        "rating-en.wav",
        "faces_row-en.wav",
    ]


def test_a_button_press_where_it_cannot_rate_asks_for_the_voice(
    qtbot: QtBot, kiosk: Kiosk, recorder: RecordingPlayer, keyring: KeyRing
) -> None:
    assert kiosk.controller.press(Score.SATISFIED) == "not_rating"
    assert kiosk.outbox.depth() == 0  # nothing rated
    assert recorder.names() == START
    _scan(qtbot, kiosk, signed_url(keyring, sequence=6))
    assert recorder.names() == [*START, "rating-vi.wav", *_faces()]


def test_portrait_faces_are_read_top_to_bottom(
    qtbot: QtBot, kiosk: Kiosk, recorder: RecordingPlayer, keyring: KeyRing
) -> None:
    kiosk.window.resize(800, 1280)
    qtbot.waitUntil(lambda: kiosk.window.portrait is True)
    kiosk.controller.speak()
    _scan(qtbot, kiosk, signed_url(keyring, sequence=8))
    assert "faces_column-vi.wav" in recorder.names()


def test_always_speak_from_the_kiosk_settings(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> None:
    built = _build(tmp_path, receipt_keys, offline_mqtt, always_speak=True)
    qtbot.addWidget(built.window)
    try:
        player = RecordingPlayer()
        built.controller.use_voice(player)
        assert player.names() == []  # the sound device is looked for after the first paint
        qtbot.waitUntil(lambda: player.names() == START)
        built.controller.reset()  # every citizen hears it
        assert player.names() == [*START, *START]
    finally:
        built.close()


@pytest.mark.parametrize("lang_clicks", [0, 1], ids=["vi", "en"])
def test_the_real_player_offscreen_shows_the_no_sound_sign(
    qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing, lang_clicks: int
) -> None:
    """Off-screen there is no sound device: the real player is silent and every citizen screen
    says so; ♪ is still there and answers by keeping the sign up."""
    window, bar = kiosk.window, kiosk.window.voice_bar
    assert isinstance(kiosk.controller.voice, PromptPlayer)
    for _ in range(lang_clicks):
        _click(qtbot, window.attract.language_button)
    qtbot.waitUntil(lambda: bar.sign.isVisibleTo(window))
    assert kiosk.controller.voice.silent
    assert not bar.button.isVisibleTo(window)  # the start screen has its own ♪
    assert window.attract.speak_button.isVisibleTo(window)
    expected = (
        "Không có âm thanh / No sound" if lang_clicks == 0 else "No sound / Không có âm thanh"
    )
    assert bar.no_sound.text() == expected
    _scan(qtbot, kiosk, signed_url(keyring, sequence=9))
    for screen in (Screen.RATING, Screen.REASONS, Screen.COMMENT, Screen.THANKS):
        window.show_screen(screen)
        assert bar.button.isVisibleTo(window), screen
        assert bar.sign.isVisibleTo(window), screen
    _click(qtbot, bar.button)
    assert bar.sign.isVisibleTo(window)
    kiosk.controller.open_maintenance()
    assert not bar.isVisibleTo(window)  # staff only: no ♪


def test_with_sound_the_sign_is_hidden(qtbot: QtBot, kiosk: Kiosk, keyring: KeyRing) -> None:
    window, bar = kiosk.window, kiosk.window.voice_bar
    qtbot.waitUntil(lambda: bar.sign.isVisibleTo(window))  # the real player, off-screen
    kiosk.controller.use_voice(RecordingPlayer())
    qtbot.waitUntil(lambda: not bar.sign.isVisibleTo(window))
    assert not bar.isVisibleTo(window)  # nothing to show on the start screen: no empty row
    _scan(qtbot, kiosk, signed_url(keyring, sequence=10))
    assert bar.button.isVisibleTo(window)
    assert not bar.sign.isVisibleTo(window)
