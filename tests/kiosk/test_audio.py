"""Spoken prompts: the shipped WAV files are sound, and the player never troubles the UI."""

from __future__ import annotations

import logging
import math
import sys
import wave
from array import array
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import ClassVar

import pytest
from PySide6.QtCore import QCoreApplication, QUrl
from pytestqt.qtbot import QtBot

import kiosk.audio
from kiosk.audio import PromptPlayer
from kiosk.prompts import LANGS, PROMPTS, file_name, listing

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


class FakeEffect:
    """Stands in for QSoundEffect where a test must see what the player asked of it."""

    class Status:
        Null, Loading, Ready, Error = range(4)

    made: ClassVar[list[FakeEffect]] = []

    def __init__(self) -> None:
        self.source = QUrl()
        self.volume = -1.0
        self.calls: list[str] = []
        FakeEffect.made.append(self)

    def setSource(self, url: QUrl) -> None:
        self.source = url

    def setVolume(self, volume: float) -> None:
        self.volume = volume

    def status(self) -> int:
        return self.Status.Ready

    def play(self) -> None:
        self.calls.append("play")

    def stop(self) -> None:
        self.calls.append("stop")

    def deleteLater(self) -> None:
        self.calls.append("deleted")


@pytest.fixture
def fake_effects(monkeypatch: pytest.MonkeyPatch) -> list[FakeEffect]:
    FakeEffect.made = []
    monkeypatch.setattr(kiosk.audio, "_sound_effect_class", lambda: FakeEffect)
    return FakeEffect.made


# --- the texts ---------------------------------------------------------------------------------


def test_every_prompt_has_a_vietnamese_and_an_english_text() -> None:
    assert set(PROMPTS) == {
        "attract",
        "rating",
        "reasons",
        "comment",
        "survey",
        "thanks",
        "already_rated",
        "refused",
    }
    for key, (vi, en) in PROMPTS.items():
        assert VIETNAMESE_LETTERS & set(vi.lower()), f"{key}: Vietnamese without diacritics?"
        assert en.isascii(), key
        for text in (vi, en):
            assert text.strip() == text
            assert text[-1] in ".?!", key
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
    assert 0.8 <= seconds <= 10, f"{path.name}: {seconds:.2f} s"
    samples = array("h", frames)
    if sys.byteorder == "big":  # WAV holds little-endian samples
        samples.byteswap()
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    assert rms > 0.01, f"{path.name} is silent (RMS {rms:.4f})"
    assert max(abs(s) for s in samples) < 32768, f"{path.name} clips"


def test_prompt_files_stay_small() -> None:
    sizes = {name: shipped(name).stat().st_size for name in (file_name(*kl) for kl in ALL_PROMPTS)}
    assert sum(sizes.values()) < 2_000_000, sizes
    assert max(sizes.values()) < 250_000, sizes  # about 7.8 s at 32 kB/s
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
