"""The start screen off-screen: what a citizen without a slip reads, and the arrow toward the
scanner on the configured edge, at the smallest and largest screens, landscape and portrait.

HAILONG_SCREENSHOTS=<folder> keeps the start screen at each size and position as PNG files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from pytestqt.qtbot import QtBot

from hailong.settings import MqttSettings, ReceiptKeys, Unit
from kiosk.app import Kiosk, _fit, build_kiosk
from kiosk.domain.screen import Screen
from kiosk.ui.picture import SCAN_HERE, scanner_direction
from kiosk.ui.screens import NO_SLIP_ASK, NO_SLIP_WALK_IN, WALK_IN_BUTTON
from tests.kiosk.conftest import kiosk_settings

SIZES = ((800, 480), (1920, 1080), (480, 800), (1080, 1920))
POSITIONS = ("bottom", "bottom-left", "bottom-right", "left", "right", "top")


@pytest.fixture
def kiosk(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> Iterator[Kiosk]:
    settings = kiosk_settings(tmp_path, receipt_keys, offline_mqtt, scanner_position="left")
    built = build_kiosk(settings, start_uplink=False)
    qtbot.addWidget(built.window)
    _fit(built.window, (1280, 800))
    built.window.show()
    qtbot.waitExposed(built.window)
    yield built
    built.close()


def _policy(kiosk: Kiosk, unit: Unit, *, walk_in: bool) -> None:
    config = unit.to_message()
    policy = config.policy.model_copy(update={"allow_walk_in": walk_in})
    kiosk.controller.use_config(config.model_copy(update={"policy": policy}))


def test_the_kiosk_points_where_its_settings_say(kiosk: Kiosk) -> None:
    hint = kiosk.window.attract.scanner_hint
    assert hint.position == "left"
    assert hint.isVisible()
    assert hint.arrow.direction == scanner_direction("left")
    assert hint.primary.text() == SCAN_HERE[0]
    assert hint.secondary.text() == SCAN_HERE[1]


def test_without_walk_ins_the_citizen_is_told_to_ask_the_officer(
    qtbot: QtBot, kiosk: Kiosk, unit: Unit
) -> None:
    _policy(kiosk, unit, walk_in=False)
    attract = kiosk.window.attract
    assert kiosk.window.current is Screen.ATTRACT
    assert attract.no_slip.isVisible()
    assert attract.no_slip.text() == "\n".join(NO_SLIP_ASK)
    assert not attract.walk_in_button.isVisible()

    kiosk.controller.toggle_language()  # English first, Vietnamese beneath
    assert attract.no_slip.text() == f"{NO_SLIP_ASK[1]}\n{NO_SLIP_ASK[0]}"
    assert attract.scanner_hint.primary.text() == SCAN_HERE[1]


def test_where_walk_ins_are_allowed_the_button_is_the_way_without_a_slip(
    qtbot: QtBot, kiosk: Kiosk, unit: Unit
) -> None:
    _policy(kiosk, unit, walk_in=True)
    attract = kiosk.window.attract
    assert attract.no_slip.text() == "\n".join(NO_SLIP_WALK_IN)
    assert attract.walk_in_button.isVisible()
    assert attract.walk_in_button.text() == "\n".join(WALK_IN_BUTTON)
    # The sentence stands right above the button it speaks of.
    below = attract.walk_in_button.mapTo(attract, QPoint(0, 0)).y()
    assert attract.no_slip.mapTo(attract, QPoint(0, attract.no_slip.height())).y() <= below

    kiosk.controller.toggle_language()
    assert attract.walk_in_button.text() == "\n".join(reversed(WALK_IN_BUTTON))
    qtbot.mouseClick(attract.walk_in_button, Qt.MouseButton.LeftButton)
    assert kiosk.window.current is Screen.RATING  # a walk-in rates the counter

    _policy(kiosk, unit, walk_in=False)  # the unit switches walk-ins off again
    kiosk.controller.reset()  # the next citizen: Vietnamese first again
    assert not attract.walk_in_button.isVisible()
    assert attract.no_slip.text() == "\n".join(NO_SLIP_ASK)


def _near(position: str, arrow: QRect, screen: QRect) -> bool:
    """The arrow lies in the band (a quarter of the screen) along the scanner's edge or corner,
    and away from the opposite edge."""
    x, y = arrow.center().x() / screen.width(), arrow.center().y() / screen.height()
    vertical = {"top": y < 0.25, "bottom": y > 0.75}
    horizontal = {"left": x < 0.25, "right": x > 0.75}
    wanted = [*(v for k, v in vertical.items() if k in position)]
    wanted += [v for k, v in horizontal.items() if k in position]
    if position in ("top", "bottom"):
        wanted.append(0.3 < x < 0.7)
    if position in ("left", "right"):
        wanted.append(0.2 < y < 0.8)
    return bool(wanted) and all(wanted)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_arrow_lies_at_the_scanners_edge_and_points_to_it(
    kiosk: Kiosk, size: tuple[int, int]
) -> None:
    window, attract = kiosk.window, kiosk.window.attract
    keep = os.environ.get("HAILONG_SCREENSHOTS")
    for position in POSITIONS:
        attract.set_scanner_position(position)
        _fit(window, size)
        hint = attract.scanner_hint
        screen = attract.rect()
        corner = hint.arrow.mapTo(attract, QPoint(0, 0))
        arrow = QRect(corner, hint.arrow.size())
        assert hint.isVisible(), position
        assert window.size().toTuple() == size, position  # nothing pushed the window larger
        assert screen.contains(arrow), f"{position} {size}: {arrow} outside {screen}"
        assert _near(position, arrow, screen), f"{position} {size}: arrow at {arrow} in {screen}"
        assert hint.arrow.direction == scanner_direction(position)
        assert arrow.width() >= 40  # a target the eye finds, even at 800x480
        # The words fit beside the arrow: nothing of the hint is cut off.
        assert screen.contains(QRect(hint.mapTo(attract, QPoint(0, 0)), hint.size()))
        assert attract.picture.height() > 0
        if keep:
            window.grab().save(str(Path(keep) / f"attract-{position}-{size[0]}x{size[1]}.png"))

    attract.set_scanner_position("none")
    assert not attract.scanner_hint.isVisible()


def test_every_direction_is_a_unit_vector_toward_its_edge() -> None:
    for position in POSITIONS:
        direction = scanner_direction(position)
        assert direction is not None
        dx, dy = direction
        assert abs(dx * dx + dy * dy - 1) < 1e-9
        assert (dy > 0) == ("bottom" in position)
        assert (dy < 0) == (position == "top")
        assert (dx < 0) == ("left" in position)
        assert (dx > 0) == ("right" in position)
    assert scanner_direction("none") is None
