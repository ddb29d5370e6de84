"""Spoken prompts at the kiosk, played from WAV files shipped inside the ``kiosk.prompts`` package.

Why pre-rendered files rather than text-to-speech at run time:

* Offline. A counter's kiosk must work with no internet, and no text the kiosk speaks should go to
  a network speech service, so there is no network TTS to depend on.
* Predictable. The voice, speed and pronunciation were fixed once, when a developer ran
  ``scripts/render_prompts.sh``, and are the same on every kiosk, whatever speech engines (if any)
  the kiosk's operating system has.
* Cheap. ``QSoundEffect`` plays short uncompressed PCM with low latency and no decoder.

The texts live in ``kiosk.prompts.PROMPTS``; each is a ``<key>-<lang>.wav`` file beside it.

Sound is a courtesy, never a requirement: nothing here raises into the UI. When Qt Multimedia
cannot load (a missing system library) or there is no audio output (as off-screen in CI), the
player logs once and stays silent, while :meth:`PromptPlayer.play` still reports the file it chose.
Everything runs on the Qt thread.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.prompts import LANGS, PROMPTS, file_name

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QSoundEffect

log = logging.getLogger(__name__)
PROMPTS_PACKAGE = "kiosk.prompts"
FALLBACK_LANG = LANGS[0]


def _has_audio_output() -> bool:
    """Whether the system offers at least one audio output device right now."""
    from PySide6.QtMultimedia import QMediaDevices

    return bool(QMediaDevices.audioOutputs())


def _sound_effect_class() -> type[QSoundEffect] | None:
    """``QSoundEffect`` when Qt Multimedia loads and can reach a speaker; otherwise None, logged."""
    try:
        from PySide6.QtMultimedia import QSoundEffect
    except ImportError as exc:
        log.warning("spoken prompts off: Qt Multimedia cannot load (%s)", exc)
        return None
    if not _has_audio_output():
        log.warning("spoken prompts off: no audio output device")
        return None
    return QSoundEffect


class PromptPlayer:
    """Plays one prompt at a time; ``play`` fits the controller's ``speaker(key, lang)`` hook.

    One ``QSoundEffect`` per prompt file is created on first use and kept, so a replay starts at
    once. Starting a prompt stops the one before it.
    """

    def __init__(self, volume: float = 1.0) -> None:
        self._volume = min(max(volume, 0.0), 1.0)
        self._resources = ExitStack()
        self._files: dict[str, Path | None] = {}
        self._effects: dict[Path, QSoundEffect] = {}
        self._current: QSoundEffect | None = None
        self._effect_class: type[QSoundEffect] | None = None
        self._probed = False
        self._silent = False
        self._warned: set[str] = set()

    @property
    def silent(self) -> bool:
        """True once the player has found it cannot make sound and has stopped trying."""
        return self._silent

    def play(self, key: str, lang: str) -> Path | None:
        """Speak prompt ``key`` in ``lang`` (Vietnamese if ``lang`` has no file).

        Returns the file chosen, even when the player is silent, or None for an unknown key or a
        missing file (logged). Never raises.
        """
        try:
            path = self.resolve(key, lang)
        except Exception:
            log.warning("spoken prompt %r in %r not found", key, lang, exc_info=True)
            return None
        if path is not None:
            try:
                self._start(path)
            except Exception:
                self._go_silent("spoken prompts off after an unexpected error", exc_info=True)
        return path

    def stop(self) -> None:
        """Stop the prompt being spoken, if any. Never raises."""
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
        """The WAV file for ``key`` in ``lang``, else in Vietnamese; None (logged once) if neither."""
        if key not in PROMPTS:
            self._warn_once(f"key:{key}", "no spoken prompt %r", key)
            return None
        for candidate in dict.fromkeys((lang, FALLBACK_LANG)):
            path = self._file(file_name(key, candidate))
            if path is not None:
                return path
        self._warn_once(
            f"file:{key}", "spoken prompt %r has no WAV file; run render_prompts.sh", key
        )
        return None

    def _file(self, name: str) -> Path | None:
        """A file of the prompts package as a path, or None; remembered either way."""
        if name not in self._files:
            resource = files(PROMPTS_PACKAGE) / name
            # A plain path for an unpacked package; for one imported from a zip file, a temporary
            # copy that lives until close().
            found = resource.is_file()
            self._files[name] = self._resources.enter_context(as_file(resource)) if found else None
        return self._files[name]

    def _start(self, path: Path) -> None:
        self.stop()
        effect = self._effect_for(path)
        if effect is None:
            return
        effect.play()
        self._current = effect

    def _effect_for(self, path: Path) -> QSoundEffect | None:
        if self._silent:
            return None
        if not self._probed:
            from PySide6.QtCore import QCoreApplication

            if QCoreApplication.instance() is None:  # Qt Multimedia needs one: try again later
                self._warn_once("app", "spoken prompts wait for the Qt application")
                return None
            self._probed = True
            self._effect_class = _sound_effect_class()
            if self._effect_class is None:
                self._silent = True
                return None
        effect = self._effects.get(path)
        if effect is None and self._effect_class is not None:
            from PySide6.QtCore import QUrl

            effect = self._effect_class()
            effect.setVolume(self._volume)
            effect.setSource(QUrl.fromLocalFile(str(path)))
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

    def _warn_once(self, tag: str, message: str, *args: object) -> None:
        if tag not in self._warned:
            self._warned.add(tag)
            log.warning(message, *args)
