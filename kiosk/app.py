"""Building and running the kiosk; rendering its screens to PNG for people to look at."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import shiboken6
from PySide6.QtWidgets import QApplication

from hailong.contract.messages import (
    AbandonedMessage,
    AckMessage,
    KioskStatusMessage,
    RatingMessage,
    UnitConfigMessage,
)
from hailong.contract.receipt import ReceiptRefused
from hailong.contract.return_offer import ReturnOfferMessage
from hailong.contract.scale import Factor, Score, Stage
from hailong.settings import KioskSettings
from kiosk.audio import PromptPlayer
from kiosk.controller import KioskController
from kiosk.deferred_outbox import DeferredOutbox
from kiosk.domain.screen import Screen
from kiosk.domain.session import ALREADY_RATED, Notice, Subject
from kiosk.i18n import languages
from kiosk.ui.after_paint import after_first_paint, after_next_paint
from kiosk.ui.window import KioskWindow

if TYPE_CHECKING:  # imported where used: after the start screen, or not at all
    from kiosk.outbox import Outbox
    from kiosk.serial_input import SerialInput
    from kiosk.uplink import Uplink

# Landscape, then the same screens turned to portrait.
SCREEN_SIZES = ((800, 480), (1280, 800), (1920, 1080), (480, 800), (800, 1280), (1080, 1920))


@dataclass
class Kiosk:
    window: KioskWindow
    controller: KioskController
    outbox: Outbox
    uplink: Uplink | None
    player: PromptPlayer | None = None
    serial: SerialInput | None = None

    def close(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.controller)
        # A clean stop closes the citizen's open rating, so it is published like any other.
        self.controller.finish()
        if self.serial:
            self.serial.stop()
            shiboken6.delete(self.serial)
        if self.uplink:
            self.uplink.stop()
        if self.player:
            self.player.close()
        self.window.locked = False
        self.window.close()
        # Destroy the Qt objects now, while QApplication exists, not at interpreter exit.
        shiboken6.delete(self.controller)
        shiboken6.delete(self.window)
        self.outbox.close()


def build_kiosk(
    settings: KioskSettings, *, start_uplink: bool = True, window: KioskWindow | None = None
) -> Kiosk:
    """The window (or the start screen's, completed: kiosk/launch.py), its controller, the outbox
    and (unless told not to) a started uplink."""
    app = QApplication.instance() or QApplication(sys.argv)
    # The outbox (SQLAlchemy) opens once the window is drawn (next drawn, if it is already on
    # the screen), or at its first use if sooner. It passes every Outbox method on, so it is
    # typed as one.
    deferred = DeferredOutbox(settings.kiosk.outbox_path)
    outbox = cast("Outbox", deferred)
    uplink = None
    if start_uplink:
        from kiosk.uplink import Uplink

        uplink = Uplink(
            settings.mqtt,
            settings.kiosk.unit,
            settings.kiosk.id,
            outbox,
            resend_after=settings.kiosk.resend_after_seconds,
        )
    if window is None:
        window = KioskWindow()
    window.complete()
    later = after_next_paint if window.isVisible() else after_first_paint
    later(window, deferred.open_after_paint)
    later(window, build_contract_validators)
    controller = KioskController(settings, window, outbox, uplink)
    if uplink:
        uplink.on_change = controller.link_changed.emit
        uplink.on_config = controller.config_arrived.emit
        uplink.on_offer = controller.offer_arrived.emit
        uplink.start()
    player = PromptPlayer(folder=settings.kiosk.prompts_dir)
    controller.use_voice(player)
    app.installEventFilter(controller)
    serial = None
    if settings.serial is not None:
        serial = _attach_serial(settings, controller, uplink)
    return Kiosk(window, controller, outbox, uplink, player, serial)


def build_contract_validators() -> None:
    """The contract's models build their validators on first use (``defer_build``), which kept
    them out of the cold start (docs/kiosk.md "Start-up"); build the kiosk's now, after the first
    paint, so the first rating does not wait for them either (~20 ms of CPU, ~0.1 s on a Pi)."""
    for model in (
        RatingMessage,
        AbandonedMessage,
        KioskStatusMessage,
        AckMessage,
        UnitConfigMessage,
        ReturnOfferMessage,
    ):
        model.model_rebuild()


def _attach_serial(
    settings: KioskSettings, controller: KioskController, uplink: Uplink | None
) -> SerialInput:
    """A button box beside the screen (``[serial]``): its scans and presses reach the controller
    on the Qt thread, and its light follows what the controller did."""
    from kiosk.serial_input import SerialInput

    assert settings.serial is not None
    serial = SerialInput(settings.serial, controller, uplink.devices if uplink else None)
    controller.rating_saved.connect(serial.saved)
    controller.save_failed.connect(serial.failed)
    controller.code_refused.connect(serial.refused)
    if uplink:
        uplink.on_acked = serial.acked
    serial.start()
    return serial


def render_screenshots(
    settings: KioskSettings, out_dir: Path, catalogue: UnitConfigMessage | None = None
) -> list[Path]:
    """Every screen at every supported size, offline, with a throw-away outbox.

    ``catalogue`` stands in for the configuration a running kiosk receives from the hub.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = settings.model_copy(
            update={
                "kiosk": settings.kiosk.model_copy(update={"outbox_path": Path(tmp) / "outbox.db"}),
                "serial": None,  # pictures only: leave a connected button box alone
            }
        )
        paths: list[Path] = []
        for size in SCREEN_SIZES:
            # A fresh kiosk per size, as a device starts at its own screen size.
            kiosk = build_kiosk(sandbox, start_uplink=False)
            # Pictures: no sound device is looked for; each scene sets the no-sound sign itself.
            kiosk.controller.use_voice(None)
            if catalogue is not None:
                kiosk.controller.config_arrived.emit(catalogue)
            try:
                paths += _shoot(kiosk, size, out_dir)
            finally:
                kiosk.close()
        return paths


def _shoot(kiosk: Kiosk, size: tuple[int, int], out_dir: Path) -> list[Path]:
    window = kiosk.window
    _fit(window, size)
    window.show()
    paths = []
    for lang in languages().codes:
        for name, stage in _scenes(kiosk):
            kiosk.controller.reset()
            kiosk.controller.session.lang = lang
            # As on a kiosk with a speaker (off-screen has none); the *-no-sound scenes show the sign.
            kiosk.window.voice_bar.show_sound(True)
            stage()
            _fit(window, size)
            path = out_dir / f"{name}-{lang}-{size[0]}x{size[1]}.png"
            window.grab().save(str(path))
            paths.append(path)
    kiosk.controller.reset()
    return paths


def _fit(window: KioskWindow, size: tuple[int, int]) -> None:
    """Rescale for the new size first and let the layouts settle: a window cannot shrink below
    the minimum its current fonts ask for."""
    window.apply_scale(*size)
    QApplication.processEvents()
    window.resize(*size)
    QApplication.processEvents()


def _scenes(kiosk: Kiosk) -> list[tuple[str, Callable[[], None]]]:
    """Each screen, reached the way a citizen reaches it (through the controller)."""
    controller, session = kiosk.controller, kiosk.controller.session
    sample = _sample_subject(kiosk)
    at_return = replace(sample, stage=Stage.RETURN, officer=None)
    refused = ReceiptRefused("bad_signature")

    def at(screen: Screen, subject: Subject | None = None, notice: Notice | None = None) -> None:
        session.screen, session.subject, session.notice = screen, subject, notice
        session.touch(datetime.now(UTC))
        controller.render()

    def reasons() -> None:
        at(Screen.RATING, sample)
        session.answers.score = Score.DISSATISFIED
        at(Screen.REASONS, sample)
        first = controller.catalogue.reasons[0].code if controller.catalogue else None
        if first:
            controller.toggle_reason(first)

    def start(position: str | None = None, walk_in: bool | None = None) -> Callable[[], None]:
        """The start screen with the scanner at ``position`` and walk-ins on or off (the kiosk's
        own settings and policy when not given), so each scene shows what it names."""

        def stage() -> None:
            attract = kiosk.window.attract
            attract.set_scanner_position(position or controller.settings.kiosk.scanner_position)
            attract.set_walk_in(session.policy.allow_walk_in if walk_in is None else walk_in)
            at(Screen.ATTRACT)

        return stage

    def survey_result() -> None:
        """The fourth question, which offers "Không áp dụng" beside the faces."""
        session.survey_index = list(Factor).index(Factor.RESULT)
        at(Screen.SURVEY, sample)

    def no_sound(stage: Callable[[], None]) -> None:
        """A kiosk with no sound device: the ♪ and the "Không có âm thanh / No sound" sign."""
        stage()
        kiosk.window.voice_bar.show_sound(False)

    def keyboard() -> None:
        at(Screen.ATTRACT)
        kiosk.window.attract.show_keys(True)

    def large() -> None:
        kiosk.window.set_accessibility(large_text=True, high_contrast=True)
        at(Screen.RATING, sample)

    return [
        ("attract", start()),  # the kiosk's own scanner position and policy, each language anew
        (
            "attract-refused",
            lambda: at(Screen.ATTRACT, None, Notice(refused.message_vi, refused.message_en)),
        ),
        ("attract-keyboard", keyboard),
        ("attract-scanner-right-walk-in", start("right", walk_in=True)),
        ("attract-scanner-bottom-left", start("bottom-left", walk_in=False)),
        ("rating", lambda: at(Screen.RATING, sample)),
        # Opened by the hub's offer at the return (no slip scanned): the return, no officer named.
        ("rating-return-offer", lambda: at(Screen.RATING, at_return)),
        ("rating-no-sound", lambda: no_sound(lambda: at(Screen.RATING, sample))),
        ("rating-large-contrast", large),
        ("reasons", reasons),
        ("comment", lambda: at(Screen.COMMENT, sample)),
        ("survey-invite", lambda: at(Screen.SURVEY_INVITE, sample)),
        ("survey", lambda: at(Screen.SURVEY, sample)),
        ("survey-not-applicable", survey_result),
        ("thanks", lambda: at(Screen.THANKS)),
        ("already-rated", lambda: at(Screen.MESSAGE, None, ALREADY_RATED)),
        ("maintenance", controller.open_maintenance),
    ]


def _sample_subject(kiosk: Kiosk) -> Subject:
    catalogue = kiosk.controller.catalogue
    procedure = catalogue.procedures[0].code if catalogue else "1.001193"
    officer = catalogue.officers[0].code if catalogue else "CB001"
    counter = kiosk.controller.settings.kiosk.counter or "Q1"
    code = f"{kiosk.controller.settings.kiosk.unit}-261125-0007"
    return Subject(code, True, counter, officer, procedure)
