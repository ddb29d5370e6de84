"""Spoken prompts: the shipped WAV files are sound, and the player never troubles the UI."""

from __future__ import annotations

import logging
import math
import sys
import wave
from array import array
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import ClassVar

import pytest
from PySide6.QtCore import QCoreApplication, QUrl
from pytestqt.qtbot import QtBot

import kiosk.audio
from hailong.contract.scale import Factor, Score
from kiosk.audio import PromptPlayer
from kiosk.prompts import LANGS, PROMPTS, face_key, file_name, listing, question_key

ALL_PROMPTS = [(key, lang) for key in PROMPTS for lang in LANGS]
VIETNAMESE_LETTERS = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


def shipped(name: str) -> Path:
    """The path the ``kiosk.prompts`` package gives for ``name`` (unpacked, as in the venv)."""
    resource = files("kiosk.prompts") / name
    assert isinstance(resource, Path)
    return resource


@pytest.fixture
def player(qtbot: QtBot) -> Iterator[PromptPlayer]:
    made = PromptPlayer()
    yield made
    made.close()


class FakeSignal:
    def __init__(self) -> None:
        self.slots: list[Callable[[], object]] = []

    def connect(self, slot: Callable[[], object]) -> None:
        self.slots.append(slot)

    def emit(self) -> None:
        for slot in self.slots:
            slot()


class FakeEffect:
    """Stands in for QSoundEffect where a test must see what the player asked of it."""

    class Status:
        Null, Loading, Ready, Error = range(4)

    made: ClassVar[list[FakeEffect]] = []

    def __init__(self) -> None:
        self.source = QUrl()
        self.volume = -1.0
        self.calls: list[str] = []
        self.playing = False
        self.playingChanged = FakeSignal()
        FakeEffect.made.append(self)

    def isPlaying(self) -> bool:
        return self.playing

    def finish(self) -> None:
        """The end of the file, as QSoundEffect reports it."""
        self.playing = False
        self.playingChanged.emit()

    def setSource(self, url: QUrl) -> None:
        self.source = url

    def setVolume(self, volume: float) -> None:
        self.volume = volume

    def status(self) -> int:
        return self.Status.Ready

    def play(self) -> None:
        self.calls.append("play")
        self.playing = True
        self.playingChanged.emit()

    def stop(self) -> None:
        self.calls.append("stop")
        if self.playing:
            self.finish()

    def deleteLater(self) -> None:
        self.calls.append("deleted")


@pytest.fixture
def fake_effects(monkeypatch: pytest.MonkeyPatch) -> list[FakeEffect]:
    FakeEffect.made = []
    monkeypatch.setattr(kiosk.audio, "_sound_effect_class", lambda: FakeEffect)
    return FakeEffect.made


# --- the texts ---------------------------------------------------------------------------------


def test_every_prompt_has_a_vietnamese_and_an_english_text() -> None:
    screens = {"attract", "rating", "reasons", "comment", "survey", "survey_invite", "thanks"}
    screens.add("survey_invite_how")
    notices = {"already_rated", "refused", "not_saved", "reasons_unvoiced", "not_applicable"}
    layouts = {"faces_row", "faces_column", "reasons_row", "reasons_column"}
    faces = {face_key(score) for score in Score}
    questions = {question_key(factor) for factor in Factor}
    scanner = {f"scanner_{side}" for side in ("bottom", "bottom_left", "bottom_right")}
    scanner |= {"scanner_left", "scanner_right", "scanner_top"}
    assert set(PROMPTS) == screens | notices | layouts | faces | questions | scanner
    for key, (vi, en) in PROMPTS.items():
        assert VIETNAMESE_LETTERS & set(vi.lower()), f"{key}: Vietnamese without diacritics?"
        assert en.isascii(), key
        for text in (vi, en):
            assert text.strip() == text
            assert text[-1] in ".?!:", key
            assert "/" not in text, f"{key}: a slash reads badly aloud"


def test_listing_is_what_the_render_script_reads() -> None:
    rows = [line.split("\t") for line in listing().splitlines()]
    assert [(key, lang) for key, lang, _ in rows] == ALL_PROMPTS
    assert [text for *_, text in rows] == [
        PROMPTS[key][LANGS.index(lang)] for key, lang in ALL_PROMPTS
    ]


# --- the shipped files -------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "lang"), ALL_PROMPTS)
def test_prompt_file_is_short_clear_16khz_mono_pcm(key: str, lang: str) -> None:
    path = shipped(file_name(key, lang))
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert wav.getcomptype() == "NONE"
        seconds = wav.getnframes() / wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    assert 0.8 <= seconds <= 12, f"{path.name}: {seconds:.2f} s"
    samples = array("h", frames)
    if sys.byteorder == "big":  # WAV holds little-endian samples
        samples.byteswap()
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    assert rms > 0.01, f"{path.name} is silent (RMS {rms:.4f})"
    assert max(abs(s) for s in samples) < 32768, f"{path.name} clips"


def test_prompt_files_stay_small() -> None:
    sizes = {name: shipped(name).stat().st_size for name in (file_name(*kl) for kl in ALL_PROMPTS)}
    # Slow speech with pauses for older listeners: about 8.8 MB for 66 lines.
    assert sum(sizes.values()) < 10_000_000, sizes
    assert max(sizes.values()) < 400_000, sizes  # about 12 s at 32 kB/s
    shipped_wavs = {p.name for p in shipped("attract-vi.wav").parent.glob("*.wav")}
    assert shipped_wavs == set(sizes), "stale WAV files: run scripts/render_prompts.sh"


# --- the player --------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "lang"), ALL_PROMPTS)
def test_play_returns_the_file_for_the_language(player: PromptPlayer, key: str, lang: str) -> None:
    assert player.play(key, lang) == shipped(f"{key}-{lang}.wav")


@pytest.mark.parametrize("lang", ["fr", "", "VI-vn"])
def test_play_falls_back_to_vietnamese(player: PromptPlayer, lang: str) -> None:
    assert player.play("thanks", lang) == shipped("thanks-vi.wav")


def test_unknown_key_is_logged_once_and_plays_nothing(
    player: PromptPlayer, fake_effects: list[FakeEffect], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kiosk.audio"):
        assert player.play("no-such-prompt", "vi") is None
        assert player.play("no-such-prompt", "en") is None
    assert [r.getMessage() for r in caplog.records] == ["no spoken prompt 'no-such-prompt'"]
    assert fake_effects == []


def test_a_prompt_without_its_file_is_logged_not_raised(
    player: PromptPlayer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(PROMPTS, "unrendered", ("Chưa có tệp.", "No file yet."))
    with caplog.at_level(logging.WARNING, logger="kiosk.audio"):
        assert player.play("unrendered", "en") is None
    assert "has no WAV file" in caplog.text


def test_one_effect_per_file_and_the_previous_prompt_stops(
    player: PromptPlayer, fake_effects: list[FakeEffect]
) -> None:
    player.play("attract", "vi")
    player.play("attract", "vi")
    assert len(fake_effects) == 1
    attract = fake_effects[0]
    assert attract.source == QUrl.fromLocalFile(str(shipped("attract-vi.wav")))
    assert attract.volume == 1.0
    assert attract.calls == ["play", "stop", "play"]

    player.play("rating", "en")
    assert len(fake_effects) == 2
    rating = fake_effects[1]
    assert attract.calls[-1] == "stop"
    assert rating.calls == ["play"]

    player.stop()
    player.stop()
    assert rating.calls == ["play", "stop"]
    player.play("attract", "vi")
    assert len(fake_effects) == 2
    assert attract.calls[-1] == "play"


def test_an_effect_that_fails_to_load_is_skipped(
    player: PromptPlayer, fake_effects: list[FakeEffect], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeEffect, "status", lambda self: self.Status.Error)
    assert player.play("thanks", "en") == shipped("thanks-en.wav")
    assert fake_effects[0].calls == []


def test_an_error_inside_qt_goes_silent_instead_of_raising(
    player: PromptPlayer, fake_effects: list[FakeEffect], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: FakeEffect) -> None:
        raise RuntimeError("Internal C++ object already deleted.")

    monkeypatch.setattr(FakeEffect, "play", broken)
    assert player.play("thanks", "vi") == shipped("thanks-vi.wav")
    assert player.silent
    assert player.play("thanks", "en") == shipped("thanks-en.wav")
    assert len(fake_effects) == 1


def test_without_qt_multimedia_the_player_is_silent_and_says_so_once(
    player: PromptPlayer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # import now fails
    with caplog.at_level(logging.WARNING, logger="kiosk.audio"):
        for key, lang in ALL_PROMPTS:
            assert player.play(key, lang) == shipped(f"{key}-{lang}.wav")
            player.stop()
    assert player.silent
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["spoken prompts off"]
    assert "Qt Multimedia cannot load" in caplog.text


def test_without_an_audio_device_the_player_is_silent_and_says_so_once(
    player: PromptPlayer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("PySide6.QtMultimedia", exc_type=ImportError)
    monkeypatch.setattr(kiosk.audio, "_has_audio_output", lambda: False)
    with caplog.at_level(logging.WARNING, logger="kiosk.audio"):
        assert player.play("attract", "en") == shipped("attract-en.wav")
        assert player.play("attract", "vi") == shipped("attract-vi.wav")
    assert player.silent
    assert [r.getMessage() for r in caplog.records] == [
        "spoken prompts off: no audio output device"
    ]


def test_play_and_stop_over_and_over_never_raise(player: PromptPlayer, qtbot: QtBot) -> None:
    """Whatever this machine has (no Qt Multimedia, no device, or a real speaker)."""
    for round_ in range(3):
        for key, lang in ALL_PROMPTS:
            assert player.play(key, lang) == shipped(f"{key}-{lang}.wav")
            if round_ == 1:
                player.stop()
        qtbot.wait(20)
    player.stop()
    player.close()
    player.stop()


def test_a_real_sound_effect_without_a_device_never_raises(
    player: PromptPlayer, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real QSoundEffect objects, told there is a speaker when there may be none."""
    pytest.importorskip("PySide6.QtMultimedia", exc_type=ImportError)
    monkeypatch.setattr(kiosk.audio, "_has_audio_output", lambda: True)
    for _ in range(3):
        for key in PROMPTS:
            assert player.play(key, "vi") == shipped(f"{key}-vi.wav")
            qtbot.wait(10)
            player.stop()
    assert player.play("thanks", "en") == shipped("thanks-en.wav")
    qtbot.wait(100)
    assert not player.silent


def test_before_the_qt_application_exists_the_player_waits(
    fake_effects: list[FakeEffect], monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    player = PromptPlayer()
    with monkeypatch.context() as patch:
        patch.setattr(QCoreApplication, "instance", staticmethod(lambda: None))
        assert player.play("thanks", "vi") == shipped("thanks-vi.wav")
    assert fake_effects == []
    assert not player.silent
    player.play("thanks", "vi")
    assert [effect.calls for effect in fake_effects] == [["play"]]
    player.close()


# --- a screen read as a queue of lines ---------------------------------------------------------


def test_lines_play_one_after_another(player: PromptPlayer, fake_effects: list[FakeEffect]) -> None:
    keys = ["rating", "faces_row", face_key(Score.VERY_SATISFIED), face_key(Score.SATISFIED)]
    paths = player.say(keys, "vi")
    assert paths == [shipped(f"{key}-vi.wav") for key in keys]
    for index in range(len(keys)):
        assert [effect.calls for effect in fake_effects] == [["play"]] * index + [["play"]]
        fake_effects[index].finish()
    assert len(fake_effects) == len(keys)
    assert all(not effect.playing for effect in fake_effects)


def test_a_new_screen_cuts_off_the_last_one(
    player: PromptPlayer, fake_effects: list[FakeEffect]
) -> None:
    player.say(["rating", "faces_row", face_key(Score.NEUTRAL)], "en")
    player.say(["thanks"], "en")
    rating, thanks = fake_effects
    assert rating.calls == ["play", "stop"]
    assert thanks.calls == ["play"]
    thanks.finish()
    assert len(fake_effects) == 2  # the rest of the rating screen is never said
    player.say(["rating", "thanks"], "en")
    player.stop()
    assert rating.calls[-1] == "stop"
    rating.finish()
    assert thanks.calls == ["play"]  # stopped means the queue is gone too


def test_unknown_and_missing_lines_are_skipped_in_a_queue(
    player: PromptPlayer, fake_effects: list[FakeEffect]
) -> None:
    paths = player.say(["nonsense", "reason-R1", "thanks"], "vi")
    assert paths == [shipped("thanks-vi.wav")]
    assert [effect.source for effect in fake_effects] == [
        QUrl.fromLocalFile(str(shipped("thanks-vi.wav")))
    ]


def test_a_file_that_cannot_load_is_skipped_and_the_next_plays(
    player: PromptPlayer, fake_effects: list[FakeEffect], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = QUrl.fromLocalFile(str(shipped("rating-vi.wav")))
    monkeypatch.setattr(
        FakeEffect, "status", lambda self: self.Status.Error if self.source == broken else 0
    )
    player.say(["rating", "thanks"], "vi")
    rating, thanks = fake_effects
    assert (rating.calls, thanks.calls) == ([], ["play"])
    assert not player.silent


# --- a unit's own recordings -------------------------------------------------------------------


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """A unit's prompts folder: a recorded "thanks" in Vietnamese, and one reason."""
    folder = tmp_path / "prompts"
    folder.mkdir()
    for name in ("thanks-vi.wav", "reason-R1-vi.wav"):
        (folder / name).write_bytes(shipped("comment-vi.wav").read_bytes())
    return folder


def test_a_recorded_file_wins_per_key_and_language(own: Path, qtbot: QtBot) -> None:
    player = PromptPlayer(folder=own)
    assert player.play("thanks", "vi") == own / "thanks-vi.wav"
    assert player.play("thanks", "en") == shipped("thanks-en.wav")  # English stays generated
    assert player.play("rating", "vi") == shipped("rating-vi.wav")
    player.close()


def test_a_reason_is_said_only_from_the_units_folder(own: Path, qtbot: QtBot) -> None:
    player = PromptPlayer(folder=own)
    assert player.has("reason-R1", "vi")
    assert player.has("reason-R1", "en")  # falls back to the Vietnamese recording
    assert player.say(["reason-R1"], "en") == [own / "reason-R1-vi.wav"]
    assert not player.has("reason-R2", "vi")
    assert not player.has("reason-", "vi")
    (own / "reason-R2-en.wav").write_bytes(b"")  # added while the kiosk runs
    assert player.has("reason-R2", "en")
    assert not PromptPlayer().has("reason-R1", "vi")
    player.close()


def test_a_missing_folder_is_logged_and_the_shipped_files_play(
    tmp_path: Path, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kiosk.audio"):
        player = PromptPlayer(folder=tmp_path / "nowhere")
    assert "does not exist" in caplog.text
    assert player.play("thanks", "vi") == shipped("thanks-vi.wav")
    player.close()


# --- knowing whether sound can come out --------------------------------------------------------


def test_available_looks_again_once_a_speaker_is_plugged_in(
    player: PromptPlayer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("PySide6.QtMultimedia", exc_type=ImportError)
    monkeypatch.setattr(kiosk.audio, "_has_audio_output", lambda: False)
    with caplog.at_level(logging.WARNING, logger="kiosk.audio"):
        assert not player.available()
        assert not player.available()
    assert player.silent
    assert caplog.text.count("no audio output device") == 1
    monkeypatch.setattr(kiosk.audio, "_has_audio_output", lambda: True)
    assert player.available()
    assert not player.silent


def test_the_real_player_offscreen_knows_it_has_no_sound(player: PromptPlayer) -> None:
    """This machine's CI: no sound device (the kiosk shows the no-sound sign)."""
    pytest.importorskip("PySide6.QtMultimedia", exc_type=ImportError)
    from PySide6.QtMultimedia import QMediaDevices

    assert player.available() == bool(QMediaDevices.audioOutputs())
    assert player.silent != bool(QMediaDevices.audioOutputs())


def test_a_real_queue_without_a_device_never_raises(
    player: PromptPlayer, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real QSoundEffect objects chained through their playingChanged signal."""
    pytest.importorskip("PySide6.QtMultimedia", exc_type=ImportError)
    monkeypatch.setattr(kiosk.audio, "_has_audio_output", lambda: True)
    keys = ["rating", "faces_row", *(face_key(score) for score in reversed(Score))]
    assert player.say(keys, "vi") == [shipped(f"{key}-vi.wav") for key in keys]
    qtbot.wait(100)
    assert player.say(["thanks"], "en") == [shipped("thanks-en.wav")]
    qtbot.wait(50)
    player.stop()
    assert not player.silent
