"""Spoken prompts at the kiosk, played from WAV files: a unit's own recordings, else the shipped ones.

Why pre-rendered files rather than text-to-speech at run time:

* Offline. A counter's kiosk must work with no internet, and no text the kiosk speaks should go to
  a network speech service, so there is no network TTS to depend on.
* Predictable. The voice, speed and pronunciation were fixed once, when a developer ran
  ``scripts/render_prompts.sh``, and are the same on every kiosk, whatever speech engines (if any)
  the kiosk's operating system has.
* Replaceable. A file is a file: a unit can record a human voice (easier for older listeners
  than any synthetic one) and put ``<key>-<lang>.wav`` in its prompts folder (``kiosk.prompts_dir``);
  that file wins over the shipped one for that key and language (docs/voice.md).
* Cheap. ``QSoundEffect`` plays short uncompressed PCM with low latency and no decoder.

The texts live in ``kiosk.prompts.PROMPTS``. A screen is read as a sequence of lines (its prompt,
then each face, question or reason); :meth:`PromptPlayer.say` queues them and plays each when the
one before has finished.

Sound is a courtesy, never a requirement: nothing here raises into the UI. When Qt Multimedia
cannot load (a missing system library) or there is no audio output (as off-screen in CI), the
player logs once and stays silent, and :attr:`PromptPlayer.silent` says so, so the screen can show
"Không có âm thanh / No sound" instead of a ♪ that does nothing; :meth:`PromptPlayer.available`
looks again (a speaker plugged in later). :meth:`PromptPlayer.say` still reports the files it
chose. Everything runs on the Qt thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk.prompts import LANGS, file_name, is_known

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QSoundEffect

log = logging.getLogger(__name__)
PROMPTS_PACKAGE = "kiosk.prompts"
FALLBACK_LANG = LANGS[0]


class Voice(Protocol):
    """What the controller needs of a player (``PromptPlayer``; a test may record instead)."""

    @property
    def silent(self) -> bool:
        """No sound can come out (no device, no Qt Multimedia): the screen shows it."""

    def available(self) -> bool:
        """Look again for a way to make sound; True when there is one."""

    def has(self, key: str, lang: str) -> bool:
        """A file exists for ``key`` (in ``lang`` or Vietnamese)."""

    def say(self, keys: Sequence[str], lang: str) -> list[Path]:
        """Speak ``keys`` one after another, cutting off whatever was being said."""

    def stop(self) -> None:
        """Stop speaking."""


def _has_audio_output() -> bool:
    """Whether the system offers at least one audio output device right now."""
    from PySide6.QtMultimedia import QMediaDevices

    return bool(QMediaDevices.audioOutputs())


def _sound_effect_class() -> type[QSoundEffect] | str:
    """``QSoundEffect`` when Qt Multimedia loads and can reach a speaker; otherwise why not."""
    try:
        from PySide6.QtMultimedia import QSoundEffect
    except ImportError as exc:
        return f"Qt Multimedia cannot load ({exc})"
    if not _has_audio_output():
        return "no audio output device"
    return QSoundEffect


class PromptPlayer:
    """Plays a queue of prompts, one at a time; implements :class:`Voice`.

    One ``QSoundEffect`` per prompt file is created on first use and kept, so a replay starts at
    once. Starting a new queue stops the one before it. ``folder`` is the unit's prompts folder:
    its files override the shipped ones, per key and language, and hold the unit's reasons.
    """

    def __init__(self, volume: float = 1.0, folder: Path | None = None) -> None:
        self._volume = min(max(volume, 0.0), 1.0)
        self._folder = folder
        self._resources = ExitStack()
        self._files: dict[str, Path | None] = {}
        self._effects: dict[Path, QSoundEffect] = {}
        self._current: QSoundEffect | None = None
        self._queue: list[Path] = []
        self._effect_class: type[QSoundEffect] | None = None
        self._probed = False
        self._silent = False
        self._warned: set[str] = set()
        if folder is not None and not folder.is_dir():
            log.warning("prompts folder %s does not exist: shipped prompts only", folder)

    @property
    def silent(self) -> bool:
        """True once the player has found it cannot make sound and has stopped trying."""
        return self._silent

    def available(self) -> bool:
        """Probe (again, if silent) for Qt Multimedia and an output device; never raises."""
        try:
            from PySide6.QtCore import QCoreApplication

            if QCoreApplication.instance() is None:
                return False
            if self._silent or not self._probed:
                self._probed = True
                found = _sound_effect_class()
                if isinstance(found, str):  # said once, though a silent kiosk asks again
                    self._warn_once(f"off:{found}", "spoken prompts off: %s", found)
                    self._effect_class, self._silent = None, True
                else:
                    self._effect_class, self._silent = found, False
        except Exception:
            self._go_silent("spoken prompts off after an unexpected error", exc_info=True)
        return not self._silent

    def play(self, key: str, lang: str) -> Path | None:
        """Speak prompt ``key`` in ``lang`` alone; the file chosen, or None (see :meth:`say`)."""
        paths = self.say([key], lang)
        return paths[0] if paths else None

    def say(self, keys: Sequence[str], lang: str) -> list[Path]:
        """Speak ``keys`` in ``lang`` (Vietnamese where ``lang`` has no file), one after another.

        Returns the files chosen, even when the player is silent; an unknown key or a missing
        file is skipped (logged once). Never raises.
        """
        paths: list[Path] = []
        for key in keys:
            try:
                path = self.resolve(key, lang)
            except Exception:
                log.warning("spoken prompt %r in %r not found", key, lang, exc_info=True)
                continue
            if path is not None:
                paths.append(path)
        self.stop()
        self._queue = list(paths)
        self._next()
        return paths

    def has(self, key: str, lang: str) -> bool:
        """A file for ``key`` exists, in ``lang`` or Vietnamese (no warning when not)."""
        try:
            return self._find(key, lang) is not None
        except Exception:
            log.debug("could not look for prompt %r", key, exc_info=True)
            return False

    def stop(self) -> None:
        """Stop the prompt being spoken and drop the queue. Never raises."""
        self._queue = []
        current, self._current = self._current, None
        if current is None:
            return
        try:
            current.stop()
        except Exception:
            self._go_silent("spoken prompts off after an unexpected error", exc_info=True)

    def close(self) -> None:
        """Stop, drop every loaded sound and release the prompt files. Never raises."""
        self.stop()
        effects, self._effects = self._effects, {}
        for effect in effects.values():
            try:
                effect.deleteLater()
            except Exception:  # a Qt object already gone with its application
                log.debug("could not release a sound effect", exc_info=True)
        self._files.clear()
        self._resources.close()

    def resolve(self, key: str, lang: str) -> Path | None:
        """The WAV file for ``key`` in ``lang``, else in Vietnamese; None (logged once) if neither.

        The unit's folder first, then the shipped files, for ``lang`` and then Vietnamese: a unit
        that recorded only Vietnamese keeps the shipped English.
        """
        if not is_known(key):
            self._warn_once(f"key:{key}", "no spoken prompt %r", key)
            return None
        path = self._find(key, lang)
        if path is None:
            self._warn_once(
                f"file:{key}", "spoken prompt %r has no WAV file; run render_prompts.sh", key
            )
        return path

    def _find(self, key: str, lang: str) -> Path | None:
        if not is_known(key):
            return None
        for candidate in dict.fromkeys((lang, FALLBACK_LANG)):
            name = file_name(key, candidate)
            path = self._own(name) or self._shipped(name)
            if path is not None:
                return path
        return None

    def _own(self, name: str) -> Path | None:
        """The unit's recording ``name``, looked up each time (a file may be added while running)."""
        if self._folder is None:
            return None
        path = self._folder / name
        return path if path.is_file() else None

    def _shipped(self, name: str) -> Path | None:
        """A file of the prompts package as a path, or None; remembered either way."""
        if name not in self._files:
            resource = files(PROMPTS_PACKAGE) / name
            # A plain path for an unpacked package; for one imported from a zip file, a temporary
            # copy that lives until close().
            found = resource.is_file()
            self._files[name] = self._resources.enter_context(as_file(resource)) if found else None
        return self._files[name]

    def _next(self) -> None:
        """Start the next file of the queue, if any."""
        if not self._queue:
            return
        path = self._queue.pop(0)
        try:
            self._start(path)
        except Exception:
            self._go_silent("spoken prompts off after an unexpected error", exc_info=True)
            self._queue = []

    def _start(self, path: Path) -> None:
        current, self._current = self._current, None
        if current is not None:
            current.stop()
        effect = self._effect_for(path)
        if effect is None:
            if self._silent or not self._probed:
                self._queue = []  # no sound: nothing after this plays either
            else:
                self._next()  # this one file cannot be played: the next one may
            return
        self._current = effect
        effect.play()

    def _finished(self, effect: QSoundEffect) -> None:
        """An effect stopped playing: the next line, if it was ours and the queue goes on."""
        try:
            if effect is self._current and not effect.isPlaying():
                self._current = None
                self._next()
        except Exception:
            self._go_silent("spoken prompts off after an unexpected error", exc_info=True)

    def _effect_for(self, path: Path) -> QSoundEffect | None:
        if self._silent:
            return None
        if not self._probed:
            from PySide6.QtCore import QCoreApplication

            if QCoreApplication.instance() is None:  # Qt Multimedia needs one: try again later
                self._warn_once("app", "spoken prompts wait for the Qt application")
                return None
            if not self.available():
                return None
        effect = self._effects.get(path)
        if effect is None and self._effect_class is not None:
            from PySide6.QtCore import QUrl

            effect = self._effect_class()
            effect.setVolume(self._volume)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            made = effect
            effect.playingChanged.connect(lambda: self._finished(made))
            self._effects[path] = effect
        if effect is not None and effect.status() == effect.Status.Error:
            self._warn_once(f"load:{path.name}", "spoken prompt %s could not be loaded", path.name)
            return None
        return effect

    def _go_silent(self, message: str, *, exc_info: bool = False) -> None:
        if not self._silent:
            self._silent = True
            log.warning(message, exc_info=exc_info)
        self._current = None
        self._queue = []

    def _warn_once(self, tag: str, message: str, *args: object) -> None:
        if tag not in self._warned:
            self._warned.add(tag)
            log.warning(message, *args)
