"""The demo's simulated counter waits while someone is using the kiosk: the pace alone (pure),
then wired to a real kiosk (Qt offscreen) on which a person rates by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hailong.contract.receipt import KeyRing
from hailong.contract.scale import Score
from hailong.demo import CounterPace, CounterStep, SimulatedCounter
from hailong.settings import MqttSettings, ReceiptKeys
from kiosk.app import Kiosk, build_kiosk
from kiosk.domain.screen import Screen
from tests.kiosk.conftest import kiosk_settings, offline_mqtt, signed_url

__all__ = ["offline_mqtt"]  # the kiosk tests' fixture: credentials for a broker not there

ISSUE, HAND_OVER = CounterStep.ISSUE, CounterStep.HAND_OVER


def test_a_free_kiosk_gets_a_citizen_every_period() -> None:
    pace = CounterPace(every=20, walk=1.5, settle=3)
    assert pace.step(0, in_use=False) is None  # free since 0: settling
    assert pace.step(2.9, in_use=False) is None
    assert pace.step(3, in_use=False) is ISSUE  # at the bound
    pace.issued("slip-1", 3)
    assert pace.step(4.4, in_use=False) is None  # walking to the kiosk
    assert pace.step(4.5, in_use=False) is HAND_OVER
    assert pace.hand_over() == "slip-1"
    # The simulated citizen rates and leaves; the next slip is 20 s after the last.
    assert pace.step(10, in_use=True) is None
    assert pace.step(15, in_use=False) is None
    assert pace.step(22.9, in_use=False) is None
    assert pace.step(23, in_use=False) is ISSUE


def test_nobody_is_sent_to_a_kiosk_in_use() -> None:
    pace = CounterPace(every=20, walk=1.5, settle=3)
    for second in range(0, 120, 5):  # a person exploring the kiosk for two minutes
        assert pace.step(second, in_use=True) is None
    assert pace.step(120, in_use=False) is None
    assert pace.step(122.9, in_use=False) is None
    assert pace.step(123, in_use=False) is ISSUE


def test_a_printed_slip_waits_with_its_citizen() -> None:
    pace = CounterPace(every=5, walk=1.5, settle=0)
    assert pace.step(0, in_use=False) is ISSUE
    pace.issued("slip-1", 0)
    assert pace.step(1, in_use=True) is None  # someone began typing a code by hand
    assert pace.step(30, in_use=True) is None
    assert pace.step(31, in_use=False) is HAND_OVER  # no second slip was printed meanwhile
    assert pace.hand_over() == "slip-1"
    with pytest.raises(RuntimeError):
        pace.hand_over()


@pytest.mark.parametrize(
    ("every", "walk", "settle"), [(0, 1, 1), (-1, 1, 1), (1, -0.1, 1), (1, 1, -0.1)]
)
def test_a_pace_that_cannot_run_is_refused(every: float, walk: float, settle: float) -> None:
    with pytest.raises(ValueError, match="every must be positive"):
        CounterPace(every, walk, settle)


@pytest.fixture
def kiosk(
    qtbot: QtBot, tmp_path: Path, receipt_keys: ReceiptKeys, offline_mqtt: MqttSettings
) -> Iterator[Kiosk]:
    built = build_kiosk(kiosk_settings(tmp_path, receipt_keys, offline_mqtt), start_uplink=False)
    qtbot.addWidget(built.window)
    built.window.resize(1280, 800)
    built.window.show()
    yield built
    built.close()


def _screen(kiosk: Kiosk) -> Screen:
    return kiosk.controller.session.screen


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_person_rating_by_hand_is_not_interrupted(kiosk: Kiosk, keyring: KeyRing) -> None:
    controller = kiosk.controller
    slips = iter(signed_url(keyring, sequence=n) for n in range(100, 110))
    clock = Clock()
    counter = SimulatedCounter(
        CounterPace(every=20, walk=1.5, settle=3),
        issue=lambda: next(slips),
        in_use=controller.in_use,
        scan=controller.submit_code,
        clock=clock,
    )
    # A person scans their own slip and looks at the faces for a minute: the counter waits.
    controller.submit_code(signed_url(keyring, sequence=7))
    assert controller.session.screen is Screen.RATING
    mine = controller.session.subject
    for second in range(0, 60, 5):
        clock.now = second
        assert counter.poll() is None
        assert controller.session.subject == mine
    # They rate and the kiosk thanks them; then it returns to the start screen.
    controller.rate(Score.VERY_SATISFIED)
    assert controller.in_use()
    clock.now = 61
    assert counter.poll() is None
    controller.reset()
    assert not controller.in_use()
    clock.now = 62
    assert counter.poll() is None  # settling: the person steps away
    clock.now = 65
    assert counter.poll() is ISSUE
    # Before the simulated citizen arrives, someone starts typing a code: the slip waits.
    kiosk.window.attract.code_input.setText("000.00")
    assert controller.in_use()
    clock.now = 80
    assert counter.poll() is None
    assert _screen(kiosk) is Screen.ATTRACT
    assert kiosk.window.attract.code_input.text() == "000.00"
    kiosk.window.attract.code_input.clear()
    clock.now = 81
    assert counter.poll() is None
    clock.now = 84
    assert counter.poll() is HAND_OVER
    assert _screen(kiosk) is Screen.RATING
    assert controller.session.subject is not None
    assert controller.session.subject.dossier_code is not None
    assert controller.session.subject.dossier_code.endswith("-0100")
